"""/api/v1 association endpoints: the authorisation matrix over every persona, exact bodies, bad input."""

import json
from collections.abc import Callable
from typing import Any

import pytest

from conftest import PERSONAS, api_status
from coopfunds.associations.models import Association, AssociationOption, AssociationPolicy
from coopfunds.associations.tests.helpers import (
    BERLIN,
    DOMAIN,
    SUBSCRIPTION,
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
API = "/api/v1"
EVERYONE = BERLIN | VENDOR | {"other_admin"}


def call(client: Any, method: str, url: str, body: Any = None) -> Any:
    if method == "multipart":
        return client.post(API + url, body)
    if body is None:
        return getattr(client, method)(API + url)
    return getattr(client, method)(API + url, json.dumps(body), content_type="application/json")


def everything() -> tuple[Any, ...]:
    return (
        state(),
        list(AssociationOption.objects.order_by("id").values_list()),
        list(AssociationPolicy.objects.order_by("id").values_list()),
        list(Program.objects.order_by("id").values_list("id", "earnings_require_association")),
    )


def expected(persona: str, allowed: set[str], visible: set[str], ok: int) -> int:
    if persona == "anonymous":
        return 401
    if persona not in visible:
        return 404
    return ok if persona in allowed else 403


def create_body(world: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "location_id": world.location.pk,
        "program_id": world.program.pk,
        "customer_name": "Contoso Ltd",
        "customer_tenant_id": TENANT,
        "customer_domain": DOMAIN,
        "workloads": ["teams"],
        **overrides,
    }


def _teams(world: Any) -> int:
    return AssociationOption.objects.get(program=world.program, code="teams").pk


# (name, method, make, url(world, association), body(world), who may, who sees, ok status, changes)
Endpoint = tuple[str, str, Callable[..., Any], Callable[..., str], Callable[..., Any], set[str], set[str], int, bool]
ENDPOINTS: list[Endpoint] = [
    ("list", "get", draft, lambda w, a: "/associations", lambda w: None, EVERYONE, EVERYONE, 200, False),
    ("create", "post", draft, lambda w, a: "/associations", create_body, BERLIN, VISIBLE, 201, True),
    ("get", "get", draft, lambda w, a: f"/associations/{a.pk}", lambda w: None, VISIBLE, VISIBLE, 200, False),
    (
        "patch",
        "patch",
        draft,
        lambda w, a: f"/associations/{a.pk}",
        lambda w: {"comments": "Hi"},
        BERLIN,
        VISIBLE,
        200,
        True,
    ),
    (
        "proof",
        "multipart",
        draft,
        lambda w, a: f"/associations/{a.pk}/proof",
        lambda w: {"note": "Signed.", "file": pdf("new.pdf", "red")},
        BERLIN,
        VISIBLE,
        200,
        True,
    ),
    ("submit", "post", draft, lambda w, a: f"/associations/{a.pk}/submit", lambda w: {}, BERLIN, VISIBLE, 200, True),
    (
        "withdraw",
        "post",
        submitted,
        lambda w, a: f"/associations/{a.pk}/withdraw",
        lambda w: {},
        BERLIN,
        VISIBLE,
        200,
        True,
    ),
    (
        "dispute",
        "post",
        rejected,
        lambda w, a: f"/associations/{a.pk}/dispute",
        lambda w: {"reason": "Signed."},
        {"partner_admin"},
        VISIBLE,
        200,
        True,
    ),
    (
        "comment",
        "post",
        submitted,
        lambda w, a: f"/associations/{a.pk}/comments",
        lambda w: {"message": "Hi."},
        BERLIN | {"reviewer"},
        VISIBLE,
        201,
        True,
    ),
    (
        "history",
        "get",
        submitted,
        lambda w, a: f"/associations/{a.pk}/history",
        lambda w: None,
        VISIBLE,
        VISIBLE,
        200,
        False,
    ),
    ("queue", "get", submitted, lambda w, a: "/association-queue", lambda w: None, VENDOR, VENDOR, 200, False),
    (
        "competitors",
        "get",
        submitted,
        lambda w, a: f"/associations/{a.pk}/competitors",
        lambda w: None,
        VENDOR,
        VISIBLE,
        200,
        False,
    ),
    (
        "take",
        "post",
        submitted,
        lambda w, a: f"/associations/{a.pk}/take",
        lambda w: None,
        {"reviewer"},
        VISIBLE,
        200,
        True,
    ),
    (
        "approve",
        "post",
        submitted,
        lambda w, a: f"/associations/{a.pk}/approve",
        lambda w: {},
        {"reviewer"},
        VISIBLE,
        200,
        True,
    ),
    (
        "request_action",
        "post",
        submitted,
        lambda w, a: f"/associations/{a.pk}/request-action",
        lambda w: {"message": "Sign it."},
        {"reviewer"},
        VISIBLE,
        200,
        True,
    ),
    (
        "reject",
        "post",
        submitted,
        lambda w, a: f"/associations/{a.pk}/reject",
        lambda w: {"reason": "insufficient_proof"},
        {"reviewer"},
        VISIBLE,
        200,
        True,
    ),
    (
        "revoke",
        "post",
        approved,
        lambda w, a: f"/associations/{a.pk}/reject",
        lambda w: {"reason": "customer_mismatch", "note": "Wrong tenant."},
        {"reviewer"},
        VISIBLE,
        200,
        True,
    ),
    (
        "settings",
        "get",
        draft,
        lambda w, a: f"/programs/{w.program.pk}/association-settings",
        lambda w: None,
        EVERYONE,
        EVERYONE,
        200,
        False,
    ),
    (
        "settings_update",
        "patch",
        draft,
        lambda w, a: f"/programs/{w.program.pk}/association-settings",
        lambda w: {"consent_days": 10, "earnings_require_association": True},
        {"program_manager"},
        EVERYONE,
        200,
        True,
    ),
    (
        "option_add",
        "post",
        draft,
        lambda w, a: f"/programs/{w.program.pk}/association-options",
        lambda w: {"kind": "workload", "code": "copilot", "label": "Copilot"},
        {"program_manager"},
        EVERYONE,
        201,
        True,
    ),
    (
        "option_update",
        "patch",
        draft,
        lambda w, a: f"/association-options/{_teams(w)}",
        lambda w: {"is_active": False},
        {"program_manager"},
        EVERYONE,
        200,
        True,
    ),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("name", "method", "make", "url", "body", "allowed", "visible", "ok", "changes"),
    ENDPOINTS,
    ids=[e[0] for e in ENDPOINTS],
)
def test_endpoint_authorisation(
    as_persona, world_a, persona, name, method, make, url, body, allowed, visible, ok, changes
):
    association = make(world_a)
    before = everything()
    path = url(world_a, association)
    response = call(as_persona(persona), method, path, body(world_a))
    verb = "POST" if method == "multipart" else method.upper()
    status = api_status(persona, verb, API + path, expected(persona, allowed, visible, ok))
    if name == "create" and persona == "other_admin":
        status = 422  # Berlin is not one of their locations: {"location_id": "No location with this id."}
    assert response.status_code == status, response.content
    assert (everything() != before) is (changes and persona in allowed)


def test_the_detail_body(as_persona, world_a):
    association = submitted(world_a, subscription_ids=[SUBSCRIPTION])
    body = call(as_persona("partner_user"), "get", f"/associations/{association.pk}").json()
    proof = body.pop("proof")
    assert (proof["name"], proof["locked"], proof["download_url"]) == (
        "sow.pdf",
        True,
        f"/api/v1/documents/{association.proof_id}/download",
    )
    for moment in ("created_at", "submitted_at"):
        body.pop(moment)
    assert body == {
        "id": association.pk,
        "program_id": world_a.program.pk,
        "location_id": world_a.location.pk,
        "partner_id": "FAB-001",
        "customer_name": "Contoso Ltd",
        "customer_tenant_id": TENANT,
        "customer_domain": DOMAIN,
        "solution_area": "modern-work",
        "partner_role": "deployment",
        "workloads": ["exchange-online", "teams"],
        "subscription_ids": [SUBSCRIPTION],
        "customer_contact_name": "Carla Customer",
        "customer_contact_email": "carla@contoso.com",
        "partner_contact_name": "Ada Admin",
        "partner_contact_email": "ada.admin@fabrikam.example",
        "comments": "",
        "status": "submitted",
        "status_label": "Submitted",
        "rejection_reason": "",
        "decision_note": "",
        "reviewer_id": None,
        "submissions": 1,
        "due_on": "2026-11-24",
        "action_due_on": None,
        "approved_on": None,
        "consent_closes_on": None,
        "consent_answer": "",
        "in_force_from": None,
        "in_force_until": None,
        "dispute_deadline": None,
        "flags": [],
    }


def test_the_queue_carries_the_clock_and_competition(as_persona, world_a):
    mine = submitted(world_a, workloads=["teams"])
    theirs = submitted(world_a, location=world_a.other_location, actor=world_a.other_admin, workloads=["teams"])
    rows = call(as_persona("reviewer"), "get", "/association-queue").json()["results"]
    assert [
        (r["id"], r["due_on"], r["age_business_days"], r["days_left"], r["breached"], r["competing"]) for r in rows
    ] == [
        (mine.pk, "2026-11-24", 0, 2, False, 1),
        (theirs.pk, "2026-11-24", 0, 2, False, 1),
    ]
    competitors = call(as_persona("auditor"), "get", f"/associations/{mine.pk}/competitors").json()
    assert competitors == [
        {
            "item_kind": "workload",
            "item": "teams",
            "association_id": theirs.pk,
            "location_id": world_a.other_location.pk,
            "partner_id": "NW-001",
            "partner_name": "Northwind",
            "status": "submitted",
            "holding": False,
            "since": "2026-11-20",
        }
    ]


def test_create_then_proof_then_submit(as_persona, world_a):
    client = as_persona("partner_admin")
    body = create_body(
        world_a,
        solution_area="security",
        partner_role="usage",
        customer_contact_name="Carla",
        customer_contact_email="carla@contoso.com",
        partner_contact_name="Ada",
        partner_contact_email="ada@fabrikam.example",
    )
    created = call(client, "post", "/associations", body)
    assert (created.status_code, created.json()["status"]) == (201, "editing")
    pk = created.json()["id"]
    missing = call(client, "post", f"/associations/{pk}/submit", {})
    assert missing.json() == {
        "code": "invalid",
        "message": "Some fields are not valid: proof.",
        "fields": {"proof": ["Attach the proof, e.g. a statement of work signed by the customer."]},
    }
    refused = call(client, "multipart", f"/associations/{pk}/proof", {"note": "", "file": pdf()})
    assert (refused.status_code, refused.json()["fields"]) == (
        400,
        {"note": ["Write something here: it cannot be empty or only spaces."]},
    )
    assert call(client, "multipart", f"/associations/{pk}/proof", {"note": "SOW.", "file": pdf()}).status_code == 200
    assert call(client, "post", f"/associations/{pk}/submit", {}).json()["status"] == "submitted"


@pytest.mark.parametrize(
    ("method", "url", "body", "fields"),
    [
        (
            "post",
            "/associations",
            {"customer_tenant_id": "nope", "customer_domain": "x"},
            {
                "customer_tenant_id": ["A GUID looks like 72f988bf-86f1-41af-91ab-2d7cd011db47."],
                "customer_domain": ["A domain looks like contoso.com: lowercase labels joined by dots."],
            },
        ),
        ("post", "/associations", {"status": "approved"}, {"status": ["Extra inputs are not permitted"]}),
        ("post", "/associations", {"program_id": 999999}, {"program_id": ["No program with this id."]}),
        ("patch", "/associations/{pk}", {"status": "approved"}, {"status": ["Extra inputs are not permitted"]}),
        ("patch", "/associations/{pk}", {"workloads": ["fax"]}, {"workloads": ["fax: not a workload of Cloud Co-op."]}),
        (
            "post",
            "/associations/{pk}/reject",
            {"reason": "because"},
            {
                "reason": [
                    "Input should be 'insufficient_proof', 'already_associated', 'customer_mismatch', "
                    "'partner_request', 'customer_decline' or 'no_partner_response'"
                ]
            },
        ),
        (
            "patch",
            "/programs/{program}/association-settings",
            {"consent_days": 0},
            {"consent_days": ["Input should be greater than or equal to 1"]},
        ),
    ],
)
def test_bad_input_is_400_with_fields(as_persona, world_a, method, url, body, fields):
    association = submitted(world_a)
    persona = {"post": "partner_admin", "patch": "partner_admin"}[method]
    if "reject" in url:
        persona = "reviewer"
    if "settings" in url:
        persona = "program_manager"
    if method == "patch" and url.startswith("/associations/"):
        association = draft(world_a, customer_domain="fabrikam-customer.com")
    full = {**create_body(world_a), **body} if url == "/associations" else body
    before = everything()
    response = call(as_persona(persona), method, url.format(pk=association.pk, program=world_a.program.pk), full)
    # 400: not what the schema allows; 422: allowed by the schema, refused by a rule (an unknown id, a workload
    # the program does not have)
    schema_error = not any(m.startswith(("No program", "fax:")) for messages in fields.values() for m in messages)
    assert (response.status_code, response.json()["fields"]) == (400 if schema_error else 422, fields)
    assert everything() == before


def test_another_partners_association_is_404(as_persona, world_a):
    association = draft(world_a)
    response = call(as_persona("other_admin"), "get", f"/associations/{association.pk}")
    assert response.json() == {"code": "not_found", "message": "No such association.", "fields": {}}
    assert call(as_persona("other_admin"), "get", "/associations").json()["results"] == []


def test_conflicts_are_409(as_persona, world_a):
    association = draft(world_a)
    response = call(as_persona("reviewer"), "post", f"/associations/{association.pk}/approve", {})
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    assert Association.objects.get().status == "editing"
