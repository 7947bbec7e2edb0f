"""A funded world ready to be paid (today is 20 Nov 2026, as in claims_world):

- Fabrikam Berlin (FAB-001, DE): 12,000.00 USD co-op, 18,000.00 USD rebate payable, and an approved claim of
  1,000.00 USD payable; SEPA payout profile in EUR and tax profile, both approved.
- Northwind Oslo (NW-001, NO): the same earnings, no profiles: held.
- Contoso Ltd pays the program from DE02120300000000202051; USD->EUR is 0.90 for November 2026.
- A second finance user (fiona) approves what `finance` prepares.
"""

from datetime import date
from decimal import Decimal

import pytest

from coopfunds.accounts.models import Role
from coopfunds.claims import services as claim_services
from coopfunds.claims.tests import conftest as claims_conftest
from coopfunds.claims.tests.conftest import ready_claim
from coopfunds.enrollments import services as enrollment_services
from coopfunds.enrollments.tests.helpers import submit_payout, submit_tax
from coopfunds.payments import rates, runs, services
from coopfunds.payments.models import PayingEntity
from coopfunds.testing.factories import RoleFactory, UserFactory

# The funded claims world of the claims tests, shared here.
claims_world = claims_conftest.claims_world


RUN_DATE = date(2026, 11, 30)
ENTITY_IBAN = "DE02120300000000202051"
PARTNER_IBAN = "DE89370400440532013000"


@pytest.fixture(autouse=True)
def _fast(settings):  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def approved_claim(world, amount: str = "1000.00", invoice: str = "INV-1"):  # type: ignore[no-untyped-def]
    claim = claim_services.claim_submit(
        claim=ready_claim(world, amount=amount, invoice=invoice), actor=world.partner_admin
    )
    return claim_services.claim_approve(claim=claim, actor=world.reviewer)


def approve_profiles(world, location=None, **payout):  # type: ignore[no-untyped-def]
    """Submit (as the location's admin) and approve a payout and a tax profile."""
    if location is not None and location == world.other_location:
        admin = world.other_admin
        payout_profile = enrollment_services.payout_profile_submit(
            location=location,
            actor=admin,
            **{"method": "sepa", "currency": "EUR", "beneficiary_name": "Northwind AS", "bank_country": "NO", **payout},
        )
        tax = enrollment_services.tax_profile_submit(
            location=location,
            actor=admin,
            country="NO",
            tax_id="NO123456789",
            legal_name="Northwind AS",
            expires_on=date(2027, 12, 31),
        )
    else:
        payout_profile, tax = submit_payout(world, location, **payout), submit_tax(world, location)
    for profile in (payout_profile, tax):
        enrollment_services.profile_approve(profile=profile, actor=world.reviewer)


@pytest.fixture
def pay_world(claims_world):  # type: ignore[no-untyped-def]
    w = claims_world
    w.finance2 = UserFactory.create(
        email="fiona.finance@contoso.example", full_name="Fiona Finance", organisation=w.vendor
    )
    RoleFactory.create(user=w.finance2, role=Role.FINANCE)
    w.claim = approved_claim(w)
    approve_profiles(w)
    w.entity = services.paying_entity_create(
        vendor=w.vendor,
        code="contoso-ltd",
        name="Contoso Ltd",
        country="DE",
        iban=ENTITY_IBAN,
        bic="BYLADEM1001",
        actor=w.finance,
    )
    services.paying_entity_assign(entity=w.entity, program=w.program, actor=w.finance)
    services.exchange_rates_set(
        rows=[rates.clean_rate(month="2026-11", source="USD", target="EUR", rate="0.90")], actor=w.finance
    )
    return w


def prepared(world):  # type: ignore[no-untyped-def]
    return runs.payment_run_prepare(entity=world.entity, run_date=RUN_DATE, actor=world.finance)


def approved(world):  # type: ignore[no-untyped-def]
    return runs.payment_run_approve(run=prepared(world), actor=world.finance2)


def exported(world):  # type: ignore[no-untyped-def]
    run = approved(world)
    runs.payment_run_export(run=run, actor=world.finance)
    run.refresh_from_db()
    return run


def entity_of(world) -> PayingEntity:  # type: ignore[no-untyped-def]
    return PayingEntity.objects.get(pk=world.entity.pk)


USD = Decimal
