from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import translation

from coopfunds.audit.models import AuditEvent
from coopfunds.funds import ledger
from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.models import Account, Bucket, Entry, Fund, Transfer, TransferKind
from coopfunds.funds.selectors import balances, ledger_drift
from coopfunds.funds.services import (
    AdjustmentReason,
    fund_adjust,
    fund_approve,
    fund_forfeit_expired,
    fund_pay,
    fund_release,
    fund_reserve,
    period_close,
    run_fund_jobs,
)
from coopfunds.funds.tests.conftest import csv_file

pytestmark = pytest.mark.django_db

D = Decimal


def earn(world, *rows):
    batch = earnings_import(stream=csv_file(*rows), file_name="e.csv", actor=world.finance)
    assert batch.status == "applied", batch.errors


@pytest.fixture
def open_fund(enrolled):
    """Berlin earned 30,000 (co-op 12,000 ≥ threshold 10,000) in FY26 H2; the period is closed."""
    earn(enrolled, "2026-03-15,FAB-001,coop,30000.00,USD,,,,A-1")
    period_close(program=enrolled.program, today=date(2026, 7, 1))
    return Fund.objects.get(location=enrolled.location)


def test_close_above_threshold_makes_coop_available(open_fund):
    b = balances(open_fund)
    assert (b.earned, b.accrued, b.available, b.converted, b.rebate) == (
        D("12000.00"),
        0,
        D("12000.00"),
        0,
        D("18000.00"),
    )
    transfer = Transfer.objects.get(kind=TransferKind.CLOSE)
    assert transfer.memo == "Earning period closed: 12000.00 USD co-op available until 31 Dec 2026."
    with translation.override("sv"):  # stored in English; read in the reader's language
        assert transfer.memo_text == (
            "Intjäningsperioden avslutad: 12000,00 USD i samarbetsmedel tillgängligt till och med 31 dec 2026."
        )
    open_fund.refresh_from_db()
    assert (open_fund.threshold_applied, open_fund.converted_to_rebate) == (D("10000.00"), False)


def test_close_below_threshold_converts_to_rebate_with_the_reason(enrolled):
    earn(enrolled, "2026-03-15,FAB-002,coop,20000.00,USD,,,,B-1")  # co-op 8,000 < 10,000
    outcomes = period_close(program=enrolled.program, today=date(2026, 7, 1))
    assert [(o.coop, o.converted) for o in outcomes] == [(D("8000.00"), True)]
    b = balances(Fund.objects.get(location=enrolled.second_location))
    assert (b.available, b.converted, b.rebate, b.remaining) == (0, D("8000.00"), D("12000.00"), 0)
    assert Transfer.objects.get(kind=TransferKind.CONVERT).memo == (
        "Co-op of 8000.00 USD for 01 Jan 2026–30 Jun 2026 is below the program threshold of 10000.00 USD: paid as rebate instead."
    )


def test_closing_twice_or_before_the_end_changes_nothing(enrolled):
    earn(enrolled, "2026-03-15,FAB-001,coop,30000.00,USD,,,,A-1")
    assert period_close(program=enrolled.program, today=date(2026, 6, 30)) == []  # period not over yet
    assert len(period_close(program=enrolled.program, today=date(2026, 7, 1))) == 1
    count = Transfer.objects.count()
    assert period_close(program=enrolled.program, today=date(2026, 8, 1)) == []
    assert Transfer.objects.count() == count


def test_late_earnings_follow_the_close(open_fund, enrolled):
    earn(enrolled, "2026-06-30,FAB-001,coop,1000.00,USD,,,,A-2")
    b = balances(open_fund)
    assert (b.earned, b.available, b.accrued) == (D("12400.00"), D("12400.00"), 0)


def test_reserve_approve_pay_and_release(open_fund, enrolled):
    with transaction.atomic():
        fund_reserve(
            fund=open_fund, amount=D("5000.00"), key="claim:1:submit", reference="claim:1", actor=enrolled.partner_admin
        )
        fund_reserve(
            fund=open_fund, amount=D("2000.00"), key="claim:2:submit", reference="claim:2", actor=enrolled.partner_admin
        )
        fund_approve(
            fund=open_fund, amount=D("5000.00"), key="claim:1:approve", reference="claim:1", actor=enrolled.reviewer
        )
        fund_release(
            fund=open_fund, amount=D("2000.00"), key="claim:2:reject", reference="claim:2", actor=enrolled.reviewer
        )
        fund_pay(
            fund=open_fund,
            bucket=Bucket.PAYABLE,
            amount=D("5000.00"),
            key="pay:1",
            reference="payment:1",
            actor=enrolled.finance,
        )
        fund_pay(
            fund=open_fund,
            bucket=Bucket.REBATE,
            amount=D("18000.00"),
            key="pay:2",
            reference="payment:1",
            actor=enrolled.finance,
        )
    b = balances(open_fund)
    assert (b.available, b.reserved, b.payable, b.paid, b.rebate, b.rebate_paid, b.claimed) == (
        D("7000.00"),
        0,
        0,
        D("5000.00"),
        0,
        D("18000.00"),
        D("5000.00"),
    )
    assert ledger_drift() == []


