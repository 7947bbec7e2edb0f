"""Random sequences of every money movement keep the ledger's invariants: every transfer balances, no fund
bucket goes negative, cached balances equal their recomputation, and balances match a simple model."""

from datetime import date
from decimal import Decimal
from itertools import count

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from coopfunds.funds import ledger
from coopfunds.funds.models import Bucket
from coopfunds.funds.selectors import balances, ledger_drift, unbalanced_transfers
from coopfunds.funds.services import (
    AdjustmentReason,
    _close_fund,
    fund_accrue,
    fund_adjust,
    fund_approve,
    fund_for_earning,
    fund_forfeit_expired,
    fund_pay,
    fund_release,
    fund_reserve,
    fund_split,
    rebate_share,
)
from coopfunds.programs.rules import RuleBook
from coopfunds.testing.factories import LocationFactory

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("20000"), places=2)
keys = count()


def run(world):
    class LedgerMachine(RuleBasedStateMachine):
        @initialize()
        def open_fund(self):
            # each example runs in a savepoint that teardown rolls back: examples never see each other
            self.savepoint = transaction.atomic()
            self.savepoint._from_testcase = True  # like Django's TestCase atomics: services' durable blocks run inside
            self.savepoint.__enter__()
            location = LocationFactory(organisation=world.partner)
            self.fund = fund_for_earning(location=location, program=world.program, earned_on=date(2026, 3, 1))
            self.model = {b.value: Decimal(0) for b in Bucket}
            self.closed = False
            self.gross = self.share = Decimal(0)

        def teardown(self):
            if hasattr(self, "savepoint"):
                transaction.set_rollback(True)
                self.savepoint.__exit__(None, None, None)

        def key(self, what):
            return f"prop:{next(keys)}:{what}"

        @rule(amount=amounts)
        def accrue(self, amount):
            # the model splits the fund's exact totals once, as the rule says (ADR 0010)
            coop_before, rebate_before = fund_split(self.gross, self.share)
            self.gross += amount
            self.share += rebate_share(world.program, amount)
            coop_after, rebate_after = fund_split(self.gross, self.share)
            coop, rebate = coop_after - coop_before, rebate_after - rebate_before
            with transaction.atomic():
                fund_accrue(
                    fund=self.fund,
                    amount=amount,
                    rebate=rebate_share(world.program, amount),
                    key=self.key("accrue"),
                    reference="prop",
                    effective_on=date(2026, 3, 1),
                )
            self.model[Bucket.REBATE] += rebate
            self.model[
                Bucket.ACCRUED if not self.closed else Bucket.AVAILABLE if self.went_available else Bucket.CONVERTED
            ] += coop

        @rule()
        def close(self):
            with transaction.atomic():
                _close_fund(self.fund, RuleBook(world.program), None)
            if not self.closed:
                dst = (
                    Bucket.AVAILABLE if self.model[Bucket.ACCRUED] >= world.program.coop_threshold else Bucket.CONVERTED
                )
                self.went_available = dst == Bucket.AVAILABLE
                self.model[dst] += self.model[Bucket.ACCRUED]
                self.model[Bucket.ACCRUED] = Decimal(0)
                self.closed = True

        def move(self, service, src, dst, amount, **extra):
            try:
                with transaction.atomic():
                    service(fund=self.fund, amount=amount, key=self.key("move"), reference="prop", actor=None, **extra)
            except ledger.InsufficientFunds:
                assert self.model[src] < amount
                return
            assert self.model[src] >= amount
            self.model[src] -= amount
            self.model[dst] += amount

        @rule(amount=amounts)
        def reserve(self, amount):
            self.move(fund_reserve, Bucket.AVAILABLE, Bucket.RESERVED, amount)

        @rule(amount=amounts)
        def release(self, amount):
            self.move(fund_release, Bucket.RESERVED, Bucket.AVAILABLE, amount)

        @rule(amount=amounts)
        def approve(self, amount):
            self.move(fund_approve, Bucket.RESERVED, Bucket.PAYABLE, amount)

        @rule(amount=amounts, bucket=st.sampled_from([Bucket.PAYABLE, Bucket.REBATE, Bucket.CONVERTED]))
        def pay(self, amount, bucket):
            self.move(
                fund_pay, bucket, Bucket.PAID if bucket == Bucket.PAYABLE else Bucket.REBATE_PAID, amount, bucket=bucket
            )

        @rule()
        def forfeit(self):
            if not self.closed:
                return
            fund_forfeit_expired(program=world.program, today=date(2027, 1, 1))
            self.model[Bucket.FORFEITED] += self.model[Bucket.AVAILABLE]
            self.model[Bucket.AVAILABLE] = Decimal(0)

        @rule(amount=st.decimals(min_value=Decimal("-20000"), max_value=Decimal("20000"), places=2).filter(bool))
        def adjust(self, amount):
            try:
                fund_adjust(
                    fund=self.fund,
                    amount=amount,
                    reason_code=AdjustmentReason.OPERATIONS,
                    memo="property test",
                    key=self.key("adjust"),
                    actor=world.program_manager,
                )
            except ledger.InsufficientFunds:
                assert self.model[Bucket.AVAILABLE] + amount < 0
                return
            self.model[Bucket.AVAILABLE] += amount

        @invariant()
        def balances_match_the_model_and_the_entries(self):
            b = balances(self.fund)
            for bucket in (
                "accrued",
                "available",
                "reserved",
                "payable",
                "paid",
                "forfeited",
                "converted",
                "rebate",
                "rebate_paid",
            ):
                assert getattr(b, bucket) == self.model[bucket], bucket
                assert getattr(b, bucket) >= 0
            assert unbalanced_transfers() == []
            assert ledger_drift() == []

    LedgerMachine.TestCase.settings = settings(
        max_examples=25, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)
    )
    return LedgerMachine


@pytest.mark.django_db
def test_ledger_invariants_hold_for_random_sequences(world):
    from hypothesis.stateful import run_state_machine_as_test

    machine = run(world)
    run_state_machine_as_test(machine, settings=machine.TestCase.settings)
