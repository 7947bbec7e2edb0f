"""PDF checks, streaming: refuse PDFs that carry JavaScript, actions that run by themselves when the file is
opened or a page is shown (`/OpenAction` with an action rather than a page to show, `/AA`), actions that launch a program, open a web address, submit or
import data, embedded files or media, XFA forms, encryption (which would hide all of these from us), or a web
page hidden inside (a PDF/HTML polyglot).

Names are matched after undoing `#xx` escapes (`/J#53` is `/JS`). Object streams (`/Type /ObjStm`, where
PDF 1.5+ writers put dictionaries) are inflated, with a limit, and scanned too; one we cannot inflate is
refused. `/JS` counts only followed by a string or a reference, so binary image data does not trip it."""

import re
import zlib
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as StrPromise

MAX_INFLATED = 100 * 1024 * 1024  # all object streams of one file together
CARRY = 4096  # bytes kept between chunks: a name split by a chunk boundary, a stream's dictionary

_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_BAD = re.compile(
    rb"/(?P<name>JavaScript|Launch|EmbeddedFiles?|RichMedia|XFA|Encrypt|AA|URI|SubmitForm|ImportData"
    rb"|GoToE|GoToR)(?=[\s/<>\[\]()%{}]|$)"
    rb"|/(?P<js>JS)\s*(?:[(<]|\d+\s+\d+\s+R)"
    # an action run on opening; an array is a destination (which page to show, how), as PDF writers set it
    rb"|/(?P<open>OpenAction)\s*(?:<<|\d+\s+\d+\s+R)"
)
# A web page inside the file: a browser that is handed it renders it (a PDF/HTML polyglot).
_HTML = re.compile(rb"<(?:!doctype\s+html|html|head|body|script|iframe|object|embed|svg)[\s>/]", re.IGNORECASE)
# The keyword that starts a stream's data; readers also take it without the end of line the standard asks for.
_STREAM = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)?")
_OBJ = re.compile(rb"\bobj\b")
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/\w+)")
WHAT: "dict[bytes, str | StrPromise]" = {
    b"JS": "JavaScript",
    b"JavaScript": "JavaScript",
    b"Launch": gettext_lazy("an action that starts a program"),
    b"EmbeddedFile": gettext_lazy("embedded files"),
    b"EmbeddedFiles": gettext_lazy("embedded files"),
    b"RichMedia": gettext_lazy("embedded media"),
    b"XFA": gettext_lazy("an XFA form, which can run scripts"),
    b"OpenAction": gettext_lazy("an action that runs by itself when the file is opened"),
    b"AA": gettext_lazy("actions that run by themselves when a page or field is shown"),
    b"URI": gettext_lazy("a web address it can open"),
    b"SubmitForm": gettext_lazy("a form that sends data elsewhere"),
    b"ImportData": gettext_lazy("an action that imports data"),
    b"GoToE": gettext_lazy("a link into an embedded file"),
    b"GoToR": gettext_lazy("a link that opens another file"),
}


# Said only if nothing worse is found in the file.
AUTOMATIC = frozenset({b"OpenAction", b"AA", b"URI", b"GoToR"})


def _unescape(data: bytes) -> bytes:
    return _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)


