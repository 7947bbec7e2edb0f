"""Uploaded documents: proof for claims, plans and customer associations. A document belongs to a partner
location. Its file lives in the default storage under a random name, never the uploader's; the name they
gave is kept (sanitised) only to show and to offer as the download's file name."""

import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from coopfunds.accounts.models import Location
from coopfunds.core.models import status_constraint
from coopfunds.documents.filetypes import IMAGE_TYPES, FileType
from coopfunds.documents.malware import ScanState

RETENTION_MONTHS = 24  # DOMAIN.md: keep original documents 24 months from the activity date


def document_path(instance: "Document", filename: str) -> str:
    """documents/<yyyy>/<mm>/<uuid4 hex>: the uploader's file name never reaches the storage."""
    return f"documents/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


def preview_path(instance: "Document", filename: str) -> str:
    return f"previews/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.png"


class PreviewState(models.TextChoices):
    PENDING = "pending", _("Being prepared")
    READY = "ready", _("Ready")
    NONE = "none", pgettext_lazy("preview", "None")


class Document(models.Model):
    FileType = FileType
    ScanState = ScanState
    PreviewState = PreviewState

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=32, help_text=_("What the document is, in the caller's words: invoice, proof…"))
    note = models.TextField(blank=True, help_text=_("What the document shows or proves."))
    file = models.FileField(upload_to=document_path, max_length=200)
    original_name = models.CharField(max_length=150)
    file_type = models.CharField(max_length=8, choices=FileType.choices)
    content_type = models.CharField(max_length=100, help_text=_("Verified from the content."))
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    version_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="newer_versions",
        help_text=_("The document this one replaces; the old version is kept."),
    )
    locked_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Set when what it belongs to is submitted: never changed or deleted after.")
    )
    retain_until = models.DateField(
        null=True, blank=True, help_text=_("Kept at least until this day: the activity date plus 24 months.")
    )
    preview = models.FileField(upload_to=preview_path, max_length=200, blank=True)
    preview_state = models.CharField(max_length=8, choices=PreviewState.choices, default=PreviewState.NONE)
    scan_state = models.CharField(
        max_length=12,
        choices=ScanState.choices,
        default=ScanState.NOT_SCANNED,
        help_text=_("What the malware scan at upload found (documents/malware.py)."),
    )

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["location", "-id"], name="document_location_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(size__gt=0), name="document_size_positive"),
            models.CheckConstraint(condition=Exact(Length("sha256"), 64), name="document_sha256_length"),
            models.CheckConstraint(condition=~models.Q(kind=""), name="document_kind_not_empty"),
            models.CheckConstraint(condition=~models.Q(original_name=""), name="document_name_not_empty"),
            models.CheckConstraint(
                condition=~models.Q(version_of=models.F("id")), name="document_not_version_of_itself"
            ),
            models.UniqueConstraint(
                fields=["version_of"], condition=models.Q(version_of__isnull=False), name="document_one_newer_version"
            ),
            status_constraint("file_type", FileType, "document_file_type_valid"),
            status_constraint("preview_state", PreviewState, "document_preview_state_valid"),
            status_constraint("scan_state", ScanState, "document_scan_state_valid"),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def is_image(self) -> bool:
        return self.file_type in IMAGE_TYPES

    @property
    def has_preview(self) -> bool:
        """A PNG preview exists: the page shows it inline as an image; the raw file is never shown in the page."""
        return self.preview_state == PreviewState.READY and bool(self.preview)

    def must_keep_on(self, day: date) -> bool:
        """A locked document is kept until its retention date (for ever if it has none)."""
        return self.is_locked and (self.retain_until is None or day <= self.retain_until)
