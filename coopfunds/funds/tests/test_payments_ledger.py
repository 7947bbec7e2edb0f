"""The building blocks payments use: `funds_pay` (payable, rebate and converted -> paid, as one transfer) and
its mirror image when the bank gives money back (`back=True`)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from coopfunds.funds.ledger import IdempotencyConflict, InsufficientFunds
from coopfunds.funds.models import Account, Bucket, Transfer
from coopfunds.funds.selectors import ledger_drift, unbalanced_transfers
from coopfunds.funds.services import fund_accrue, fund_for_earning, funds_pay, paid_bucket, period_close

DAY = date(2026, 11, 30)


@pytest.fixture
def fund(enrolled):
    """Berlin's FY26 H2 fund: 20,000.00 earned, 12,000.00 rebate payable, 8,000.00 co-op converted (below
    the 10,000.00 threshold)."""
    with transaction.atomic():
        fund = fund_for_earning(location=enrolled.location, program=enrolled.program, earned_on=date(2026, 3, 1))
        fund_accrue(
            fund=fund,
            amount=Decimal("20000.00"),
            rebate=Decimal("12000.00"),
            key="seed",
            reference="test",
            effective_on=date(2026, 3, 1),
        )
    period_close(program=enrolled.program, today=date(2026, 7, 1))
    return fund


def balances(fund):
    return {a.bucket: a.balance for a in Account.objects.filter(fund=fund) if a.balance}


def pay(fund, *, key="run:1:pay:USD:1", back=False, rebate="12000.00", converted="8000.00"):
    with transaction.atomic():
        return funds_pay(
            items=[(fund.pk, Bucket.REBATE, Decimal(rebate)), (fund.pk, Bucket.CONVERTED, Decimal(converted))],
            key=key,
            reference="run:1",
            effective_on=DAY,
            actor=None,
            memo="Payment run 1",
            back=back,
        )


def test_pay_moves_payable_buckets_to_paid_in_one_transfer(fund):
    transfer = pay(fund)
    assert (transfer.kind, transfer.reference, transfer.effective_on, transfer.entries.count()) == (
        "pay",
        "run:1",
        DAY,
        4,
    )
    assert balances(fund) == {"rebate_paid": Decimal("20000.00")}
    assert (ledger_drift(), unbalanced_transfers()) == ([], [])


def test_pay_is_idempotent_by_key(fund):
    first = pay(fund)
    assert pay(fund) == first
    assert Transfer.objects.filter(kind="pay").count() == 1
    with pytest.raises(IdempotencyConflict):
        pay(fund, rebate="1.00")


def test_pay_refuses_to_overdraw(fund):
    with pytest.raises(InsufficientFunds):
        pay(fund, rebate="12000.01")
    assert balances(fund) == {"rebate": Decimal("12000.00"), "converted": Decimal("8000.00")}
    assert Transfer.objects.filter(kind="pay").count() == 0


def test_back_makes_paid_money_payable_again(fund):
    pay(fund)
    transfer = pay(fund, key="payment:7:returned:USD", back=True)
    assert transfer.kind == "reverse"
    assert balances(fund) == {"rebate": Decimal("12000.00"), "converted": Decimal("8000.00")}
    assert (ledger_drift(), unbalanced_transfers()) == ([], [])


def test_back_refuses_more_than_was_paid(fund):
    with pytest.raises(InsufficientFunds):
        pay(fund, key="payment:7:returned:USD", back=True)


def test_only_payable_buckets_are_paid(fund):
    assert [paid_bucket(b) for b in (Bucket.PAYABLE, Bucket.REBATE, Bucket.CONVERTED)] == [
        Bucket.PAID,
        Bucket.REBATE_PAID,
        Bucket.REBATE_PAID,
    ]
    with pytest.raises(ValueError, match="available is not payable"):
        paid_bucket(Bucket.AVAILABLE)
    with transaction.atomic(), pytest.raises(ValueError, match="positive"):
        funds_pay(items=[(fund.pk, Bucket.REBATE, Decimal(0))], key="k", reference="r", effective_on=DAY, actor=None)
