"""The plans API: every endpoint for every persona (nothing changes on a refusal), exact answers, bad input as
field errors, deadlines as conflicts, and a plan's whole life over HTTP."""

import json
from datetime import date
from decimal import Decimal

import pytest

from conftest import PERSONAS, api_status
from coopfunds.claims.tests.conftest import pdf, png
from coopfunds.plans import proofs, services
from coopfunds.plans.models import Campaign, Plan, PlanActivity, Proof
from coopfunds.plans.tests.helpers import (
    DETAILS,
    EVERYONE,
    PARTNERS,
    VENDOR,
    activity_of,
    approved_plan,
    draft_plan,
    money,
    ready_proof,
    state,
    submitted_plan,
    submitted_proof,
)

pytestmark = pytest.mark.django_db
D = Decimal
SEE_PLAN = PARTNERS | VENDOR
API = "/api/v1"


def status_for(persona: str, *, allowed: set[str], visible: set[str], ok: int) -> int:
    if persona == "anonymous":
        return 401
    if persona not in visible:
        return 404
    return ok if persona in allowed else 403


def call(client, method: str, path: str, body=None):  # type: ignore[no-untyped-def]
    if method == "GET":
        return client.get(API + path)
    if method == "DELETE":
        return client.delete(API + path)
    if method == "MULTIPART":
        return client.post(API + path, body)
    send = client.post if method == "POST" else client.patch
    return send(API + path, json.dumps(body or {}), content_type="application/json")


def _start(world, start):  # type: ignore[no-untyped-def]
    match start:
        case "none":
            return None
        case "draft":
            return draft_plan(world)
        case "submitted":
            return submitted_plan(world)
        case "approved":
            return approved_plan(world)
        case "action_required":
            return services.plan_request_changes(plan=submitted_plan(world), actor=world.reviewer, reasons=DETAILS)
        case "proof_ready":
            return ready_proof(world, approved_plan(world))
        case "proof_submitted":
            return submitted_proof(world, approved_plan(world))
        case "proof_rejected":
            return proofs.proof_reject(
                proof=submitted_proof(world, approved_plan(world)), actor=world.reviewer, reasons=DETAILS
            )
    raise AssertionError(start)


def _campaign(plan):  # type: ignore[no-untyped-def]
    return Campaign.objects.get(version=Plan.objects.get(pk=plan.pk).current).pk


def _activity(plan):  # type: ignore[no-untyped-def]
    return PlanActivity.objects.get(version=Plan.objects.get(pk=plan.pk).current).pk


CAMPAIGN = {"name": "Winter", "start": "2027-01-10", "end": "2027-02-10", "budget": "900.00"}
DECISION = {"message": "Please change.", "reasons": [{"code": "campaign_details", "note": "Who is it for?"}]}
PROOF_REASONS = {"message": "No.", "reasons": [{"code": "missing_proof_of_execution", "field": "documents"}]}

