"""Office Open XML files (docx, xlsx, pptx) are ZIP containers. We never unpack them to disk: we read the
central directory, the small [Content_Types].xml and the first bytes of each part, and refuse what could
hurt a reader or a server (archive bombs, nested archives or embedded files, encryption, macros)."""

import re
import zipfile
from typing import IO

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from coopfunds.documents.filetypes import ZIP, FileType

MAX_ENTRIES = 5_000
MAX_UNPACKED = 100 * 1024 * 1024
MAX_RATIO = 100
RATIO_FROM = 1024 * 1024  # parts smaller than this may compress as well as they like
MAX_CONTENT_TYPES = 1024 * 1024

MAIN_PARTS = {
    FileType.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    FileType.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    FileType.PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
}
_OVERRIDE = re.compile(rb"<Override\b[^>]*>", re.IGNORECASE)
_PART = re.compile(rb'PartName\s*=\s*["\']([^"\']+)["\']')
_TYPE = re.compile(rb'ContentType\s*=\s*["\']([^"\']+)["\']')
_NESTED = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF", b"MZ", b"\x7fELF")


def _content_types(archive: zipfile.ZipFile) -> bytes | None:
    try:
        info = archive.getinfo("[Content_Types].xml")
    except KeyError:
        return None
    if info.file_size > MAX_CONTENT_TYPES or info.flag_bits & 0x1:
        return None
    with archive.open(info) as part:
        return part.read(MAX_CONTENT_TYPES)


def _main_part(archive: zipfile.ZipFile, content_types: bytes) -> str | None:
    """The type whose main part the content types name and the archive holds."""
    names = set(archive.namelist())
    for override in _OVERRIDE.findall(content_types):
        part, ctype = _PART.search(override), _TYPE.search(override)
        if not part or not ctype:
            continue
        for key, main in MAIN_PARTS.items():
            if (
                ctype.group(1).decode("ascii", "replace") == main
                and part.group(1).decode("utf-8", "replace").lstrip("/") in names
            ):
                return key
    return None


def identify(file: IO[bytes]) -> str:
    """docx, xlsx or pptx when the ZIP is a real Office document of that kind, else ZIP."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            content_types = _content_types(archive)
            if content_types is None or b"<!DOCTYPE" in content_types or b"<!ENTITY" in content_types:
                return ZIP
            return _main_part(archive, content_types) or ZIP
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return ZIP
    finally:
        file.seek(0)


def check(file: IO[bytes], name: str) -> None:
    """Refuse an Office file that is damaged, an archive bomb, encrypted, holds macros or nested files."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            _check_archive(archive, name)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        raise ValidationError(
            _("“%(name)s” is damaged: it can't be opened.") % {"name": name}, code="damaged"
        ) from None
    finally:
        file.seek(0)


def _bomb(message: str) -> ValidationError:
    return ValidationError(message, code="bomb")


def _check_archive(archive: zipfile.ZipFile, name: str) -> None:
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise _bomb(
            _("“%(name)s” holds more than %(n)s parts; it looks like an archive bomb and is not accepted.")
            % {"name": name, "n": number_format(MAX_ENTRIES, force_grouping=True)}
        )
    unpacked = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if unpacked > MAX_UNPACKED:
        raise _bomb(
            _("“%(name)s” unpacks to more than %(n)s MB; it looks like an archive bomb and is not accepted.")
            % {"name": name, "n": MAX_UNPACKED // (1024 * 1024)}
        )
    if (unpacked > RATIO_FROM and unpacked > MAX_RATIO * max(packed, 1)) or any(
        i.file_size > RATIO_FROM and i.file_size > MAX_RATIO * max(i.compress_size, 1) for i in infos
    ):
        raise _bomb(
            _("“%(name)s” is compressed more than %(n)s times; it looks like an archive bomb and is not accepted.")
            % {"name": name, "n": MAX_RATIO}
        )
    if any(i.flag_bits & 0x1 for i in infos):
        raise ValidationError(
            _("“%(name)s” is password-protected; save it without a password and upload it again.") % {"name": name},
            code="encrypted",
        )
    lowered = [i.filename.lower() for i in infos]
    if any(n.endswith("vbaproject.bin") or "/activex/" in f"/{n}" for n in lowered) or b"macroEnabled" in (
        _content_types(archive) or b""
    ):
        raise ValidationError(
            _("“%(name)s” contains macros or controls, which are not accepted; save it without macros.")
            % {"name": name},
            code="macros",
        )
    for info in infos:
        if info.is_dir() or info.file_size < 4:
            continue
        with archive.open(info) as part:
            head = part.read(4)
        if head.startswith(_NESTED) or "/embeddings/" in f"/{info.filename.lower()}":
            raise ValidationError(
                _(
                    "“%(name)s” contains another file or archive inside it (such as an embedded workbook); "
                    "save it as PDF and upload that."
                )
                % {"name": name},
                code="nested",
            )
