"""Real, minimal files of every kind, built here (no fixtures on disk, nothing random)."""

import io
import zipfile
import zlib

import openpyxl
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    """As a browser sends it (Django keeps only the last path component of the name)."""
    return SimpleUploadedFile(name, data, content_type=content_type)


def raw_upload(name: str, data: bytes) -> File:
    """A file whose name is exactly as given, as another caller (an import, an email) might pass it."""
    return File(io.BytesIO(data), name=name)


def image(fmt: str, size: tuple[int, int] = (40, 30), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, 1 if mode == "1" else (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    return image("PNG", size)


def jpeg() -> bytes:
    return image("JPEG")


def pillow_pdf() -> bytes:
    """A one-page PDF holding a JPEG, as Pillow writes it."""
    return image("PDF")


def pdf(catalog_extra: str = "", objects: tuple[bytes, ...] = (), trailer_extra: str = "") -> bytes:
    """A hand-written one-page PDF with a valid cross-reference table. `catalog_extra` goes into the
    catalog dictionary; `objects` are added as objects 4, 5, ..."""
    bodies = [
        f"<< /Type /Catalog /Pages 2 0 R {catalog_extra}>>".encode(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>",
        *objects,
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(bodies) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(bodies) + 1} /Root 1 0 R {trailer_extra}>>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def object_stream(objects: bytes, filters: str = "/Filter /FlateDecode") -> bytes:
    """An object stream (PDF 1.5+) holding `objects`, compressed unless `filters` is empty."""
    data = zlib.compress(objects) if "FlateDecode" in filters else objects
    head = f"<< /Type /ObjStm /N 1 /First 4 {filters} /Length {len(data)} >>\nstream\n".encode()
    return head + data + b"\nendstream"


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/{part}" ContentType="{main}"/>'
    "</Types>"
)
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
PPT_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"


def office(part: str, main: str, extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES.format(part=part, main=main))
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships '
            'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            f'officeDocument" Target="{part}"/></Relationships>',
        )
        archive.writestr(part, "<?xml version='1.0'?><document><body>Proof of execution</body></document>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def docx(extra: dict[str, bytes] | None = None) -> bytes:
    return office("word/document.xml", WORD_MAIN, extra)


def pptx() -> bytes:
    return office("ppt/presentation.xml", PPT_MAIN)


def xlsx() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["Guests", 42])  # type: ignore[union-attr]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def plain_zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def with_encrypted_flag(data: bytes, entry: str) -> bytes:
    """Mark one entry of a ZIP as encrypted in its central directory (Python's zipfile cannot write one)."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at >= 0:
        name_length = int.from_bytes(out[at + 28 : at + 30], "little")
        if out[at + 46 : at + 46 + name_length] == entry.encode():
            out[at + 8] |= 0x01
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)


def big_docx(unpacked: int) -> bytes:
    """A Word document with one part of `unpacked` zero bytes, written in pieces."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES.format(part="word/document.xml", main=WORD_MAIN))
        archive.writestr("word/document.xml", "<document/>")
        with archive.open("word/media/padding.bin", "w", force_zip64=True) as part:
            block = bytes(1024 * 1024)
            for _ in range(unpacked // len(block)):
                part.write(block)
            part.write(bytes(unpacked % len(block)))
    return out.getvalue()
