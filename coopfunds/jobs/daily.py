"""Every scheduled job of the product, in one place: what runs each day and in which order.

Each job is idempotent (safe to run twice, late, or on two machines at once), so one daily run from cron
(`manage.py daily_jobs`) or a queued task (`daily_jobs.enqueue()` with TASK_BACKEND=database) is all a
deployment needs."""

from collections.abc import Callable
from datetime import date

from django.tasks import task

from coopfunds.api.idempotency import idempotent_requests_purge
from coopfunds.associations.tasks import run_association_jobs
from coopfunds.audit.sealing import audit_seal
from coopfunds.claims.tasks import run_claim_jobs
from coopfunds.documents.services import storage_orphans_delete
from coopfunds.funds.reminders import run_reminders
from coopfunds.funds.services import run_fund_jobs
from coopfunds.mdf.services import run_request_jobs
from coopfunds.notifications.services import digests_send
from coopfunds.plans.tasks import run_plan_jobs


def jobs(today: date | None) -> list[tuple[str, Callable[[], object]]]:
    return [
        (
            "funds: close ended earning periods, re-evaluate late earnings, forfeit expired funds",
            lambda: run_fund_jobs(today),
        ),
        (
            "funds: remind of co-op about to be forfeited and claiming windows closing, escalate late payments",
            lambda: run_reminders(today),
        ),
        ("claims: warn about and expire drafts, escalate overdue reviews", lambda: run_claim_jobs(today)),
        ("plans: deadlines and reminders, escalate overdue reviews", lambda: run_plan_jobs(today)),
        (
            "fund requests: give back money unclaimed past its deadline, escalate overdue reviews",
            lambda: run_request_jobs(today),
        ),
        (
            "associations: auto-reject unanswered requests, close consent windows, escalate overdue reviews",
            lambda: run_association_jobs(today),
        ),
        ("documents: delete stored files no document names", lambda: len(storage_orphans_delete())),
        ("api: forget idempotency keys older than a week", lambda: idempotent_requests_purge()),
        ("notifications: weekly digests", lambda: digests_send(today=today)),
        ("audit: seal new audit rows into the hash chain", lambda: audit_seal()),
    ]


def run_daily_jobs(today: date | None = None) -> dict[str, object]:
    return {name: run() for name, run in jobs(today)}


@task()
def daily_jobs() -> dict[str, object]:
    return run_daily_jobs()
