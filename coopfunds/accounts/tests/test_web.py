"""The accounts pages: who may open which page, who may do what (a refusal changes nothing), and the flows."""

import pytest
from django.test import Client

from conftest import PERSONAS
from coopfunds.accounts import services
from coopfunds.accounts.models import ApiToken, Location, Organisation, Role, RoleAssignment, User
from coopfunds.accounts.tests.helpers import make_location, make_partner
from coopfunds.audit.models import AuditEvent

LOGIN = "/login/?next="


def state() -> tuple[object, ...]:
    """Everything a page of this module could change."""
    return (
        Organisation.objects.count(),
        Location.objects.count(),
        list(User.objects.order_by("pk").values_list("email", "is_active")),
        list(RoleAssignment.objects.order_by("pk").values_list("user_id", "role", "location_id", "program_id")),
        list(ApiToken.objects.order_by("pk").values_list("name", "revoked_at")),
        AuditEvent.objects.count(),
    )


def expect(persona: str, table: dict[str, int], default: int) -> int:
    return table.get(persona, default)


# ---------------------------------------------------------------------------------------------- pages (GET)

PAGES = {
    # name: (url built from the world, {persona: status}, default status for signed-in personas)
    "partner_list": (lambda w: "/partners/", {}, 200),
    "partner_create": (lambda w: "/partners/new/", {"program_manager": 200}, 403),
    "partner_detail": (lambda w: f"/partners/{w.partner.pk}/", {"other_admin": 404}, 200),
    "partner_detail_vendor_org": (lambda w: f"/partners/{w.vendor.pk}/", {}, 404),
    "location_create": (
        lambda w: f"/partners/{w.partner.pk}/locations/new/",
        {"program_manager": 200, "other_admin": 404},
        403,
    ),
    "partner_invite": (
        lambda w: f"/partners/{w.partner.pk}/invite/",
        {"program_manager": 200, "partner_admin": 200, "other_admin": 404},
        403,
    ),
    "location_list": (lambda w: "/locations/", {}, 200),
    "location_detail": (lambda w: f"/locations/{w.location.pk}/", {"other_admin": 404}, 200),
    "location_detail_sibling": (
        lambda w: f"/locations/{w.second_location.pk}/",
        {"other_admin": 404, "partner_user": 404},
        200,
    ),
    "user_list": (lambda w: "/users/", {}, 200),
    "user_invite": (
        lambda w: "/users/invite/",
        {"program_manager": 200, "partner_admin": 200, "other_admin": 200},
        403,
    ),
    "user_detail": (lambda w: f"/users/{w.partner_user.pk}/", {"other_admin": 404}, 200),
    "user_detail_admin": (
        lambda w: f"/users/{w.partner_admin.pk}/",
        {"other_admin": 404, "partner_user": 404},
        200,
    ),
    "user_detail_vendor": (
        lambda w: f"/users/{w.reviewer.pk}/",
        {"other_admin": 404, "partner_user": 404, "partner_admin": 404},
        200,
    ),
    "token_list": (lambda w: "/tokens/", {}, 200),
}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", PAGES)
def test_page_authorisation_matrix(world, as_persona, persona, page):
    url_of, table, default = PAGES[page]
    url = url_of(world)
    before = state()
    response = as_persona(persona).get(url)
    if persona == "anonymous":
        assert (response.status_code, response["Location"]) == (302, LOGIN + url)
    else:
        assert response.status_code == expect(persona, table, default)
    assert state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "partners", "locations", "people"),
    [
        (
            "partner_admin",
            ["Fabrikam"],
            ["FAB-001", "FAB-002"],
            ["ada.admin@fabrikam.example", "uma.user@fabrikam.example"],
        ),
        ("partner_user", ["Fabrikam"], ["FAB-001"], ["uma.user@fabrikam.example"]),
        ("other_admin", ["Northwind"], ["NW-001"], ["olga.admin@northwind.example"]),
        ("auditor", ["Fabrikam", "Northwind"], ["FAB-001", "FAB-002", "NW-001"], None),
    ],
)
def test_lists_show_only_what_the_viewer_may_see(world, as_persona, persona, partners, locations, people):
    client = as_persona(persona)
    assert [o.name for o in client.get("/partners/").context["page"]] == partners
    assert [loc.partner_id for loc in client.get("/locations/").context["page"]] == locations
    listed = [u.email for u in client.get("/users/").context["page"]]
    assert listed == (people if people is not None else sorted(User.objects.values_list("email", flat=True)))


