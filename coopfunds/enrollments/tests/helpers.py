"""Helpers that walk an enrollment through its workflow with the real services (no shortcuts)."""

from datetime import date, timedelta
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from coopfunds.accounts.models import Location, User
from coopfunds.enrollments import services
from coopfunds.enrollments.models import Enrollment, PayoutProfile, TaxProfile
from coopfunds.programs.models import Program
from coopfunds.testing.factories import LocationFactory, ProgramFactory, RoleFactory, UserFactory

IBAN = "DE89370400440532013000"
IBAN_SPACED = "DE89 3704 0044 0532 0130 00"
BIC = "COBADEFFXXX"


def actor(world: Any, name: str) -> Any:
    """The persona as a service actor (an AnonymousUser for "anonymous", which services must refuse)."""
    return world.persona(name) or AnonymousUser()


def other_program(world: Any) -> Program:
    return cast(Program, ProgramFactory(vendor=world.vendor, code="other", name="Other Co-op"))


def scoped_user(world: Any, role: str, program: Program) -> User:
    """A Fabrikam user whose one grant covers world.location for `program` only."""
    user = cast(User, UserFactory(email="sam.scoped@fabrikam.example", organisation=world.partner))
    RoleFactory(user=user, role=role, location=world.location, program=program)
    return user


def branches(world: Any, count: int) -> list[Location]:
    """`count` more Fabrikam locations named Branch 00, Branch 01, ..."""
    return [cast(Location, LocationFactory(organisation=world.partner, name=f"Branch {n:02d}")) for n in range(count)]


def in_a_year() -> date:
    return timezone.localdate() + timedelta(days=365)


def submit_payout(world: Any, location: Location | None = None, **overrides: Any) -> PayoutProfile:
    values = {
        "method": "sepa",
        "currency": "EUR",
        "beneficiary_name": "Fabrikam GmbH",
        "bank_name": "Commerzbank",
        "bank_country": "DE",
        "iban": IBAN,
        "bic": BIC,
        **overrides,
    }
    return services.payout_profile_submit(location=location or world.location, actor=world.partner_admin, **values)


def submit_tax(world: Any, location: Location | None = None, **overrides: Any) -> TaxProfile:
    values = {
        "country": "DE",
        "tax_id": "DE123456789",
        "legal_name": "Fabrikam GmbH",
        "expires_on": in_a_year(),
        **overrides,
    }
    return services.tax_profile_submit(location=location or world.location, actor=world.partner_admin, **values)


def invited(world: Any, location: Location | None = None) -> Enrollment:
    return services.enrollment_invite(
        location=location or world.location, program=world.program, actor=world.program_manager
    )


def reviewing(world: Any, *, approve_profiles: bool = True) -> Enrollment:
    """An enrollment of world.location under review; by default both profiles already approved."""
    enrollment = invited(world)
    payout, tax = submit_payout(world), submit_tax(world)
    if approve_profiles:
        services.profile_approve(profile=payout, actor=world.reviewer)
        services.profile_approve(profile=tax, actor=world.reviewer)
    return services.enrollment_accept(enrollment=enrollment, actor=world.partner_admin)


def enrolled(world: Any) -> Enrollment:
    return services.enrollment_approve(enrollment=reviewing(world), actor=world.reviewer)