def test_a_reservation_never_overdraws_and_leaves_nothing_behind(open_fund, enrolled):
    before = (Transfer.objects.count(), Entry.objects.count())
    with transaction.atomic(), pytest.raises(ledger.InsufficientFunds) as refused:
        fund_reserve(
            fund=open_fund,
            amount=D("12000.01"),
            key="claim:9:submit",
            reference="claim:9",
            actor=enrolled.partner_admin,
        )
    assert refused.value.message == "Not enough money available in the fund: 12000.01 needed."
    assert (Transfer.objects.count(), Entry.objects.count()) == before
    assert balances(open_fund).available == D("12000.00")


def test_same_key_same_content_returns_the_first_transfer(open_fund, enrolled):
    with transaction.atomic():
        first = fund_reserve(
            fund=open_fund, amount=D("100.00"), key="claim:1:submit", reference="claim:1", actor=enrolled.partner_admin
        )
        again = fund_reserve(
            fund=open_fund, amount=D("100.00"), key="claim:1:submit", reference="claim:1", actor=enrolled.partner_admin
        )
    assert again.pk == first.pk
    assert balances(open_fund).reserved == D("100.00")


def test_same_key_other_content_is_refused(open_fund, enrolled):
    with transaction.atomic():
        fund_reserve(
            fund=open_fund, amount=D("100.00"), key="claim:1:submit", reference="claim:1", actor=enrolled.partner_admin
        )
    with transaction.atomic(), pytest.raises(ledger.IdempotencyConflict):
        fund_reserve(
            fund=open_fund, amount=D("200.00"), key="claim:1:submit", reference="claim:1", actor=enrolled.partner_admin
        )
    assert balances(open_fund).reserved == D("100.00")


def test_forfeiture_takes_available_but_waits_for_pending_claims(open_fund, enrolled):
    with transaction.atomic():
        fund_reserve(
            fund=open_fund, amount=D("3000.00"), key="claim:1:submit", reference="claim:1", actor=enrolled.partner_admin
        )
    assert fund_forfeit_expired(program=enrolled.program, today=date(2026, 12, 31)) == []  # last day of usage
    [transfer] = fund_forfeit_expired(program=enrolled.program, today=date(2027, 1, 1))
    assert transfer.memo == "Not used by the end of the usage period (31 Dec 2026): forfeited."
    b = balances(open_fund)
    assert (b.available, b.reserved, b.forfeited) == (0, D("3000.00"), D("9000.00"))
    assert fund_forfeit_expired(program=enrolled.program, today=date(2027, 1, 2)) == []


def test_money_released_after_the_usage_period_is_forfeited(open_fund, enrolled, time_machine):
    with transaction.atomic():
        fund_reserve(
            fund=open_fund, amount=D("3000.00"), key="claim:1:submit", reference="claim:1", actor=enrolled.partner_admin
        )
    time_machine.move_to(date(2027, 1, 5))
    with transaction.atomic():
        transfer = fund_release(
            fund=open_fund, amount=D("3000.00"), key="claim:1:reject", reference="claim:1", actor=enrolled.reviewer
        )
    assert transfer.kind == TransferKind.FORFEIT
    b = balances(open_fund)
    assert (b.reserved, b.forfeited, b.available) == (0, D("3000.00"), D("9000.00"))


def test_fund_jobs_are_idempotent(enrolled):
    earn(enrolled, "2026-03-15,FAB-001,coop,30000.00,USD,,,,A-1", "2026-03-15,FAB-002,coop,100.00,USD,,,,B-1")
    assert run_fund_jobs(date(2027, 1, 1)) == {"closed": 2, "reevaluated": 0, "forfeited": 1}
    assert run_fund_jobs(date(2027, 1, 1)) == {"closed": 0, "reevaluated": 0, "forfeited": 0}
    assert ledger_drift() == []


def test_adjustments_credit_debit_and_rollover(open_fund, enrolled):
    earn(enrolled, "2026-09-15,FAB-001,coop,100.00,USD,,,,N-1")
    next_fund = Fund.objects.get(location=enrolled.location, label="FY27 H2")
    pm = enrolled.program_manager
    fund_adjust(
        fund=open_fund,
        amount=D("500.00"),
        reason_code=AdjustmentReason.POLICY_EXCEPTION,
        memo="Launch event",
        key="adj:1",
        actor=pm,
    )
    fund_adjust(
        fund=open_fund,
        amount=D("-200.00"),
        reason_code=AdjustmentReason.OPERATIONS,
        memo="Duplicate earning",
        key="adj:2",
        actor=pm,
    )
    fund_adjust(
        fund=open_fund,
        amount=D("1000.00"),
        reason_code=AdjustmentReason.ROLLOVER,
        memo="Agreed rollover",
        key="adj:3",
        actor=pm,
        to_fund=next_fund,
    )
    assert balances(open_fund).available == D("11300.00")
    assert balances(next_fund).available == D("1000.00")
    assert list(AuditEvent.objects.filter(verb="fund.adjust").values_list("reason", flat=True).order_by("id")) == [
        "Launch event",
        "Duplicate earning",
        "Agreed rollover",
    ]
    assert ledger_drift() == []


