"""Test data for the accounts tests, made with the ORM directly.

The accounts app sits below programs in the layers, so its tests do not import coopfunds.testing.factories
(which reaches into programs); the shared `world` fixture (conftest.py) provides everything else.
"""

from coopfunds.accounts.models import Location, Organisation, Role, RoleAssignment, User

PASSWORD = "correct horse battery staple"  # the password conftest's factories give every persona


def make_partner(name: str) -> Organisation:
    return Organisation.objects.create(kind=Organisation.Kind.PARTNER, name=name)


def make_location(organisation: Organisation, partner_id: str, name: str = "", country: str = "DE") -> Location:
    return Location.objects.create(
        organisation=organisation, partner_id=partner_id, name=name or partner_id, country=country
    )


def make_user(email: str, organisation: Organisation, *grants: tuple[Role, Location | None]) -> User:
    user = User.objects.create_user(email, PASSWORD, organisation=organisation)
    for role, location in grants:
        RoleAssignment.objects.create(user=user, role=role, location=location)
    return user
