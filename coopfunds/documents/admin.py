"""A read-only admin page. Uploads, versions, locks and deletions go through the services (checked and
audited); the admin shows no links to the files, which are served only by the permission-checked views."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from coopfunds.documents.models import Document


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["id", "original_name", "location", "kind", "file_type", "size", "created_at", "locked_at"]
    list_filter = ["kind", "file_type"]
    search_fields = ["original_name", "sha256", "location__partner_id", "location__name"]
    list_select_related = ["location"]
    fields = readonly_fields = (
        "location",
        "kind",
        "note",
        "original_name",
        "file_type",
        "content_type",
        "size",
        "sha256",
        "uploaded_by",
        "created_at",
        "version_of",
        "locked_at",
        "retain_until",
        "preview_state",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
