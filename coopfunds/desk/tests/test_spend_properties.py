"""Random sequences of submit / resubmit / dispute / approve / partial approve / approve many at once / reject /
withdraw / request action over claims and proofs of execution on one fund: what is approved plus what is held per (fund, activity type)
never passes its cap, the spend record equals the fund's reserved and payable money, and the ledger balances."""

import contextlib
from decimal import Decimal
from itertools import count

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from coopfunds.claims import services as claims
from coopfunds.claims.models import Claim
from coopfunds.claims.services import Reason
from coopfunds.claims.tests.conftest import ready_claim
from coopfunds.core.errors import DomainError
from coopfunds.desk import services as desk
from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.models import Spend
from coopfunds.funds.selectors import balances, ledger_drift, unbalanced_transfers
from coopfunds.funds.tests.conftest import csv_file
from coopfunds.plans import proofs
from coopfunds.plans.models import Proof
from coopfunds.plans.tests.helpers import DETAILS, approved_plan, ready_proof

D = Decimal
CAP = D("18750.00")  # syndicated content, per period
amounts = st.sampled_from(["6000.00", "9500.00", "12500.00"])  # any two pass the cap
picks = st.integers(min_value=0, max_value=1000)
invoices = count()
REASONS = [Reason(code="missing_proof_of_distribution", note="Show the distribution.")]
REFUSED = (ValidationError, DomainError)
WAITING = {"submitted", "under_review", "disputed"}
EDITABLE = {"editing", "action_required"}
WITHDRAWABLE = {"editing", "submitted", "action_required"}


def having(statuses):
    """A rule's precondition: some item is in one of `statuses` (rules with nothing to act on are not drawn)."""
    return lambda machine: any(item.status in statuses for item in machine.fresh())


