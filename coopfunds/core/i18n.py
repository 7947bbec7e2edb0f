"""Words written when they are read, in the reader's language: for texts made once and read by several people
(notifications: `notifications.services.Message`; timelines: `Said`). Pages and API answers need none of this:
they are written in the request's language."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.translation import gettext

from coopfunds.core.money import money


def _day(day: date) -> str:
    """ "04 Dec 2026" in English (as the messages always said it); in another language its own long date
    ("4 dec 2026": the pages' DATE_FORMAT, coopfunds/formats)."""
    english = (translation.get_language() or "en").startswith("en")
    return date_format(day, "d M Y" if english else "DATE_FORMAT")


money_lazy = lazy(lambda amount, currency: money(Decimal(amount), currency), str)
day_lazy = lazy(_day, str)


class Said(str):
    """What the product writes once and people read later, each in their own language: a timeline's "Submitted
    for review.", "Claim started for Syndicated content, FY27 H1.". It is a `str` in English (what is stored,
    audited and searched, as before) that remembers its message and values, so that a page or an API answer can
    write it in the reader's language (`written`). Mark the message where it is made, with `gettext_noop`:

        Said(gettext_noop("Claim started for %(activity)s, %(fund)s."), activity=name, fund=label)

    Values are data (names, labels), written as they are."""

    said: dict[str, Any]

    def __new__(cls, message: str, **values: object) -> "Said":
        shown = {name: str(value) for name, value in values.items()}
        self = super().__new__(cls, message % shown if shown else message)
        self.said = {"message": message, "values": shown}
        return self


def said_of(text: str) -> dict[str, Any]:
    """What to store beside `text` so that it can be written in another language: {} for text nobody marked
    (a person's own words)."""
    return getattr(text, "said", {})


def written(said: dict[str, Any], text: str) -> str:
    """`text` in the active language: from what was said when it was written (`Said`), else the text itself,
    translated when it is one of the product's own sentences (rows stored before they kept `said`)."""
    if said:
        try:
            message, values = gettext(said["message"]), said["values"]
            return message % values if values or "%(" in said["message"] else message
        except (KeyError, TypeError, ValueError):
            return text
    return gettext(text) if text else text
