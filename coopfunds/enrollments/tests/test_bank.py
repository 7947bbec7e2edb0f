"""Bank details are checked as banks check them, with a field error in words for each problem."""

import pytest
from django.core.exceptions import ValidationError

from coopfunds.enrollments.bank import BankDetails, clean_bank_details
from coopfunds.enrollments.tests.helpers import BIC, IBAN

SEPA = {
    "method": "sepa",
    "currency": "EUR",
    "beneficiary_name": "Fabrikam GmbH",
    "bank_name": "Commerzbank",
    "bank_country": "DE",
    "iban": IBAN,
    "bic": BIC,
    "account_number": "",
    "routing_code": "",
}


def errors_of(**values: str) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        clean_bank_details(**{**SEPA, **values})
    return caught.value.message_dict


def test_a_valid_sepa_account_is_kept_normalised():
    details = clean_bank_details(**{**SEPA, "iban": "de89 3704 0044 0532 0130 00", "bic": " cobadeffxxx "})
    assert details == BankDetails(
        method="sepa",
        currency="EUR",
        beneficiary_name="Fabrikam GmbH",
        bank_name="Commerzbank",
        bank_country="DE",
        iban=IBAN,
        bic=BIC,
    )
    assert details.account_hint == "3000"


def test_details_never_show_the_account_in_their_repr():
    details = clean_bank_details(**SEPA)
    assert repr(details) == "BankDetails(method='sepa', currency='EUR', account='3000')"


def test_a_bad_iban_checksum_is_refused():
    assert errors_of(iban="DE89370400440532013001") == {
        "iban": ["This IBAN's check digits do not match the rest of it: check it for typing mistakes."]
    }


def test_an_iban_of_another_country_than_the_bank_is_refused():
    assert errors_of(bank_country="FR", bic="") == {
        "iban": ["This IBAN is for an account in Germany (DE), but the bank country is France (FR)."]
    }


def test_an_iban_with_a_missing_digit_is_refused():
    assert errors_of(iban="DE8937040044053201300") == {
        "iban": ["This IBAN has the wrong number of characters for its country: check for a missing or extra digit."]
    }


def test_an_iban_of_no_country_is_refused():
    assert errors_of(iban="XX89370400440532013000") == {
        "iban": ["An IBAN starts with the code of its country; “XX” is not a country that uses IBANs."]
    }


def test_sepa_needs_an_iban_and_euros():
    assert errors_of(iban="", currency="USD") == {
        "iban": ["A SEPA transfer needs the account's IBAN."],
        "currency": ["SEPA transfers are paid in euros: choose EUR, or another payout method."],
    }


@pytest.mark.parametrize("bic", ["COBADEFFX", "COBA1EFFXXX", "CO1ADEFFXXX", "COBADEFF-XX"])
def test_a_bic_of_the_wrong_shape_is_refused(bic):
    assert errors_of(bic=bic) == {
        "bic": [
            "A BIC (SWIFT code) has 8 or 11 letters and digits: 4 for the bank, 2 for the country, 2 for the place "
            "and optionally 3 for the branch, for example COBADEFFXXX."
        ]
    }


def test_a_bic_of_another_country_than_the_bank_is_refused():
    assert errors_of(bic="BNPAFRPPXXX") == {
        "bic": ["This BIC belongs to a bank in France (FR), but the bank country is Germany (DE)."]
    }


def test_a_bic_naming_no_country_is_refused():
    assert errors_of(bic="COBAXXFFXXX") == {
        "bic": ["Characters 5 and 6 of a BIC are its country; “XX” is not a country."]
    }


def test_a_wire_needs_a_bic_and_an_account():
    assert errors_of(method="wire", currency="USD", iban="", bic="") == {
        "iban": ["An international wire needs the IBAN (or, where banks use no IBANs, the account number)."],
        "bic": ["An international wire needs the bank's BIC (SWIFT code)."],
    }


def test_a_wire_to_an_account_number_keeps_only_what_a_wire_uses():
    details = clean_bank_details(
        **{
            **SEPA,
            "method": "wire",
            "currency": "USD",
            "bank_country": "US",
            "iban": "",
            "bic": "CHASUS33",
            "account_number": "0001-2345 6789",
            "routing_code": "021000021",
        }
    )
    assert (details.iban, details.bic, details.account_number, details.routing_code) == (
        "",
        "CHASUS33",
        "000123456789",
        "021000021",
    )
    assert details.account_hint == "6789"


def test_a_local_transfer_needs_an_account_number_and_drops_the_iban():
    assert errors_of(method="local", iban="", account_number="") == {
        "account_number": ["A local transfer needs the account number."]
    }
    details = clean_bank_details(**{**SEPA, "method": "local", "account_number": "12345678", "routing_code": "370400"})
    assert (details.iban, details.account_number, details.account_hint) == ("", "12345678", "5678")


def test_every_other_field_error_is_named():
    assert errors_of(method="cheque") == {
        "method": ["Choose how you want to be paid: SEPA credit transfer, international wire or local transfer."]
    }
    assert errors_of(
        method="local",
        currency="XXY",
        beneficiary_name="  ",
        bank_country="ZZ",
        iban="",
        account_number="12",
        routing_code="!!",
    ) == {
        "currency": ["“XXY” is not an ISO 4217 currency code (for example USD, EUR, GBP)."],
        "beneficiary_name": ["Enter the account holder's name exactly as the bank knows it."],
        "bank_country": ["“ZZ” is not a country code (ISO 3166, for example DE, US, IN)."],
        "account_number": ["An account number has 4 to 34 letters and digits (spaces and hyphens are fine)."],
        "routing_code": ["A routing, sort or bank code has 2 to 20 letters and digits."],
    }
