"""The association pages: who may open and post what (every persona), what they show, how bad input comes
back, and the customer's consent page."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from conftest import PERSONAS
from coopfunds.associations import services
from coopfunds.associations.models import Association, AssociationOption, AssociationPolicy
from coopfunds.associations.tests.helpers import (
    BERLIN,
    TENANT,
    VENDOR,
    VISIBLE,
    approved,
    draft,
    pdf,
    rejected,
    state,
    submitted,
)
from coopfunds.programs.models import Program

pytestmark = pytest.mark.django_db
EVERYONE = BERLIN | VENDOR | {"other_admin"}


def everything() -> tuple[Any, ...]:
    return (
        state(),
        list(AssociationOption.objects.order_by("id").values_list()),
        list(AssociationPolicy.objects.order_by("id").values_list()),
        list(Program.objects.order_by("id").values_list("id", "earnings_require_association")),
    )


def expected(persona: str, allowed: set[str], visible: set[str], ok: int) -> int:
    if persona == "anonymous":
        return 302
    if persona not in visible:
        return 404
    return ok if persona in allowed else 403


def new_data(world: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "location": world.location.pk,
        "program": world.program.pk,
        "customer_name": "Contoso Ltd",
        "customer_tenant_id": TENANT,
        "customer_domain": "contoso.com",
        "solution_area": "modern-work",
        "partner_role": "deployment",
        "workloads": ["teams"],
        "subscription_ids": "",
        "customer_contact_name": "Carla Customer",
        "customer_contact_email": "carla@contoso.com",
        "partner_contact_name": "Ada",
        "partner_contact_email": "ada@fabrikam.example",
        "comments": "",
        "proof_note": "Signed SOW.",
        **overrides,
    }


@pytest.fixture
def pair(world_a):  # type: ignore[no-untyped-def]
    """Berlin's draft and a competing Northwind association (for the side-by-side page)."""
    mine = draft(world_a, workloads=["teams"])
    theirs = submitted(world_a, location=world_a.other_location, actor=world_a.other_admin, workloads=["teams"])
    return world_a, mine, theirs


# (name, url(world, association, other), who may, who sees, ok status)
PAGES: list[tuple[str, Callable[..., str], set[str], set[str], int]] = [
    ("association_list", lambda w, a, b: "/associations/", EVERYONE, EVERYONE, 200),
    ("association_new", lambda w, a, b: "/associations/new/", BERLIN | {"other_admin"}, EVERYONE, 200),
    ("association_detail", lambda w, a, b: f"/associations/{a.pk}/", VISIBLE, VISIBLE, 200),
    ("association_edit", lambda w, a, b: f"/associations/{a.pk}/edit/", BERLIN, VISIBLE, 200),
    ("association_queue", lambda w, a, b: "/associations/review/", VENDOR, VENDOR, 200),
    ("association_compare", lambda w, a, b: f"/associations/{a.pk}/compare/{b.pk}/", VENDOR, VENDOR, 200),
    ("association_settings", lambda w, a, b: f"/programs/{w.program.pk}/associations/", EVERYONE, EVERYONE, 200),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("name", "url", "allowed", "visible", "ok"), PAGES, ids=[p[0] for p in PAGES])
def test_page_authorisation(as_persona, pair, persona, name, url, allowed, visible, ok):
    response = as_persona(persona).get(url(*pair))
    assert response.status_code == expected(persona, allowed, visible, ok)


def _option(world: Any) -> AssociationOption:
    return AssociationOption.objects.get(program=world.program, code="teams")


