"""Responses that carry a document's bytes, for the web pages and the API alike. Always streamed from
storage through a view that has checked the permission (never a public or pre-signed URL, see
docs/adr/0003-documents.md), with the verified content type and headers that keep a browser from running
or sniffing anything in it."""

from django.http import FileResponse
from django.utils.translation import gettext as _

from coopfunds.core.errors import NotFound
from coopfunds.documents.models import Document

SANDBOX = "default-src 'none'; sandbox"


def _harden(response: FileResponse) -> FileResponse:
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Referrer-Policy"] = "no-referrer"
    return response


def download_response(document: Document) -> FileResponse:
    """The file itself, as an attachment under its original (sanitised) name."""
    return _harden(
        FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=document.original_name,
            content_type=document.content_type,
        )
    )


def preview_response(document: Document) -> FileResponse:
    """Inline: the PNG preview that was rendered from the file (never the file itself). NotFound otherwise."""
    if not document.has_preview:
        raise NotFound(_("This document has no preview; download it instead."))
    stem = document.original_name.rsplit(".", 1)[0]
    return _harden(FileResponse(document.preview.open("rb"), filename=f"{stem}.png", content_type="image/png"))
