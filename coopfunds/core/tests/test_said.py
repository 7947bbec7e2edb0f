"""What the product writes once is stored in English and read in each reader's language (`core.i18n.Said`)."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils import translation
from django.utils.translation import gettext_noop

from coopfunds.core.i18n import Amount, Said, said_of, written

D, NBSP = Decimal("1234.50"), "\xa0"


def test_said_is_english_where_it_is_stored_and_the_readers_language_where_it_is_read():
    said = Said(gettext_noop("Started for %(customer)s."), customer="Woodgrove Bank")
    assert isinstance(said, str)
    assert (said, said_of(said)) == (
        "Started for Woodgrove Bank.",
        {"message": "Started for %(customer)s.", "values": {"customer": "Woodgrove Bank"}},
    )
    with translation.override("sv"):
        assert written(said_of(said), said) == "Startad för Woodgrove Bank."
    with translation.override("en"):
        assert written(said_of(said), said) == "Started for Woodgrove Bank."


def test_dates_and_amounts_are_kept_as_such_and_written_the_readers_way():
    message = gettext_noop("Earning period closed: %(amount)s %(currency)s co-op available until %(day)s.")
    values = {"amount": Decimal("12000.00"), "currency": "USD", "day": date(2026, 12, 4)}
    with translation.override("sv"):  # made in a Swedish request: stored in English all the same
        said = Said(message, **values)
    assert said == "Earning period closed: 12000.00 USD co-op available until 04 Dec 2026."
    assert said_of(said)["values"] == {
        "amount": {"decimal": "12000.00"},
        "currency": "USD",
        "day": {"date": "2026-12-04"},
    }
    with translation.override("sv"):
        assert written(said_of(said), said) == (
            "Intjäningsperioden avslutad: 12000,00 USD i samarbetsmedel tillgängligt till och med 4 dec 2026."
        )


def test_values_are_data_and_a_percent_in_them_is_kept():
    said = Said(gettext_noop("Taken by %(name)s."), name="100% Ada")
    with translation.override("sv"):
        assert written(said_of(said), said) == "Tagen av 100% Ada."


def test_a_persons_own_words_are_shown_as_written_and_old_rows_of_the_products_sentences_are_translated():
    assert said_of("Looks fine to me.") == {}
    with translation.override("sv"):
        assert written({}, "Looks fine to me.") == "Looks fine to me."
        assert written({}, "Confirmed by the customer: in force.") == "Bekräftad av kunden: gäller nu."
        assert written({}, "") == ""


def test_what_cannot_be_written_again_falls_back_to_the_stored_text():
    with translation.override("sv"):
        assert written({"message": "Taken by %(name)s."}, "Taken by Ada.") == "Taken by Ada."
        assert written({"message": "Taken by %(name)s.", "values": {}}, "Taken by Ada.") == "Taken by Ada."


def test_an_amount_is_written_the_readers_way_and_stored_in_english_whoever_wrote_it():
    with translation.override("sv"):
        said = Said(gettext_noop("%(amount)s carried above the plan's limit is now payable."), amount=Amount(D, "SEK"))
    assert said == "1,234.50 SEK carried above the plan's limit is now payable."
    assert said_of(said)["values"] == {"amount": {"money": ["1234.50", "SEK"]}}
    with translation.override("sv"):
        assert written(said_of(said), said) == f"1{NBSP}234,50 kr som förts över utöver planens tak är nu att betala."


def test_a_moment_is_refused_a_said_keeps_days():
    with pytest.raises(TypeError):
        Said(gettext_noop("Not submitted by %(day)s: expired."), day=datetime(2026, 12, 4, 9, 30))
