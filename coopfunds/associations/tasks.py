"""Scheduled work on customer associations (a worker, or cron via `manage.py association_jobs`). Safe to run
twice, late, or at the same time: each association is re-read under lock and skipped if already done."""

from datetime import date

from django.tasks import task

from coopfunds.associations.services import associations_escalate, consent_windows_close, partner_actions_expire


def run_association_jobs(today: date | None = None) -> dict[str, int]:
    return {
        "rejected": partner_actions_expire(today=today),
        "in_force": consent_windows_close(today=today),
        "escalated": associations_escalate(today=today),
    }


@task()
def association_jobs() -> dict[str, int]:
    """Reject associations whose partner did not answer in time; put in force those whose consent window ended;
    escalate reviews past their due date."""
    return run_association_jobs()
