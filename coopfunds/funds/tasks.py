"""Scheduled work on funds, for a worker or cron (`manage.py fund_jobs`). Safe to run twice, late or at once."""

from datetime import date

from django.tasks import task

from coopfunds.funds.services import fund_forfeit_expired, period_close
from coopfunds.programs.models import Program


def run_fund_jobs(today: date | None = None) -> dict[str, int]:
    closed = forfeited = 0
    for program in Program.objects.filter(is_active=True):
        closed += len(period_close(program=program, today=today))
        forfeited += len(fund_forfeit_expired(program=program, today=today))
    return {"closed": closed, "forfeited": forfeited}


@task()
def fund_jobs() -> dict[str, int]:
    """Close ended earning periods (threshold: available or converted to rebate), forfeit expired funds."""
    return run_fund_jobs()
