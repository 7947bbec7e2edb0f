"""Words written when they are read, in the reader's language: for texts made once and read by several people
(notifications: `notifications.services.Message`; timelines: `Said`). Pages and API answers need none of this:
they are written in the request's language."""

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.utils import translation
from django.utils.formats import date_format, number_format
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
# A moment, in the reader's DATETIME_FORMAT and the site's time zone ("4 Dec 2026, 14:05 UTC").
moment_lazy = lazy(lambda moment: f"{date_format(moment, 'DATETIME_FORMAT')} {moment.tzname() or ''}".strip(), str)


class Said(str):
    """What the product writes once and people read later, each in their own language: a timeline's "Submitted
    for review.", "Claim started for Syndicated content, FY27 H1.". It is a `str` in English (what is stored,
    audited and searched, as before) that remembers its message and values, so that a page or an API answer can
    write it in the reader's language (`written`). Mark the message where it is made, with `gettext_noop`:

        Said(gettext_noop("Claim started for %(activity)s, %(fund)s."), activity=name, fund=label)

    Values are data (names, labels), written as they are; a date or a Decimal is kept as one and written the
    reader's way ("31 Dec 2026" and "12000.00" in English, "31 dec 2026" and "12000,00" in Swedish)."""

    said: dict[str, Any]

    def __new__(cls, message: str, **values: object) -> "Said":
        with translation.override("en"):  # a lazy value is kept as English text
            kept = {name: _kept(value) for name, value in values.items()}
            english = message % _shown(kept) if kept else message
        self = super().__new__(cls, english)
        self.said = {"message": message, "values": kept}
        return self


class Amount(NamedTuple):
    """An amount of money as a `Said` value: written the reader's way ("1,234.50 USD", "1 234,50 kr")."""

    amount: Decimal
    currency: str


def _kept(value: object) -> object:
    """A value as `said` keeps it (JSON): text, or a tagged day, number or amount to be written the reader's
    way."""
    if isinstance(value, datetime):
        raise TypeError("A Said keeps days, not moments: pass the date.")
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, Amount):
        return {"money": [str(value.amount), value.currency]}
    return str(value)


def _shown(values: dict[str, Any]) -> dict[str, str]:
    """The values written in the active language."""
    shown = {}
    for name, value in values.items():
        if isinstance(value, dict) and "date" in value:
            shown[name] = _day(date.fromisoformat(value["date"]))
        elif isinstance(value, dict) and "decimal" in value:
            shown[name] = number_format(Decimal(value["decimal"]))
        elif isinstance(value, dict) and "money" in value:
            shown[name] = money(Decimal(value["money"][0]), value["money"][1])
        else:
            shown[name] = str(value)
    return shown


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
            return message % _shown(values) if values or "%(" in said["message"] else message
        except (KeyError, TypeError, ValueError):
            return text
    return gettext(text) if text else text


def sentences_written(text: str) -> str:
    """A stored English text made of the product's sentences one after another ("Add a payout profile (the bank
    account to pay). Add a tax profile.": what an enrollment or a payment waits for), each written in the
    reader's language; a sentence that is not one of the product's is shown as stored."""
    sentences = re.split(r"(?<=\.) (?=[A-Z])", text) if text else []
    return " ".join(gettext(sentence) for sentence in sentences)