def test_adjustment_input_errors(open_fund, enrolled):
    with pytest.raises(ValidationError) as error:
        fund_adjust(
            fund=open_fund, amount=D("0"), reason_code="whim", memo=" ", key="adj:1", actor=enrolled.program_manager
        )
    assert error.value.message_dict == {
        "reason_code": [
            "Choose a reason: policy exception, previous period, operations adjustment, rollover to another period."
        ],
        "memo": ["Say why, in a sentence the partner will read."],
        "amount": ["The amount must not be zero."],
    }


def test_a_debit_cannot_overdraw(open_fund, enrolled):
    with pytest.raises(ledger.InsufficientFunds):
        fund_adjust(
            fund=open_fund,
            amount=D("-12000.01"),
            reason_code=AdjustmentReason.OPERATIONS,
            memo="x",
            key="adj:1",
            actor=enrolled.program_manager,
        )
    assert AuditEvent.objects.filter(verb="fund.adjust").count() == 0


@pytest.mark.parametrize("persona", ["partner_admin", "partner_user", "other_admin", "reviewer", "finance", "auditor"])
def test_only_program_managers_adjust(open_fund, enrolled, persona):
    before = Transfer.objects.count()
    with pytest.raises(PermissionDenied):
        fund_adjust(
            fund=open_fund,
            amount=D("1.00"),
            reason_code=AdjustmentReason.OPERATIONS,
            memo="x",
            key="adj:1",
            actor=getattr(enrolled, persona),
        )
    assert Transfer.objects.count() == before


def test_ledger_verify_reports_drift(open_fund, capsys):
    call_command("ledger_verify")
    assert "Ledger consistent" in capsys.readouterr().out
    Account.objects.filter(fund=open_fund, bucket=Bucket.AVAILABLE).update(balance=D("99.00"))
    with pytest.raises(CommandError, match="1 drifting balance"):
        call_command("ledger_verify")
    assert f"DRIFT {open_fund}:available: cached 99.00, entries say 12000.00" in capsys.readouterr().out


def test_the_database_refuses_a_negative_fund_balance(open_fund):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(fund=open_fund, bucket=Bucket.AVAILABLE).update(balance=D("-1.00"))


def test_a_funds_accounts_are_numbered_in_bucket_order(open_fund, enrolled):
    """Postings lock accounts in id order; `ledger.move` locks a fund's buckets in FUND_BUCKETS order without
    reading their ids. Both orders must be the same, or two opposite moves on one fund could deadlock."""
    from coopfunds.funds.models import FUND_BUCKETS
    from coopfunds.funds.services import fund_for_earning

    with transaction.atomic():
        other = fund_for_earning(location=enrolled.location, program=enrolled.program, earned_on=date(2026, 9, 1))
    for fund in (open_fund, other):
        by_id = list(Account.objects.filter(fund=fund).order_by("pk").values_list("bucket", flat=True))
        assert by_id == list(FUND_BUCKETS)


def test_a_refused_move_leaves_the_transaction_usable_and_nothing_behind(open_fund, enrolled):
    """A refusal undoes itself without a savepoint: the caller's transaction goes on and commits the rest."""
    with transaction.atomic():
        fund_reserve(fund=open_fund, amount=D("100.00"), key="c:1", reference="claim:1", actor=enrolled.partner_admin)
        before = (Transfer.objects.count(), Entry.objects.count())
        with pytest.raises(ledger.InsufficientFunds):
            fund_approve(
                fund=open_fund, amount=D("100.01"), key="c:1:approve", reference="claim:1", actor=enrolled.reviewer
            )
        assert (Transfer.objects.count(), Entry.objects.count()) == before
        with pytest.raises(ledger.InsufficientFunds):  # refused on its second bucket: the first is undone
            fund_release(
                fund=open_fund, amount=D("100.01"), key="c:1:release", reference="claim:1", actor=enrolled.reviewer
            )
        assert (Transfer.objects.count(), Entry.objects.count()) == before
        assert (balances(open_fund).available, balances(open_fund).reserved) == (D("11900.00"), D("100.00"))
        again = fund_approve(
            fund=open_fund, amount=D("100.00"), key="c:1:approve", reference="claim:1", actor=enrolled.reviewer
        )
    b = balances(open_fund)
    assert (b.available, b.reserved, b.payable) == (D("11900.00"), 0, D("100.00"))
    assert list(again.entries.order_by("amount").values_list("account__bucket", "amount")) == [
        ("reserved", D("-100.00")),
        ("payable", D("100.00")),
    ]
    assert ledger_drift() == []
