"""Money is a Decimal with an explicit currency. Amounts are quantised only at the edges."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import models
from pycountry import currencies

CENT = Decimal("0.01")
MAX_DIGITS = 18
DECIMAL_PLACES = 2


def quantize(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money(amount: Decimal, currency: str) -> str:
    """An amount as people read it in messages: "18,750.00 USD"."""
    return f"{amount:,.2f} {currency}"


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
