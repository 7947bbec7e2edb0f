"""The accounts API: an authorisation matrix over every endpoint and persona, then flows and bad input."""

import pytest

from conftest import PERSONAS, api_status
from coopfunds.accounts import services
from coopfunds.accounts.models import ApiToken, Location, Organisation, Role, RoleAssignment, User
from coopfunds.audit.models import AuditEvent
from coopfunds.enrollments.models import Enrollment
from coopfunds.testing.factories import RoleFactory, UserFactory

JSON = "application/json"


def state() -> tuple[object, ...]:
    return (
        Organisation.objects.count(),
        Location.objects.count(),
        list(User.objects.order_by("pk").values_list("email", "is_active")),
        list(RoleAssignment.objects.order_by("pk").values_list("user_id", "role", "location_id", "program_id")),
        list(ApiToken.objects.exclude(name="tests").order_by("pk").values_list("name", "revoked_at")),
        AuditEvent.objects.count(),
    )


READS = {
    # name: (path, {persona: status}, default for signed-in personas)
    "me": (lambda w: "/me", {}, 200),
    "organisations": (lambda w: "/organisations", {}, 200),
    "organisation": (lambda w: f"/organisations/{w.partner.pk}", {"other_admin": 404}, 200),
    "organisation_vendor": (
        lambda w: f"/organisations/{w.vendor.pk}",
        {"partner_admin": 404, "partner_user": 404, "other_admin": 404},
        200,
    ),
    "locations": (lambda w: "/locations", {}, 200),
    "location": (lambda w: f"/locations/{w.location.pk}", {"other_admin": 404}, 200),
    "location_sibling": (
        lambda w: f"/locations/{w.second_location.pk}",
        {"other_admin": 404, "partner_user": 404},
        200,
    ),
    "users": (lambda w: "/users", {}, 200),
    "user": (lambda w: f"/users/{w.partner_user.pk}", {"other_admin": 404}, 200),
    "user_admin": (lambda w: f"/users/{w.partner_admin.pk}", {"other_admin": 404, "partner_user": 404}, 200),
    "user_vendor": (
        lambda w: f"/users/{w.reviewer.pk}",
        {"partner_admin": 404, "partner_user": 404, "other_admin": 404},
        200,
    ),
    "tokens": (lambda w: "/tokens", {}, 200),
}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("read", READS)
def test_read_authorisation_matrix(world, api_as, persona, read):
    path_of, table, default = READS[read]
    client = api_as(persona)
    before = state()
    response = client.get("/api/v1" + path_of(world))
    expected = 401 if persona == "anonymous" else table.get(persona, default)
    assert response.status_code == expected
    if expected != 200:
        assert set(response.json()) == {"code", "message", "fields"}
    assert state() == before


def _token_of(world):  # type: ignore[no-untyped-def]
    token, _ = services.api_token_create(name="ERP", actor=world.partner_admin)
    return token


def _deactivated(world):  # type: ignore[no-untyped-def]
    User.objects.filter(pk=world.partner_user.pk).update(is_active=False)
    return world.partner_user


