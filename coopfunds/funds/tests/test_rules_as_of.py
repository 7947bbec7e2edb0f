"""A period's close follows the rules of its own dates, the split is rounded once per fund, and late earnings do
what the program says (issue: program rules as of their date, exact earnings arithmetic)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from coopfunds.audit.models import AuditEvent
from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.models import Bucket, EarningLine, Fund, Transfer, TransferKind
from coopfunds.funds.selectors import balances, ledger_drift
from coopfunds.funds.services import fund_pay, period_close, run_fund_jobs
from coopfunds.funds.tests.conftest import csv_file
from coopfunds.programs import rules, services
from coopfunds.programs.models import RuleVersion

pytestmark = pytest.mark.django_db

D = Decimal


def at(time_machine, day: date, hour: int = 12) -> None:
    time_machine.move_to(datetime(day.year, day.month, day.day, hour, tzinfo=UTC), tick=False)


def earn(world, *rows):
    batch = earnings_import(stream=csv_file(*rows), file_name="e.csv", actor=world.finance)
    assert batch.status == "applied", batch.errors


def berlin(world) -> Fund:
    return Fund.objects.get(location=world.location)


def test_lowering_the_threshold_after_the_period_ended_does_not_change_its_close(enrolled, time_machine):
    """22,500 earned: 9,000 co-op, under the 10,000 threshold that was the rule during Jan–Jun 2026."""
    at(time_machine, date(2026, 6, 20))
    earn(enrolled, "2026-03-15,FAB-001,coop,22500.00,USD,,,,A-1")
    at(time_machine, date(2026, 7, 5))
    services.program_update(
        program=enrolled.program,
        actor=enrolled.program_manager,
        coop_threshold=D("5000.00"),
        confirm=True,
        reason="Smaller partners",
    )
    period_close(program=enrolled.program, today=date(2026, 7, 6))
    fund = berlin(enrolled)
    b = balances(fund)
    assert (b.available, b.converted, b.rebate) == (D("0.00"), D("9000.00"), D("13500.00"))
    assert (fund.threshold_applied, fund.converted_to_rebate, fund.rules_version) == (D("10000.00"), True, 1)
    assert Transfer.objects.get(kind=TransferKind.CONVERT).memo == (
        "Co-op of 9000.00 USD for 01 Jan 2026–30 Jun 2026 is below the program threshold of 10000.00 USD: "
        "paid as rebate instead."
    )


def test_a_threshold_changed_mid_period_decides_that_period(enrolled, time_machine):
    """The rules in force on the earning period's last day decide its close."""
    at(time_machine, date(2026, 6, 15))
    services.program_update(
        program=enrolled.program, actor=enrolled.program_manager, coop_threshold=D("5000.00"), confirm=True
    )
    earn(enrolled, "2026-03-15,FAB-001,coop,22500.00,USD,,,,A-1")
    at(time_machine, date(2026, 7, 10))
    services.program_update(  # raised again after the period: not its rule
        program=enrolled.program, actor=enrolled.program_manager, coop_threshold=D("20000.00"), confirm=True
    )
    period_close(program=enrolled.program, today=date(2026, 7, 11))
    fund = berlin(enrolled)
    assert (balances(fund).available, fund.threshold_applied, fund.rules_version) == (D("9000.00"), D("5000.00"), 2)
    versions = RuleVersion.objects.filter(program=enrolled.program)
    assert [(v.number, v.rules["coop_threshold"]) for v in versions] == [
        (3, "20000.00"),
        (2, "5000.00"),
        (1, "10000.00"),
    ]


def test_a_rule_that_decides_the_running_period_asks_for_confirmation(enrolled, time_machine):
    at(time_machine, date(2026, 5, 4))
    with pytest.raises(ValidationError) as error:
        services.program_update(program=enrolled.program, actor=enrolled.program_manager, coop_threshold=D("5000"))
    assert error.value.message_dict == {
        "confirm": [
            "This changes the co-op threshold, which decide the close of the earning period now running (FY26 H2, "
            "01 Jan 2026 to 30 Jun 2026): its close will use the new rules. Confirm to go ahead."
        ]
    }
    enrolled.program.refresh_from_db()
    assert (enrolled.program.coop_threshold, RuleVersion.objects.count(), AuditEvent.objects.count()) == (
        D("10000.00"),
        0,
        0,
    )
    # a rule that only reaches what happens from now on needs no confirmation, and is its own version
    services.program_update(program=enrolled.program, actor=enrolled.program_manager, payment_day=20, reason="Bank")
    event = AuditEvent.objects.get(verb="program.update")
    assert (event.changes, event.reason) == ({"payment_day": [15, 20], "rules_version": [1, 2]}, "Bank")
    newest = RuleVersion.objects.get(number=2)
    assert (newest.changed, newest.reason, newest.created_by, newest.rules["payment_day"]) == (
        ["payment_day"],
        "Bank",
        enrolled.program_manager,
        20,
    )
    assert rules.as_of(enrolled.program, date(2026, 5, 3)).payment_day == 15
    assert rules.as_of(enrolled.program, date(2026, 5, 4)).payment_day == 20


