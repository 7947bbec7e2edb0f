"""Reviews past their due date are escalated for every kind of item (claims, proofs, plans; associations in
their own tests), once per due date: an item resubmitted after an escalation is escalated again if its new due
date passes."""

from datetime import date

import pytest

from coopfunds.claims import services as claims
from coopfunds.claims.services import Reason
from coopfunds.claims.tests.conftest import ready_claim
from coopfunds.notifications.models import Notification
from coopfunds.plans import services as plans
from coopfunds.plans.models import PlanEvent
from coopfunds.plans.tasks import run_plan_jobs
from coopfunds.plans.tests.helpers import submitted_plan

pytestmark = pytest.mark.django_db

MISSING = [Reason(code="missing_proof_of_distribution", note="The screenshot does not show the ad.")]


def escalations(user):
    return list(Notification.objects.filter(user=user, kind="escalation").values_list("subject", flat=True))


def test_a_plan_review_past_its_due_date_is_escalated_once(plans_world, time_machine):
    plan = submitted_plan(plans_world)  # Friday 20 Nov 2026: due Tuesday 24 Nov (2 business days)
    assert plan.due_on == date(2026, 11, 24)
    time_machine.move_to(date(2026, 11, 24))
    assert plans.plans_escalate() == 0
    time_machine.move_to(date(2026, 11, 25))
    assert run_plan_jobs()["plans_escalated"] == 1
    assert plans.plans_escalate() == 0
    assert escalations(plans_world.program_manager) == [f"Review of plan {plan.pk} is overdue"]
    assert escalations(plans_world.reviewer) == []
    note = PlanEvent.objects.get(plan=plan, kind=PlanEvent.Kind.NOTE)
    assert (note.message, note.internal) == ("Review overdue since 24 Nov 2026: escalated.", True)


def test_a_claim_resubmitted_after_an_escalation_is_escalated_again_when_its_new_due_date_passes(
    plans_world, time_machine
):
    world = plans_world
    claim = claims.claim_submit(claim=ready_claim(world), actor=world.partner_admin)
    time_machine.move_to(date(2026, 11, 25))
    assert claims.reviews_escalate() == 1
    claim = claims.claim_request_action(claim=claim, actor=world.reviewer, reasons=MISSING, message="Fix it.")
    time_machine.move_to(date(2026, 11, 26))  # Thursday: due Monday 30 Nov
    claim = claims.claim_submit(claim=claim, actor=world.partner_admin)
    assert claim.due_on == date(2026, 11, 30)
    time_machine.move_to(date(2026, 11, 30))
    assert claims.reviews_escalate() == 0
    time_machine.move_to(date(2026, 12, 1))
    assert claims.reviews_escalate() == 1
    assert claims.reviews_escalate() == 0
    assert escalations(world.program_manager) == [f"Review of claim {claim.pk} is overdue"] * 2
