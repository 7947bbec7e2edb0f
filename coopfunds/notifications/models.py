from django.conf import settings
from django.db import models


class Notification(models.Model):
    """An in-app message to one person: something asks for their action or tells them of a decision."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=300, blank=True, help_text="Path of the page to act on.")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "read_at", "-id"], name="notification_inbox_idx")]

    def __str__(self) -> str:
        return self.subject
