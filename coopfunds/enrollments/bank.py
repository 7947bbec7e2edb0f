"""Bank details checked the way banks check them, before anything is stored. Pure functions, no database.

IBANs are checked with schwifty (length and structure for the country, check digits, national checksum),
BICs for their shape and country, and each payout method for the fields it needs.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django_countries import countries
from schwifty import BIC, IBAN
from schwifty.exceptions import (
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    SchwiftyException,
)

from coopfunds.core.money import validate_currency
from coopfunds.enrollments.models import PayoutMethod

BIC_SHAPE = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
ACCOUNT_SHAPE = re.compile(r"^[A-Z0-9]{4,34}$")
ROUTING_SHAPE = re.compile(r"^[A-Z0-9]{2,20}$")


@dataclass(frozen=True)
class BankDetails:
    """Validated, normalised bank details: only the fields the payout method uses are kept."""

    method: str
    currency: str
    beneficiary_name: str
    bank_name: str
    bank_country: str
    iban: str = ""
    bic: str = ""
    account_number: str = ""
    routing_code: str = ""

    def __repr__(self) -> str:  # never print the account in logs or tracebacks
        return f"BankDetails(method={self.method!r}, currency={self.currency!r}, account={self.account_hint!r})"

    @property
    def account_hint(self) -> str:
        """The last four characters of the account (IBAN or account number): all anyone else ever sees."""
        return (self.iban or self.account_number)[-4:]


def compact(value: str) -> str:
    """'de89 3704-0044' -> 'DE8937040044': banks ignore spaces, hyphens and case."""
    return re.sub(r"[\s\-]", "", value or "").upper()


def country_name(code: str) -> str:
    return f"{countries.name(code) or code} ({code})"


def _check_iban(iban: str, bank_country: str, *, sepa: bool) -> str | None:
    """An error message for this IBAN, or None when it is good."""
    try:
        parsed = IBAN(iban)
    except InvalidCountryCode:
        return _("An IBAN starts with the code of its country; “%(code)s” is not a country that uses IBANs.") % {
            "code": iban[:2]
        }
    except InvalidLength:
        return _("This IBAN has the wrong number of characters for its country: check for a missing or extra digit.")
    except InvalidChecksumDigits:
        return _("This IBAN's check digits do not match the rest of it: check it for typing mistakes.")
    except SchwiftyException:
        return _("This IBAN is not valid: its bank or account part is not formed as that country's banks form it.")
    if bank_country and parsed.country_code != bank_country:
        return _("This IBAN is for an account in %(iban_country)s, but the bank country is %(bank_country)s.") % {
            "iban_country": country_name(parsed.country_code),
            "bank_country": country_name(bank_country),
        }
    if sepa and not parsed.in_sepa_zone:
        return _("Banks in %(country)s cannot receive SEPA transfers: choose international wire.") % {
            "country": country_name(parsed.country_code)
        }
    return None


def _check_bic(bic: str, bank_country: str) -> str | None:
    if not BIC_SHAPE.match(bic):
        return _(
            "A BIC (SWIFT code) has 8 or 11 letters and digits: 4 for the bank, 2 for the country, 2 for the place "
            "and optionally 3 for the branch, for example COBADEFFXXX."
        )
    try:
        parsed = BIC(bic)
    except SchwiftyException:
        return _("Characters 5 and 6 of a BIC are its country; “%(code)s” is not a country.") % {"code": bic[4:6]}
    if bank_country and parsed.country_code != bank_country:
        return _("This BIC belongs to a bank in %(bic_country)s, but the bank country is %(bank_country)s.") % {
            "bic_country": country_name(parsed.country_code),
            "bank_country": country_name(bank_country),
        }
    return None


def clean_bank_details(
    *,
    method: str,
    currency: str,
    beneficiary_name: str,
    bank_name: str,
    bank_country: str,
    iban: str,
    bic: str,
    account_number: str,
    routing_code: str,
) -> BankDetails:
    """Normalise and check bank details; raise ValidationError({field: message}) naming every problem."""
    errors: dict[str, str] = {}
    currency = (currency or "").strip().upper()
    bank_country = (bank_country or "").strip().upper()
    beneficiary_name = " ".join((beneficiary_name or "").split())
    bank_name = " ".join((bank_name or "").split())
    iban, bic = compact(iban), compact(bic)
    account_number, routing_code = compact(account_number), compact(routing_code)

    if method not in PayoutMethod.values:
        errors["method"] = _(
            "Choose how you want to be paid: SEPA credit transfer, international wire or local transfer."
        )
    try:
        validate_currency(currency)
    except ValidationError as e:
        errors["currency"] = e.messages[0]
    else:
        if method == PayoutMethod.SEPA and currency != "EUR":
            errors["currency"] = _("SEPA transfers are paid in euros: choose EUR, or another payout method.")
    if not beneficiary_name:
        errors["beneficiary_name"] = _("Enter the account holder's name exactly as the bank knows it.")
    elif len(beneficiary_name) > 140:
        errors["beneficiary_name"] = _("Banks accept at most 140 characters for the account holder's name.")
    if len(bank_name) > 140:
        errors["bank_name"] = _("Keep the bank's name under 140 characters.")
    if bank_country not in countries:
        errors["bank_country"] = _("“%(code)s” is not a country code (ISO 3166, for example DE, US, IN).") % {
            "code": bank_country
        }
        bank_country = ""

    sepa, wire, local = (method == m for m in (PayoutMethod.SEPA, PayoutMethod.WIRE, PayoutMethod.LOCAL))
    if not local:
        account_number = account_number if wire else ""
        routing_code = routing_code if wire else ""
    if local:
        iban = ""
    if sepa and not iban:
        errors["iban"] = _("A SEPA transfer needs the account's IBAN.")
    elif wire and not iban and not account_number:
        errors["iban"] = _("An international wire needs the IBAN (or, where banks use no IBANs, the account number).")
    elif iban and (message := _check_iban(iban, bank_country, sepa=sepa)):
        errors["iban"] = message
    if wire and not bic:
        errors["bic"] = _("An international wire needs the bank's BIC (SWIFT code).")
    elif bic and (message := _check_bic(bic, bank_country)):
        errors["bic"] = message
    if local and not account_number:
        errors["account_number"] = _("A local transfer needs the account number.")
    elif account_number and not ACCOUNT_SHAPE.match(account_number):
        errors["account_number"] = _("An account number has 4 to 34 letters and digits (spaces and hyphens are fine).")
    if routing_code and not ROUTING_SHAPE.match(routing_code):
        errors["routing_code"] = _("A routing, sort or bank code has 2 to 20 letters and digits.")
    if errors:
        raise ValidationError(errors)
    return BankDetails(
        method=method,
        currency=currency,
        beneficiary_name=beneficiary_name,
        bank_name=bank_name,
        bank_country=bank_country,
        iban=iban,
        bic=bic,
        account_number=account_number,
        routing_code=routing_code,
    )
