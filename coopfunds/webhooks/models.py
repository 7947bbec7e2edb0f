"""Webhooks: a vendor's endpoints, each for some kinds of event, and the deliveries to them
(docs/adr/0012-webhooks.md)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from coopfunds.core.crypto import EncryptedTextField
from coopfunds.core.models import status_constraint


class EventKind(models.TextChoices):
    CLAIM = "claim", _("Claim status changes")
    PROOF = "proof", _("Proof of execution status changes")
    PLAN = "plan", _("Plan status changes")
    ASSOCIATION = "association", _("Customer association status changes")
    PAYMENT = "payment", _("Payment and payment run status changes")
    ENROLLMENT = "enrollment", _("Enrollment status changes")
    FUND_EXPIRING = "fund_expiring", _("Co-op about to be forfeited")


class Endpoint(models.Model):
    """Where a vendor wants events of some kinds POSTed, signed with its secret. A rotated secret's predecessor
    still signs (a second signature) until `previous_until`, so the receiver can switch without losing any."""

    url = models.URLField(max_length=500)
    kinds = models.JSONField(help_text=_("The event kinds it receives."))
    description = models.CharField(max_length=200, blank=True)
    secret = EncryptedTextField()
    previous_secret = EncryptedTextField(blank=True, default="")
    previous_until = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("delivery", "Waiting to be sent")
    DELIVERED = "delivered", pgettext_lazy("delivery", "Delivered")
    FAILED = "failed", pgettext_lazy("delivery", "Failed: no more retries")


class Delivery(models.Model):
    """One event for one endpoint, with its attempts: retried with backoff until the endpoint answers 2xx or the
    retries run out; redelivery sends it again."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.BigIntegerField(help_text=_("The audit row the event comes from."))
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    event = models.CharField(max_length=64, help_text=_("What happened, e.g. claim.approved."))
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="delivery_once_per_endpoint"),
            status_constraint("status", DeliveryStatus, "delivery_status_valid"),
            status_constraint("kind", EventKind, "delivery_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at", "id"], condition=Q(status="pending"), name="delivery_due_idx")
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint_id}"


class FanOut(models.Model):
    """How far the sealed audit chain has been turned into deliveries (one row)."""

    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"webhooks fanned out to #{self.last_seq}"
