"""Webhook delivery as a task, for workers (`webhooks_run.enqueue()` every minute)."""

from django.tasks import task

from coopfunds.webhooks.services import run_webhooks


@task()
def webhooks_run() -> dict[str, int]:
    return run_webhooks()
