"""Money decisions at the same moment (PostgreSQL: real row locks, real concurrency; SQLite serialises every
writing transaction anyway): reviewers approving many proofs of one plan never spend its limit twice, and
submissions, disputes and approvals of claims on one (fund, activity type) never pass its cap together."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F, Sum

from coopfunds.claims import services
from coopfunds.claims.models import Claim, ReasonCode
from coopfunds.claims.tests.conftest import ready_claim
from coopfunds.claims.tests.helpers import MISSING
from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.models import Spend
from coopfunds.funds.selectors import balances, ledger_drift
from coopfunds.funds.tests.conftest import csv_file
from coopfunds.plans import proofs
from coopfunds.plans.models import Proof
from coopfunds.plans.tests.helpers import approved_plan, money, submitted_proof
from coopfunds.testing.concurrency import at_once

D = Decimal
PROOFS = 6


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database with row locks")
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_never_spend_the_limit_twice(plans_world):
    world = plans_world
    plan = approved_plan(world)  # limit 5,000.00
    ids = [submitted_proof(world, plan, amount="1000.00", invoice=f"INV-{n}").pk for n in range(PROOFS)]
    actor = world.reviewer
    errors = at_once([lambda pk=pk: proofs.proof_approve(proof=Proof(pk=pk), actor=actor) for pk in ids])

    assert errors == []
    assert Proof.objects.filter(status="approved").count() == PROOFS
    assert Proof.objects.aggregate(total=Sum("payable"))["total"] == D("5000.00")
    assert sorted(Proof.objects.values_list("payable", flat=True)) == [D("0.00")] + [D("1000.00")] * 5
    assert money(world.fund) == (D("7000.00"), D("0.00"), D("5000.00"))
    assert ledger_drift() == []


ROUNDS = 10


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database with concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_never_pass_a_cap_together(plans_world):
    world = plans_world
    earnings_import(
        stream=csv_file("2026-03-20,FAB-001,coop,70000.00,USD,,,,A-2"), file_name="late.csv", actor=world.finance
    )
    cap_message = (
        "Syndicated content is capped at 18,750.00 USD for FY27 H1 (18,750.00 per period); 10,000.00 USD is "
        "already claimed, so at most 8,750.00 USD more."
    )
    for n in range(ROUNDS):
        pair = [ready_claim(world, amount="10000.00", invoice=f"INV-{n}-{side}") for side in "ab"]
        errors = at_once([lambda c=c: services.claim_submit(claim=c, actor=world.partner_admin) for c in pair])
        assert [e.message_dict["amount"] for e in errors] == [[cap_message]]
        held = Spend.objects.filter(fund=world.fund).aggregate(total=Sum(F("held") + F("approved")))["total"]
        assert held == D("10000.00")
        winner = Claim.objects.get(pk__in=[c.pk for c in pair], status="submitted")
        services.claim_withdraw(claim=winner, actor=world.partner_admin)
    assert Claim.objects.filter(status="withdrawn").count() == ROUNDS
    assert Claim.objects.filter(status="editing").count() == ROUNDS
    assert balances(world.fund).reserved == D("0.00")
    assert ledger_drift() == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database with concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_concurrent_disputes_and_approvals_never_pass_a_cap_together(plans_world):
    world = plans_world
    earnings_import(
        stream=csv_file("2026-03-20,FAB-001,coop,70000.00,USD,,,,A-2"), file_name="late.csv", actor=world.finance
    )
    # a transactional test starts without the reason catalogue that a migration loads
    ReasonCode.objects.get_or_create(code=MISSING[0].code, program=None, defaults={"label": "Missing proof"})
    for n in range(ROUNDS):
        rejected = services.claim_reject(
            claim=services.claim_submit(
                claim=ready_claim(world, amount="10000.00", invoice=f"INV-{n}-r"), actor=world.partner_admin
            ),
            actor=world.reviewer,
            reasons=MISSING,
        )
        rival = ready_claim(world, amount="10000.00", invoice=f"INV-{n}-s")
        errors = at_once(
            [
                lambda r=rejected: services.claim_dispute(claim=r, actor=world.partner_admin, reason="Look again."),
                lambda r=rival: services.claim_submit(claim=r, actor=world.partner_admin),
            ]
        )
        assert len(errors) == 1
        counted = Spend.objects.filter(fund=world.fund).aggregate(total=Sum(F("held") + F("approved")))["total"]
        assert counted == D("10000.00")
        for claim in Claim.objects.filter(status__in=["disputed", "submitted"]):
            if claim.status == "disputed":
                services.claim_reject(claim=claim, actor=world.reviewer, reasons=MISSING)
            else:
                services.claim_withdraw(claim=claim, actor=world.partner_admin)
    assert balances(world.fund).reserved == D("0.00")
    assert ledger_drift() == []