WRITES = {
    # name: (method, path, body, {persona: status}, default, personas for whom it succeeds)
    "organisation_create": (
        "post",
        lambda w: "/organisations",
        lambda w: {"name": "Tailspin"},
        {"program_manager": 201},
        403,
        {"program_manager"},
    ),
    "location_create": (
        "post",
        lambda w: "/locations",
        lambda w: {"organisation_id": w.partner.pk, "partner_id": "FAB-003", "name": "Rome", "country": "IT"},
        {"program_manager": 201},
        403,
        {"program_manager"},
    ),
    "user_invite": (
        "post",
        lambda w: "/users",
        lambda w: {
            "email": "new@fabrikam.example",
            "organisation_id": w.partner.pk,
            "role": "incentives_admin",
            "location_id": w.location.pk,
        },
        # Northwind's admin names an organisation they cannot see: a field error
        {"program_manager": 201, "partner_admin": 201, "other_admin": 422},
        403,
        {"program_manager", "partner_admin"},
    ),
    "user_grant": (
        "post",
        lambda w: f"/users/{w.partner_user.pk}/roles",
        lambda w: {"role": "incentives_user", "location_id": w.second_location.pk},
        # the program manager may manage Fabrikam's people but does not give incentives user roles
        {"partner_admin": 201, "program_manager": 422, "other_admin": 404},
        403,
        {"partner_admin"},
    ),
    "role_revoke": (
        "delete",
        lambda w: f"/role-assignments/{w.partner_user.role_assignments.get().pk}",
        lambda w: None,
        {"partner_admin": 204, "other_admin": 404},
        403,
        {"partner_admin"},
    ),
    "user_deactivate": (
        "post",
        lambda w: f"/users/{w.partner_user.pk}/deactivate",
        lambda w: None,
        {"partner_admin": 200, "program_manager": 200, "partner_user": 422, "other_admin": 404},
        403,
        {"partner_admin", "program_manager"},
    ),
    "user_reactivate": (
        "post",
        lambda w: f"/users/{_deactivated(w).pk}/reactivate",
        lambda w: None,
        # the deactivated person's own token no longer works (401)
        {"program_manager": 200, "partner_admin": 200, "partner_user": 401, "other_admin": 404},
        403,
        {"program_manager", "partner_admin"},
    ),
    "token_create": ("post", lambda w: "/tokens", lambda w: {"name": "ERP"}, {}, 201, set(PERSONAS) - {"anonymous"}),
    "token_revoke": (
        "post",
        lambda w: f"/tokens/{_token_of(w).pk}/revoke",
        lambda w: None,
        {"partner_admin": 200},
        404,
        {"partner_admin"},
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("write", WRITES)
def test_write_authorisation_matrix(world, api_as, persona, write):
    method, path_of, body_of, table, default, succeeds = WRITES[write]
    client = api_as(persona)
    path, body = "/api/v1" + path_of(world), body_of(world)
    before = state()
    response = getattr(client, method)(path, body, content_type=JSON) if body else getattr(client, method)(path)
    expected = 401 if persona == "anonymous" else api_status(persona, method, path, table.get(persona, default))
    assert response.status_code == expected
    if expected >= 400:
        assert set(response.json()) == {"code", "message", "fields"}
    if persona in succeeds:
        assert state() != before
    else:
        assert state() == before


# ---------------------------------------------------------------------------------------------- what each sees


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "organisations", "locations", "people"),
    [
        (
            "partner_admin",
            ["Fabrikam"],
            ["FAB-001", "FAB-002"],
            ["ada.admin@fabrikam.example", "uma.user@fabrikam.example"],
        ),
        ("partner_user", ["Fabrikam"], ["FAB-001"], ["uma.user@fabrikam.example"]),
        ("other_admin", ["Northwind"], ["NW-001"], ["olga.admin@northwind.example"]),
        ("reviewer", ["Contoso", "Fabrikam", "Northwind"], ["FAB-001", "FAB-002", "NW-001"], None),
    ],
)
def test_lists_are_scoped(world, api_as, persona, organisations, locations, people):
    client = api_as(persona)
    assert sorted(o["name"] for o in client.get("/api/v1/organisations").json()["results"]) == organisations
    assert sorted(loc["partner_id"] for loc in client.get("/api/v1/locations").json()["results"]) == locations
    emails = sorted(u["email"] for u in client.get("/api/v1/users").json()["results"])
    assert emails == (people if people is not None else sorted(User.objects.values_list("email", flat=True)))


@pytest.mark.django_db
def test_me_names_the_organisation_and_grants(world, api_as):
    body = api_as("partner_user").get("/api/v1/me").json()
    grant = world.partner_user.role_assignments.get()
    assert body == {
        "id": world.partner_user.pk,
        "email": "uma.user@fabrikam.example",
        "full_name": "Uma User",
        "language": "",
        "organisation": {"id": world.partner.pk, "kind": "partner", "name": "Fabrikam"},
        "is_vendor_staff": False,
        "grants": [
            {
                "id": grant.pk,
                "role": "incentives_user",
                "location_id": world.location.pk,
                "program_id": None,
                "created_at": body["grants"][0]["created_at"],
            }
        ],
    }


@pytest.mark.django_db
def test_list_filters(world, api_as):
    client = api_as("program_manager")
    assert [o["name"] for o in client.get("/api/v1/organisations", {"kind": "vendor"}).json()["results"]] == ["Contoso"]
    assert [o["name"] for o in client.get("/api/v1/organisations", {"q": "north"}).json()["results"]] == ["Northwind"]
    found = client.get("/api/v1/locations", {"organisation_id": world.other_partner.pk}).json()["results"]
    assert [loc["partner_id"] for loc in found] == ["NW-001"]
    found = client.get("/api/v1/users", {"q": "uma"}).json()["results"]
    assert [u["email"] for u in found] == ["uma.user@fabrikam.example"]


# ---------------------------------------------------------------------------------------------- flows