class _Names:
    """Finds the forbidden names in a byte stream fed in pieces."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.carry = b""
        self.automatic: bytes | None = None

    def feed(self, data: bytes, final: bool = False) -> None:
        buf = _unescape(self.carry + data)
        if _HTML.search(buf):
            raise ValidationError(
                gettext(
                    "“%(name)s” has a web page (HTML) hidden inside it, which can carry scripts; print it to a new "
                    "PDF and upload that."
                )
                % {"name": self.filename},
                code="polyglot",
            )
        for match in _BAD.finditer(buf):
            if match.end() == len(buf) and not final:
                continue  # what follows decides; the carry brings it back next time
            found = match.group("name") or match.group("js") or match.group("open")
            if found in AUTOMATIC:
                # an action that runs by itself or opens something: said at the end, unless the file turns out to
                # carry worse (a script, a program), which is what the person needs to hear about
                self.automatic = self.automatic or found
                continue
            self._refuse(found)
        self.carry = (self.carry + data)[-CARRY:]
        if final and self.automatic:
            self._refuse(self.automatic)

    def _refuse(self, found: bytes) -> None:
        if found == b"Encrypt":
            raise ValidationError(
                gettext(
                    "“%(name)s” is encrypted or password-protected; save it without a password and upload it again."
                )
                % {"name": self.filename},
                code="encrypted",
            )
        raise ValidationError(
            gettext(
                "“%(name)s” contains %(what)s, which is not accepted in a PDF; print it to a new PDF and upload that."
            )
            % {"name": self.filename, "what": WHAT[found]},
            code="pdf_active",
        )


class PdfScanner:
    """Feed the file's bytes in order; raises ValidationError at the first thing it refuses."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.raw = _Names(filename)
        self.lookback = b""  # recent raw bytes, to read the dictionary before a `stream` keyword
        self.inflater: zlib._Decompress | None = None
        self.inflated_names: _Names | None = None
        self.pending = b""  # object-stream bytes held back while looking for `endstream`
        self.inflated = 0

    def feed(self, data: bytes) -> None:
        self.raw.feed(data)
        self._walk(data)

    def close(self) -> None:
        self.raw.feed(b"", final=True)
        if self.inflater is not None:
            self._end_stream(self.pending)

    def _walk(self, data: bytes) -> None:
        while data:
            if self.inflater is not None:
                buf = self.pending + data
                end = buf.find(b"endstream")
                if end < 0:
                    self._inflate(buf[:-9])
                    self.pending = buf[-9:]
                    return
                self._end_stream(buf[:end])
                data = buf[end:]
                continue
            buf = self.lookback + data
            rest = self._next_object_stream(buf, offset=len(self.lookback))
            if rest is None:
                self.lookback = buf[-CARRY:]
                return
            self.lookback = b""
            data = rest

    def _next_object_stream(self, buf: bytes, offset: int) -> bytes | None:
        """Starts inflating at the first object stream that begins in buf after `offset`; returns the bytes
        after its `stream` keyword (None: none begins here)."""
        for match in _STREAM.finditer(buf):
            if match.end() < offset:
                continue  # seen with the previous chunk (one that ended it was left for this one to decide)
            if match.end() == len(buf):
                return None  # "stream" or "stream\r" may go on with an end of line in the next chunk: decide then
            if self._starts_object_stream(buf[: match.start()]):
                return buf[match.end() :]
        return None

    def _starts_object_stream(self, before: bytes) -> bool:
        window = _unescape(before[-CARRY:])
        objs = list(_OBJ.finditer(window))
        dictionary = window[objs[-1].end() :] if objs else window
        if not re.search(rb"/Type\s*/ObjStm\b", dictionary):
            return False
        found = _FILTER.search(dictionary)
        filters = re.findall(rb"/(\w+)", found.group(1)) if found else []
        if filters not in ([], [b"FlateDecode"]) or b"/DecodeParms" in dictionary:
            raise ValidationError(
                gettext("“%(name)s” uses a compression we can't check; print it to a new PDF and upload that.")
                % {"name": self.filename},
                code="pdf_unchecked",
            )
        if not filters:
            return False  # an uncompressed object stream: its bytes are scanned raw already
        self.inflater = zlib.decompressobj()
        self.inflated_names = _Names(self.filename)
        self.pending = b""
        return True

    def _inflate(self, data: bytes) -> None:
        assert self.inflater is not None
        assert self.inflated_names is not None
        try:
            while data:
                out = self.inflater.decompress(data, MAX_INFLATED - self.inflated + 1)
                self.inflated += len(out)
                if self.inflated > MAX_INFLATED:
                    raise ValidationError(
                        gettext(
                            "“%(name)s” contains a compressed part that unpacks to more than %(n)s MB; it looks like a "
                            "compression bomb and is not accepted."
                        )
                        % {"name": self.filename, "n": MAX_INFLATED // (1024 * 1024)},
                        code="bomb",
                    )
                self.inflated_names.feed(out)
                data = self.inflater.unconsumed_tail
                if self.inflater.eof:
                    return
        except zlib.error:
            raise ValidationError(
                gettext("“%(name)s” is damaged: part of it can't be read, so we can't check it.")
                % {"name": self.filename},
                code="damaged",
            ) from None

    def _end_stream(self, data: bytes) -> None:
        self._inflate(data)
        assert self.inflated_names is not None
        self.inflated_names.feed(b"", final=True)
        self.inflater = None
        self.inflated_names = None
        self.pending = b""
