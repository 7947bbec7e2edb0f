import pytest
from django.db import transaction

from coopfunds.documents import services
from coopfunds.documents.inspection import UploadPolicy
from coopfunds.documents.models import Document
from coopfunds.documents.tests import files


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Every test stores files in its own empty folder; PDFs are not rendered unless a test asks."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DOCUMENTS_PDFTOPPM = ""
    return settings.MEDIA_ROOT


@pytest.fixture
def store(world):  # type: ignore[no-untyped-def]
    """store("a.pdf", data) -> a Document on the world's first location, uploaded by its partner admin."""

    def make(name: str = "invoice.pdf", data: bytes | None = None, *, kind: str = "invoice", location=None, **kw):  # type: ignore[no-untyped-def]
        with transaction.atomic():
            return services.document_store(
                upload=files.upload(name, files.pillow_pdf() if data is None else data),
                kind=kind,
                note=kw.pop("note", ""),
                location=location or world.location,
                policy=kw.pop("policy", UploadPolicy()),
                actor=kw.pop("actor", world.partner_admin),
                **kw,
            )

    return make


@pytest.fixture
def document(store) -> Document:  # type: ignore[no-untyped-def]
    return store()