@pytest.mark.django_db
def test_partner_detail_lists_only_the_locations_the_viewer_sees(world, as_persona):
    url = f"/partners/{world.partner.pk}/"
    assert [loc.partner_id for loc in as_persona("partner_user").get(url).context["page"]] == ["FAB-001"]
    assert [loc.partner_id for loc in as_persona("reviewer").get(url).context["page"]] == ["FAB-001", "FAB-002"]


@pytest.mark.django_db
def test_location_detail_lists_people_with_a_role_there(world, as_persona):
    response = as_persona("partner_admin").get(f"/locations/{world.location.pk}/")
    assert [u.email for u in response.context["page"]] == ["ada.admin@fabrikam.example", "uma.user@fabrikam.example"]
    response = as_persona("partner_user").get(f"/locations/{world.location.pk}/")
    assert [u.email for u in response.context["page"]] == ["uma.user@fabrikam.example"]


# ---------------------------------------------------------------------------------------------- actions (POST)


def _token_of(world):  # type: ignore[no-untyped-def]
    token, _ = services.api_token_create(name="ERP", actor=world.partner_admin)
    return token


def _deactivated(world):  # type: ignore[no-untyped-def]
    User.objects.filter(pk=world.partner_user.pk).update(is_active=False)
    return world.partner_user


def _invited(world):  # type: ignore[no-untyped-def]
    return services.user_invite(
        email="invited@fabrikam.example",
        full_name="",
        organisation=world.partner,
        role=Role.INCENTIVES_USER,
        location=world.location,
        actor=world.partner_admin,
    )


