"""Amounts as people type them and read them, in each language; files and the API keep the machine format."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from coopfunds.core.money import money, parse_amount, parse_typed_amount

NBSP, NNBSP = "\xa0", "\u202f"


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("1 234,50", "1234.50"),
        (f"1{NBSP}234,50", "1234.50"),  # copied from a page, where the grouping is a no-break space
        (f"1{NNBSP}234,5", "1234.5"),
        ("  12 000 000,00 ", "12000000.00"),
        ("1234,5", "1234.5"),
        ("1234.50", "1234.50"),  # a dot is still a decimal point when there is no comma
        ("-200,00", "-200.00"),
        ("0", "0"),
    ],
)
def test_swedish_people_type_a_decimal_comma_and_group_with_spaces(typed, amount):
    with translation.override("sv"):
        assert parse_typed_amount(typed) == Decimal(amount)


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("1.234,50", "”1.234,50” är inte ett belopp: skriv det med ett decimalkomma, till exempel 1 234,50."),
        ("1,234,50", "”1,234,50” är inte ett belopp: skriv det med ett decimalkomma, till exempel 1 234,50."),
        ("12,345", "”12,345” har fler än två decimaler."),
        ("tolv", "”tolv” är inte ett belopp."),
        ("NaN", "”NaN” är inte ett belopp."),
    ],
)
def test_what_is_not_a_swedish_amount_is_refused_in_swedish(typed, said):
    with translation.override("sv"), pytest.raises(ValidationError) as refused:
        parse_typed_amount(typed)
    assert refused.value.messages == [said]


def test_in_english_a_comma_is_refused_rather_than_guessed():
    with translation.override("en"):
        assert parse_typed_amount("1234.50") == Decimal("1234.50")
        with pytest.raises(ValidationError) as refused:
            parse_typed_amount("1 234,50")
    assert refused.value.messages == [
        "“1 234,50” uses a comma; write amounts with a dot as decimal separator, e.g. 1234.50."
    ]


def test_files_and_the_api_keep_the_dot_in_every_language():
    with translation.override("sv"), pytest.raises(ValidationError) as refused:
        parse_amount("1234,50")
    assert refused.value.messages == [
        "”1234,50” innehåller ett komma; skriv belopp med punkt som decimaltecken, till exempel 1234.50."
    ]


@given(st.decimals(min_value=Decimal("-999999999999.99"), max_value=Decimal("999999999999.99"), places=2))
def test_an_amount_a_page_shows_in_swedish_reads_back_as_the_same_amount(amount):
    with translation.override("sv"):
        shown = money(amount, "USD").removesuffix(" USD")
        assert parse_typed_amount(shown) == amount


@pytest.mark.parametrize(
    ("language", "said"),
    [("en", "1,234.50 SEK · 18,750.00 USD · —"), ("sv", f"1{NBSP}234,50 kr · 18{NBSP}750,00 USD · —")],
)
def test_pages_write_money_with_the_money_filter(language, said):
    template = Template('{{ a|money:"SEK" }} · {{ b|money:"USD" }} · {{ none|money:"USD" }}')
    with translation.override(language):
        assert template.render(Context({"a": Decimal("1234.5"), "b": 18750, "none": None})) == said
