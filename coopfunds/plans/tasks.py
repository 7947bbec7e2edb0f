"""Scheduled work on plans (a worker, or cron via `manage.py plan_jobs`). Safe to run twice, late or at once."""

from datetime import date

from django.tasks import task

from coopfunds.plans.proofs import proofs_escalate, proofs_settle, proofs_warn_due
from coopfunds.plans.services import plans_escalate


def run_plan_jobs(today: date | None = None) -> dict[str, int]:
    return {
        "warned": proofs_warn_due(today=today),
        **proofs_settle(today=today),
        "escalated": proofs_escalate(today=today),
        "plans_escalated": plans_escalate(today=today),
    }


@task()
def plan_jobs() -> dict[str, int]:
    """Warn partners whose proof of execution falls due soon; pay or give back money carried above plan limits;
    escalate proof and plan reviews past their due date."""
    return run_plan_jobs()