@pytest.mark.django_db
def test_onboarding_through_the_api(world, api_as, mailoutbox, django_capture_on_commit_callbacks):
    client = api_as("program_manager")
    response = client.post("/api/v1/organisations", {"name": "Tailspin"}, content_type=JSON)
    assert response.status_code == 201
    org = response.json()
    assert org == {"id": org["id"], "kind": "partner", "name": "Tailspin"}
    response = client.post(
        "/api/v1/locations",
        {"organisation_id": org["id"], "partner_id": "tt-1", "name": "Tailspin Lyon", "country": "fr"},
        content_type=JSON,
    )
    location = response.json()
    assert (response.status_code, location) == (
        201,
        {
            "id": location["id"],
            "organisation_id": org["id"],
            "organisation_name": "Tailspin",
            "partner_id": "tt-1",
            "name": "Tailspin Lyon",
            "country": "FR",
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/users",
            {
                "email": "boss@tailspin.example",
                "full_name": "Tia Boss",
                "organisation_id": org["id"],
                "role": "incentives_admin",
                "location_id": location["id"],
            },
            content_type=JSON,
        )
    user = response.json()
    assert response.status_code == 201
    assert (user["email"], user["organisation_id"], user["is_active"], user["invitation_pending"]) == (
        "boss@tailspin.example",
        org["id"],
        True,
        True,
    )
    assert [(g["role"], g["location_id"]) for g in user["grants"]] == [("incentives_admin", location["id"])]
    assert mailoutbox[0].to == ["boss@tailspin.example"]


@pytest.mark.django_db
def test_grant_revoke_deactivate_reactivate(world, api_as):
    Enrollment.objects.create(location=world.location, program=world.program)  # the program is now theirs to name
    client = api_as("partner_admin")
    response = client.post(
        f"/api/v1/users/{world.partner_user.pk}/roles",
        {"role": "incentives_admin", "location_id": world.location.pk, "program_id": world.program.pk},
        content_type=JSON,
    )
    assert response.status_code == 201
    grant = response.json()
    assert (grant["role"], grant["location_id"], grant["program_id"]) == (
        "incentives_admin",
        world.location.pk,
        world.program.pk,
    )
    assert client.delete(f"/api/v1/role-assignments/{grant['id']}").status_code == 204
    assert client.delete(f"/api/v1/role-assignments/{grant['id']}").status_code == 404
    assert client.post(f"/api/v1/users/{world.partner_user.pk}/deactivate").json()["is_active"] is False
    assert client.post(f"/api/v1/users/{world.partner_user.pk}/reactivate").json()["is_active"] is True
    assert list(AuditEvent.objects.order_by("id").values_list("verb", flat=True)) == [
        "role.grant",
        "role.revoke",
        "user.deactivate",
        "user.activate",
    ]


@pytest.mark.django_db
def test_token_endpoints(world, api_as):
    client = api_as("partner_user")
    response = client.post("/api/v1/tokens", {"name": "Nightly export"}, content_type=JSON)
    created = response.json()
    assert response.status_code == 201
    assert set(created) == {"id", "name", "prefix", "created_at", "last_used_at", "revoked_at", "token"}
    assert created["token"].startswith("cf_")
    assert created["prefix"] == created["token"][:10]
    listed = client.get("/api/v1/tokens").json()["results"]
    assert [t["name"] for t in listed] == ["tests", "Nightly export"]
    assert all("token" not in t for t in listed)
    revoked = client.post(f"/api/v1/tokens/{created['id']}/revoke")
    assert (revoked.status_code, revoked.json()["revoked_at"] is not None) == (200, True)
    again = client.post(f"/api/v1/tokens/{created['id']}/revoke")
    assert (again.status_code, again.json()) == (
        409,
        {"code": "already_revoked", "message": "This token is already revoked.", "fields": {}},
    )


# ---------------------------------------------------------------------------------------------- bad input


@pytest.fixture
def narrow_admin(world):  # type: ignore[no-untyped-def]
    """Incentives admin of Fabrikam Berlin only, a mere user at Fabrikam Paris; signs in with a token."""
    user: User = UserFactory(email="nina.narrow@fabrikam.example", organisation=world.partner)  # type: ignore[assignment]
    RoleFactory(user=user, role=Role.INCENTIVES_ADMIN, location=world.location)
    RoleFactory(user=user, role=Role.INCENTIVES_USER, location=world.second_location)
    _, plain = services.api_token_create(name="tests", actor=user)
    return plain


SCOPE = "You can only give roles you hold yourself, within your own locations and programs."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "body", "fields"),
    [
        (
            "partner_admin",
            {"role": "incentives_user", "location_id": "other_location"},
            {"location_id": ["No such location."]},
        ),
        ("narrow_admin", {"role": "incentives_user", "location_id": "second_location"}, {"role": [SCOPE]}),
        ("partner_admin", {"role": "reviewer"}, {"role": ["Vendor roles are only for the vendor's own staff."]}),
        ("partner_admin", {"role": "incentives_user"}, {"location": ["Choose the location this role is for."]}),
        ("partner_admin", {"role": "incentives_user", "location_id": 999999}, {"location_id": ["No such location."]}),
        (
            "partner_admin",
            {"role": "incentives_user", "location_id": "second_location", "program_id": 999999},
            {"program_id": ["No such program."]},
        ),
        (
            "partner_admin",
            {"role": "owner", "location_id": "location"},
            {
                "role": [
                    "Input should be 'incentives_admin', 'incentives_user', 'program_manager', 'reviewer', 'finance' or 'auditor'"
                ]
            },
        ),
    ],
)
def test_grants_beyond_ones_scope_are_field_errors(world, api_as, narrow_admin, who, body, fields):
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {narrow_admin}") if who == "narrow_admin" else api_as(who)
    body = {k: getattr(world, v).pk if isinstance(v, str) and k.endswith("_id") else v for k, v in body.items()}
    before = state()
    response = client.post(f"/api/v1/users/{world.partner_user.pk}/roles", body, content_type=JSON)
    status = 400 if body["role"] == "owner" else 422  # not a role of the schema; the rest break rules of scope
    assert (response.status_code, response.json()["fields"]) == (status, fields)
    assert state() == before


