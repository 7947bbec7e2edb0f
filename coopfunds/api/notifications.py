"""The caller's notifications: what asks for their action or tells them of a decision."""

from datetime import datetime
from typing import cast

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.decorators import decorate_view
from ninja.pagination import paginate

from coopfunds.accounts.models import User
from coopfunds.api.common import ERRORS, Id, Keyset
from coopfunds.api.idempotency import IdempotencyKey, idempotent
from coopfunds.notifications.models import EmailSettings, Notification, NotificationKind
from coopfunds.notifications.selectors import notifications_of
from coopfunds.notifications.services import email_settings_of, email_settings_update, notifications_mark_read

router = Router(tags=["notifications"])


def _actor(request: HttpRequest) -> User:
    return cast(User, request.auth)  # type: ignore[attr-defined]  # every endpoint is authenticated


class NotificationOut(Schema):
    id: int
    subject: str
    body: str
    kind: NotificationKind
    link: str = Field(..., description="Path of the web page to act on, e.g. /claims/7/.")
    created_at: datetime
    read_at: datetime | None


class NotificationQuery(Schema):
    unread: bool = Field(False, description="Only notifications not read yet.")


class NotificationsReadIn(Schema):
    ids: list[Id] | None = Field(None, description="The notifications to mark read; omitted: all of them.")


class NotificationsReadOut(Schema):
    marked: int = Field(..., description="How many were unread and are now read.")


@router.get("/notifications", response={200: list[NotificationOut], **ERRORS})
@paginate(Keyset, ordering=("-id",))
def notification_list(request: HttpRequest, filters: Query[NotificationQuery]) -> QuerySet[Notification]:
    """The caller's notifications, newest first."""
    items = notifications_of(_actor(request))
    return items.filter(read_at__isnull=True) if filters.unread else items


@router.post("/notifications/read", response={200: NotificationsReadOut, **ERRORS})
@decorate_view(idempotent)
def notifications_read(
    request: HttpRequest, data: NotificationsReadIn, idempotency_key: IdempotencyKey = None
) -> dict[str, int]:
    """Mark notifications read (someone else's ids are ignored)."""
    return {"marked": notifications_mark_read(user=_actor(request), ids=data.ids)}


class EmailSettingsIO(Schema):
    muted: list[NotificationKind] = Field(
        ..., description="Kinds of notification not sent by email (the inbox still has them)."
    )
    weekly_digest: bool = Field(..., description="One email a week with everything not muted, instead of one each.")


@router.get("/me/email-settings", response={200: EmailSettingsIO, **ERRORS})
def email_settings_get(request: HttpRequest) -> EmailSettings:
    """Which of the caller's notifications also reach them by email."""
    return email_settings_of(_actor(request))


@router.put("/me/email-settings", response={200: EmailSettingsIO, **ERRORS})
def email_settings_put(request: HttpRequest, data: EmailSettingsIO) -> EmailSettings:
    """Choose which kinds of notification also reach the caller by email, and whether as a weekly digest."""
    return email_settings_update(user=_actor(request), muted=list(data.muted), weekly_digest=data.weekly_digest)