ACTIONS = {
    # name: (url, form data, {persona: status}, default status, personas for whom it succeeds)
    "partner_create": (
        lambda w: "/partners/new/",
        lambda w: {"name": "Tailspin"},
        {"program_manager": 302},
        403,
        {"program_manager"},
    ),
    "location_create": (
        lambda w: f"/partners/{w.partner.pk}/locations/new/",
        lambda w: {"partner_id": "FAB-003", "name": "Fabrikam Rome", "country": "IT"},
        {"program_manager": 302, "other_admin": 404},
        403,
        {"program_manager"},
    ),
    "partner_invite": (
        lambda w: f"/partners/{w.partner.pk}/invite/",
        lambda w: {"email": "new@fabrikam.example", "role": "incentives_admin", "location": w.location.pk},
        {"program_manager": 302, "partner_admin": 302, "other_admin": 404},
        403,
        {"program_manager", "partner_admin"},
    ),
    "user_invite": (
        lambda w: "/users/invite/",
        lambda w: {"email": "new@example.com", "role": "incentives_user", "location": w.location.pk},
        # the program manager's form offers vendor roles: "incentives_user" is not a choice there (200, errors);
        # Northwind's admin may invite, but not to Fabrikam's location (200, errors)
        {"partner_admin": 302, "program_manager": 200, "other_admin": 200},
        403,
        {"partner_admin"},
    ),
    "user_grant": (
        lambda w: f"/users/{w.partner_user.pk}/roles/",
        lambda w: {"role": "incentives_user", "location": w.second_location.pk},
        {"partner_admin": 302, "program_manager": 200, "other_admin": 404},
        403,
        {"partner_admin"},
    ),
    "role_remove": (
        lambda w: f"/role-assignments/{w.partner_user.role_assignments.get().pk}/remove/",
        lambda w: {},
        {"partner_admin": 302, "other_admin": 404},
        403,
        {"partner_admin"},
    ),
    "user_deactivate": (
        lambda w: f"/users/{w.partner_user.pk}/deactivate/",
        lambda w: {},
        # the person themselves is told they cannot (a message, 302) and nothing changes
        {"partner_admin": 302, "program_manager": 302, "partner_user": 302, "other_admin": 404},
        403,
        {"partner_admin", "program_manager"},
    ),
    "user_reactivate": (
        lambda w: f"/users/{_deactivated(w).pk}/reactivate/",
        lambda w: {},
        # the deactivated person's own session no longer signs them in (302 to the sign-in page)
        {"partner_admin": 302, "program_manager": 302, "partner_user": 302, "other_admin": 404},
        403,
        {"partner_admin", "program_manager"},
    ),
    "user_reinvite": (
        lambda w: f"/users/{_invited(w).pk}/reinvite/",
        lambda w: {},
        {"partner_admin": 302, "program_manager": 302, "partner_user": 404, "other_admin": 404},
        403,
        {"partner_admin", "program_manager"},
    ),
    "token_create": (lambda w: "/tokens/", lambda w: {"name": "ERP"}, {}, 302, set(PERSONAS) - {"anonymous"}),
    "token_revoke": (
        lambda w: f"/tokens/{_token_of(w).pk}/revoke/",
        lambda w: {},
        {"partner_admin": 302},
        404,
        {"partner_admin"},
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", ACTIONS)
def test_action_authorisation_matrix(world, as_persona, persona, action):
    url_of, data_of, table, default, succeeds = ACTIONS[action]
    url, data = url_of(world), data_of(world)
    before = state()
    response = as_persona(persona).post(url, data)
    if persona == "anonymous":
        assert (response.status_code, response["Location"]) == (302, LOGIN + url)
    else:
        assert response.status_code == expect(persona, table, default)
    if persona in succeeds:
        assert state() != before
    else:
        assert state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/users/{u}/deactivate/", "/users/{u}/reactivate/", "/users/{u}/reinvite/", "/users/{u}/roles/"],
)
def test_actions_never_run_on_get(world, as_persona, url):
    before = state()
    assert as_persona("partner_admin").get(url.format(u=world.partner_user.pk)).status_code == 405
    assert state() == before


# ---------------------------------------------------------------------------------------------- flows


@pytest.mark.django_db
def test_program_manager_onboards_a_partner(world, as_persona, mailoutbox, django_capture_on_commit_callbacks):
    client = as_persona("program_manager")
    response = client.post("/partners/new/", {"name": "Tailspin Toys"})
    tailspin = Organisation.objects.get(name="Tailspin Toys")
    assert response["Location"] == f"/partners/{tailspin.pk}/"
    page = client.get(response["Location"])
    assert [str(m) for m in page.context["messages"]] == ["Tailspin Toys is registered. Add its first location."]
    assert (page.context["can_add_location"], page.context["can_invite"]) == (True, True)

    response = client.post(
        f"/partners/{tailspin.pk}/locations/new/", {"partner_id": "TT-1", "name": "Tailspin Lyon", "country": "FR"}
    )
    assert response["Location"] == f"/partners/{tailspin.pk}/"
    location = Location.objects.get(partner_id="TT-1")

    invite_page = client.get(f"/partners/{tailspin.pk}/invite/")
    form = invite_page.context["form"]
    assert list(form.fields) == ["email", "full_name", "role", "location", "program"]
    assert form.fields["role"].choices == [("incentives_admin", "Incentives admin")]
    assert [loc.partner_id for loc in form.fields["location"].queryset] == ["TT-1"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/partners/{tailspin.pk}/invite/",
            {
                "email": "boss@tailspin.example",
                "full_name": "Tia Boss",
                "role": "incentives_admin",
                "location": location.pk,
            },
        )
    boss = User.objects.get(email="boss@tailspin.example")
    assert response["Location"] == f"/users/{boss.pk}/"
    assert [(g.role, g.location_id, g.program_id) for g in boss.role_assignments.all()] == [
        ("incentives_admin", location.pk, None)
    ]
    assert mailoutbox[0].to == ["boss@tailspin.example"]
    detail = client.get(f"/users/{boss.pk}/")
    assert [str(m) for m in detail.context["messages"]] == ["Invitation sent to boss@tailspin.example."]
    assert detail.context["can_reinvite"] is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"partner_id": "fab-001", "name": "Copy", "country": "DE"},
            {"partner_id": ["Partner ID fab-001 is already used by another location."]},
        ),
        (
            {"partner_id": "NEW-1", "name": "X", "country": "XX"},
            {"country": ["Select a valid choice. XX is not one of the available choices."]},
        ),
        (
            {"partner_id": "", "name": "", "country": ""},
            {
                "partner_id": ["Enter the location's partner ID."],
                "name": ["Give the location a name."],
                "country": ["Choose the location's country."],
            },
        ),
    ],
)
def test_bad_location_input_shows_field_errors(world, as_persona, data, errors):
    before = state()
    response = as_persona("program_manager").post(f"/partners/{world.partner.pk}/locations/new/", data)
    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"email": "nope", "role": "incentives_user"}, {"email": ["“nope” is not a valid email address."]}),
        (
            {"email": "UMA.USER@fabrikam.example", "role": "incentives_user"},
            {"email": ["uma.user@fabrikam.example already has an account."]},
        ),
        (
            {"email": "a@fabrikam.example", "role": "incentives_user", "location": ""},
            {"location": ["Choose the location this role is for."]},
        ),
        (
            {"email": "a@fabrikam.example", "role": "auditor"},
            {"role": ["Select a valid choice. auditor is not one of the available choices."]},
        ),
    ],
)
def test_bad_invitations_show_field_errors(world, as_persona, data, errors):
    data.setdefault("location", world.location.pk)
    before = state()
    response = as_persona("partner_admin").post("/users/invite/", data)
    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert state() == before


