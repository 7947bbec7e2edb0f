"""Scheduled work on funds, for a worker or cron (`manage.py fund_jobs`). Safe to run twice, late or at once."""

from django.tasks import task

from coopfunds.funds.services import run_fund_jobs


@task()
def fund_jobs() -> dict[str, int]:
    """Close ended earning periods (threshold: available or converted to rebate), forfeit expired funds."""
    return run_fund_jobs()