ENDPOINTS = {
    # name: (start, method, path, body, who may, who sees, ok)
    "plans.list": ("none", "GET", lambda w, o: "/plans", None, EVERYONE, EVERYONE, 200),
    "plans.create": (
        "none",
        "POST",
        lambda w, o: "/plans",
        lambda w, o: {"location_id": w.location.pk, "program_id": w.program.pk, "fiscal_year": 2027},
        {"partner_admin"},
        SEE_PLAN,
        201,
    ),
    "plans.detail": ("draft", "GET", lambda w, o: f"/plans/{o.pk}", None, SEE_PLAN, SEE_PLAN, 200),
    "plans.update": (
        "draft",
        "PATCH",
        lambda w, o: f"/plans/{o.pk}",
        lambda w, o: {"name": "Renamed"},
        {"partner_admin"},
        SEE_PLAN,
        200,
    ),
    "plans.versions": ("draft", "GET", lambda w, o: f"/plans/{o.pk}/versions", None, SEE_PLAN, SEE_PLAN, 200),
    "plans.changes": ("draft", "GET", lambda w, o: f"/plans/{o.pk}/changes", None, SEE_PLAN, SEE_PLAN, 200),
    "plans.history": ("draft", "GET", lambda w, o: f"/plans/{o.pk}/history", None, SEE_PLAN, SEE_PLAN, 200),
    "campaigns.add": (
        "draft",
        "POST",
        lambda w, o: f"/plans/{o.pk}/campaigns",
        lambda w, o: CAMPAIGN,
        {"partner_admin"},
        SEE_PLAN,
        201,
    ),
    "campaigns.update": (
        "draft",
        "PATCH",
        lambda w, o: f"/campaigns/{_campaign(o)}",
        lambda w, o: {"budget": "9000.00"},
        {"partner_admin"},
        SEE_PLAN,
        200,
    ),
    "campaigns.remove": (
        "draft",
        "DELETE",
        lambda w, o: f"/campaigns/{_campaign(o)}",
        None,
        {"partner_admin"},
        SEE_PLAN,
        204,
    ),
    "activities.add": (
        "draft",
        "POST",
        lambda w, o: f"/campaigns/{_campaign(o)}/activities",
        lambda w, o: {
            "activity_type_id": w.activity("digital-advertising").pk,
            "countries": ["DE"],
            "planned_amount": "100.00",
        },
        {"partner_admin"},
        SEE_PLAN,
        201,
    ),
    "activities.update": (
        "draft",
        "PATCH",
        lambda w, o: f"/plan-activities/{_activity(o)}",
        lambda w, o: {"planned_amount": "4000.00"},
        {"partner_admin"},
        SEE_PLAN,
        200,
    ),
    "activities.remove": (
        "draft",
        "DELETE",
        lambda w, o: f"/plan-activities/{_activity(o)}",
        None,
        {"partner_admin"},
        SEE_PLAN,
        204,
    ),
    "plans.submit": ("draft", "POST", lambda w, o: f"/plans/{o.pk}/submit", None, {"partner_admin"}, SEE_PLAN, 200),
    "plans.reopen": (
        "action_required",
        "POST",
        lambda w, o: f"/plans/{o.pk}/reopen",
        None,
        {"partner_admin"},
        SEE_PLAN,
        200,
    ),
    "plans.amend": ("approved", "POST", lambda w, o: f"/plans/{o.pk}/amend", None, {"partner_admin"}, SEE_PLAN, 200),
    "plans.assign": (
        "submitted",
        "POST",
        lambda w, o: f"/plans/{o.pk}/assign",
        lambda w, o: {},
        {"reviewer"},
        SEE_PLAN,
        200,
    ),
    "plans.approve": (
        "submitted",
        "POST",
        lambda w, o: f"/plans/{o.pk}/approve",
        lambda w, o: {},
        {"reviewer"},
        SEE_PLAN,
        200,
    ),
    "plans.request_changes": (
        "submitted",
        "POST",
        lambda w, o: f"/plans/{o.pk}/request-changes",
        lambda w, o: DECISION,
        {"reviewer"},
        SEE_PLAN,
        200,
    ),
    "plans.reject": (
        "submitted",
        "POST",
        lambda w, o: f"/plans/{o.pk}/reject",
        lambda w, o: DECISION,
        {"reviewer"},
        SEE_PLAN,
        200,
    ),
    "plans.comment": (
        "draft",
        "POST",
        lambda w, o: f"/plans/{o.pk}/comments",
        lambda w, o: {"message": "Hi."},
        PARTNERS | {"reviewer"},
        SEE_PLAN,
        201,
    ),
    "review.plans": ("submitted", "GET", lambda w, o: "/review/plans", None, VENDOR, EVERYONE, 200),
    "rules.get": ("none", "GET", lambda w, o: f"/programs/{w.program.pk}/plan-rules", None, EVERYONE, EVERYONE, 200),
    "rules.update": (
        "none",
        "PATCH",
        lambda w, o: f"/programs/{w.program.pk}/plan-rules",
        lambda w, o: {"excess": "carry"},
        {"program_manager"},
        EVERYONE,
        200,
    ),
    "proofs.list": ("proof_ready", "GET", lambda w, o: "/proofs", None, EVERYONE, EVERYONE, 200),
    "proofs.create": (
        "approved",
        "POST",
        lambda w, o: f"/plan-activities/{activity_of(o).pk}/proofs",
        lambda w, o: {"name": "September"},
        PARTNERS,
        SEE_PLAN,
        201,
    ),
    "proofs.detail": ("proof_ready", "GET", lambda w, o: f"/proofs/{o.pk}", None, SEE_PLAN, SEE_PLAN, 200),
    "proofs.update": (
        "proof_ready",
        "PATCH",
        lambda w, o: f"/proofs/{o.pk}",
        lambda w, o: {"amount": "2500.00"},
        PARTNERS,
        SEE_PLAN,
        200,
    ),
    "proofs.documents": (
        "proof_ready",
        "MULTIPART",
        lambda w, o: f"/proofs/{o.pk}/documents",
        lambda w, o: {"files": [png("banner.png", colour="red")], "kind": "proof", "note": "The banner."},
        PARTNERS,
        SEE_PLAN,
        201,
    ),
    "proofs.document_remove": (
        "proof_ready",
        "DELETE",
        lambda w, o: f"/proofs/{o.pk}/documents/{o.attachments.order_by('id').last().document_id}",
        None,
        PARTNERS,
        SEE_PLAN,
        204,
    ),
    "proofs.certification": (
        "proof_ready",
        "POST",
        lambda w, o: f"/proofs/{o.pk}/certification",
        lambda w, o: {
            "description": "Copy written in-house.",
            "lines": [{"person": "Ada", "hours": "10", "rate": "50"}],
        },
        PARTNERS,
        SEE_PLAN,
        201,
    ),
    "proofs.submit": ("proof_ready", "POST", lambda w, o: f"/proofs/{o.pk}/submit", None, PARTNERS, SEE_PLAN, 200),
    "proofs.withdraw": (
        "proof_ready",
        "POST",
        lambda w, o: f"/proofs/{o.pk}/withdraw",
        lambda w, o: {},
        PARTNERS,
        SEE_PLAN,
        200,
    ),
    "proofs.dispute": (
        "proof_rejected",
        "POST",
        lambda w, o: f"/proofs/{o.pk}/dispute",
        lambda w, o: {"reason": "Look."},
        {"partner_admin"},
        SEE_PLAN,
        200,
    ),
    "proofs.assign": (
        "proof_submitted",
        "POST",
        lambda w, o: f"/proofs/{o.pk}/assign",
        lambda w, o: {},
        {"reviewer"},
        SEE_PLAN,
        200,
    ),
    "proofs.approve": (
        "proof_submitted",
        "POST",
        lambda w, o: f"/proofs/{o.pk}/approve",
        lambda w, o: {},
        {"reviewer"},
        SEE_PLAN,
        200,
    ),
    "proofs.request_action": (
        "proof_submitted",
        "POST",
        lambda w, o: f"/proofs/{o.pk}/request-action",
        lambda w, o: PROOF_REASONS,
        {"reviewer"},
        SEE_PLAN,
        200,
    ),
    "proofs.reject": (
        "proof_submitted",
        "POST",
        lambda w, o: f"/proofs/{o.pk}/reject",
        lambda w, o: PROOF_REASONS,
        {"reviewer"},
        SEE_PLAN,
        200,
    ),
    "proofs.history": ("proof_ready", "GET", lambda w, o: f"/proofs/{o.pk}/history", None, SEE_PLAN, SEE_PLAN, 200),
    "review.proofs": ("proof_submitted", "GET", lambda w, o: "/review/proofs", None, VENDOR, EVERYONE, 200),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_endpoint_for_every_persona(plans_world, api_as, persona, endpoint):
    start, method, path, body, allowed, visible, ok = ENDPOINTS[endpoint]
    target = _start(plans_world, start)
    client = api_as(persona)
    url = path(plans_world, target)
    code = api_status(persona, method, API + url, status_for(persona, allowed=allowed, visible=visible, ok=ok))
    before = state()
    response = call(client, method, url, body(plans_world, target) if body else None)
    assert response.status_code == code, response.content
    if code != ok or method == "GET":
        assert state() == before
    if code in (401, 403, 404):
        assert set(response.json()) == {"code", "message", "fields"}


@pytest.mark.parametrize("persona", ["partner_admin", "partner_user"])
def test_a_partner_never_reaches_another_partners_plan(plans_world, api_as, persona):
    world = plans_world
    theirs = approved_plan(world, actor=world.other_admin, location=world.other_location)
    client = api_as(persona)
    assert call(client, "GET", f"/plans/{theirs.pk}").status_code == 404
    assert call(client, "POST", f"/plan-activities/{activity_of(theirs).pk}/proofs", {"name": "x"}).status_code == 404
    assert call(client, "GET", "/plans").json()["results"] == []


def test_a_plan_in_detail(plans_world, api_as):
    world = plans_world
    plan = draft_plan(world)
    body = call(api_as("partner_user"), "GET", f"/plans/{plan.pk}").json()
    campaign = Campaign.objects.get()
    activity = PlanActivity.objects.get()
    assert {
        k: body[k]
        for k in (
            "status",
            "status_label",
            "fiscal_year",
            "fund_type",
            "version",
            "in_force_version",
            "approved_amount",
        )
    } == {
        "status": "editing",
        "status_label": "Editing",
        "fiscal_year": 2027,
        "fund_type": "coop",
        "version": 1,
        "in_force_version": None,
        "approved_amount": "0.00",
    }
    assert body["deadlines"] == {"first_submit_by": "2027-06-30", "resubmit_by": "2027-09-28"}
    assert body["campaigns"] == [
        {
            "id": campaign.pk,
            "key": str(campaign.key),
            "name": "Autumn launch",
            "start": "2026-09-01",
            "end": "2026-10-31",
            "budget": "8000.00",
            "description": "",
            "activities": [
                {
                    "id": activity.pk,
                    "key": str(activity.key),
                    "campaign_id": campaign.pk,
                    "activity_type_id": world.activity("syndicated-content").pk,
                    "activity_type_code": "syndicated-content",
                    "activity_type_name": "Syndicated content",
                    "countries": ["DE"],
                    "planned_amount": "5000.00",
                    "description": "",
                    "expected_reach": 20000,
                }
            ],
        }
    ]
    assert body["findings"] == []
    assert body["totals"]["periods"][0] == {
        "label": "FY27 H1",
        "start": "2026-07-01",
        "end": "2026-12-31",
        "planned": "5000.00",
        "remaining": "12000.00",
        "closed": True,
        "over": False,
    }
    assert body["totals"]["types"] == [
        {
            "period": "FY27 H1",
            "name": "Syndicated content",
            "planned": "5000.00",
            "limit": "18750.00",
            "cap": "18,750.00 per period",
            "firm": True,
            "over": False,
        }
    ]


def test_bad_input_gets_field_errors(plans_world, api_as):
    world = plans_world
    admin = api_as("partner_admin")
    response = call(
        admin, "POST", "/plans", {"location_id": world.location.pk, "program_id": world.program.pk, "fiscal_year": 2026}
    )
    assert (response.status_code, response.json()["fields"]) == (
        422,
        {"fiscal_year": ["Plans can be made for FY27 or FY28."]},
    )
    response = call(
        admin,
        "POST",
        "/plans",
        {"location_id": world.location.pk, "program_id": world.program.pk, "fiscal_year": 2027, "colour": "red"},
    )
    assert (response.status_code, list(response.json()["fields"])) == (400, ["colour"])
    plan = draft_plan(world)
    before = state()
    response = call(admin, "POST", f"/plans/{plan.pk}/campaigns", CAMPAIGN | {"budget": "-5", "end": "2027-07-31"})
    assert (response.status_code, response.json()["fields"]) == (
        400,
        {"budget": ["Write an amount above zero with a dot and at most two decimals, e.g. 1250.00."]},
    )
    response = call(admin, "POST", f"/plans/{plan.pk}/campaigns", CAMPAIGN | {"end": "2027-07-31"})
    assert (response.status_code, response.json()["fields"]) == (
        422,
        {"end": ["The campaign must run within the program year FY27 (01 Jul 2026 – 30 Jun 2027)."]},
    )
    response = call(
        admin,
        "POST",
        f"/campaigns/{_campaign(plan)}/activities",
        {"activity_type_id": 999999, "countries": ["XX"], "planned_amount": "0"},
    )
    assert (response.status_code, response.json()["fields"]) == (
        400,
        {"planned_amount": ["Write an amount above zero with a dot and at most two decimals, e.g. 1250.00."]},
    )
    response = call(
        admin,
        "POST",
        f"/campaigns/{_campaign(plan)}/activities",
        {"activity_type_id": 999999, "countries": ["XX"], "planned_amount": "10"},
    )
    assert (response.status_code, response.json()["fields"]) == (
        422,
        {
            "activity_type": ["Choose the activity from the program's catalogue."],
            "countries": ["Use two-letter country codes (DE, FR, US); not known: “XX”."],
        },
    )
    response = call(
        api_as("program_manager"),
        "PATCH",
        f"/programs/{world.program.pk}/plan-rules",
        {"proof_due_days": 0, "excess": "keep"},
    )
    assert (response.status_code, response.json()["fields"]) == (
        400,
        {
            "proof_due_days": ["Input should be greater than or equal to 1"],
            "excess": ["Input should be 'carry' or 'drop'"],
        },
    )
    response = call(
        api_as("program_manager"),
        "PATCH",
        f"/programs/{world.program.pk}/plan-rules",
        {"proof_due_days": 10, "proof_warning_days": 10},
    )
    assert (response.status_code, response.json()["fields"]) == (
        422,
        {"proof_warning_days": ["Warn fewer days before the due date than the 10 days proof is due in."]},
    )
    assert state() == before


def test_a_refused_submission_lists_the_findings(plans_world, api_as):
    world = plans_world
    plan = services.plan_create(
        location=world.location, program=world.program, fiscal_year=2027, actor=world.partner_admin
    )
    response = call(api_as("partner_admin"), "POST", f"/plans/{plan.pk}/submit")
    assert response.status_code == 422
    assert response.json()["fields"] == {
        "reviewer": ["Name the vendor reviewer who will review the plan."],
        "campaigns": ["Add at least one campaign with its activities."],
    }


@pytest.mark.parametrize(("day", "code"), [(date(2027, 6, 29), 200), (date(2027, 6, 30), 200), (date(2027, 7, 1), 409)])
def test_the_submit_deadline_over_http(plans_world, api_as, time_machine, day, code):
    plan = draft_plan(plans_world)
    client = api_as("partner_admin")
    time_machine.move_to(day)
    response = call(client, "POST", f"/plans/{plan.pk}/submit")
    assert response.status_code == code
    if code == 409:
        assert response.json() == {
            "code": "deadline_passed",
            "message": "Plans for FY27 had to be first submitted by 30 Jun 2027.",
            "fields": {},
        }


@pytest.mark.parametrize(("day", "code"), [(date(2027, 2, 27), 200), (date(2027, 2, 28), 200), (date(2027, 3, 1), 409)])
def test_the_proof_deadline_over_http(plans_world, api_as, time_machine, day, code):
    proof = ready_proof(plans_world, approved_plan(plans_world))
    client = api_as("partner_user")
    time_machine.move_to(day)
    response = call(client, "POST", f"/proofs/{proof.pk}/submit")
    assert response.status_code == code
    if code == 409:
        assert response.json()["code"] == "proof_overdue"


def test_the_changes_since_the_version_last_decided(plans_world, api_as):
    world = plans_world
    plan = services.plan_request_changes(plan=submitted_plan(world), actor=world.reviewer, reasons=DETAILS)
    admin = api_as("partner_admin")
    call(admin, "POST", f"/plans/{plan.pk}/reopen")
    call(admin, "PATCH", f"/plan-activities/{_activity(plan)}", {"planned_amount": "4000.00"})
    body = call(api_as("reviewer"), "GET", f"/plans/{plan.pk}/changes").json()
    assert body == {
        "since": 1,
        "version": 2,
        "changes": [
            {
                "kind": "changed",
                "what": "activity",
                "label": "“Syndicated content” in “Autumn launch”",
                "text": "Activity “Syndicated content” in “Autumn launch” changed: Planned amount 5000.00 → 4000.00.",
                "fields": [{"field": "Planned amount", "old": "5000.00", "new": "4000.00"}],
            }
        ],
    }
    assert call(admin, "GET", f"/plans/{plan.pk}/changes?since=9").status_code == 404


def test_internal_notes_stay_with_vendor_staff(plans_world, api_as):
    plan = draft_plan(plans_world)
    assert (
        call(
            api_as("reviewer"), "POST", f"/plans/{plan.pk}/comments", {"message": "Watch it.", "internal": True}
        ).status_code
        == 201
    )
    assert (
        call(
            api_as("partner_admin"), "POST", f"/plans/{plan.pk}/comments", {"message": "x", "internal": True}
        ).status_code
        == 403
    )
    kinds = [e["kind"] for e in call(api_as("partner_user"), "GET", f"/plans/{plan.pk}/history").json()["results"]]
    assert "note" not in kinds
    kinds = [e["kind"] for e in call(api_as("auditor"), "GET", f"/plans/{plan.pk}/history").json()["results"]]
    assert kinds.count("note") == 1


def test_a_plan_from_start_to_paid_proof_over_http(plans_world, api_as):
    world = plans_world
    admin, user, reviewer = api_as("partner_admin"), api_as("partner_user"), api_as("reviewer")
    response = call(
        admin,
        "POST",
        "/plans",
        {
            "location_id": world.location.pk,
            "program_id": world.program.pk,
            "fiscal_year": 2027,
            "reviewer_id": world.reviewer.pk,
        },
    )
    plan_id = response.json()["id"]
    campaign = call(
        admin,
        "POST",
        f"/plans/{plan_id}/campaigns",
        CAMPAIGN | {"start": "2026-09-01", "end": "2026-10-31", "budget": "8000.00"},
    ).json()
    call(
        admin,
        "POST",
        f"/campaigns/{campaign['id']}/activities",
        {
            "activity_type_id": world.activity("syndicated-content").pk,
            "countries": ["de", "fr"],
            "planned_amount": "5000.00",
        },
    )
    assert call(admin, "POST", f"/plans/{plan_id}/submit").json()["status"] == "submitted"
    queue = call(reviewer, "GET", "/review/plans").json()["results"]
    assert [p["id"] for p in queue] == [plan_id]
    body = call(reviewer, "POST", f"/plans/{plan_id}/approve", {}).json()
    assert (body["status"], body["in_force_version"], body["approved_amount"], body["limit_left"]) == (
        "approved",
        1,
        "5000.00",
        "5000.00",
    )
    activity_id = body["campaigns"][0]["activities"][0]["id"]
    proof = call(
        user,
        "POST",
        f"/plan-activities/{activity_id}/proofs",
        {
            "name": "September",
            "execution_date": "2026-09-15",
            "amount": "6000.00",
            "estimated_impressions": 12000,
            "invoice_vendor": "Contoso Media",
            "invoice_number": "INV-1",
            "invoice_date": "2026-10-01",
            "invoice_amount": "6100.00",
            "invoice_currency": "usd",
        },
    ).json()
    assert "findings" not in proof
    assert call(user, "GET", f"/proofs/{proof['id']}/checks").json()[0]["code"] == "missing_invoice"
    response = call(
        user,
        "MULTIPART",
        f"/proofs/{proof['id']}/documents",
        {"files": [pdf("INV-1.pdf")], "kind": "invoice", "note": ""},
    )
    assert response.status_code == 201
    call(
        user,
        "MULTIPART",
        f"/proofs/{proof['id']}/documents",
        {"files": [png("ad.png")], "kind": "screenshot", "note": "The article."},
    )
    found = call(user, "GET", f"/proofs/{proof['id']}/checks").json()
    assert [(f["code"], f["blocking"]) for f in found] == [("over_limit", False)]
    body = call(user, "POST", f"/proofs/{proof['id']}/submit").json()
    assert (body["status"], body["reserved"], body["due_on"], body["due_by"]) == (
        "submitted",
        "6000.00",
        "2026-12-31",
        "2027-02-28",
    )
    assert [p["id"] for p in call(reviewer, "GET", "/review/proofs").json()["results"]] == [proof["id"]]
    body = call(reviewer, "POST", f"/proofs/{proof['id']}/approve", {}).json()
    assert (body["status"], body["approved_amount"], body["payable"], body["carried"], body["reserved"]) == (
        "approved",
        "6000.00",
        "5000.00",
        "0.00",
        "0.00",
    )
    assert money(world.fund) == (D("7000.00"), D("0"), D("5000.00"))
    assert Proof.objects.get().invoice_currency == "USD"
