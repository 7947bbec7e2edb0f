"""Text files (csv, txt): valid UTF-8, no NUL bytes, no script that a browser could be tricked into running."""

import codecs

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_SCRIPTS = ("<script", "javascript:")
_CARRY = max(len(s) for s in _SCRIPTS)


class TextScanner:
    """Feed the file's bytes in order; raises ValidationError at the first thing it refuses."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self.carry = ""

    def feed(self, data: bytes, final: bool = False) -> None:
        if b"\x00" in data:
            raise ValidationError(
                _("“%(name)s” contains binary data, not text.") % {"name": self.filename}, code="binary"
            )
        try:
            text = self.decoder.decode(data, final)
        except UnicodeDecodeError:
            raise ValidationError(
                _("“%(name)s” is not UTF-8 text; save it as UTF-8 (for a spreadsheet: CSV UTF-8) and upload it again.")
                % {"name": self.filename},
                code="encoding",
            ) from None
        window = (self.carry + text).casefold()
        if any(script in window for script in _SCRIPTS):
            raise ValidationError(
                _("“%(name)s” contains a script (“<script” or “javascript:”), which is not accepted in a text file.")
                % {"name": self.filename},
                code="script",
            )
        self.carry = window[-_CARRY:]

    def close(self) -> None:
        self.feed(b"", final=True)