@pytest.mark.django_db
def test_partner_admin_cannot_pick_another_partners_location(world, as_persona):
    before = state()
    response = as_persona("partner_admin").post(
        f"/users/{world.partner_user.pk}/roles/", {"role": "incentives_user", "location": world.other_location.pk}
    )
    assert response.context["grant_form"].errors == {
        "location": ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert state() == before


@pytest.mark.django_db
def test_user_detail_offers_only_what_the_viewer_may_do(world, as_persona):
    page = as_persona("partner_admin").get(f"/users/{world.partner_user.pk}/")
    assert [(str(g), removable) for g, removable in page.context["grants"]] == [
        ("Incentives user (Fabrikam Berlin (FAB-001))", True)
    ]
    assert page.context["grant_form"].fields["role"].choices == [
        ("incentives_admin", "Incentives admin"),
        ("incentives_user", "Incentives user"),
    ]
    assert (page.context["can_set_active"], page.context["can_reinvite"]) == (True, False)
    page = as_persona("auditor").get(f"/users/{world.partner_user.pk}/")
    assert [removable for _, removable in page.context["grants"]] == [False]
    assert (page.context["grant_form"], page.context["can_set_active"]) == (None, False)
    page = as_persona("partner_user").get(f"/users/{world.partner_user.pk}/")
    assert (page.context["grant_form"], page.context["can_set_active"]) == (None, False)


@pytest.mark.django_db
def test_grant_and_remove_a_role_from_the_user_page(world, as_persona):
    client = as_persona("partner_admin")
    url = f"/users/{world.partner_user.pk}/"
    response = client.post(url + "roles/", {"role": "incentives_user", "location": world.second_location.pk})
    assert response["Location"] == url
    assert [str(m) for m in client.get(url).context["messages"]] == [
        "uma.user@fabrikam.example is now Incentives user (Fabrikam Paris (FAB-002))."
    ]
    response = client.post(url + "roles/", {"role": "incentives_user", "location": world.second_location.pk})
    assert response.context["grant_form"].errors == {
        "role": ["uma.user@fabrikam.example already holds this role here."]
    }
    grant = RoleAssignment.objects.get(user=world.partner_user, location=world.second_location)
    client.post(f"/role-assignments/{grant.pk}/remove/")
    assert [str(m) for m in client.get(url).context["messages"]] == [
        "uma.user@fabrikam.example no longer holds Incentives user (Fabrikam Paris (FAB-002))."
    ]
    assert list(
        RoleAssignment.objects.filter(user=world.partner_user).values_list("location__partner_id", flat=True)
    ) == ["FAB-001"]


@pytest.mark.django_db
def test_deactivate_and_reactivate_from_the_user_page(world, as_persona):
    client = as_persona("partner_admin")
    url = f"/users/{world.partner_user.pk}/"
    client.post(url + "deactivate/")
    assert [str(m) for m in client.get(url).context["messages"]] == ["uma.user@fabrikam.example is deactivated."]
    assert User.objects.get(pk=world.partner_user.pk).is_active is False
    client.post(url + "reactivate/")
    assert User.objects.get(pk=world.partner_user.pk).is_active is True
    own = as_persona("partner_user")
    own.post(url + "deactivate/")
    # (signed in as the person themselves)
    assert [str(m) for m in own.get(url).context["messages"]] == ["You cannot deactivate or reactivate yourself."]


@pytest.mark.django_db
def test_a_new_token_is_shown_once_then_never_again(world, as_persona):
    client = as_persona("partner_user")
    response = client.post("/tokens/", {"name": "ERP import"})
    assert response["Location"] == "/tokens/"
    page = client.get("/tokens/")
    plain = page.context["new_token"]["token"]
    assert plain.startswith("cf_")
    assert plain in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    again = client.get("/tokens/")
    assert again.context["new_token"] is None
    assert plain not in again.content.decode()
    token = ApiToken.objects.get()
    assert token.prefix in again.content.decode()
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {plain}").json()["email"] == (
        "uma.user@fabrikam.example"
    )
    client.post(f"/tokens/{token.pk}/revoke/")
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 401
    client.post(f"/tokens/{token.pk}/revoke/")
    assert [str(m) for m in client.get("/tokens/").context["messages"]] == [
        "Token ERP import is revoked; programs using it can no longer sign in.",
        "This token is already revoked.",
    ]


