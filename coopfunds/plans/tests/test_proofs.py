"""Proof of execution through its services: filing, the checker, review, and the money it moves within the
plan's limit (docs/adr/0006-plan-limits.md)."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from conftest import PERSONAS
from coopfunds.audit.models import AuditEvent
from coopfunds.claims import services as claim_services
from coopfunds.claims.tests.conftest import png, ready_claim
from coopfunds.core.errors import Conflict
from coopfunds.funds.models import Transfer
from coopfunds.funds.selectors import ledger_drift
from coopfunds.notifications.models import Notification
from coopfunds.plans import proof_checks, proofs, services
from coopfunds.plans.models import PlanActivity, PlanEvent, PlanReason, Proof
from coopfunds.plans.services import Reason
from coopfunds.plans.tests.conftest import TODAY
from coopfunds.plans.tests.helpers import (
    DETAILS,
    activity_of,
    approved_plan,
    money,
    ready_proof,
    state,
    submitted_plan,
    submitted_proof,
)

pytestmark = pytest.mark.django_db
D = Decimal
MISSING = [Reason(code="missing_proof_of_execution", note="The screenshot does not show the article.")]


def carry(world):
    services.plan_settings_update(program=world.program, actor=world.program_manager, excess="carry")


def test_proof_is_filed_only_for_activities_of_the_plan_in_force(plans_world):
    world = plans_world
    plan = submitted_plan(world)
    with pytest.raises(ValidationError) as error:
        proofs.proof_create(activity=PlanActivity.objects.get(), actor=world.partner_admin, name="Too early")
    assert error.value.message_dict == {
        "activity": ["Proof of execution is filed for activities of the approved plan in force."]
    }
    plan = services.plan_approve(plan=plan, actor=world.reviewer)
    plan = services.plan_amend(plan=plan, actor=world.partner_admin)
    draft = PlanActivity.objects.get(version=plan.current)
    with pytest.raises(ValidationError):
        proofs.proof_create(activity=draft, actor=world.partner_admin, name="Amendment draft")
    proof = proofs.proof_create(activity=activity_of(plan), actor=world.partner_user, name="September")
    assert (proof.status, proof.currency, proof.location_id) == ("editing", "USD", world.location.pk)
    assert Proof.objects.count() == 1


def test_submission_reserves_in_the_fund_of_the_execution_date(plans_world):
    world = plans_world
    plan = approved_plan(world)
    proof = submitted_proof(world, plan)
    assert (proof.status, proof.reserved, proof.fund_id, proof.reviewer_id, proof.due_on) == (
        "submitted",
        D("3000.00"),
        world.fund.pk,
        world.reviewer.pk,
        date(2026, 12, 31),
    )
    assert money(world.fund) == (D("9000.00"), D("3000.00"), D("0"))
    assert Transfer.objects.filter(reference=f"proof:{proof.pk}", kind="reserve").count() == 1
    assert {a.document.is_locked for a in proof.attachments.select_related("document")} == {True}
    assert list(Notification.objects.filter(user=world.reviewer).order_by("id").values_list("subject", flat=True)) == [
        f"Plan {plan.pk} to review: FY27 launch plan",
        f"Proof of execution {proof.pk} to review: Syndication September",
    ]
    with pytest.raises(Conflict, match=re.escape("A proof of execution that is submitted cannot be changed.")):
        proofs.proof_update(proof=proof, actor=world.partner_admin, amount=D("10.00"))


def test_approval_within_the_limit_makes_the_money_payable(plans_world):
    world = plans_world
    proof = proofs.proof_approve(proof=submitted_proof(world, approved_plan(world)), actor=world.reviewer)
    assert (proof.status, proof.approved_amount, proof.payable, proof.carried, proof.reserved) == (
        "approved",
        D("3000.00"),
        D("3000.00"),
        D("0"),
        D("0"),
    )
    assert money(world.fund) == (D("9000.00"), D("0"), D("3000.00"))
    assert ledger_drift() == []


def test_above_the_limit_the_excess_is_dropped_by_default(plans_world):
    world = plans_world
    plan = approved_plan(world)  # limit 5,000
    proofs.proof_approve(proof=submitted_proof(world, plan, amount="3000.00", invoice="INV-1"), actor=world.reviewer)
    second = submitted_proof(world, plan, amount="4000.00", invoice="INV-2")
    assert money(world.fund) == (D("5000.00"), D("4000.00"), D("3000.00"))
    second = proofs.proof_approve(proof=second, actor=world.reviewer)
    assert (second.approved_amount, second.payable, second.carried, second.reserved) == (
        D("4000.00"),
        D("2000.00"),
        D("0"),
        D("0"),
    )
    assert money(world.fund) == (D("7000.00"), D("0"), D("5000.00"))
    assert PlanEvent.objects.filter(proof=second, kind="money").get().message == (
        "2,000.00 USD payable. 2,000.00 USD is above what is left of the plan's limit and is not paid."
    )
    assert ledger_drift() == []


def test_carried_excess_is_paid_when_an_amendment_raises_the_limit(plans_world, time_machine):
    world = plans_world
    carry(world)
    plan = approved_plan(world)
    proofs.proof_approve(proof=submitted_proof(world, plan, amount="3000.00", invoice="INV-1"), actor=world.reviewer)
    second = proofs.proof_approve(
        proof=submitted_proof(world, plan, amount="4000.00", invoice="INV-2"), actor=world.reviewer
    )
    assert (second.payable, second.carried, second.reserved, second.closed_at) == (
        D("2000.00"),
        D("2000.00"),
        D("2000.00"),
        None,
    )
    assert money(world.fund) == (D("5000.00"), D("2000.00"), D("5000.00"))
    assert proofs.proofs_settle(today=TODAY) == {"settled": 0, "released": 0}  # no room yet
    plan = services.plan_amend(plan=plan, actor=world.partner_admin)
    services.activity_update(
        activity=PlanActivity.objects.get(version=plan.current), actor=world.partner_admin, planned_amount="6000.00"
    )
    services.plan_approve(plan=services.plan_submit(plan=plan, actor=world.partner_admin), actor=world.reviewer)
    assert Proof.objects.filter(activity__version=plan.current).count() == 2  # the proofs followed their activity
    assert proofs.proofs_settle(today=date(2026, 12, 1)) == {"settled": 1, "released": 0}
    second.refresh_from_db()
    assert (second.payable, second.carried, second.reserved) == (D("3000.00"), D("1000.00"), D("1000.00"))
    assert money(world.fund) == (D("5000.00"), D("1000.00"), D("6000.00"))
    assert proofs.proofs_settle(today=date(2026, 12, 2)) == {"settled": 0, "released": 0}  # idempotent
    assert ledger_drift() == []


@pytest.mark.parametrize(("day", "released"), [(date(2027, 9, 28), 0), (date(2027, 9, 29), 1)])
def test_what_is_still_carried_goes_back_once_the_plan_cannot_be_amended(plans_world, time_machine, day, released):
    world = plans_world
    carry(world)
    plan = approved_plan(world, amount="1000.00")
    proof = proofs.proof_approve(proof=submitted_proof(world, plan, amount="3000.00"), actor=world.reviewer)
    assert (proof.payable, proof.carried) == (D("1000.00"), D("2000.00"))
    time_machine.move_to(day)
    assert proofs.proofs_settle(today=day) == {"settled": 0, "released": released}
    proof.refresh_from_db()
    assert (proof.carried, proof.reserved) == ((D("0"), D("0")) if released else (D("2000.00"), D("2000.00")))
    # the usage period (to 31 Dec 2026) is over: released money is forfeited, not made available again
    assert money(world.fund) == (D("9000.00"), D("0") if released else D("2000.00"), D("1000.00"))
    assert ledger_drift() == []


def test_rejection_releases_a_dispute_reserves_again_and_withdrawal_releases(plans_world):
    world = plans_world
    plan = approved_plan(world)
    proof = proofs.proof_reject(
        proof=submitted_proof(world, plan), actor=world.reviewer, reasons=MISSING, message="No."
    )
    assert money(world.fund) == (D("12000.00"), D("0"), D("0"))
    assert PlanReason.objects.get(event__proof=proof).note == "The screenshot does not show the article."
    proof = proofs.proof_dispute(proof=proof, actor=world.partner_admin, reason="It is on page 2.")
    assert (proof.status, proof.reserved, proof.due_on) == ("disputed", D("3000.00"), date(2026, 11, 27))
    assert money(world.fund) == (D("9000.00"), D("3000.00"), D("0"))
    proof = proofs.proof_request_action(proof=proof, actor=world.reviewer, reasons=MISSING)
    assert (proof.status, proof.reserved) == ("action_required", D("3000.00"))
    proofs.proof_update(proof=proof, actor=world.partner_user, amount=D("2500.00"))
    proof = proofs.proof_submit(proof=proof, actor=world.partner_user)
    assert (proof.status, proof.reserved, proof.submissions) == ("submitted", D("2500.00"), 2)
    assert money(world.fund) == (D("9500.00"), D("2500.00"), D("0"))
    proofs.proof_withdraw(proof=proof, actor=world.partner_user)
    assert money(world.fund) == (D("12000.00"), D("0"), D("0"))
    assert ledger_drift() == []


def test_partial_approval_follows_the_program(plans_world):
    world = plans_world
    proof = submitted_proof(world, approved_plan(world))
    with pytest.raises(ValidationError) as error:
        proofs.proof_approve(proof=proof, actor=world.reviewer, amount=D("1000.00"))
    assert error.value.message_dict == {"amount": ["Cloud Co-op approves proofs in full or not at all."]}
    world.program.partial_approval = True
    world.program.save()
    proof = proofs.proof_approve(proof=proof, actor=world.reviewer, amount=D("1000.00"), note="Only the fee counts.")
    assert (proof.approved_amount, proof.payable) == (D("1000.00"), D("1000.00"))
    assert money(world.fund) == (D("11000.00"), D("0"), D("1000.00"))


def test_the_checker_says_what_is_missing(plans_world):
    world = plans_world
    plan = approved_plan(world)
    proof = proofs.proof_create(activity=activity_of(plan), actor=world.partner_admin, name="Bare")
    found = proof_checks.proof_findings(proof, TODAY)
    assert [(f.code, f.message, f.field) for f in found] == [
        ("execution_date", "Enter the date the activity was executed.", "execution_date"),
        ("estimated_impressions", "Enter the estimated impressions (the reach).", "estimated_impressions"),
        ("missing_invoice", "Add the third-party invoice, or a certification report for in-house work.", "documents"),
        (
            "missing_document",
            "Syndicated content requires “Screenshot of the activity”: A screenshot of the content on the partner's "
            "channel.",
            "documents",
        ),
        ("amount", "Enter the amount this proof asks for.", "amount"),
    ]
    before = state()
    with pytest.raises(ValidationError) as error:
        proofs.proof_submit(proof=proof, actor=world.partner_admin)
    assert sorted(error.value.message_dict) == ["amount", "documents", "estimated_impressions", "execution_date"]
    assert state() == before


def test_either_an_invoice_or_a_certification_report_and_dates_in_the_campaign(plans_world):
    world = plans_world
    proof = ready_proof(world, approved_plan(world), execution=date(2026, 11, 5))
    proofs.proof_add_certification(
        proof=proof, actor=world.partner_admin, description="Our team wrote the copy.", lines=[("Ada", "10", "50")]
    )
    found = proof_checks.proof_findings(proof, TODAY)
    assert [(f.code, f.message) for f in found] == [
        ("execution_date", "The activity must be executed during “Autumn launch” (01 Sep 2026 – 31 Oct 2026)."),
        ("invoice_or_certification", "Attach either the third-party invoice or a certification report, not both."),
    ]


def test_above_the_limit_the_checker_warns_without_blocking(plans_world):
    world = plans_world
    proof = ready_proof(world, approved_plan(world, amount="1000.00"), amount="3000.00")
    found = proof_checks.proof_findings(proof, TODAY)
    assert [(f.code, f.message, f.blocking) for f in found] == [
        (
            "over_limit",
            "Only 1,000.00 USD is left of the plan's limit; if approved, the rest of this proof (2,000.00 USD) would "
            "not be paid.",
            False,
        )
    ]


def test_caps_and_duplicates_count_claims_and_proofs_alike(plans_world):
    world = plans_world
    plan = approved_plan(world, code="onsite-champ")  # capped at 50% of the 12,000.00 earned
    claim = ready_claim(world, amount="5500.00", invoice="INV-9", code="onsite-champ")
    claim_services.claim_submit(claim=claim, actor=world.partner_admin)
    proof = ready_proof(world, plan, amount="1000.00", invoice="inv 9")
    found = proof_checks.proof_findings(proof, TODAY)
    assert [(f.code, f.message) for f in found] == [
        (
            "over_cap",
            "On-site champ is capped at 6,000.00 USD for FY27 H1 (50% of earned co-op per period); 5,500.00 USD is "
            "already claimed, so at most 500.00 USD more.",
        ),
        ("duplicate_invoice", "This invoice (vendor and number) has already been claimed."),
    ]
    assert found[1].for_reviewer() == f"Invoice already used on claim {claim.pk} of Fabrikam Berlin (FAB-001)."


def test_notes_are_required_on_proof_documents(plans_world):
    world = plans_world
    proof = proofs.proof_create(activity=activity_of(approved_plan(world)), actor=world.partner_admin, name="x")
    with pytest.raises(ValidationError) as error:
        proofs.proof_add_documents(proof=proof, uploads=[png()], kind="screenshot", note=" ", actor=world.partner_admin)
    assert error.value.message_dict == {"note": ["Add a note that explains what this document shows."]}
    with pytest.raises(ValidationError) as error:
        proofs.proof_add_documents(proof=proof, uploads=[png()], kind="selfie", note="me", actor=world.partner_admin)
    assert error.value.message_dict == {
        "kind": ["Choose what the document is: the invoice, a certification report or proof."]
    }


# --- deadlines, each at its edges ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "allowed"), [(date(2027, 2, 27), True), (date(2027, 2, 28), True), (date(2027, 3, 1), False)]
)
def test_proof_is_due_180_days_after_the_campaign_starts(plans_world, time_machine, day, allowed):
    world = plans_world
    plan = approved_plan(world)  # campaign from 1 Sep 2026: due 28 Feb 2027
    proof = ready_proof(world, plan)
    time_machine.move_to(day)
    if allowed:
        assert proofs.proof_submit(proof=proof, actor=world.partner_admin).status == "submitted"
        return
    before = state()
    with pytest.raises(Conflict, match=re.escape("Proof of execution for “Autumn launch” was due by 28 Feb 2027.")):
        proofs.proof_submit(proof=proof, actor=world.partner_admin)
    with pytest.raises(Conflict, match=re.escape("was due by 28 Feb 2027.")):
        proofs.proof_create(activity=activity_of(plan), actor=world.partner_admin, name="Late")
    assert state() == before


def test_a_resubmission_after_the_due_date_is_allowed(plans_world, time_machine):
    world = plans_world
    proof = proofs.proof_request_action(
        proof=submitted_proof(world, approved_plan(world)), actor=world.reviewer, reasons=MISSING
    )
    time_machine.move_to(date(2027, 3, 10))
    assert proofs.proof_submit(proof=proof, actor=world.partner_admin).status == "submitted"


@pytest.mark.parametrize(("day", "warned"), [(date(2027, 1, 28), 0), (date(2027, 1, 29), 1), (date(2027, 1, 30), 1)])
def test_the_partner_is_warned_30_days_before_proof_is_due(plans_world, time_machine, day, warned):
    world = plans_world
    plan = approved_plan(world)
    time_machine.move_to(day)
    assert proofs.proofs_warn_due(today=day) == warned
    assert proofs.proofs_warn_due(today=day) == 0  # once
    subjects = list(Notification.objects.filter(user=world.partner_admin).values_list("subject", flat=True))
    assert ("Proof of execution due 28 Feb 2027: Autumn launch" in subjects) is bool(warned)
    if warned:
        assert PlanEvent.objects.get(plan=plan, kind="reminder").message == (
            "Proof of execution for “Autumn launch” is due by 28 Feb 2027; still missing for: Syndicated content."
        )


def test_no_warning_once_proof_is_submitted(plans_world):
    world = plans_world
    submitted_proof(world, approved_plan(world))
    assert proofs.proofs_warn_due(today=date(2027, 2, 1)) == 0


@pytest.mark.parametrize(
    ("day", "allowed"), [(date(2026, 12, 19), True), (date(2026, 12, 20), True), (date(2026, 12, 21), False)]
)
def test_a_rejection_may_be_disputed_for_the_programs_dispute_window(plans_world, time_machine, day, allowed):
    world = plans_world
    proof = proofs.proof_reject(
        proof=submitted_proof(world, approved_plan(world)), actor=world.reviewer, reasons=MISSING
    )
    assert proofs.dispute_deadline(proof) == date(2026, 12, 20)  # rejected 20 Nov 2026, 30 days to dispute
    time_machine.move_to(day)
    if allowed:
        assert proofs.proof_dispute(proof=proof, actor=world.partner_admin, reason="Look again.").status == "disputed"
        return
    before = state()
    with pytest.raises(Conflict, match=re.escape("The rejection could be disputed until 20 Dec 2026.")):
        proofs.proof_dispute(proof=proof, actor=world.partner_admin, reason="Look again.")
    assert state() == before


# --- who may do what: every transition for every persona --------------------------------------------------

PROOF_ACTIONS = {
    "create": (
        {"partner_admin", "partner_user"},
        "approved_plan",
        lambda w, p, u: proofs.proof_create(
            activity=activity_of(p.plan if isinstance(p, Proof) else p), actor=u, name="x"
        ),
    ),
    "update": (
        {"partner_admin", "partner_user"},
        "ready",
        lambda w, p, u: proofs.proof_update(proof=p, actor=u, name="y"),
    ),
    "submit": ({"partner_admin", "partner_user"}, "ready", lambda w, p, u: proofs.proof_submit(proof=p, actor=u)),
    "withdraw": ({"partner_admin", "partner_user"}, "ready", lambda w, p, u: proofs.proof_withdraw(proof=p, actor=u)),
    "assign": ({"reviewer"}, "submitted", lambda w, p, u: proofs.proof_assign(proof=p, reviewer=w.reviewer, actor=u)),
    "approve": ({"reviewer"}, "submitted", lambda w, p, u: proofs.proof_approve(proof=p, actor=u)),
    "request_action": (
        {"reviewer"},
        "submitted",
        lambda w, p, u: proofs.proof_request_action(proof=p, actor=u, reasons=MISSING),
    ),
    "reject": ({"reviewer"}, "submitted", lambda w, p, u: proofs.proof_reject(proof=p, actor=u, reasons=MISSING)),
    "dispute": ({"partner_admin"}, "rejected", lambda w, p, u: proofs.proof_dispute(proof=p, actor=u, reason="Look.")),
}


def _start(world, start):
    plan = approved_plan(world)
    if start == "approved_plan":
        return plan
    if start == "ready":
        return ready_proof(world, plan)
    proof = submitted_proof(world, plan)
    if start == "rejected":
        return proofs.proof_reject(proof=proof, actor=world.reviewer, reasons=DETAILS)
    return proof


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "anonymous"])
@pytest.mark.parametrize("action", PROOF_ACTIONS)
def test_every_proof_action_for_every_persona(plans_world, persona, action):
    allowed, start, call = PROOF_ACTIONS[action]
    target = _start(plans_world, start)
    user = plans_world.persona(persona)
    if persona in allowed:
        call(plans_world, target, user)
        return
    before = state()
    with pytest.raises(PermissionDenied):
        call(plans_world, target, user)
    assert state() == before


def test_every_decision_is_audited(plans_world):
    world = plans_world
    proof = proofs.proof_approve(proof=submitted_proof(world, approved_plan(world)), actor=world.reviewer)
    assert list(
        AuditEvent.objects.filter(target_type="plans.proof", target_id=str(proof.pk))
        .order_by("id")
        .values_list("verb", flat=True)
    ) == ["proof.create", "proof.submitted", "proof.under_review", "proof.approved"]


def test_a_plan_in_editing_is_no_obstacle_to_proof(plans_world):
    world = plans_world
    plan = services.plan_amend(plan=approved_plan(world), actor=world.partner_admin)
    proof = proofs.proof_approve(proof=submitted_proof(world, plan), actor=world.reviewer)
    assert proof.payable == D("3000.00")
    with pytest.raises(Conflict, match="has activities with proof of execution"):
        services.campaign_remove(
            campaign=PlanActivity.objects.get(version=plan.current).campaign, actor=world.partner_admin
        )


def test_an_invoice_needs_its_details(plans_world):
    world = plans_world
    proof = proofs.proof_update(
        proof=ready_proof(world, approved_plan(world)),
        actor=world.partner_admin,
        invoice_currency="",
        invoice_number="",
    )
    found = proof_checks.proof_findings(proof, TODAY)
    assert [(f.code, f.message, f.field) for f in found] == [
        ("invoice_details", "Enter the invoice's vendor, number, date, amount and currency.", "invoice_vendor")
    ]
    with pytest.raises(ValidationError) as error:
        proofs.proof_update(proof=proof, actor=world.partner_admin, invoice_currency="XXY", amount="12,50")
    assert error.value.message_dict == {
        "amount": ["Enter an amount above zero with at most two decimals."],
        "invoice_currency": ["“XXY” is not an ISO 4217 currency code (for example USD, EUR, GBP)."],
    }
