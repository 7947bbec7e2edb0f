"""Claims and proofs of execution spend the same funds: one spend record (funds.Spend) counts both against the
activity types' caps, and the plan's limit reads it too."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from coopfunds.claims import services as claims
from coopfunds.claims.checks import findings
from coopfunds.claims.tests.conftest import ready_claim
from coopfunds.claims.tests.helpers import MISSING
from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.models import Spend
from coopfunds.funds.selectors import balances, ledger_drift
from coopfunds.funds.tests.conftest import csv_file
from coopfunds.plans import proofs
from coopfunds.plans.models import Proof
from coopfunds.plans.selectors import paid_against_limit
from coopfunds.plans.tests.helpers import DETAILS, approved_plan, ready_proof, submitted_proof

D = Decimal


@pytest.fixture
def rich(plans_world):
    """Berlin's FY27 H1 fund holds 40,000.00 USD; its plan's syndicated-content activity plans 18,000.00."""
    earnings_import(
        stream=csv_file("2026-03-20,FAB-001,coop,70000.00,USD,,,,A-2"), file_name="late.csv", actor=plans_world.finance
    )
    plans_world.program.partial_approval = True
    plans_world.program.save()
    plans_world.plan = approved_plan(plans_world, amount="18000.00", budget="18000.00")
    return plans_world


def cap_messages(claim):
    return [f.message for f in findings(claim) if f.code == "over_cap"]


def test_a_claim_counts_what_proofs_spend_on_the_same_activity_type(rich):
    proof = proofs.proof_approve(proof=submitted_proof(rich, rich.plan, amount="10000.00"), actor=rich.reviewer)
    assert proof.payable == D("10000.00")
    claim = ready_claim(rich, amount="8751.00", invoice="INV-C")
    expected = (
        "Syndicated content is capped at 18,750.00 USD for FY27 H1 (18,750.00 per period); 10,000.00 USD is already "
        "claimed, so at most 8,750.00 USD more."
    )
    assert cap_messages(claim) == [expected]
    with pytest.raises(ValidationError) as error:
        claims.claim_submit(claim=claim, actor=rich.partner_admin)
    assert error.value.message_dict["amount"] == [expected]
    claims.claim_update(claim=claim, actor=rich.partner_admin, amount=D("8750.00"))
    assert claims.claim_submit(claim=claim, actor=rich.partner_admin).reserved == D("8750.00")
    assert sorted(Spend.objects.values_list("reference", "within", "held", "approved")) == sorted(
        [
            (proof.reference, rich.plan.reference, D("0.00"), D("10000.00")),
            (claim.reference, "", D("8750.00"), D("0.00")),
        ]
    )


def test_a_proof_counts_what_claims_hold_on_the_same_activity_type(rich):
    claims.claim_submit(claim=ready_claim(rich, amount="10000.00", invoice="INV-C"), actor=rich.partner_admin)
    proof = ready_proof(rich, rich.plan, amount="8751.00")
    with pytest.raises(ValidationError) as error:
        proofs.proof_submit(proof=proof, actor=rich.partner_admin)
    assert error.value.message_dict["amount"] == [
        "Syndicated content is capped at 18,750.00 USD for FY27 H1 (18,750.00 per period); 10,000.00 USD is already "
        "claimed, so at most 8,750.00 USD more."
    ]
    assert Proof.objects.get(pk=proof.pk).status == "editing"


def test_a_proof_dispute_cannot_reopen_what_a_claim_took_from_the_cap(rich):
    proof = proofs.proof_reject(
        proof=submitted_proof(rich, rich.plan, amount="10000.00"), actor=rich.reviewer, reasons=DETAILS
    )
    claims.claim_approve(
        claim=claims.claim_submit(
            claim=ready_claim(rich, amount="10000.00", invoice="INV-C"), actor=rich.partner_admin
        ),
        actor=rich.reviewer,
    )
    with pytest.raises(ValidationError) as error:
        proofs.proof_dispute(proof=proof, actor=rich.partner_admin, reason="It ran.")
    assert error.value.message_dict == {
        "amount": [
            "Syndicated content is capped at 18,750.00 USD for FY27 H1 (18,750.00 per period); 10,000.00 USD is "
            "already claimed, so at most 8,750.00 USD more."
        ]
    }
    assert Proof.objects.get(pk=proof.pk).status == "rejected"
    b = balances(rich.fund)
    assert (b.available, b.reserved, b.payable) == (D("30000.00"), D("0.00"), D("10000.00"))


def test_a_claim_rejected_and_disputed_after_a_proof_took_the_room_is_refused(rich):
    claim = claims.claim_reject(
        claim=claims.claim_submit(claim=ready_claim(rich, amount="9000.00", invoice="INV-C"), actor=rich.partner_admin),
        actor=rich.reviewer,
        reasons=MISSING,
    )
    proofs.proof_approve(proof=submitted_proof(rich, rich.plan, amount="10000.00"), actor=rich.reviewer)
    with pytest.raises(ValidationError):
        claims.claim_dispute(claim=claim, actor=rich.partner_admin, reason="Look again.")
    assert ledger_drift() == []


def test_the_plan_limit_reads_the_spend_record(rich):
    first = proofs.proof_approve(
        proof=submitted_proof(rich, rich.plan, amount="6000.00", invoice="INV-1"),
        actor=rich.reviewer,
        amount=D("4000.00"),
        note="Part of it.",
    )
    assert (first.approved_amount, first.payable) == (D("4000.00"), D("4000.00"))
    assert paid_against_limit(rich.plan) == D("4000.00")
    proofs.proof_approve(
        proof=submitted_proof(rich, rich.plan, amount="2000.00", invoice="INV-2", execution=date(2026, 10, 1)),
        actor=rich.reviewer,
    )
    assert paid_against_limit(rich.plan) == D("6000.00")
    assert Spend.objects.filter(within=rich.plan.reference).count() == 2