# (name, make the association, url(world, association), data(world), who may, who sees)
ACTIONS: list[tuple[str, Callable[..., Any], Callable[..., str], Callable[..., dict[str, Any]], set[str], set[str]]] = [
    (
        "new",
        draft,
        lambda w, a: "/associations/new/",
        lambda w: new_data(w, proof=pdf("p.pdf", "red")),
        BERLIN,
        VISIBLE,
    ),
    (
        "edit",
        draft,
        lambda w, a: f"/associations/{a.pk}/edit/",
        lambda w: new_data(w, comments="Since 2024."),
        BERLIN,
        VISIBLE,
    ),
    ("submit", draft, lambda w, a: f"/associations/{a.pk}/submit/", lambda w: {}, BERLIN, VISIBLE),
    ("withdraw", submitted, lambda w, a: f"/associations/{a.pk}/withdraw/", lambda w: {"note": "No."}, BERLIN, VISIBLE),
    (
        "dispute",
        rejected,
        lambda w, a: f"/associations/{a.pk}/dispute/",
        lambda w: {"reason": "Signed."},
        {"partner_admin"},
        VISIBLE,
    ),
    ("take", submitted, lambda w, a: f"/associations/{a.pk}/take/", lambda w: {}, {"reviewer"}, VISIBLE),
    (
        "approve",
        submitted,
        lambda w, a: f"/associations/{a.pk}/approve/",
        lambda w: {"note": ""},
        {"reviewer"},
        VISIBLE,
    ),
    (
        "request_action",
        submitted,
        lambda w, a: f"/associations/{a.pk}/request-action/",
        lambda w: {"message": "Sign it."},
        {"reviewer"},
        VISIBLE,
    ),
    (
        "reject",
        submitted,
        lambda w, a: f"/associations/{a.pk}/reject/",
        lambda w: {"reason": "insufficient_proof", "note": ""},
        {"reviewer"},
        VISIBLE,
    ),
    (
        "revoke",
        approved,
        lambda w, a: f"/associations/{a.pk}/reject/",
        lambda w: {"reason": "customer_mismatch", "note": "Wrong tenant."},
        {"reviewer"},
        VISIBLE,
    ),
    (
        "comment",
        submitted,
        lambda w, a: f"/associations/{a.pk}/comment/",
        lambda w: {"message": "Hi."},
        BERLIN | {"reviewer"},
        VISIBLE,
    ),
    (
        "settings",
        draft,
        lambda w, a: f"/programs/{w.program.pk}/associations/",
        lambda w: {"partner_action_business_days": "3", "consent_days": "7", "dispute_days": "30"},
        {"program_manager"},
        EVERYONE,
    ),
    (
        "option_add",
        draft,
        lambda w, a: f"/programs/{w.program.pk}/associations/options/",
        lambda w: {"kind": "workload", "code": "copilot", "label": "Copilot"},
        {"program_manager"},
        EVERYONE,
    ),
    (
        "option_edit",
        draft,
        lambda w, a: f"/association-options/{_option(w).pk}/",
        lambda w: {"label": "Teams", "is_active": ""},
        {"program_manager"},
        EVERYONE,
    ),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("name", "make", "url", "data", "allowed", "visible"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_action_authorisation_and_denials_change_nothing(
    as_persona, world_a, persona, name, make, url, data, allowed, visible
):
    association = make(world_a)
    before = everything()
    response = as_persona(persona).post(url(world_a, association), data(world_a))
    status = expected(persona, allowed, visible, 302)
    if name == "new" and persona == "other_admin":
        status = 400  # Berlin is not one of their locations: the form refuses the choice
    assert response.status_code == status
    assert (everything() != before) is (persona in allowed)


@pytest.mark.parametrize("persona", PERSONAS)
def test_nothing_changes_on_get(as_persona, world_a, persona):
    association = submitted(world_a)
    before = everything()
    for _, _, url, _, _, _ in ACTIONS:
        as_persona(persona).get(url(world_a, association))
    assert everything() == before


def test_anonymous_is_sent_to_sign_in(client, pair):
    for _, url, *_ in PAGES:
        assert client.get(url(*pair))["Location"].startswith("/login/?next=/")


def test_the_new_association_page_asks_where_first_then_creates(as_persona, world_a):
    client = as_persona("partner_admin")
    first = client.get("/associations/new/")
    assert (first.context["form"], first.status_code) == (None, 200)  # two locations: choose
    second = client.get(f"/associations/new/?location={world_a.location.pk}&program={world_a.program.pk}")
    assert [c[0] for c in second.context["form"].fields["partner_role"].choices] == [
        "",
        "deployment",
        "managed-services",
        "transacting",
        "usage",
    ]
    response = client.post("/associations/new/", new_data(world_a, proof=pdf()))
    association = Association.objects.get()
    assert response["Location"] == f"/associations/{association.pk}/"
    assert (association.customer_domain, association.proof.original_name) == ("contoso.com", "sow.pdf")


def test_bad_input_comes_back_on_the_form(as_persona, world_a):
    response = as_persona("partner_user").post(
        "/associations/new/",
        new_data(
            world_a, customer_tenant_id="nope", customer_domain="x", workloads=["fax"], customer_contact_email="c@"
        ),
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "workloads": ["Select a valid choice. fax is not one of the available choices."],
    }
    response = as_persona("partner_user").post(
        "/associations/new/",
        new_data(world_a, customer_tenant_id="nope", customer_domain="x", customer_contact_email="c@"),
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "customer_tenant_id": ["“nope” is not a tenant ID: it looks like 72f988bf-86f1-41af-91ab-2d7cd011db47."],
        "customer_domain": ["“x” is not a domain name such as contoso.com."],
        "customer_contact_email": ["“c@” is not an email address."],
    }
    assert Association.objects.count() == 0


def test_submitting_an_incomplete_association_lists_what_is_missing(as_persona, world_a):
    association = draft(world_a, customer_contact_email="", workloads=[])
    response = as_persona("partner_admin").post(f"/associations/{association.pk}/submit/")
    assert response.status_code == 400
    assert response.context["submit_form"].non_field_errors() == [
        "Give the customer contact's email: the consent link goes there.",
        "Claim at least one workload or subscription.",
    ]


def test_partners_see_that_someone_competes_and_reviewers_see_who(as_persona, pair):
    world, mine, theirs = pair
    services.association_submit(association=mine, actor=world.partner_admin)
    partner = as_persona("partner_admin").get(f"/associations/{mine.pk}/").content.decode()
    assert "Microsoft Teams: another partner claims it too; a reviewer decides on the proof." in partner
    assert "Northwind" not in partner
    reviewer = as_persona("reviewer").get(f"/associations/{mine.pk}/").content.decode()
    assert "also claimed by Northwind Oslo (NW-001) of Northwind" in reviewer
    assert f'href="/associations/{mine.pk}/compare/{theirs.pk}/"' in reviewer
    queue = as_persona("reviewer").get("/associations/review/")
    assert [(a.pk, clock.due_on.isoformat(), n) for a, clock, n in queue.context["rows"]] == [
        (mine.pk, "2026-11-24", 1),
        (theirs.pk, "2026-11-24", 1),
    ]
    compare = as_persona("reviewer").get(f"/associations/{mine.pk}/compare/{theirs.pk}/").content.decode()
    assert compare.count("Statement of work signed by the customer.") == 2


def test_the_list_is_paginated_and_filtered(as_persona, world_a):
    for n in range(30):
        draft(world_a, customer_name=f"Customer {n:02d}", customer_domain=f"c{n:02d}.example", colour=f"#0000{n:02d}")
    client = as_persona("partner_user")
    first, second = client.get("/associations/"), client.get("/associations/?page=2")
    assert len(first.context["page"].object_list) == 25
    assert [a.customer_name for a in second.context["page"].object_list] == [
        f"Customer {n:02d}" for n in range(4, -1, -1)
    ]
    found = client.get("/associations/?q=c07.example")
    assert [a.customer_name for a in found.context["page"].object_list] == ["Customer 07"]
    assert list(as_persona("other_admin").get("/associations/").context["page"].object_list) == []


# --- the customer's page ---------------------------------------------------------------------------------


def test_the_consent_page_shows_who_claims_what_and_nothing_else(link):
    _, token = link
    page = Client().get(f"/consent/{token}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Is Fabrikam your partner of record?" in text
    assert "<strong>Contoso Ltd</strong> (contoso.com) in the Contoso Cloud Co-op program" in text
    assert "<li>Exchange Online</li>" in text
    assert "<li>Microsoft Teams</li>" in text
    for secret in ("FAB-001", "Fabrikam Berlin", TENANT, "Internal: big deal.", "sow.pdf", "ada.admin", "carla@"):
        assert secret not in text
    assert page["Cache-Control"].startswith("max-age=0")


def test_confirming_on_the_page_works_once(link):
    _, token = link
    client = Client()
    response = client.post(f"/consent/{token}/", {"answer": "confirm"})
    assert response["Location"] == "/consent/done/?answer=confirm"
    assert Association.objects.get().status == "in_force"
    again = client.post(f"/consent/{token}/", {"answer": "decline"})
    assert again.status_code == 404
    assert "This link is not valid" in again.content.decode()
    assert Association.objects.get().status == "in_force"


def test_declining_on_the_page_rejects(link):
    _, token = link
    Client().post(f"/consent/{token}/", {"answer": "decline"})
    assert Association.objects.get().rejection_reason == "customer_decline"


def test_the_page_needs_its_csrf_token_and_a_known_answer(link):
    _, token = link
    before = state()
    assert Client(enforce_csrf_checks=True).post(f"/consent/{token}/", {"answer": "decline"}).status_code == 403
    assert Client().post(f"/consent/{token}/", {"answer": "maybe"}).status_code == 200
    assert state() == before


@pytest.mark.parametrize("token", ["garbage", "a" * 200, "x:y:z"])
def test_unknown_links_all_look_the_same(link, token):
    response = Client().get(f"/consent/{token}/")
    assert response.status_code == 404
    assert "It may have been used already, or its time has passed." in response.content.decode()


def test_the_emailed_link_opens_the_consent_page(world_a, django_capture_on_commit_callbacks):
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        approved(world_a)
    [email] = [m for m in mail.outbox if m.to == ["carla@contoso.com"]]
    url = next(line for line in email.body.splitlines() if line.startswith("http://127.0.0.1:8000/consent/"))
    page = Client().get(url.removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 200
    assert page.context["closes_on"].isoformat() == "2026-11-27"


def test_who_gets_which_comment_box(as_persona, world_a):
    association = submitted(world_a)
    partner = as_persona("partner_user").get(f"/associations/{association.pk}/").context["comment_form"]
    assert list(partner.fields) == ["message"]
    reviewer = as_persona("reviewer").get(f"/associations/{association.pk}/").context["comment_form"]
    assert (list(reviewer.fields), reviewer.initial) == (["message", "internal"], {"internal": False})
    auditor = as_persona("auditor").get(f"/associations/{association.pk}/")
    assert auditor.context["comment_form"].fields["message"].label == "Internal note (vendor staff only)"
    assert 'type="hidden" name="internal" value="True"' in auditor.content.decode()
    as_persona("auditor").post(f"/associations/{association.pk}/comment/", {"message": "Odd.", "internal": "True"})
    assert list(association.events.filter(kind="note").values_list("message", "internal")) == [("Odd.", True)]
    partner_view = as_persona("partner_user").get(f"/associations/{association.pk}/").content.decode()
    assert "Odd." not in partner_view
