from django.conf import settings
from django.db import models


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def status_constraint(field: str, choices: type[models.TextChoices], name: str) -> models.CheckConstraint:
    """The database refuses a status that is not one of its enum's values."""
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": choices.values}), name=name)


class IdempotentRequest(models.Model):
    """A state-changing API request sent with an `Idempotency-Key` header, and its first successful response.

    A retry with the same key (same user, endpoint and body) gets the stored response instead of acting again;
    the same key with another endpoint or body is refused. `status_code` is empty while the first request runs.
    See docs/adr/0004-api-idempotency.md."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    endpoint = models.CharField(max_length=300, help_text="Method and path, e.g. POST /api/v1/claims/7/approve.")
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request's body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotentrequest_unique_key")]

    def __str__(self) -> str:
        return f"{self.endpoint} [{self.key}]"
