"""Words written when they are read, in the reader's language: for texts made once and read by several people
(notifications: `notifications.services.Message`). Pages and API answers need none of this: they are written
in the request's language."""

from datetime import date
from decimal import Decimal

from django.utils import translation
from django.utils.formats import date_format
from django.utils.functional import lazy

from coopfunds.core.money import money


def _day(day: date) -> str:
    """ "04 Dec 2026" in English (as the messages always said it); in another language its own long date
    ("4 dec 2026": the pages' DATE_FORMAT, coopfunds/formats)."""
    english = (translation.get_language() or "en").startswith("en")
    return date_format(day, "d M Y" if english else "DATE_FORMAT")


money_lazy = lazy(lambda amount, currency: money(Decimal(amount), currency), str)
day_lazy = lazy(_day, str)