def test_the_split_is_rounded_once_per_fund_so_one_line_or_three_end_the_same(enrolled, time_machine):
    """25,000.00 at 60% rebate is 10,000.00 co-op, exactly the threshold: in one line, or in three lines whose
    rebates rounded one by one (0.01, 0.01, 14,999.99) would leave 9,999.99 co-op and convert it."""
    at(time_machine, date(2026, 6, 20))
    earn(enrolled, "2026-03-15,FAB-001,coop,25000.00,USD,,,,A-1")
    earn(
        enrolled,
        "2026-03-15,FAB-002,coop,0.01,USD,,,,B-1",
        "2026-03-16,FAB-002,coop,0.01,USD,,,,B-2",
        "2026-03-17,FAB-002,coop,24999.98,USD,,,,B-3",
    )
    period_close(program=enrolled.program, today=date(2026, 7, 1))
    one, three = berlin(enrolled), Fund.objects.get(location=enrolled.second_location)
    for fund in (one, three):
        b = balances(fund)
        assert (fund.earned, fund.earned_rebate, b.available, b.converted, b.rebate) == (
            D("10000.00"),
            D("15000.00"),
            D("10000.00"),
            D("0.00"),
            D("15000.00"),
        )
        assert fund.converted_to_rebate is False
    # each line still shows its own share, rounded on its own
    assert list(EarningLine.objects.filter(fund=three).values_list("coop_amount", "rebate_amount")) == [
        (D("0.00"), D("0.01")),
        (D("0.00"), D("0.01")),
        (D("9999.99"), D("14999.99")),
    ]
    assert ledger_drift() == []


def test_each_line_is_split_by_the_rules_of_its_day(enrolled, time_machine):
    at(time_machine, date(2026, 2, 1))
    services.program_update(
        program=enrolled.program, actor=enrolled.program_manager, rebate_percent=D("50"), confirm=True
    )
    at(time_machine, date(2026, 6, 20))
    earn(enrolled, "2026-01-20,FAB-001,coop,10000.00,USD,,,,A-1", "2026-03-15,FAB-001,coop,10000.00,USD,,,,A-2")
    fund = berlin(enrolled)
    # 60% rebate for the line of 20 Jan (the first version's rule), 50% for the line of 15 Mar
    assert (fund.earned, fund.earned_rebate) == (D("9000.00"), D("11000.00"))


@pytest.fixture
def converted(enrolled, time_machine):
    """Berlin's FY26 H2 fund closed with 9,000.00 co-op, below the 10,000.00 threshold: converted."""
    at(time_machine, date(2026, 6, 20))
    earn(enrolled, "2026-03-15,FAB-001,coop,22500.00,USD,,,,A-1")
    at(time_machine, date(2026, 7, 1))
    period_close(program=enrolled.program)
    return enrolled


def test_late_earnings_that_reach_the_threshold_make_the_period_available(converted, time_machine):
    at(time_machine, date(2026, 7, 20))
    earn(converted, "2026-06-30,FAB-001,coop,2500.00,USD,,,,A-2")  # +1,000 co-op: 10,000 in all
    fund = berlin(converted)
    assert balances(fund).converted == D("10000.00")  # until the period jobs run
    assert run_fund_jobs() == {"closed": 0, "reevaluated": 1, "forfeited": 0}
    fund.refresh_from_db()
    b = balances(fund)
    assert (b.available, b.converted, b.rebate, fund.converted_to_rebate) == (
        D("10000.00"),
        D("0.00"),
        D("15000.00"),
        False,
    )
    transfer = Transfer.objects.get(idempotency_key=f"reevaluate:{fund.pk}")
    assert transfer.memo == (
        "Late earnings took the period's co-op to 10000.00 USD, at or above the threshold of 10000.00 USD: "
        "available until 31 Dec 2026 instead of paid as rebate."
    )
    assert run_fund_jobs() == {"closed": 0, "reevaluated": 0, "forfeited": 0}
    assert ledger_drift() == []


def test_late_earnings_keep_the_outcome_where_the_program_says_so(converted, time_machine):
    at(time_machine, date(2026, 7, 2))
    services.program_update(
        program=converted.program, actor=converted.program_manager, late_earnings="keep", confirm=True
    )
    at(time_machine, date(2026, 7, 20))
    earn(converted, "2026-06-30,FAB-001,coop,2500.00,USD,,,,A-2")
    # the rule of the period's last day (re-evaluate) still applies to FY26 H2: changed later, it is not its rule
    assert run_fund_jobs()["reevaluated"] == 1


def test_keep_in_force_during_the_period_keeps_the_close(enrolled, time_machine):
    at(time_machine, date(2026, 6, 1))
    services.program_update(
        program=enrolled.program, actor=enrolled.program_manager, late_earnings="keep", confirm=True
    )
    earn(enrolled, "2026-03-15,FAB-001,coop,22500.00,USD,,,,A-1")
    at(time_machine, date(2026, 7, 1))
    period_close(program=enrolled.program)
    at(time_machine, date(2026, 7, 20))
    earn(enrolled, "2026-06-30,FAB-001,coop,2500.00,USD,,,,A-2")
    assert run_fund_jobs()["reevaluated"] == 0
    fund = berlin(enrolled)
    assert (balances(fund).converted, balances(fund).available, fund.converted_to_rebate) == (
        D("10000.00"),
        D("0.00"),
        True,
    )


def test_converted_co_op_already_paid_as_rebate_stays_paid(converted, time_machine):
    fund = berlin(converted)
    with transaction.atomic():
        fund_pay(fund=fund, bucket=Bucket.CONVERTED, amount=D("9000.00"), key="pay", reference="run:1", actor=None)
    at(time_machine, date(2026, 7, 20))
    earn(converted, "2026-06-30,FAB-001,coop,2500.00,USD,,,,A-2")
    assert run_fund_jobs()["reevaluated"] == 0
    b = balances(fund)
    assert (b.available, b.converted, b.rebate_paid) == (D("0.00"), D("1000.00"), D("9000.00"))
