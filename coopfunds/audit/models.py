from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """Who did what to which object, when, and why. Written in the same transaction as the change."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    actor_label = models.CharField(max_length=254, help_text=_("Email of the actor, or 'system'."))
    verb = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, help_text=_("app_label.model of the target."))
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=200)
    # The partner organisation the target belongs to (null for vendor-side objects), for scoping reads.
    organisation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    changes = models.JSONField(default=dict, blank=True, help_text=_("{field: [old, new]}"))
    reason = models.TextField(blank=True)
    # The hash chain (`audit.sealing`): rows are sealed in order, a minute or so after they are written; each
    # sealed row's hash covers its content and the previous sealed row's hash.
    seal_seq = models.BigIntegerField(null=True, blank=True, unique=True)
    seal_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "-id"], name="audit_target_idx"),
            models.Index(fields=["id"], condition=models.Q(seal_seq__isnull=True), name="audit_unsealed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.verb} {self.target_repr}"


class AuditSeal(models.Model):
    """The head of the audit chain: the last sealed row's sequence number and hash (one row). `audit_verify`
    checks that the chain ends here, so rows deleted from its end are found too."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    sealed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"audit chain head {self.last_seq} {self.last_hash[:12]}"