@pytest.mark.django_db
def test_token_name_errors_show_on_the_form(world, as_persona):
    response = as_persona("partner_user").post("/tokens/", {"name": " "})
    assert response.context["form"].errors == {"name": ["Name the token after what will use it, e.g. “ERP import”."]}
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_search_with_htmx_returns_only_the_results(world, as_persona):
    client = as_persona("program_manager")
    response = client.get("/locations/", {"q": "oslo"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results">')
    assert "<html" not in body
    assert [loc.partner_id for loc in response.context["page"]] == ["NW-001"]
    full = client.get("/locations/", {"q": "oslo"})
    assert "<html" in full.content.decode()


@pytest.mark.django_db
def test_lists_are_paginated_and_keep_the_search(world, as_persona):
    for n in range(30):
        make_location(make_partner(f"Acme {n:02d}"), f"ACME-{n:02d}")
    client = as_persona("reviewer")
    first = client.get("/partners/", {"q": "acme"})
    assert (first.context["page"].paginator.count, len(first.context["page"].object_list)) == (30, 25)
    assert 'href="?q=acme&amp;page=2"' in first.content.decode()
    second = client.get("/partners/", {"q": "acme", "page": 2})
    assert [o.name for o in second.context["page"]] == [f"Acme {n}" for n in range(25, 30)]
    assert client.get("/locations/", {"page": "2"}).context["page"].number == 2
    assert client.get("/locations/", {"page": "nonsense"}).context["page"].number == 1


@pytest.mark.django_db
def test_pages_carry_no_inline_scripts_or_styles(world, as_persona):
    client = as_persona("program_manager")
    for url in ["/partners/", f"/partners/{world.partner.pk}/", "/locations/", "/users/", "/tokens/", "/users/invite/"]:
        body = client.get(url).content.decode()
        assert " style=" not in body
        assert "<script>" not in body


@pytest.mark.django_db
def test_role_assignment_to_vendor_staff_by_program_manager(world, as_persona):
    client = as_persona("program_manager")
    form = client.get(f"/users/{world.reviewer.pk}/").context["grant_form"]
    assert "location" not in form.fields
    client.post(f"/users/{world.reviewer.pk}/roles/", {"role": "auditor", "program": world.program.pk})
    assert [(g.role, g.program_id) for g in world.reviewer.role_assignments.order_by("id")] == [
        (Role.REVIEWER, None),
        (Role.AUDITOR, world.program.pk),
    ]


@pytest.mark.django_db
def test_partners_pick_only_programs_their_locations_are_enrolled_in(world, as_persona):
    url = f"/users/{world.partner_user.pk}/"
    assert list(as_persona("partner_admin").get(url).context["grant_form"].fields["program"].queryset) == []
    world.location.enrollments.create(program=world.program)  # (through the reverse relation: no import)
    form = as_persona("partner_admin").get(url).context["grant_form"]
    assert [p.code for p in form.fields["program"].queryset] == ["coop"]
    assert [
        p.code for p in as_persona("other_admin").get("/users/invite/").context["form"].fields["program"].queryset
    ] == []
