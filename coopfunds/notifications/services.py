"""Tell people: an in-app notification (written in the caller's transaction) and an email (sent after commit)."""

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from coopfunds.accounts.models import User
from coopfunds.core.db import assert_in_transaction
from coopfunds.core.notify import email_after_commit
from coopfunds.notifications.models import Notification


def notify(*, users: Iterable[User], subject: str, body: str, link: str = "") -> list[Notification]:
    assert_in_transaction()
    people = {u.pk: u for u in users if u.is_active}
    rows = Notification.objects.bulk_create(
        [Notification(user=u, subject=subject[:200], body=body, link=link) for u in people.values()]
    )
    url = settings.SITE_URL.rstrip("/") + link if link else ""
    for user in people.values():
        email_after_commit(to=[user.email], subject=subject, body=f"{body}\n\n{url}".strip() + "\n")
    return rows


@transaction.atomic(durable=True)
def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
