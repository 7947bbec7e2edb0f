"""Tell people: an in-app notification (written in the caller's transaction) and, as each person chose, an email
(sent after commit) or a line in their weekly digest."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext

from coopfunds.accounts.models import User
from coopfunds.core.db import assert_in_transaction
from coopfunds.core.notify import email_after_commit
from coopfunds.notifications.models import EmailSettings, Notification, NotificationKind, Reminder

DIGEST_DAYS = 7


def _url(link: str) -> str:
    return settings.SITE_URL.rstrip("/") + link if link else ""


Text = str | Promise  # a lazy text (gettext_lazy, format_lazy) is written in each reader's language


def notify(
    *, users: Iterable[User], subject: Text, body: Text, link: str = "", kind: str = NotificationKind.UPDATE
) -> list[Notification]:
    """Tell each active person in `users`: always in the inbox; by email at once unless they turned `kind` off or
    take a weekly digest. Each reads it in their own language (see `Message`)."""
    return notify_each([Message(list(users), subject, body, link)], kind=kind)


@dataclass(frozen=True)
class Message:
    """One notification to some people. A subject or body made lazily (`gettext_lazy`, `format_lazy`,
    `core.i18n.money_lazy`) is written in each person's language (User.language; the site's when they chose
    none); a plain string is the same for all."""

    users: list[User]
    subject: Text
    body: Text
    link: str = ""

    def written_for(self, user: User) -> tuple[str, str]:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            return str(self.subject), str(self.body)


def notify_each(messages: list[Message], *, kind: str = NotificationKind.UPDATE) -> list[Notification]:
    """`notify` of each message (the notifications of a decision on many items): one INSERT and one read of the
    email settings for all of them."""
    assert_in_transaction()
    sent = [(m, u, *m.written_for(u)) for m in messages for u in {u.pk: u for u in m.users if u.is_active}.values()]
    rows = Notification.objects.bulk_create(
        [Notification(user=u, kind=kind, subject=subject[:200], body=body, link=m.link) for m, u, subject, body in sent]
    )
    held = {
        s.user_id
        for s in EmailSettings.objects.filter(user_id__in={u.pk for _, u, _, _ in sent})
        if s.weekly_digest or kind in s.muted
    }
    for m, user, subject, body in sent:
        if user.pk not in held:
            email_after_commit(to=[user.email], subject=subject, body=f"{body}\n\n{_url(m.link)}".strip() + "\n")
    return rows


def notify_security(*, user: User, subject: Text, body: Text, link: str = "") -> Notification:
    """A notice about the person's own account (a new sign-in method): in the inbox and always by email at once,
    whatever their email settings, so that someone who took over the account cannot hide it."""
    assert_in_transaction()
    subject_text, body_text = Message([user], subject, body, link).written_for(user)
    row = Notification.objects.create(
        user=user, kind=NotificationKind.UPDATE, subject=subject_text[:200], body=body_text, link=link
    )
    email_after_commit(to=[user.email], subject=subject_text, body=f"{body_text}\n\n{_url(link)}".strip() + "\n")
    return row


def remind_once(
    *,
    key: str,
    users: Iterable[User],
    subject: Text,
    body: Text,
    link: str = "",
    kind: str = NotificationKind.REMINDER,
) -> bool:
    """`notify` once per `key` ever (False: it was sent before). Inside the caller's transaction."""
    assert_in_transaction()
    try:
        with transaction.atomic():
            Reminder.objects.create(key=key)
    except IntegrityError:
        return False
    notify(users=users, subject=subject, body=body, link=link, kind=kind)
    return True


@transaction.atomic(durable=True)
def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def email_settings_of(user: User) -> EmailSettings:
    """The person's email settings (everything by email, no digest, until they change it)."""
    return EmailSettings.objects.filter(user=user).first() or EmailSettings(user=user, muted=[])


@transaction.atomic(durable=True)
def email_settings_update(*, user: User, muted: list[str], weekly_digest: bool) -> EmailSettings:
    """A person chooses which kinds of notification also reach them by email, and whether as a weekly digest."""
    unknown = sorted(set(muted) - set(NotificationKind.values))
    if unknown:
        raise ValidationError(
            {
                "muted": gettext("“%(kind)s” is not a kind of notification; the kinds are %(kinds)s.")
                % {"kind": unknown[0], "kinds": ", ".join(NotificationKind.values)}
            }
        )
    chosen, _ = EmailSettings.objects.update_or_create(
        user=user,
        defaults={"muted": [k for k in NotificationKind.values if k in set(muted)], "weekly_digest": weekly_digest},
    )
    return chosen


def digests_send(*, today: date | None = None) -> int:
    """Send each person who takes a weekly digest one email with what reached their inbox since their last one
    (kinds they turned off left out), once a week. Safe to run daily, twice, or on two machines at once."""
    now = timezone.now() if today is None else timezone.make_aware(datetime.combine(today, time()))
    sent = 0
    for settings_id in EmailSettings.objects.filter(weekly_digest=True, user__is_active=True).values_list(
        "pk", flat=True
    ):
        with transaction.atomic(durable=True):
            chosen = EmailSettings.objects.select_for_update().select_related("user").get(pk=settings_id)
            since = chosen.digest_sent_at
            if since is not None and now - since < timedelta(days=DIGEST_DAYS):
                continue
            items = Notification.objects.filter(user=chosen.user).exclude(kind__in=chosen.muted)
            if since is not None:
                items = items.filter(created_at__gt=since)
            items = items.filter(created_at__lte=now).order_by("id")
            lines = [f"- {n.subject}" + (f": {_url(n.link)}" if n.link else "") for n in items[:200]]
            chosen.digest_sent_at = now
            chosen.save(update_fields=["digest_sent_at"])
            if not lines:
                continue
            more = items.count() - len(lines)
            total = len(lines) + max(more, 0)
            with translation.override(chosen.user.language or settings.LANGUAGE_CODE):  # in the reader's language
                body = "\n".join(lines) + (
                    "\n"
                    + ngettext("… and %(n)s more in your inbox.", "… and %(n)s more in your inbox.", more) % {"n": more}
                    if more > 0
                    else ""
                )
                email_after_commit(
                    to=[chosen.user.email],
                    subject=ngettext(
                        "Coopfunds: your week, %(n)s notification(s)",
                        "Coopfunds: your week, %(n)s notification(s)",
                        total,
                    )
                    % {"n": total},
                    body=gettext("Since your last digest:\n\n%(lines)s\n\n%(link)s\n")
                    % {"lines": body, "link": _url("/notifications/")},
                )
            sent += 1
    return sent
