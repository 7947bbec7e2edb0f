"""The file types a document may have: their keys, names, extensions and content signatures.

A type is decided from the content (magic bytes), never from the name or the browser's content type; the
extension must then agree with it. Office files are ZIP containers, told apart by `office.identify`."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as StrPromise


class FileType(models.TextChoices):
    PDF = "pdf", _("PDF document")
    PNG = "png", _("PNG image")
    JPEG = "jpeg", _("JPEG image")
    GIF = "gif", _("GIF image")
    WEBP = "webp", _("WebP image")
    TIFF = "tiff", _("TIFF image")
    DOCX = "docx", _("Word document")
    XLSX = "xlsx", _("Excel workbook")
    PPTX = "pptx", _("PowerPoint presentation")
    CSV = "csv", _("CSV file")
    TXT = "txt", _("text file")


@dataclass(frozen=True)
class TypeInfo:
    label: "StrPromise"  # "a PDF document": fits in a sentence (in the reader's language)
    content_type: str
    extensions: tuple[str, ...]  # the first is the one to suggest


TYPES: dict[str, TypeInfo] = {
    FileType.PDF: TypeInfo(_("a PDF document"), "application/pdf", ("pdf",)),
    FileType.PNG: TypeInfo(_("a PNG image"), "image/png", ("png",)),
    FileType.JPEG: TypeInfo(_("a JPEG image"), "image/jpeg", ("jpg", "jpeg", "jpe")),
    FileType.GIF: TypeInfo(_("a GIF image"), "image/gif", ("gif",)),
    FileType.WEBP: TypeInfo(_("a WebP image"), "image/webp", ("webp",)),
    FileType.TIFF: TypeInfo(_("a TIFF image"), "image/tiff", ("tif", "tiff")),
    FileType.DOCX: TypeInfo(
        _("a Word document"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",)
    ),
    FileType.XLSX: TypeInfo(
        _("an Excel workbook"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",)
    ),
    FileType.PPTX: TypeInfo(
        _("a PowerPoint presentation"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ("pptx",),
    ),
    FileType.CSV: TypeInfo(_("a CSV file"), "text/csv; charset=utf-8", ("csv",)),
    FileType.TXT: TypeInfo(_("a text file"), "text/plain; charset=utf-8", ("txt",)),
}

ALL_TYPES: frozenset[str] = frozenset(TYPES)
IMAGE_TYPES: frozenset[str] = frozenset({FileType.PNG, FileType.JPEG, FileType.GIF, FileType.WEBP, FileType.TIFF})
OFFICE_TYPES: frozenset[str] = frozenset({FileType.DOCX, FileType.XLSX, FileType.PPTX})
TEXT_TYPES: frozenset[str] = frozenset({FileType.CSV, FileType.TXT})

# Never accepted, whatever the policy: they can carry scripts that run in a browser.
WEB_EXTENSIONS = frozenset({"html", "htm", "xhtml", "shtml", "svg", "svgz", "xht", "mht", "mhtml", "hta"})

# Content that is not a document at all, with words for it.
ZIP = "zip"
PROGRAM = "program"
OLE = "ole"
WEB = "web"
TEXT = "text"
NOT_DOCUMENTS: "dict[str, StrPromise]" = {
    ZIP: _("a ZIP archive"),
    PROGRAM: _("a program"),
    OLE: _("an old-format Office file (.doc, .xls, .ppt), an Outlook message or a password-protected Office file"),
}


def label_of(key: str) -> str:
    """The type's words for a sentence ("a PDF document"), in the active language."""
    return str(TYPES[key].label if key in TYPES else NOT_DOCUMENTS.get(key, _("a file of an unknown type")))


def accepted_words(allowed: frozenset[str]) -> str:
    """'PDF, PNG, JPEG' in the order of FileType."""
    return ", ".join(t.value.upper() for t in FileType if t.value in allowed)


def type_for_extension(ext: str) -> str | None:
    return next((key for key, info in TYPES.items() if ext in info.extensions), None)


_WEB_STARTS = (b"<!doctype html", b"<html", b"<svg", b"<?xml", b"<head", b"<body", b"<script", b"<!--")


def sniff(head: bytes) -> str | None:
    """The type key (or ZIP, PROGRAM, OLE, WEB, TEXT) that the first bytes of a file show; None: unknown."""
    if head.startswith(b"%PDF-"):
        return FileType.PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileType.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return FileType.JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return FileType.GIF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return FileType.WEBP
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return FileType.TIFF
    if head.startswith(b"PK\x03\x04"):
        return ZIP
    if head.startswith((b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"#!")):
        return PROGRAM
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE
    if b"\x00" in head:
        return None
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if start.startswith(_WEB_STARTS) or b"<svg" in start[:1024] or b"<html" in start[:1024]:
        return WEB
    return TEXT
