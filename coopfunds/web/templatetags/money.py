"""`{{ amount|money:currency }}` on every page (a builtin, no `{% load %}`): the amount in the reader's language,
"18,750.00 USD" in English, "18 750,00 USD" and "1 234,50 kr" in Swedish (`core.money.money`); "—" for none."""

from decimal import Decimal

from django import template

from coopfunds.core.money import money as written

register = template.Library()


@register.filter
def money(amount: Decimal | int | str | None, currency: str) -> str:
    if amount is None or amount == "":
        return "—"
    return written(Decimal(amount), currency)
