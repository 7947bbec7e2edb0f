"""Personas shared by every app's tests: one fixture per kind of person DOMAIN.md names."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import translation

from coopfunds.accounts.models import ApiToken, Location, Organisation, Role, User
from coopfunds.accounts.selectors import token_digest
from coopfunds.enrollments.models import Enrollment, EnrollmentStatus
from coopfunds.programs.models import Program
from coopfunds.testing.factories import (
    LocationFactory,
    OrganisationFactory,
    ProgramFactory,
    RoleFactory,
    UserFactory,
    VendorFactory,
)


@pytest.fixture(autouse=True)
def _english_again():  # type: ignore[no-untyped-def]
    """A request in Swedish leaves Swedish active in its thread (LocaleMiddleware activates and never
    deactivates; the next request activates its own). Tests share the thread, so each starts in the default."""
    yield
    translation.deactivate()


@dataclass
class World:
    vendor: Organisation
    program: Program
    partner: Organisation
    location: Location
    second_location: Location
    other_partner: Organisation
    other_location: Location
    partner_admin: User
    partner_user: User
    other_admin: User
    program_manager: User
    reviewer: User
    finance: User
    auditor: User

    def persona(self, name: str) -> User | None:
        return None if name == "anonymous" else getattr(self, name)


PERSONAS = [
    "partner_admin",
    "partner_user",
    "other_admin",
    "program_manager",
    "reviewer",
    "finance",
    "auditor",
    "anonymous",
]


@pytest.fixture
def world(db) -> World:  # type: ignore[no-untyped-def]
    vendor = VendorFactory.create(name="Contoso")
    program = ProgramFactory.create(vendor=vendor, code="coop", name="Cloud Co-op", coop_threshold=Decimal("10000.00"))
    partner = OrganisationFactory.create(name="Fabrikam")
    location = LocationFactory.create(organisation=partner, partner_id="FAB-001", name="Fabrikam Berlin", country="DE")
    second = LocationFactory.create(organisation=partner, partner_id="FAB-002", name="Fabrikam Paris", country="FR")
    other = OrganisationFactory.create(name="Northwind")
    other_location = LocationFactory.create(
        organisation=other, partner_id="NW-001", name="Northwind Oslo", country="NO"
    )

    def person(email: str, org: Organisation, *grants: tuple[Role, Location | None]) -> User:
        user = UserFactory.create(
            email=email, full_name=email.split("@")[0].replace(".", " ").title(), organisation=org
        )
        for role, loc in grants:
            RoleFactory.create(user=user, role=role, location=loc)
        return user

    return World(
        vendor=vendor,
        program=program,
        partner=partner,
        location=location,
        second_location=second,
        other_partner=other,
        other_location=other_location,
        partner_admin=person(
            "ada.admin@fabrikam.example", partner, (Role.INCENTIVES_ADMIN, location), (Role.INCENTIVES_ADMIN, second)
        ),
        partner_user=person("uma.user@fabrikam.example", partner, (Role.INCENTIVES_USER, location)),
        other_admin=person("olga.admin@northwind.example", other, (Role.INCENTIVES_ADMIN, other_location)),
        program_manager=person("pat.manager@contoso.example", vendor, (Role.PROGRAM_MANAGER, None)),
        reviewer=person("rita.reviewer@contoso.example", vendor, (Role.REVIEWER, None)),
        finance=person("fin.finance@contoso.example", vendor, (Role.FINANCE, None)),
        auditor=person("aud.auditor@contoso.example", vendor, (Role.AUDITOR, None)),
    )


@pytest.fixture
def as_persona(world: World):  # type: ignore[no-untyped-def]
    """as_persona("reviewer") -> a Client signed in as that persona (anonymous: not signed in)."""

    def make(name: str) -> Client:
        client = Client()
        user = world.persona(name)
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def enrolled(world: World) -> World:
    """Both Fabrikam locations and the Northwind location enrolled in the program from 1 Jan 2026."""
    for location in (world.location, world.second_location, world.other_location):
        Enrollment.objects.create(
            location=location,
            program=world.program,
            status=EnrollmentStatus.ENROLLED,
            enrolled_at=datetime(2026, 1, 10, tzinfo=UTC),
            earnings_start=date(2026, 1, 1),
        )
    return world


@pytest.fixture
def api_as(world: World):  # type: ignore[no-untyped-def]
    """api_as("reviewer") -> a Client whose requests carry that persona's own personal API token (anonymous: none)."""

    def make(name: str) -> Client:
        user = world.persona(name)
        if user is None:
            return Client()
        plain = f"cf_test-token-of-{name}"
        # Made directly (not through the service) so that tests start without audit rows.
        ApiToken.objects.get_or_create(
            digest=token_digest(plain), defaults={"user": user, "name": "tests", "prefix": plain[:10]}
        )
        return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")

    return make


@pytest.fixture(scope="session")
def clamd_address(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A real clamd for the session (skipped where Debian's clamav-daemon is not installed; `.ci/run` installs it)."""
    from coopfunds.testing import clamav

    if not clamav.available():
        pytest.skip("clamd (Debian's clamav-daemon) is not installed")
    with clamav.clamd(tmp_path_factory.mktemp("clamd")) as address:
        yield address


@pytest.fixture
def malware_scanning(settings, clamd_address):  # type: ignore[no-untyped-def]
    """Uploads are scanned by the real clamd, and required (as in production)."""
    settings.CLAMAV_ADDRESS = clamd_address
    settings.CLAMAV_REQUIRED = True
    return clamd_address


PERSONA_ROLE = {
    "partner_admin": Role.INCENTIVES_ADMIN,
    "partner_user": Role.INCENTIVES_USER,
    "other_admin": Role.INCENTIVES_ADMIN,
    "program_manager": Role.PROGRAM_MANAGER,
    "reviewer": Role.REVIEWER,
    "finance": Role.FINANCE,
    "auditor": Role.AUDITOR,
}


def role_refuses(persona: str, method: str, url: str) -> bool:
    """Does the API's role table (coopfunds/api/roles.py) refuse this persona (403) before the operation runs?"""
    from coopfunds.api.roles import roles_for

    roles = roles_for(method, url)
    return persona in PERSONA_ROLE and roles is not None and PERSONA_ROLE[persona] not in roles


def api_status(persona: str, method: str, url: str, status: int) -> int:
    """The status a test expects from the API: 403 where the role table refuses the persona, else `status`."""
    return 403 if status != 401 and role_refuses(persona, method, url) else status  # unauthenticated comes first
