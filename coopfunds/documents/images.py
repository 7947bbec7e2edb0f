"""Image checks beyond "Pillow can read it": nothing may follow the image's end (a web page or an archive
appended after a PNG's IEND or a JPEG's end marker is a polyglot: another program opens the same file as
something else), and no web page may hide anywhere inside it. Streaming where it can be; the end checks read
only the file's structure or its last bytes."""

import re
import struct
from typing import IO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from coopfunds.documents.filetypes import FileType

CARRY = 64
_HTML = re.compile(rb"<(?:!doctype\s+html|html|head|body|script|iframe|object|embed|svg)[\s>/]", re.IGNORECASE)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _trailing(name: str) -> ValidationError:
    return ValidationError(
        _(
            "“%(name)s” has data after the end of the image (another file hidden behind it); save the image again "
            "and upload that."
        )
        % {"name": name},
        code="trailing_data",
    )


class ImageScanner:
    """Feed the file's bytes in order: refuses a web page (HTML) anywhere in it."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.carry = b""

    def feed(self, data: bytes) -> None:
        buf = self.carry + data
        if _HTML.search(buf):
            raise ValidationError(
                _(
                    "“%(name)s” has a web page (HTML) hidden inside it, which can carry scripts; save the image again "
                    "and upload that."
                )
                % {"name": self.filename},
                code="polyglot",
            )
        self.carry = buf[-CARRY:]

    def close(self) -> None:
        return None


def _png_end(file: IO[bytes], name: str) -> None:
    """Walk the chunks to IEND: nothing may come after its checksum."""
    file.seek(0)
    if file.read(8) != PNG_SIGNATURE:
        raise ValidationError(
            _("“%(name)s” is damaged: it can't be read as a PNG image.") % {"name": name}, code="damaged"
        )
    while True:
        header = file.read(8)
        if len(header) < 8:
            raise ValidationError(
                _("“%(name)s” is damaged: the PNG image ends too early.") % {"name": name}, code="damaged"
            )
        length, kind = struct.unpack(">I4s", header)
        file.seek(length + 4, 1)  # the chunk's data and checksum
        if kind == b"IEND":
            break
    if file.read(1):
        raise _trailing(name)


def _tail(file: IO[bytes], size: int = 64) -> bytes:
    file.seek(0, 2)
    end = file.tell()
    file.seek(max(end - size, 0))
    return file.read()


def _ends_with(file: IO[bytes], name: str, marker: bytes) -> None:
    """The last bytes (padding of zeros or line ends aside, which some writers add) are the end marker."""
    if not _tail(file).rstrip(b"\x00\r\n").endswith(marker):
        raise _trailing(name)


def _webp_end(file: IO[bytes], name: str) -> None:
    """A WebP file is one RIFF container: its size field counts every byte after the first eight."""
    file.seek(0)
    header = file.read(8)
    file.seek(0, 2)
    if len(header) < 8 or struct.unpack("<I", header[4:8])[0] + 8 + 1 < file.tell():
        raise _trailing(name)


def check_end(file: IO[bytes], name: str, key: str) -> None:
    """Refuse an image with data after its end. TIFF has no end marker (its parts are found by offsets)."""
    try:
        if key == FileType.PNG:
            _png_end(file, name)
        elif key == FileType.JPEG:
            _ends_with(file, name, b"\xff\xd9")
        elif key == FileType.GIF:
            _ends_with(file, name, b";")
        elif key == FileType.WEBP:
            _webp_end(file, name)
    finally:
        file.seek(0)
