"""Proofs of execution follow the shared review workflow (coopfunds/review/workflow.py) in full, as claims do:
a reviewer's approval limit calls for a second reviewer, and reviews past their due date are escalated once."""

import re
from datetime import date
from decimal import Decimal

import pytest

from coopfunds.accounts.models import Role
from coopfunds.claims.tests.conftest import set_limit
from coopfunds.core.errors import Conflict
from coopfunds.notifications.models import Notification
from coopfunds.plans import proofs
from coopfunds.plans.models import PlanEvent, Proof
from coopfunds.plans.tasks import run_plan_jobs
from coopfunds.plans.tests.helpers import approved_plan, money, submitted_proof
from coopfunds.testing.factories import RoleFactory, UserFactory

D = Decimal


def test_above_the_approval_limit_a_second_reviewer_approves_a_proof(plans_world):
    world = plans_world
    second = UserFactory(email="sam.second@contoso.example", organisation=world.vendor)
    RoleFactory(user=second, role=Role.REVIEWER)
    set_limit(world.reviewer, world.program, "2000.00")
    proof = submitted_proof(world, approved_plan(world), amount="3000.00")
    first = proofs.proof_approve(proof=proof, actor=world.reviewer)
    assert (first.status, first.first_approver_id, first.payable) == ("under_review", world.reviewer.pk, D("0.00"))
    assert money(world.fund) == (D("9000.00"), D("3000.00"), D("0.00"))
    note = PlanEvent.objects.filter(proof=proof, kind="note").last()
    assert (note.message, note.internal) == (
        "First approval of 3,000.00 USD, above Rita Reviewer's limit of 2,000.00 USD: a second reviewer must approve.",
        True,
    )
    assert (
        Notification.objects.filter(
            user=second, subject=f"Proof of execution {proof.pk} needs a second approval"
        ).count()
        == 1
    )
    with pytest.raises(Conflict, match=re.escape("A second reviewer must approve this proof of execution")):
        proofs.proof_approve(proof=proof, actor=world.reviewer)
    done = proofs.proof_approve(proof=proof, actor=second)
    assert (done.status, done.payable) == ("approved", D("3000.00"))
    assert money(world.fund) == (D("9000.00"), D("0.00"), D("3000.00"))


def test_within_the_approval_limit_one_reviewer_approves(plans_world):
    world = plans_world
    set_limit(world.reviewer, world.program, "3000.00")
    done = proofs.proof_approve(
        proof=submitted_proof(world, approved_plan(world), amount="3000.00"), actor=world.reviewer
    )
    assert (done.status, done.first_approver_id) == ("approved", None)


def test_overdue_proof_reviews_are_escalated_once(plans_world, time_machine):
    world = plans_world
    proof = submitted_proof(world, approved_plan(world))
    assert proof.due_on == date(2026, 12, 31)  # the end of the month after submission
    time_machine.move_to(date(2027, 1, 4))
    assert proofs.proofs_escalate() == 1
    assert proofs.proofs_escalate() == 0
    assert run_plan_jobs()["escalated"] == 0
    assert Proof.objects.get(pk=proof.pk).escalated_at is not None
    sent = Notification.objects.filter(user=world.program_manager, subject__contains="overdue")
    assert [(n.subject, n.body) for n in sent] == [
        (f"Review of proof of execution {proof.pk} is overdue", "Due 31 Dec 2026.")
    ]


def test_a_decided_proof_is_not_escalated(plans_world, time_machine):
    world = plans_world
    proofs.proof_approve(proof=submitted_proof(world, approved_plan(world)), actor=world.reviewer)
    time_machine.move_to(date(2027, 1, 4))
    assert proofs.proofs_escalate() == 0
