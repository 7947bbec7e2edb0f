"""The plan pages, the plans' review pages and the proof of execution pages: every page and action for every
persona (nothing changes on a refusal), bad input, the live check, and a plan's whole life through the pages."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from conftest import PERSONAS
from coopfunds.claims.tests.conftest import pdf, png
from coopfunds.plans import proofs, services
from coopfunds.plans.models import Campaign, Plan, PlanActivity, PlanSettings, Proof
from coopfunds.plans.tests.helpers import (
    DETAILS,
    EVERYONE,
    PARTNERS,
    VENDOR,
    activity_of,
    approved_plan,
    draft_plan,
    expected,
    money,
    ready_proof,
    state,
    submitted_plan,
    submitted_proof,
)
from coopfunds.testing.web import post_as

pytestmark = pytest.mark.django_db
D = Decimal
SEE_PLAN = PARTNERS | VENDOR


def campaign_data(**changes: str) -> dict[str, str]:
    return {
        "name": "Winter",
        "start": "2027-01-10",
        "end": "2027-02-10",
        "budget": "900.00",
        "description": "",
    } | changes


def activity_data(world, **changes: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    data = {
        "activity_type": str(world.activity("digital-advertising").pk),
        "countries": "DE, FR",
        "planned_amount": "500.00",
        "expected_reach": "1000",
        "description": "",
    }
    return data | changes


def proof_data(**changes: str) -> dict[str, str]:
    data = {
        "name": "Syndication September",
        "execution_date": "2026-09-15",
        "amount": "3000.00",
        "estimated_impressions": "12000",
        "pre_approval_id": "",
        "invoice_vendor": "Contoso Media",
        "invoice_number": "INV-1",
        "invoice_date": "2026-10-01",
        "invoice_amount": "3100.00",
        "invoice_currency": "USD",
    }
    return data | changes


# --- pages (GET) for every persona -----------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_pages_answer_each_persona_as_their_rights_say(plans_world, as_persona, persona):
    world = plans_world
    draft = draft_plan(world, location=world.second_location)
    campaign = Campaign.objects.get(version=draft.current)
    activity = PlanActivity.objects.get(version=draft.current)
    plan = approved_plan(world)
    proof = ready_proof(world, plan)
    editors = {"partner_admin"}
    pages = {
        reverse("plan_list"): expected(persona, allowed=EVERYONE, visible=EVERYONE, ok=200),
        reverse("plan_new"): expected(persona, allowed={"partner_admin", "other_admin"}, visible=EVERYONE, ok=200),
        reverse("plan_detail", args=[plan.pk]): expected(persona, allowed=SEE_PLAN, visible=SEE_PLAN, ok=200),
        reverse("plan_campaign_add", args=[draft.pk]): expected(
            persona, allowed=editors, visible={"partner_admin"} | VENDOR, ok=200
        ),
        reverse("plan_campaign_edit", args=[campaign.pk]): expected(
            persona, allowed=editors, visible={"partner_admin"} | VENDOR, ok=200
        ),
        reverse("plan_activity_add", args=[campaign.pk]): expected(
            persona, allowed=editors, visible={"partner_admin"} | VENDOR, ok=200
        ),
        reverse("plan_activity_edit", args=[activity.pk]): expected(
            persona, allowed=editors, visible={"partner_admin"} | VENDOR, ok=200
        ),
        reverse("plan_review_queue"): expected(persona, allowed=VENDOR, visible=VENDOR, ok=200),
        reverse("plan_review", args=[plan.pk]): expected(persona, allowed=VENDOR, visible=VENDOR, ok=200),
        reverse("plan_rules", args=[world.program.pk]): expected(persona, allowed=EVERYONE, visible=EVERYONE, ok=200),
        reverse("proof_new", args=[activity_of(plan).pk]): expected(
            persona, allowed=PARTNERS, visible=SEE_PLAN, ok=200
        ),
        reverse("proof_detail", args=[proof.pk]): expected(persona, allowed=SEE_PLAN, visible=SEE_PLAN, ok=200),
        reverse("proof_review", args=[proof.pk]): expected(persona, allowed=VENDOR, visible=VENDOR, ok=200),
    }
    client = as_persona(persona)
    assert {url: client.get(url).status_code for url in pages} == pages


def test_anonymous_visitors_are_sent_to_sign_in(plans_world, as_persona):
    assert as_persona("anonymous").get(reverse("plan_list"))["Location"] == "/login/?next=/plans/"


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_partner_never_sees_another_partners_plan(plans_world, as_persona, persona):
    world = plans_world
    theirs = draft_plan(world, actor=world.other_admin, location=world.other_location)
    Plan.objects.filter(pk=theirs.pk).update(name="Northwind secret plan")
    client = as_persona(persona)
    code = {"partner_admin": 404, "partner_user": 404, "anonymous": 302}.get(persona)
    if code is not None:
        assert client.get(reverse("plan_detail", args=[theirs.pk])).status_code == code
        assert client.post(reverse("plan_check", args=[theirs.pk]), campaign_data()).status_code == code
    if persona in PARTNERS:
        assert "Northwind secret plan" not in client.get(reverse("plan_list")).content.decode()
    if persona in VENDOR | {"other_admin"}:
        assert "Northwind secret plan" in client.get(reverse("plan_list")).content.decode()


# --- actions (POST) for every persona --------------------------------------------------------------------


def _plan(world, start):  # type: ignore[no-untyped-def]
    if start == "draft":
        return draft_plan(world)
    if start == "submitted":
        return submitted_plan(world)
    if start == "approved":
        return approved_plan(world)
    return services.plan_request_changes(plan=submitted_plan(world), actor=world.reviewer, reasons=DETAILS)


def _campaign(plan):  # type: ignore[no-untyped-def]
    return Campaign.objects.get(version=Plan.objects.get(pk=plan.pk).current)


PLAN_ACTIONS = {
    # name: (start, url, data, who may, who sees, status when allowed)
    "save": (
        "draft",
        lambda w, p: reverse("plan_detail", args=[p.pk]),
        lambda w, p: {"name": "Renamed", "reviewer": str(w.reviewer.pk)},
        {"partner_admin"},
        SEE_PLAN,
        302,
    ),
    "campaign_add": (
        "draft",
        lambda w, p: reverse("plan_campaign_add", args=[p.pk]),
        lambda w, p: campaign_data(),
        {"partner_admin"},
        SEE_PLAN,
        302,
    ),
    "campaign_edit": (
        "draft",
        lambda w, p: reverse("plan_campaign_edit", args=[_campaign(p).pk]),
        lambda w, p: campaign_data(start="2026-09-01", end="2026-10-31", budget="8000.00"),
        {"partner_admin"},
        SEE_PLAN,
        302,
    ),
    "campaign_remove": (
        "draft",
        lambda w, p: reverse("plan_campaign_remove", args=[_campaign(p).pk]),
        lambda w, p: {},
        {"partner_admin"},
        SEE_PLAN,
        302,
    ),
    "activity_add": (
        "draft",
        lambda w, p: reverse("plan_activity_add", args=[_campaign(p).pk]),
        lambda w, p: activity_data(w),
        {"partner_admin"},
        SEE_PLAN,
        302,
    ),
    "activity_edit": (
        "draft",
        lambda w, p: reverse("plan_activity_edit", args=[PlanActivity.objects.get().pk]),
        lambda w, p: activity_data(w, activity_type=str(w.activity("syndicated-content").pk)),
        {"partner_admin"},
        SEE_PLAN,
        302,
    ),
    "activity_remove": (
        "draft",
        lambda w, p: reverse("plan_activity_remove", args=[PlanActivity.objects.get().pk]),
        lambda w, p: {},
        {"partner_admin"},
        SEE_PLAN,
        302,
    ),
    "check": (
        "draft",
        lambda w, p: reverse("plan_check", args=[p.pk]),
        lambda w, p: activity_data(w, campaign=str(_campaign(p).pk)),
        {"partner_admin"},
        SEE_PLAN,
        200,
    ),
    "submit": (
        "draft",
        lambda w, p: reverse("plan_submit", args=[p.pk]),
        lambda w, p: {},
        {"partner_admin"},
        SEE_PLAN,
        302,
    ),
    "reopen": (
        "action_required",
        lambda w, p: reverse("plan_reopen", args=[p.pk]),
        lambda w, p: {},
        {"partner_admin"},
        SEE_PLAN,
        302,
    ),
    "amend": (
        "approved",
        lambda w, p: reverse("plan_amend", args=[p.pk]),
        lambda w, p: {},
        {"partner_admin"},
        SEE_PLAN,
        302,
    ),
    "comment": (
        "draft",
        lambda w, p: reverse("plan_comment", args=[p.pk]),
        lambda w, p: {"message": "Hello."},
        PARTNERS | {"reviewer"},
        SEE_PLAN,
        302,
    ),
    "assign": (
        "submitted",
        lambda w, p: reverse("plan_assign", args=[p.pk]),
        lambda w, p: {"reviewer": ""},
        {"reviewer"},
        VENDOR,
        302,
    ),
    "decide": (
        "submitted",
        lambda w, p: reverse("plan_decide", args=[p.pk]),
        lambda w, p: {"decision": "approve", "message": ""},
        {"reviewer"},
        VENDOR,
        302,
    ),
    "note": (
        "submitted",
        lambda w, p: reverse("plan_note", args=[p.pk]),
        lambda w, p: {"message": "Internal."},
        VENDOR,
        VENDOR,
        302,
    ),
    "rules": (
        "draft",
        lambda w, p: reverse("plan_rules", args=[w.program.pk]),
        lambda w, p: {"resubmit_days": "60", "proof_due_days": "180", "proof_warning_days": "30", "excess": "carry"},
        {"program_manager"},
        EVERYONE,
        302,
    ),
}


def _post(client, url: str, data: dict, persona: str, code: int) -> None:  # type: ignore[no-untyped-def]
    post_as(client, url, data, persona, code, state)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", PLAN_ACTIONS)
def test_every_plan_action_for_every_persona(plans_world, as_persona, persona, action):
    start, url, data, allowed, visible, ok = PLAN_ACTIONS[action]
    plan = _plan(plans_world, start)
    code = expected(persona, allowed=allowed, visible=visible, ok=ok)
    client = as_persona(persona)
    before = state()
    _post(client, url(plans_world, plan), data(plans_world, plan), persona, code)
    if code == 302 and persona != "anonymous" and action not in ("rules",):
        assert state() != before


def _proof(world, start):  # type: ignore[no-untyped-def]
    plan = approved_plan(world)
    if start == "ready":
        return ready_proof(world, plan)
    proof = submitted_proof(world, plan)
    if start == "rejected":
        return proofs.proof_reject(proof=proof, actor=world.reviewer, reasons=DETAILS)
    return proof


def _document(proof):  # type: ignore[no-untyped-def]
    return proof.attachments.order_by("id").last().document_id


PROOF_ACTIONS = {
    "new": (
        "ready",
        lambda p: reverse("proof_new", args=[p.activity_id]),
        lambda p: {"name": "Another"},
        PARTNERS,
        SEE_PLAN,
        302,
    ),
    "save": (
        "ready",
        lambda p: reverse("proof_detail", args=[p.pk]),
        lambda p: proof_data(amount="2000.00"),
        PARTNERS,
        SEE_PLAN,
        302,
    ),
    "submit": (
        "ready",
        lambda p: reverse("proof_detail", args=[p.pk]),
        lambda p: proof_data(action="submit"),
        PARTNERS,
        SEE_PLAN,
        302,
    ),
    "check": ("ready", lambda p: reverse("proof_check", args=[p.pk]), lambda p: proof_data(), PARTNERS, SEE_PLAN, 200),
    "upload": (
        "ready",
        lambda p: reverse("proof_documents_add", args=[p.pk]),
        lambda p: {"files": [png("extra.png", colour="red")], "kind": "proof", "note": "The banner."},
        PARTNERS,
        SEE_PLAN,
        302,
    ),
    "remove_document": (
        "ready",
        lambda p: reverse("proof_document_remove", args=[p.pk, _document(p)]),
        lambda p: {},
        PARTNERS,
        SEE_PLAN,
        302,
    ),
    "certification": (
        "ready",
        lambda p: reverse("proof_certification", args=[p.pk]),
        lambda p: {"description": "Copywriting in-house.", "person_0": "Ada", "hours_0": "10", "rate_0": "50"},
        PARTNERS,
        SEE_PLAN,
        302,
    ),
    "withdraw": (
        "ready",
        lambda p: reverse("proof_withdraw", args=[p.pk]),
        lambda p: {"reason": "Wrong activity."},
        PARTNERS,
        SEE_PLAN,
        302,
    ),
    "comment": (
        "ready",
        lambda p: reverse("proof_comment", args=[p.pk]),
        lambda p: {"message": "Hi."},
        PARTNERS | {"reviewer"},
        SEE_PLAN,
        302,
    ),
    "dispute": (
        "rejected",
        lambda p: reverse("proof_dispute", args=[p.pk]),
        lambda p: {"reason": "Look again."},
        {"partner_admin"},
        SEE_PLAN,
        302,
    ),
    "assign": (
        "submitted",
        lambda p: reverse("proof_assign", args=[p.pk]),
        lambda p: {"reviewer": ""},
        {"reviewer"},
        VENDOR,
        302,
    ),
    "decide": (
        "submitted",
        lambda p: reverse("proof_decide", args=[p.pk]),
        lambda p: {"decision": "approve", "message": ""},
        {"reviewer"},
        VENDOR,
        302,
    ),
    "note": (
        "submitted",
        lambda p: reverse("proof_note", args=[p.pk]),
        lambda p: {"message": "Internal."},
        VENDOR,
        VENDOR,
        302,
    ),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", PROOF_ACTIONS)
def test_every_proof_action_for_every_persona(plans_world, as_persona, persona, action):
    start, url, data, allowed, visible, ok = PROOF_ACTIONS[action]
    proof = _proof(plans_world, start)
    code = expected(persona, allowed=allowed, visible=visible, ok=ok)
    client = as_persona(persona)
    before = state()
    _post(client, url(proof), data(proof), persona, code)
    if code == 302 and persona != "anonymous":
        assert state() != before


# --- bad input, live check, conflicts ---------------------------------------------------------------------


def test_bad_campaign_input_is_shown_on_the_form(plans_world, as_persona):
    plan = draft_plan(plans_world)
    before = state()
    response = as_persona("partner_admin").post(
        reverse("plan_campaign_add", args=[plan.pk]), campaign_data(budget="-5", start="2027-07-01", end="2027-07-31")
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Give the budget: an amount above zero with at most two decimals." in page
    assert "The campaign must run within the program year FY27 (01 Jul 2026 – 30 Jun 2027)." in page
    assert state() == before


def test_bad_activity_input_is_shown_on_the_form(plans_world, as_persona):
    world = plans_world
    plan = draft_plan(world)
    response = as_persona("partner_admin").post(
        reverse("plan_activity_add", args=[_campaign(plan).pk]),
        activity_data(world, countries="XX", planned_amount="12,50"),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "not known: “XX”." in page
    assert "Give the planned amount: above zero with at most two decimals." in page


def test_the_live_check_shows_what_an_activity_would_leave(plans_world, as_persona):
    world = plans_world
    plan = draft_plan(world)
    response = as_persona("partner_admin").post(
        reverse("plan_check", args=[plan.pk]),
        activity_data(
            world,
            activity_type=str(world.activity("syndicated-content").pk),
            planned_amount="14000.00",
            campaign=str(_campaign(plan).pk),
        ),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "Syndicated content: at most 18,750.00 USD for FY27 H1 (18,750.00 per period); 5,000.00 USD is planned "
        "elsewhere, so 13,750.00 USD is left." in page
    )
    assert "With this activity “Autumn launch” plans 19,000.00 USD, more than its budget of 8,000.00 USD." in page
    assert (
        "Campaigns starting in FY27 H1 would plan 19,000.00 USD; the co-op for that period is 12,000.00 USD so far."
        in page
    )
    response = as_persona("partner_admin").post(reverse("plan_check", args=[plan.pk]), campaign_data(end="2026-01-01"))
    assert "The campaign ends before it starts." in response.content.decode()


def test_an_htmx_request_gets_the_form_alone(plans_world, as_persona):
    plan = draft_plan(plans_world)
    response = as_persona("partner_admin").get(reverse("plan_campaign_add", args=[plan.pk]), HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<form" in page
    assert "<html" not in page


def test_a_refused_submission_says_why(plans_world, as_persona):
    world = plans_world
    plan = services.plan_create(
        location=world.location, program=world.program, fiscal_year=2027, actor=world.partner_admin
    )
    response = as_persona("partner_admin").post(reverse("plan_submit", args=[plan.pk]), follow=True)
    page = response.content.decode()
    assert "Name the vendor reviewer who will review the plan." in page
    assert "Not submitted: the checker still finds what is listed." in page
    assert Plan.objects.get(pk=plan.pk).status == "editing"


def test_a_deadline_is_said_in_words(plans_world, as_persona, time_machine):
    plan = draft_plan(plans_world)
    time_machine.move_to(date(2027, 7, 1))
    response = as_persona("partner_admin").post(reverse("plan_submit", args=[plan.pk]), follow=True)
    assert "Plans for FY27 had to be first submitted by 30 Jun 2027." in response.content.decode()


def test_the_named_reviewer_decides_with_reasons_about_an_activity(plans_world, as_persona):
    world = plans_world
    plan = submitted_plan(world)
    activity = PlanActivity.objects.get()
    response = as_persona("reviewer").post(
        reverse("plan_decide", args=[plan.pk]),
        {
            "decision": "request_changes",
            "message": "Lower it.",
            "reason_0": "plan_budget",
            "about_0": f"activity:{activity.pk}",
            "note_0": "Too high.",
        },
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == "action_required"
    page = as_persona("partner_admin").get(reverse("plan_detail", args=[plan.pk])).content.decode()
    assert "Budget or planned amounts not justified" in page
    assert "activity “Syndicated content”" in page


def test_a_decision_without_reasons_is_refused_on_the_form(plans_world, as_persona):
    plan = submitted_plan(plans_world)
    before = state()
    response = as_persona("reviewer").post(
        reverse("plan_decide", args=[plan.pk]), {"decision": "reject", "message": "No."}
    )
    assert response.status_code == 400
    assert "Give at least one reason, so the partner knows why." in response.content.decode()
    assert state() == before


def test_the_review_page_shows_what_changed(plans_world, as_persona):
    world = plans_world
    plan = services.plan_request_changes(plan=submitted_plan(world), actor=world.reviewer, reasons=DETAILS)
    plan = services.plan_reopen(plan=plan, actor=world.partner_admin)
    services.activity_update(
        activity=PlanActivity.objects.get(version=plan.current), actor=world.partner_admin, planned_amount="4000.00"
    )
    services.plan_submit(plan=plan, actor=world.partner_admin)
    page = as_persona("reviewer").get(reverse("plan_review", args=[plan.pk])).content.decode()
    assert "What changed since version 1" in page
    assert "Activity “Syndicated content” in “Autumn launch” changed: Planned amount 5000.00 → 4000.00." in page


def test_bad_plan_rules_are_shown_on_the_form(plans_world, as_persona):
    response = as_persona("program_manager").post(
        reverse("plan_rules", args=[plans_world.program.pk]),
        {"resubmit_days": "-5", "proof_due_days": "180", "proof_warning_days": "30", "excess": "drop"},
    )
    assert response.status_code == 400
    assert "Give the days plans may be resubmitted after the program year, from 0 to 365." in response.content.decode()
    assert PlanSettings.objects.count() == 0


# --- a plan's whole life through the pages ---------------------------------------------------------------------


def test_a_plan_from_start_to_paid_proof_through_the_pages(plans_world, as_persona):
    world = plans_world
    admin, reviewer = as_persona("partner_admin"), as_persona("reviewer")
    response = admin.post(
        reverse("plan_new"),
        {
            "location": world.location.pk,
            "program": world.program.pk,
            "fiscal_year": "2027",
            "name": "",
            "reviewer": world.reviewer.pk,
        },
    )
    plan = Plan.objects.get()
    assert (response.status_code, response["Location"], plan.name) == (
        302,
        f"/plans/{plan.pk}/",
        "Fabrikam Berlin FY27 co-op plan",
    )
    admin.post(
        reverse("plan_campaign_add", args=[plan.pk]),
        campaign_data(start="2026-09-01", end="2026-10-31", budget="8000.00"),
    )
    campaign = Campaign.objects.get()
    admin.post(
        reverse("plan_activity_add", args=[campaign.pk]),
        activity_data(world, activity_type=str(world.activity("syndicated-content").pk), planned_amount="5000.00"),
    )
    assert admin.post(reverse("plan_submit", args=[plan.pk])).status_code == 302
    assert (
        reviewer.post(reverse("plan_decide", args=[plan.pk]), {"decision": "approve", "message": ""})["Location"]
        == "/plans/review/"
    )
    plan.refresh_from_db()
    assert (plan.status, plan.approved_amount) == ("approved", D("5000.00"))
    response = admin.post(reverse("proof_new", args=[activity_of(plan).pk]), {"name": "September"})
    proof = Proof.objects.get()
    assert response["Location"] == f"/plans/proofs/{proof.pk}/"
    admin.post(reverse("proof_detail", args=[proof.pk]), proof_data())
    admin.post(
        reverse("proof_documents_add", args=[proof.pk]), {"files": [pdf("INV-1.pdf")], "kind": "invoice", "note": ""}
    )
    admin.post(
        reverse("proof_documents_add", args=[proof.pk]),
        {"files": [png("ad.png")], "kind": "screenshot", "note": "The article."},
    )
    response = admin.post(reverse("proof_detail", args=[proof.pk]), proof_data(action="submit"))
    proof.refresh_from_db()
    assert (response.status_code, proof.status, proof.reserved) == (302, "submitted", D("3000.00"))
    reviewer.post(reverse("proof_decide", args=[proof.pk]), {"decision": "approve", "message": ""})
    proof.refresh_from_db()
    assert (proof.status, proof.payable) == ("approved", D("3000.00"))
    assert money(world.fund) == (D("9000.00"), D("0"), D("3000.00"))
    page = admin.get(reverse("plan_detail", args=[plan.pk])).content.decode()
    assert "5,000.00 USD: 3,000.00 paid against it, 2,000.00 left" in page
