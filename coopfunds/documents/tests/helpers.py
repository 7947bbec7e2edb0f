"""Shared by the documents tests: what is stored, in the database and in the storage folder."""

from pathlib import Path

from coopfunds.audit.models import AuditEvent
from coopfunds.documents.models import Document


def stored_files(media: Path) -> list[str]:
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()) if media.exists() else []


def state(media: Path) -> tuple[list[tuple[object, ...]], int, list[str]]:
    """Every document row, the audit rows and the stored files: a refused action changes none of them."""
    return (
        list(Document.objects.order_by("pk").values_list()),
        AuditEvent.objects.count(),
        stored_files(media),
    )