@pytest.mark.django_db
def test_a_partner_user_granting_anything_is_forbidden(world, api_as):
    before = state()
    response = api_as("partner_user").post(
        f"/api/v1/users/{world.partner_user.pk}/roles",
        {"role": "incentives_admin", "location_id": world.location.pk},
        content_type=JSON,
    )
    assert (response.status_code, response.json()) == (
        403,
        {"code": "forbidden", "message": "Only incentives admins and program managers may do this.", "fields": {}},
    )
    assert state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        ({"email": "not an email"}, 400, {"email": ["Enter an email address, e.g. ada@example.com."]}),
        (
            {"email": "Uma.User@Fabrikam.example"},
            422,
            {"email": ["uma.user@fabrikam.example already has an account."]},
        ),
        (
            {"email": "x@fabrikam.example", "organisation_id": "other_partner"},
            422,
            {"organisation_id": ["No such organisation."]},
        ),
        ({}, 400, {"email": ["Field required"]}),
    ],
)
def test_bad_invitations_are_field_errors(world, api_as, mailoutbox, body, status, fields):
    body = {"role": "incentives_user", "location_id": world.location.pk} | {
        k: getattr(world, v).pk if k == "organisation_id" else v for k, v in body.items()
    }
    before = state()
    response = api_as("partner_admin").post("/api/v1/users", body, content_type=JSON)
    assert (response.status_code, response.json()["fields"]) == (status, fields)
    assert state() == before
    assert mailoutbox == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        (
            {"partner_id": "FAB-001"},
            422,
            {"partner_id": ["Partner ID FAB-001 is already used by another location."]},
        ),
        (
            {"partner_id": "Fab-001"},
            422,
            {"partner_id": ["Partner ID Fab-001 is already used by another location."]},
        ),
        (
            {"partner_id": "FAB--1"},
            400,
            {"partner_id": ["A partner ID has only letters A–Z, digits and single hyphens between them."]},
        ),
        ({"country": "XX"}, 422, {"country": ["“XX” is not a country code (ISO 3166, for example DE, US, IN)."]}),
        ({"name": " "}, 400, {"name": ["Write something here: it cannot be empty or only spaces."]}),
        ({"organisation_id": 999999}, 422, {"organisation_id": ["No such organisation."]}),
        ({"organisation_id": None}, 400, {"organisation_id": ["Input should be a valid integer"]}),
    ],
)
def test_bad_locations_are_field_errors(world, api_as, body, status, fields):
    body = {"organisation_id": world.partner.pk, "partner_id": "NEW-1", "name": "New", "country": "DE"} | body
    before = state()
    response = api_as("program_manager").post("/api/v1/locations", body, content_type=JSON)
    assert (response.status_code, response.json()["fields"]) == (status, fields)
    assert state() == before
