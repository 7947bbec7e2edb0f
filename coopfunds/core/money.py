"""Money is a Decimal with an explicit currency. Amounts are quantised only at the edges."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import translation
from django.utils.formats import number_format
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
    """Parse a user-typed amount. A comma decimal ("12,50") is refused rather than guessed."""
    cleaned = text.strip()
    if "," in cleaned:
        raise ValidationError(f"“{text}” uses a comma; write amounts with a dot as decimal separator, e.g. 1234.50.")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValidationError(f"“{text}” is not an amount.") from None
    if not value.is_finite():
        raise ValidationError(f"“{text}” is not an amount.")
    if value != value.quantize(CENT):
        raise ValidationError(f"“{text}” has more than two decimal places.")
    return value


def validate_currency(code: str) -> None:
    if len(code) != 3 or not code.isupper() or currencies.get(alpha_3=code) is None:
        raise ValidationError(f"“{code}” is not an ISO 4217 currency code (for example USD, EUR, GBP).")


def currency_choices() -> list[tuple[str, str]]:
    return sorted((c.alpha_3, f"{c.alpha_3} – {c.name}") for c in currencies)


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
