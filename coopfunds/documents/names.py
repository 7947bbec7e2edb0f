"""File names as people send them: refused when they try to point elsewhere, otherwise made safe to show.

The stored file never uses this name (its path is random); the name is only shown and offered as the
download's file name."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

MAX_NAME = 150
_UNSAFE = re.compile(r"[^\w\s.()\-+,&@'’]", re.UNICODE)
_SPACES = re.compile(r"\s+")
_DRIVE = re.compile(r"^[A-Za-z]:")


def printable(name: str) -> str:
    """The name with control characters shown as '?', fit for an error message."""
    return "".join("?" if unicodedata.category(ch).startswith("C") else ch for ch in name)[:200]


def check_name(raw: str) -> None:
    """Refuse names with control characters, absolute paths, backslashes or a '..' component."""
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in raw):
        raise ValidationError(
            gettext("The file name “%(name)s” contains control characters; rename the file and upload it again.")
            % {"name": printable(raw)},
            code="name_control",
        )
    parts = raw.split("/")
    if "\\" in raw or raw.startswith("/") or _DRIVE.match(raw) or ".." in parts:
        raise ValidationError(
            gettext("The file name “%(name)s” points into other folders; upload the file under its own name.")
            % {"name": raw},
            code="name_path",
        )


def extension_of(name: str) -> str:
    """'Report.PDF' -> 'pdf', '.pdf' -> 'pdf'; no dot: ''."""
    _, dot, ext = name.rpartition(".")
    return ext.lower() if dot else ""


def sanitise(raw: str) -> str:
    """NFC, the last path component only, a safe subset of characters, at most 150 characters with the
    extension kept (as written). Never empty."""
    name = _SPACES.sub(" ", _UNSAFE.sub("_", unicodedata.normalize("NFC", raw).rsplit("/", 1)[-1])).strip()
    stem, dot, ext = name.rpartition(".")
    if not dot or not ext.isalnum():
        stem, ext = name, ""
    ext = ext[:16]
    room = MAX_NAME - (len(ext) + 1 if ext else 0)
    stem = stem.strip(" .")[:room].rstrip(" .") or "document"
    return f"{stem}.{ext}" if ext else stem
