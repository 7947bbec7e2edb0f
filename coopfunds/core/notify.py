from functools import partial

from django.db import transaction

from coopfunds.core.tasks import send_email


def email_after_commit(*, to: list[str], subject: str, body: str) -> None:
    """Queue an email to go out once the surrounding transaction commits (and not at all if it rolls back)."""
    transaction.on_commit(partial(send_email.enqueue, to=to, subject=subject, body=body))
