"""Factories with fixed, readable data (sequences, never random values)."""

from decimal import Decimal
from functools import cache

import factory
from django.contrib.auth.hashers import make_password

from coopfunds.accounts.models import Location, Organisation, OrganisationKind, Role, RoleAssignment, User
from coopfunds.programs.models import Program
from coopfunds.testing import PASSWORD


@cache
def _password_hash() -> str:
    return make_password(PASSWORD)


class OrganisationFactory(factory.django.DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation

    kind = OrganisationKind.PARTNER
    name = factory.Sequence(lambda n: f"Partner {n}")


class VendorFactory(OrganisationFactory):
    kind = OrganisationKind.VENDOR
    name = factory.Sequence(lambda n: f"Vendor {n}")


class LocationFactory(factory.django.DjangoModelFactory[Location]):
    class Meta:
        model = Location

    organisation = factory.SubFactory(OrganisationFactory)
    partner_id = factory.Sequence(lambda n: f"P{n:06d}")
    name = factory.Sequence(lambda n: f"Location {n}")
    country = "DE"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Sequence(lambda n: f"User {n}")
    organisation = factory.SubFactory(OrganisationFactory)
    # Hashed once per test process (argon2 is slow on purpose), then shared by every user.
    password = factory.LazyFunction(lambda: _password_hash())


class RoleFactory(factory.django.DjangoModelFactory[RoleAssignment]):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    role = Role.INCENTIVES_ADMIN
    location = None
    program = None


class ProgramFactory(factory.django.DjangoModelFactory[Program]):
    class Meta:
        model = Program

    vendor = factory.SubFactory(VendorFactory)
    code = factory.Sequence(lambda n: f"prog{n}")
    name = factory.Sequence(lambda n: f"Program {n}")
    currency = "USD"
    coop_threshold = Decimal("1500.00")
