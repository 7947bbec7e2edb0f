"""Scheduled work on claims (a worker, or cron via `manage.py claim_jobs`). Safe to run twice, late or at once."""

from datetime import date

from django.tasks import task

from coopfunds.claims.services import drafts_expire, reviews_escalate


def run_claim_jobs(today: date | None = None) -> dict[str, int]:
    return {**drafts_expire(today=today), "escalated": reviews_escalate(today=today)}


@task()
def claim_jobs() -> dict[str, int]:
    """Warn about and expire old drafts; escalate reviews past their service level."""
    return run_claim_jobs()
