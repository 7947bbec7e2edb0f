"""API for documents: upload (many at once, all or nothing), metadata, download, new versions, deletion."""

from datetime import date, datetime
from typing import Any

from django.http import FileResponse, HttpRequest
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from coopfunds.accounts.models import User
from coopfunds.accounts.selectors import location_for
from coopfunds.api.common import ERRORS, DocumentKind, Files, FormDate, Id, Keyset
from coopfunds.documents import selectors, services, serving
from coopfunds.documents.malware import ScanState
from coopfunds.documents.models import Document

router = Router(tags=["documents"])


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # authenticated by the API


class DocumentOut(Schema):
    id: int
    location_id: Id
    kind: str
    note: str
    name: str
    file_type: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    created_at: datetime
    version_of_id: Id | None
    locked_at: datetime | None
    retain_until: date | None
    preview: str
    scan_state: ScanState = Field(
        description="The malware scan at upload: clean, or not_scanned (scanning was off or unavailable)."
    )
    download_url: str

    @staticmethod
    def resolve_name(obj: Document) -> str:
        return obj.original_name

    @staticmethod
    def resolve_uploaded_by(obj: Document) -> str:
        return obj.uploaded_by.email

    @staticmethod
    def resolve_preview(obj: Document) -> str:
        return obj.preview_state

    @staticmethod
    def resolve_download_url(obj: Document) -> str:
        return f"/api/v1/documents/{obj.pk}/download"


class DocumentUploadIn(Schema):
    kind: DocumentKind
    note: str = Field("", max_length=2000, description="Required for proof: what the documents show.")
    activity_date: FormDate = None


class DocumentVersionIn(Schema):
    note: str = Field("", max_length=2000, description="Required for proof documents: what it shows.")


@router.get("/locations/{location_id}/documents", response={200: list[DocumentOut], **ERRORS})
@paginate(Keyset, ordering=("-id",))
def document_list(request: HttpRequest, location_id: Id) -> Any:
    """The location's documents, newest first (every version)."""
    user = _user(request)
    return selectors.documents_of(user, location_for(user, location_id))


@router.post("/locations/{location_id}/documents", response={201: list[DocumentOut], **ERRORS})
def document_upload(
    request: HttpRequest,
    location_id: Id,
    data: Form[DocumentUploadIn],
    files: Files,
) -> Status[list[Document]]:
    """Upload one or more files as multipart form data: repeat the `files` part, with `kind` (invoice,
    certification_report, proof, other…), `note` (required for proof) and optionally `activity_date` (the
    documents are kept 24 months from it). All or nothing: a 422 names every refused file in
    `fields.files`, and nothing is stored. Types are decided from the content; up to 25 MB a file and
    100 MB for the location's documents not yet attached to something submitted."""
    user = _user(request)
    stored = services.documents_upload(
        uploads=files,
        kind=data.kind,
        note=data.note,
        location=location_for(user, location_id),
        actor=user,
        retain_from=data.activity_date,
    )
    return Status(201, stored)


@router.get("/documents/{document_id}", response={200: DocumentOut, **ERRORS})
def document_get(request: HttpRequest, document_id: Id) -> Document:
    return selectors.document_for(_user(request), document_id)


@router.get("/documents/{document_id}/download", response={200: None, **ERRORS})
def document_download(request: HttpRequest, document_id: Id) -> FileResponse:
    """The file as an attachment, with the content type verified at upload."""
    return serving.download_response(selectors.document_for(_user(request), document_id))


@router.post("/documents/{document_id}/versions", response={201: DocumentOut, **ERRORS})
def document_version(
    request: HttpRequest, document_id: Id, data: Form[DocumentVersionIn], file: File[UploadedFile]
) -> Status[Document]:
    """Replace a document with a new version (multipart: `file`, `note`). The old one is kept; only the
    newest version can be replaced; a locked document can be replaced too (it stays as it was)."""
    user = _user(request)
    document = selectors.document_for(user, document_id)
    return Status(201, services.document_replace(document=document, upload=file, note=data.note, actor=user))


@router.delete("/documents/{document_id}", response={204: None, **ERRORS})
def document_delete(request: HttpRequest, document_id: Id) -> Status[None]:
    """Delete a document that is not locked (409 if it is, or if it has a newer version)."""
    user = _user(request)
    services.document_discard(document=selectors.document_for(user, document_id), actor=user)
    return Status(204, None)
