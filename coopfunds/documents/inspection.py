"""Checking an upload before anything is stored: `inspect_upload(upload, policy) -> Inspected`.

It raises a ValidationError whose message names the file and says what is wrong in words a person
understands; it writes nothing. The type comes from the content, never from the name or the browser's
content type, and the extension must agree with it. One pass over the file computes its size and SHA-256
and feeds the PDF, image or text scanner (active content, a web page hidden inside); images (readable, nothing
after their end) and Office files get their own checks after it; last, ClamAV scans it (malware.py)."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from django.core.exceptions import ValidationError
from django.core.files import File
from django.utils.formats import get_format
from django.utils.translation import gettext as _

from coopfunds.documents import images, malware, office, previews
from coopfunds.documents.filetypes import (
    ALL_TYPES,
    IMAGE_TYPES,
    OFFICE_TYPES,
    PROGRAM,
    TEXT,
    TEXT_TYPES,
    TYPES,
    WEB,
    WEB_EXTENSIONS,
    ZIP,
    FileType,
    accepted_words,
    label_of,
    sniff,
    type_for_extension,
)
from coopfunds.documents.images import ImageScanner
from coopfunds.documents.names import check_name, extension_of, sanitise
from coopfunds.documents.pdf import PdfScanner
from coopfunds.documents.text import TextScanner

MB = 1024 * 1024
CHUNK = 256 * 1024
HEAD = 8192


@dataclass(frozen=True)
class UploadPolicy:
    """What an owner (a claim, a location's unattached documents) accepts. `already_bytes`: what it holds."""

    allowed: frozenset[str] = field(default=ALL_TYPES)
    max_file_bytes: int = 25 * MB
    max_total_bytes: int = 100 * MB
    already_bytes: int = 0


@dataclass(frozen=True)
class Inspected:
    name: str  # sanitised, for showing and for the download's file name
    file_type: str  # a FileType value
    content_type: str
    size: int
    sha256: str
    scan_state: str = malware.ScanState.NOT_SCANNED  # what malware.scan found: clean or not scanned


class _Scanner(Protocol):
    def feed(self, data: bytes) -> None: ...

    def close(self) -> None: ...


def human_size(size: int) -> str:
    """ "812 bytes", "1.5 KB", "25 MB", with the active language's decimal separator ("1,5 KB" in Swedish)."""
    if size < 1024:
        return _("%(size)s bytes") % {"size": size}
    value, unit = (size / 1024, "KB") if size < MB else (size / MB, "MB")
    figures = f"{value:.1f}".removesuffix(".0").replace(".", get_format("DECIMAL_SEPARATOR"))
    return f"{figures} {unit}"


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _stream(upload: File) -> IO[Any]:
    if upload.file is None:
        raise _refuse(_("“%(name)s” is empty.") % {"name": upload.name}, "empty")
    return upload.file


def _check_size(name: str, size: int, policy: UploadPolicy, already: int) -> None:
    if size <= 0:
        raise _refuse(_("“%(name)s” is empty.") % {"name": name}, "empty")
    if size > policy.max_file_bytes:
        said = _("“%(name)s” is %(size)s; a file may be at most %(most)s.")
        raise _refuse(
            said % {"name": name, "size": human_size(size), "most": human_size(policy.max_file_bytes)}, "too_big"
        )
    if already + size > policy.max_total_bytes:
        said = _("“%(name)s” would bring the documents here to %(size)s; together they may be at most %(most)s.")
        raise _refuse(
            said % {"name": name, "size": human_size(already + size), "most": human_size(policy.max_total_bytes)},
            "total_too_big",
        )


def _decide_type(upload: File, name: str, ext: str, head: bytes, allowed: frozenset[str]) -> str:
    """The type key from the content, checked against the extension and the policy."""
    found = sniff(head)
    if found == WEB or ext in WEB_EXTENSIONS:
        raise _refuse(
            _(
                "“%(name)s” is a web page or SVG image, which can carry scripts; these are not accepted. Save it as "
                "PDF and upload that."
            )
            % {"name": name},
            "web",
        )
    if found == ZIP:
        found = office.identify(_stream(upload))
    if found == TEXT:  # text is csv or txt by its name; text named like anything else is not that thing
        by_name = type_for_extension(ext)
        found = by_name if by_name in TEXT_TYPES else (FileType.TXT if not ext else None)
    accepted = _("accepted here: %(types)s.") % {"types": accepted_words(allowed)}
    said: dict[str, object] = {"name": name, "ext": ext, "accepted": accepted}
    if found == PROGRAM:
        raise _refuse(_("“%(name)s” is a program, not a document; %(accepted)s") % said, "program")
    if found is None or found not in TYPES:
        what = label_of(found) if found else None
        claimed = type_for_extension(ext)
        if found is None and claimed in TEXT_TYPES:
            raise _refuse(_("“%(name)s” contains binary data, not text.") % said, "binary")
        if claimed is not None:
            said |= {"type": TYPES[claimed].label, "what": what}
            mismatch = (
                _("“%(name)s” is named .%(ext)s but is not %(type)s (it is %(what)s); %(accepted)s")
                if what
                else _("“%(name)s” is named .%(ext)s but is not %(type)s; %(accepted)s")
            )
            raise _refuse(mismatch % said, "mismatch")
        if what:
            raise _refuse(_("“%(name)s” is %(what)s; %(accepted)s") % {**said, "what": what}, "type")
        raise _refuse(_("“%(name)s” is not a type of file we accept; %(accepted)s") % said, "type")
    said |= {"type": TYPES[found].label, "suggest": TYPES[found].extensions[0]}
    if ext not in TYPES[found].extensions:
        rename = (
            _("“%(name)s” is named .%(ext)s but is %(type)s; rename it to .%(suggest)s or upload the right file.")
            if ext
            else _("“%(name)s” has no extension but is %(type)s; rename it to .%(suggest)s or upload the right file.")
        )
        raise _refuse(rename % said, "mismatch")
    if found not in allowed:
        raise _refuse(_("“%(name)s” is %(what)s; %(accepted)s") % {**said, "what": TYPES[found].label}, "not_allowed")
    return found


def _scanner(file_type: str, name: str) -> _Scanner | None:
    if file_type == FileType.PDF:
        return PdfScanner(name)
    if file_type in IMAGE_TYPES:
        return ImageScanner(name)
    if file_type in (FileType.CSV, FileType.TXT):
        return TextScanner(name)
    return None


def inspect_upload(upload: File, policy: UploadPolicy, *, already_bytes: int | None = None) -> Inspected:
    """Check one upload against `policy`; `already_bytes` overrides the policy's (files earlier in a batch)."""
    raw_name = upload.name or ""
    check_name(raw_name)
    name = sanitise(raw_name)
    already = policy.already_bytes if already_bytes is None else already_bytes
    _check_size(name, upload.size or 0, policy, already)
    upload.seek(0)
    head = upload.read(HEAD)
    upload.seek(0)
    file_type = _decide_type(upload, name, extension_of(name), head, policy.allowed)

    digest, size, scanner = hashlib.sha256(), 0, _scanner(file_type, name)
    for chunk in upload.chunks(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if scanner is not None:
            scanner.feed(chunk)
        if size > policy.max_file_bytes:
            break  # the reported size was wrong; _check_size below says so
    if scanner is not None:
        scanner.close()
    _check_size(name, size, policy, already)
    if file_type in IMAGE_TYPES:
        previews.check_image(_stream(upload), name, file_type)
        images.check_end(_stream(upload), name, file_type)
    if file_type in OFFICE_TYPES:
        office.check(_stream(upload), name)
    stream = _stream(upload)
    stream.seek(0)
    scan_state = malware.scan(stream, name)
    upload.seek(0)
    return Inspected(
        name=name,
        file_type=file_type,
        content_type=TYPES[file_type].content_type,
        size=size,
        sha256=digest.hexdigest(),
        scan_state=scan_state,
    )


def inspect_uploads(uploads: Sequence[File], policy: UploadPolicy, *, field: str = "files") -> list[Inspected]:
    """Check every upload of a batch (all or nothing): one ValidationError {field: [one message per refused
    file]} naming each. The batch's sizes add up against the policy's total."""
    if not uploads:
        raise ValidationError({field: _("Choose at least one file.")})
    inspected, errors, held = [], [], policy.already_bytes
    for upload in uploads:
        try:
            one = inspect_upload(upload, policy, already_bytes=held)
        except ValidationError as e:
            errors.extend(e.messages)  # a refused file is not counted: without it, the others may fit
            continue
        inspected.append(one)
        held += one.size
    if errors:
        raise ValidationError({field: errors})
    return inspected
