from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from coopfunds.core.models import status_constraint


class NotificationKind(models.TextChoices):
    """What a notification is about: each person chooses which kinds also reach them by email."""

    UPDATE = "update", _("Decisions and changes on your items")
    REVIEW = "review", _("Items to review")
    REMINDER = "reminder", _("Reminders: co-op about to be forfeited, claiming windows closing, drafts expiring")
    ESCALATION = "escalation", _("Escalations: reviews and payments past their deadline")


class Notification(models.Model):
    """An in-app message to one person: something asks for their action or tells them of a decision. Every
    notification is in the inbox; its email follows the person's `EmailSettings`."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices, default=NotificationKind.UPDATE)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True, help_text=_("Path of the page to act on."))
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "read_at", "-id"], name="notification_inbox_idx")]
        constraints = [status_constraint("kind", NotificationKind, "notification_kind_valid")]

    def __str__(self) -> str:
        return self.subject


class EmailSettings(models.Model):
    """Which notifications also reach one person by email (the inbox always has them all): kinds they turned
    off, and whether they want one weekly digest instead of an email each."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_settings")
    muted = models.JSONField(default=list, blank=True, help_text=_("Kinds of notification not sent by email."))
    weekly_digest = models.BooleanField(default=False)
    digest_sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Email settings of {self.user_id}"


class Reminder(models.Model):
    """A reminder sent once: (`key`) names what it is about and its occasion ("fund-expiry:42"), so the daily
    jobs never send it twice, however often they run."""

    key = models.CharField(max_length=200, unique=True)
    sent_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key