def run(world):
    class SpendMachine(RuleBasedStateMachine):
        @initialize()
        def start(self):
            # each example runs in a savepoint that teardown rolls back: examples never see each other
            self.savepoint = transaction.atomic()
            self.savepoint._from_testcase = True  # like Django's TestCase atomics: services' durable blocks run inside
            self.savepoint.__enter__()
            self.items: list[Claim | Proof] = []

        def teardown(self):
            if hasattr(self, "savepoint"):
                transaction.set_rollback(True)
                self.savepoint.__exit__(None, None, None)

        def fresh(self):
            for item in self.items:
                item.refresh_from_db()
            return self.items

        def pick(self, n, statuses):
            """One of the items in one of `statuses`, fresh from the database: each rule acts on items it can act
            on, so that sequences reach the interesting states often."""
            candidates = [i for i in self.fresh() if i.status in statuses]
            return candidates[n % len(candidates)]

        def attempt(self, action, *args, **kwargs):
            # refusals are part of the game; the invariants say whether the money stayed right
            with contextlib.suppress(*REFUSED):
                action(*args, **kwargs)

        @rule(amount=amounts)
        def file_claim(self, amount):
            claim = ready_claim(world, amount=amount, invoice=f"C-{next(invoices)}")
            self.items.append(claim)
            self.attempt(claims.claim_submit, claim=claim, actor=world.partner_admin)

        @rule(amount=amounts)
        def file_proof(self, amount):
            proof = ready_proof(world, world.plan, amount=amount, invoice=f"P-{next(invoices)}")
            self.items.append(proof)
            self.attempt(proofs.proof_submit, proof=proof, actor=world.partner_admin)

        @precondition(having(WAITING))
        @rule(n=picks, partly=st.booleans())
        def approve(self, n, partly):
            item = self.pick(n, WAITING)
            assert item.amount is not None
            amount = (item.amount / 2).quantize(D("0.01")) if partly else None
            note = "Part of it." if partly else ""
            if isinstance(item, Claim):
                self.attempt(claims.claim_approve, claim=item, actor=world.reviewer, amount=amount, note=note)
            else:
                self.attempt(proofs.proof_approve, proof=item, actor=world.reviewer, amount=amount, note=note)

        @precondition(having(WAITING))
        @rule(n=picks, many=st.integers(min_value=1, max_value=4))
        def approve_many(self, n, many):
            """The reviewer's desk: several waiting claims and proofs approved in one step (claims in one batch)."""
            waiting = [i for i in self.fresh() if i.status in WAITING]
            chosen = [waiting[(n + k) % len(waiting)] for k in range(min(many, len(waiting)))]
            keys = [(("claim" if isinstance(i, Claim) else "proof"), i.pk) for i in chosen]
            desk.review_approve_many(items=keys, actor=world.reviewer)

        @precondition(having(WAITING))
        @rule(n=picks)
        def reject(self, n):
            item = self.pick(n, WAITING)
            if isinstance(item, Claim):
                self.attempt(claims.claim_reject, claim=item, actor=world.reviewer, reasons=REASONS)
            else:
                self.attempt(proofs.proof_reject, proof=item, actor=world.reviewer, reasons=DETAILS)

        @precondition(having(WAITING))
        @rule(n=picks)
        def request_action(self, n):
            item = self.pick(n, WAITING)
            if isinstance(item, Claim):
                self.attempt(claims.claim_request_action, claim=item, actor=world.reviewer, reasons=REASONS)
            else:
                self.attempt(proofs.proof_request_action, proof=item, actor=world.reviewer, reasons=DETAILS)

        @precondition(having(EDITABLE))
        @rule(n=picks)
        def resubmit(self, n):
            item = self.pick(n, EDITABLE)
            if isinstance(item, Claim):
                self.attempt(claims.claim_submit, claim=item, actor=world.partner_admin)
            else:
                self.attempt(proofs.proof_submit, proof=item, actor=world.partner_admin)

        @precondition(having({"rejected"}))
        @rule(n=picks)
        def dispute(self, n):
            item = self.pick(n, {"rejected"})
            if isinstance(item, Claim):
                self.attempt(claims.claim_dispute, claim=item, actor=world.partner_admin, reason="Look again.")
            else:
                self.attempt(proofs.proof_dispute, proof=item, actor=world.partner_admin, reason="Look again.")

        @precondition(having(WITHDRAWABLE))
        @rule(n=picks)
        def withdraw(self, n):
            item = self.pick(n, WITHDRAWABLE)
            if isinstance(item, Claim):
                self.attempt(claims.claim_withdraw, claim=item, actor=world.partner_admin)
            else:
                self.attempt(proofs.proof_withdraw, proof=item, actor=world.partner_admin)

        @invariant()
        def within_the_cap(self):
            counted = Spend.objects.filter(fund=world.fund, activity_type=world.activity("syndicated-content"))
            total = counted.aggregate(total=Sum(F("held") + F("approved")))["total"] or D(0)
            assert total <= CAP

        @invariant()
        def spend_record_is_the_money(self):
            totals = Spend.objects.filter(fund=world.fund).aggregate(held=Sum("held"), approved=Sum("approved"))
            b = balances(world.fund)
            assert (totals["held"] or D(0), totals["approved"] or D(0)) == (b.reserved, b.payable)
            assert b.available + b.reserved + b.payable == D("40000.00")
            for item in self.items:
                item.refresh_from_db()
                spend = Spend.objects.filter(reference=item.reference).first()
                assert item.reserved == (spend.held if spend else D(0))

        @invariant()
        def ledger_balances(self):
            assert unbalanced_transfers() == []
            assert ledger_drift() == []

    return SpendMachine


@pytest.mark.django_db
def test_claims_and_proofs_never_pass_a_cap_and_the_ledger_balances(plans_world):
    world = plans_world
    earnings_import(
        stream=csv_file("2026-03-20,FAB-001,coop,70000.00,USD,,,,A-2"), file_name="late.csv", actor=world.finance
    )
    world.program.partial_approval = True
    world.program.save()
    world.plan = approved_plan(world, amount="18000.00", budget="18000.00")
    machine = run(world)
    machine.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    machine.TestCase().runTest()
