"""Money is a Decimal with an explicit currency. Amounts are quantised only at the edges."""

import gettext
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

import pycountry
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import translation
from django.utils.formats import get_format, number_format
from django.utils.translation import gettext as _
from pycountry import currencies

CENT = Decimal("0.01")
MAX_DIGITS = 18
DECIMAL_PLACES = 2


def quantize(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


# A currency's own sign where the language writes it instead of the code (sv: "1 234,50 kr").
_SIGNS = {"sv": {"SEK": "kr"}}


def money(amount: Decimal, currency: str) -> str:
    """An amount as people read it, in the active language: "18,750.00 USD" in English, "18 750,00 USD" and
    "1 234,50 kr" in Swedish (the grouping is a no-break space). Exports never use it: they keep "18750.00"."""
    language = (translation.get_language() or "en").split("-")[0]
    if language == "en":
        return f"{amount:,.2f} {currency}"
    figures = number_format(quantize(Decimal(amount)), 2, use_l10n=True, force_grouping=True)
    return f"{figures} {_SIGNS.get(language, {}).get(currency, currency)}"


def parse_amount(text: str) -> Decimal:
    """Parse an amount in the machine format of files and the API: "1234.50". A comma is refused rather than
    guessed (is "1,234" a thousand or one and a bit?)."""
    if "," in text:
        raise ValidationError(
            _("“%(text)s” uses a comma; write amounts with a dot as decimal separator, e.g. 1234.50.") % {"text": text}
        )
    return _decimal(text.strip(), text)


def _decimal(figures: str, text: str) -> Decimal:
    """`figures` as an amount of at most two decimals; the errors quote what the person wrote, `text`."""
    try:
        value = Decimal(figures)
    except InvalidOperation:
        raise ValidationError(_("“%(text)s” is not an amount.") % {"text": text}) from None
    if not value.is_finite():
        raise ValidationError(_("“%(text)s” is not an amount.") % {"text": text})
    if value != value.quantize(CENT):
        raise ValidationError(_("“%(text)s” has more than two decimal places.") % {"text": text})
    return value


# What people put between groups of figures where the decimal separator is a comma: a space, a no-break space,
# a narrow no-break space (what "1 234,50" copied from a page holds), a thin space.
_GROUP_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009")


def typed_figures(text: str) -> str:
    """A number a person typed, in the active language, written the machine's way: Swedish "1 234,50" becomes
    "1234.50". Text that is not written the language's way comes back as it was, for the caller to refuse in
    its own words. In English (a dot decimal) nothing changes."""
    if get_format("DECIMAL_SEPARATOR") != ",":
        return text
    figures = text.strip().translate(_GROUP_SPACES)
    if figures.count(",") == 1 and "." not in figures:
        return figures.replace(",", ".")
    return figures if "," not in figures else text


def parse_typed_amount(text: str) -> Decimal:
    """Parse an amount a person typed on a page, in the active language. Where the language writes a decimal
    comma (Swedish: "1 234,50") the comma is the decimal separator and spaces group the figures; a dot is still
    read as a decimal point when there is no comma ("1234.50"), but both at once are refused rather than guessed.
    In English it is `parse_amount`: a dot decimal, and a comma refused."""
    if get_format("DECIMAL_SEPARATOR") != ",":
        return parse_amount(text)
    figures = typed_figures(text)
    if "," in figures:
        raise ValidationError(
            _("“%(text)s” is not an amount: write it with one decimal comma, e.g. 1 234,50.") % {"text": text}
        )
    return _decimal(figures, text)


def validate_currency(code: str) -> None:
    if len(code) != 3 or not code.isupper() or currencies.get(alpha_3=code) is None:
        raise ValidationError(
            _("“%(code)s” is not an ISO 4217 currency code (for example USD, EUR, GBP).") % {"code": code}
        )


@cache
def _currency_names(language: str) -> gettext.NullTranslations:
    """ISO 4217's names in `language`, from the catalogues pycountry ships (English where it has none)."""
    return gettext.translation("iso4217", pycountry.LOCALES_DIR, languages=[language], fallback=True)


def currency_choices() -> list[tuple[str, str]]:
    """Every ISO 4217 currency, "USD – US Dollar", named in the active language ("USD – USA-dollar")."""
    names = _currency_names((translation.get_language() or "en").split("-")[0])
    return sorted((c.alpha_3, f"{c.alpha_3} – {names.gettext(c.name)}") for c in currencies)


class MoneyField(models.DecimalField):
    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max_digits", MAX_DIGITS)
        kwargs.setdefault("decimal_places", DECIMAL_PLACES)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


class CurrencyField(models.CharField):
    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("validators", [validate_currency])
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def deconstruct(self):  # type: ignore[no-untyped-def]
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("validators", None)
        return name, path, args, kwargs
