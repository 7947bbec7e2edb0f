"""inspect_upload: real minimal files of every type are accepted; every refusal has its exact message."""

import hashlib
import itertools
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from coopfunds.documents.inspection import MB, UploadPolicy, human_size, inspect_upload, inspect_uploads
from coopfunds.documents.names import sanitise
from coopfunds.documents.pdf import PdfScanner
from coopfunds.documents.tests import files

ALL = "accepted here: PDF, PNG, JPEG, GIF, WEBP, TIFF, DOCX, XLSX, PPTX, CSV, TXT."
POLICY = UploadPolicy()

ACCEPTED: list[tuple[str, Callable[[], bytes], str, str]] = [
    ("report.pdf", files.pillow_pdf, "pdf", "application/pdf"),
    ("handwritten.pdf", files.pdf, "pdf", "application/pdf"),
    # an OpenAction that is a destination (the page to open at, as PDF writers set it) is no action
    ("opens-at-page.pdf", lambda: files.pdf(catalog_extra="/OpenAction [3 0 R /FitH null] "), "pdf", "application/pdf"),
    ("screenshot.png", files.png, "png", "image/png"),
    ("photo.jpg", files.jpeg, "jpeg", "image/jpeg"),
    ("photo.JPEG", files.jpeg, "jpeg", "image/jpeg"),
    ("banner.gif", lambda: files.image("GIF"), "gif", "image/gif"),
    ("banner.webp", lambda: files.image("WEBP"), "webp", "image/webp"),
    ("scan.tiff", lambda: files.image("TIFF"), "tiff", "image/tiff"),
    ("final-piece.docx", files.docx, "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("guests.xlsx", files.xlsx, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("deck.pptx", files.pptx, "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("reach.csv", lambda: b"channel,reach\nemail,12000\n", "csv", "text/csv; charset=utf-8"),
    ("notes.txt", lambda: "Stand at the Köln fair, 3 days.\n".encode(), "txt", "text/plain; charset=utf-8"),
    ("bom.csv", lambda: b"\xef\xbb\xbfa;b\n", "csv", "text/csv; charset=utf-8"),
    (
        "clean-objects.pdf",
        lambda: files.pdf(objects=(files.object_stream(b"5 0 << /Type /Font /Subtype /Type1 >>"),)),
        "pdf",
        "application/pdf",
    ),
]


@pytest.mark.parametrize(("name", "build", "file_type", "content_type"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_accepts_real_files_of_every_type(name, build, file_type, content_type):
    data = build()
    inspected = inspect_upload(files.upload(name, data, "application/x-anything"), POLICY)
    assert (inspected.name, inspected.file_type, inspected.content_type, inspected.size, inspected.sha256) == (
        name,
        file_type,
        content_type,
        len(data),
        hashlib.sha256(data).hexdigest(),
    )


REFUSED: list[tuple[str, Callable[[], bytes], str]] = [
    ("empty.pdf", lambda: b"", "“empty.pdf” is empty."),
    (
        "image.pdf",
        files.png,
        "“image.pdf” is named .pdf but is a PNG image; rename it to .png or upload the right file.",
    ),
    ("setup.pdf", lambda: b"MZ\x90\x00\x03" + bytes(200), f"“setup.pdf” is a program, not a document; {ALL}"),
    ("run.pdf", lambda: b"\x7fELF\x02\x01" + bytes(200), f"“run.pdf” is a program, not a document; {ALL}"),
    ("setup.exe", lambda: b"MZ\x90\x00\x03" + bytes(200), f"“setup.exe” is a program, not a document; {ALL}"),
    (
        "budget.docx",
        files.xlsx,
        "“budget.docx” is named .docx but is an Excel workbook; rename it to .xlsx or upload the right file.",
    ),
    (
        "fake.docx",
        lambda: files.plain_zip({"readme.txt": b"hello"}),
        f"“fake.docx” is named .docx but is not a Word document (it is a ZIP archive); {ALL}",
    ),
    ("bundle.zip", lambda: files.plain_zip({"a.txt": b"hello"}), f"“bundle.zip” is a ZIP archive; {ALL}"),
    (
        "old.doc",
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500),
        "“old.doc” is an old-format Office file (.doc, .xls, .ppt), an Outlook message or a password-protected "
        f"Office file; {ALL}",
    ),
    ("notes.pdf", lambda: b"just some text", f"“notes.pdf” is named .pdf but is not a PDF document; {ALL}"),
    ("readme.md", lambda: b"# Title", f"“readme.md” is not a type of file we accept; {ALL}"),
    (
        "noext",
        files.pillow_pdf,
        "“noext” has no extension but is a PDF document; rename it to .pdf or upload the right file.",
    ),
    (
        "page.html",
        lambda: b"<!DOCTYPE html><html><body>hi</body></html>",
        "“page.html” is a web page or SVG image, which can carry scripts; these are not accepted. Save it as PDF "
        "and upload that.",
    ),
    (
        "logo.svg",
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg"/>',
        "“logo.svg” is a web page or SVG image, which can carry scripts; these are not accepted. Save it as PDF "
        "and upload that.",
    ),
    (
        "logo.txt",
        lambda: b'  <svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>',
        "“logo.txt” is a web page or SVG image, which can carry scripts; these are not accepted. Save it as PDF "
        "and upload that.",
    ),
    (
        "page.htm",
        files.pillow_pdf,
        "“page.htm” is a web page or SVG image, which can carry scripts; these are not accepted. Save it as PDF "
        "and upload that.",
    ),
    (
        "list.csv",
        lambda: b"name,link\nx,JavaScript:alert(1)\n",
        "“list.csv” contains a script (“<script” or “javascript:”), which is not accepted in a text file.",
    ),
    (
        "notes.txt",
        lambda: b"hello\n<ScRiPt src=x></script>",
        "“notes.txt” contains a script (“<script” or “javascript:”), which is not accepted in a text file.",
    ),
    ("nul.txt", lambda: b"abc\x00def", "“nul.txt” contains binary data, not text."),
    (
        "latin.csv",
        lambda: "Müller;1\n".encode("latin-1"),
        "“latin.csv” is not UTF-8 text; save it as UTF-8 (for a spreadsheet: CSV UTF-8) and upload it again.",
    ),
    (
        "script.pdf",
        lambda: files.pdf("/OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
        "“script.pdf” contains JavaScript, which is not accepted in a PDF; print it to a new PDF and upload that.",
    ),
    (
        "escaped.pdf",
        lambda: files.pdf("/OpenAction << /S /J#61vaScr#69pt /J#53 (x) >>"),
        "“escaped.pdf” contains JavaScript, which is not accepted in a PDF; print it to a new PDF and upload that.",
    ),
    (
        "js-ref.pdf",
        lambda: files.pdf("/AA << /O << /JS 4 0 R >> >>", objects=(b"(app.alert(1))",)),
        "“js-ref.pdf” contains JavaScript, which is not accepted in a PDF; print it to a new PDF and upload that.",
    ),
    (
        "hidden.pdf",
        lambda: files.pdf(objects=(files.object_stream(b"5 0 << /S /JavaScript /JS (app.alert(1)) >>"),)),
        "“hidden.pdf” contains JavaScript, which is not accepted in a PDF; print it to a new PDF and upload that.",
    ),
    (
        "launch.pdf",
        lambda: files.pdf("/OpenAction << /S /Launch /F (calc.exe) >>"),
        "“launch.pdf” contains an action that starts a program, which is not accepted in a PDF; print it to a new "
        "PDF and upload that.",
    ),
    (
        "attached.pdf",
        lambda: files.pdf("/Names << /EmbeddedFiles << /Names [(a.exe) 4 0 R] >> >>", objects=(b"<< >>",)),
        "“attached.pdf” contains embedded files, which is not accepted in a PDF; print it to a new PDF and upload "
        "that.",
    ),
    (
        "locked.pdf",
        lambda: files.pdf(trailer_extra="/Encrypt 9 0 R"),
        "“locked.pdf” is encrypted or password-protected; save it without a password and upload it again.",
    ),
    (
        "lzw.pdf",
        lambda: files.pdf(objects=(files.object_stream(b"5 0 << >>", "/Filter /LZWDecode"),)),
        "“lzw.pdf” uses a compression we can't check; print it to a new PDF and upload that.",
    ),
    (
        "broken.pdf",
        lambda: files.pdf(
            objects=(b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode >>\nstream\nnot zlib\nendstream",)
        ),
        "“broken.pdf” is damaged: part of it can't be read, so we can't check it.",
    ),
    (
        "ratio.docx",
        lambda: files.big_docx(2 * MB),
        "“ratio.docx” is compressed more than 100 times; it looks like an archive bomb and is not accepted.",
    ),
    (
        "parts.docx",
        lambda: files.docx({f"word/media/p{i}.xml": b"<p/>" for i in range(5001)}),
        "“parts.docx” holds more than 5,000 parts; it looks like an archive bomb and is not accepted.",
    ),
    (
        "nested.docx",
        lambda: files.docx({"word/media/inner.bin": files.plain_zip({"a.txt": b"x"})}),
        "“nested.docx” contains another file or archive inside it (such as an embedded workbook); save it as PDF "
        "and upload that.",
    ),
    (
        "chart.docx",
        lambda: files.docx({"word/embeddings/Microsoft_Excel_Worksheet.xlsx": files.xlsx()}),
        "“chart.docx” contains another file or archive inside it (such as an embedded workbook); save it as PDF "
        "and upload that.",
    ),
    (
        "secret.docx",
        lambda: files.with_encrypted_flag(files.docx({"word/media/a.bin": b"abcdefgh"}), "word/media/a.bin"),
        "“secret.docx” is password-protected; save it without a password and upload it again.",
    ),
    (
        "macro.docx",
        lambda: files.docx({"word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + bytes(20)}),
        "“macro.docx” contains macros or controls, which are not accepted; save it without macros.",
    ),
    ("broken.png", lambda: files.png()[:60], "“broken.png” is damaged: it can't be read as a PNG image."),
    (
        "huge.png",
        lambda: files.png((8000, 6000)),
        "“huge.png” is 8,000 × 6,000 pixels; images may have at most 40 million pixels.",
    ),
    (
        "bomb.png",
        lambda: files.image("PNG", (10000, 9000), mode="1"),
        "“bomb.png” is too large an image to open safely (a decompression bomb); it is not accepted.",
    ),
]


@pytest.mark.parametrize(("name", "build", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refuses_with_a_message_naming_the_file(name, build, message):
    with pytest.raises(ValidationError) as refused:
        inspect_upload(files.upload(name, build(), "application/pdf"), POLICY)
    assert refused.value.messages == [message]


def test_refuses_an_archive_that_unpacks_to_more_than_100_mb():
    with pytest.raises(ValidationError) as refused:
        inspect_upload(files.upload("padded.docx", files.big_docx(101 * MB)), POLICY)
    assert refused.value.messages == [
        "“padded.docx” unpacks to more than 100 MB; it looks like an archive bomb and is not accepted."
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            "../../etc/passwd.pdf",
            "The file name “../../etc/passwd.pdf” points into other folders; upload the file under its own name.",
        ),
        (
            "/etc/invoice.pdf",
            "The file name “/etc/invoice.pdf” points into other folders; upload the file under its own name.",
        ),
        (
            "C:\\Users\\x\\invoice.pdf",
            "The file name “C:\\Users\\x\\invoice.pdf” points into other folders; upload the file under its own name.",
        ),
        (
            "C:invoice.pdf",
            "The file name “C:invoice.pdf” points into other folders; upload the file under its own name.",
        ),
        (
            "..\\invoice.pdf",
            "The file name “..\\invoice.pdf” points into other folders; upload the file under its own name.",
        ),
        (
            "in\x00voice.pdf",
            "The file name “in?voice.pdf” contains control characters; rename the file and upload it again.",
        ),
        (
            "in\nvoice.pdf",
            "The file name “in?voice.pdf” contains control characters; rename the file and upload it again.",
        ),
        (
            "invoice\u202egpj.pdf",
            "The file name “invoice?gpj.pdf” contains control characters; rename the file and upload it again.",
        ),
    ],
)
def test_refuses_names_that_point_elsewhere_or_hide_characters(raw, message):
    with pytest.raises(ValidationError) as refused:
        inspect_upload(files.raw_upload(raw, files.pillow_pdf()), POLICY)
    assert refused.value.messages == [message]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("reports/q1/invoice.pdf", "invoice.pdf"),
        ("Rechnung Nr. 7 (März).PDF", "Rechnung Nr. 7 (März).PDF"),
        ("Cafe\u0301 <menu>*?.pdf", "Café _menu___.pdf"),
        ("  ...hidden.pdf", "hidden.pdf"),
        (".pdf", "document.pdf"),
        ("a" * 300 + ".pdf", "a" * 146 + ".pdf"),
        ("résumé;rm -rf.pdf", "résumé_rm -rf.pdf"),
    ],
)
def test_names_are_sanitised_keeping_the_extension(raw, clean):
    assert sanitise(raw) == clean
    assert len(sanitise(raw)) <= 150


def test_a_file_over_the_per_file_limit_is_refused_before_reading():
    with pytest.raises(ValidationError) as refused:
        inspect_upload(files.upload("scan.pdf", files.pillow_pdf()), UploadPolicy(max_file_bytes=1024))
    assert refused.value.messages == ["“scan.pdf” is 1.5 KB; a file may be at most 1 KB."]


def test_a_file_over_the_owners_total_is_refused():
    policy = UploadPolicy(max_total_bytes=100 * MB, already_bytes=100 * MB - 1000)
    with pytest.raises(ValidationError) as refused:
        inspect_upload(files.upload("scan.pdf", files.pillow_pdf()), policy)
    assert refused.value.messages == [
        "“scan.pdf” would bring the documents here to 100 MB; together they may be at most 100 MB."
    ]


def test_a_type_the_policy_does_not_allow_is_refused():
    with pytest.raises(ValidationError) as refused:
        inspect_upload(files.upload("deck.pptx", files.pptx()), UploadPolicy(allowed=frozenset({"pdf", "jpeg"})))
    assert refused.value.messages == ["“deck.pptx” is a PowerPoint presentation; accepted here: PDF, JPEG."]


def test_a_batch_names_every_refused_file_and_counts_sizes_together():
    policy = UploadPolicy(max_total_bytes=2048)
    uploads = [
        files.upload("one.pdf", files.pillow_pdf()),  # 1,510 bytes
        files.upload("two.pdf", files.pillow_pdf()),  # together 3,020: over
        files.upload("empty.txt", b""),
        files.upload("fine.txt", b"ok"),
    ]
    with pytest.raises(ValidationError) as refused:
        inspect_uploads(uploads, policy)
    assert refused.value.message_dict == {
        "files": [
            "“two.pdf” would bring the documents here to 2.9 KB; together they may be at most 2 KB.",
            "“empty.txt” is empty.",
        ]
    }


def test_an_empty_batch_is_refused():
    with pytest.raises(ValidationError) as refused:
        inspect_uploads([], POLICY)
    assert refused.value.message_dict == {"files": ["Choose at least one file."]}


@pytest.mark.parametrize(
    ("size", "words"), [(0, "0 bytes"), (1023, "1023 bytes"), (1024, "1 KB"), (1536, "1.5 KB"), (25 * MB, "25 MB")]
)
def test_sizes_in_words(size, words):
    assert human_size(size) == words


def test_sha256_is_computed_while_streaming_a_file_larger_than_one_chunk():
    data = ("row,value\n" + "".join(f"{i},{i * 7}\n" for i in range(60_000))).encode()
    assert len(data) > 256 * 1024
    inspected = inspect_upload(files.upload("rows.csv", data), POLICY)
    assert (inspected.size, inspected.sha256) == (len(data), hashlib.sha256(data).hexdigest())


HIDDEN = files.pdf(objects=(files.object_stream(b"5 0 << /S /JavaScript /JS (app.alert(1)) >>"),))
ESCAPED = files.pdf("/OpenAction << /S /Lau#6Ech /F (calc.exe) >>")
CLEAN = files.pdf(objects=(files.object_stream(b"5 0 << /Type /Font >>"),))


def _verdict(data: bytes, cuts: list[int]) -> str:
    scanner = PdfScanner("x.pdf")
    edges = [0, *sorted(set(cuts)), len(data)]
    try:
        for start, end in itertools.pairwise(edges):
            scanner.feed(data[start:end])
        scanner.close()
    except ValidationError as e:
        return e.code or ""
    return "clean"


def test_the_pdf_scanner_finds_the_same_fed_byte_by_byte():
    assert [_verdict(d, list(range(1, len(d)))) for d in (HIDDEN, ESCAPED, CLEAN)] == [
        "pdf_active",
        "pdf_active",
        "clean",
    ]


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(HIDDEN) - 1), max_size=12))
def test_the_pdf_scanner_is_not_fooled_by_where_chunks_end(cuts):
    assert (_verdict(HIDDEN, cuts), _verdict(CLEAN, [c for c in cuts if c < len(CLEAN)])) == ("pdf_active", "clean")
