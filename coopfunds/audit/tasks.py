"""The audit sealer as a task, for a worker to run every few minutes (`audit_seal.enqueue()`)."""

from django.tasks import task

from coopfunds.audit import sealing


@task()
def audit_seal() -> int:
    return sealing.audit_seal()
