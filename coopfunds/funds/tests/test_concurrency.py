"""Many real connections reserve from one fund at once (PostgreSQL: real row locks, real concurrency)."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from coopfunds.funds import ledger
from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.models import Entry, Fund, Transfer
from coopfunds.funds.selectors import balances, ledger_drift
from coopfunds.funds.services import fund_reserve, period_close
from coopfunds.funds.tests.conftest import csv_file

CLIENTS = 16
ATTEMPTS = 10


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database with row locks")
@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_never_overdraw(enrolled):
    earnings_import(
        stream=csv_file("2026-03-15,FAB-001,coop,30000.00,USD,,,,A-1"), file_name="e.csv", actor=enrolled.finance
    )
    period_close(program=enrolled.program, today=date(2026, 7, 1))
    fund = Fund.objects.get(location=enrolled.location)  # 12,000.00 available
    outcomes: list[str] = []
    barrier = threading.Barrier(CLIENTS)

    def client(n: int) -> None:
        barrier.wait()
        try:
            for i in range(ATTEMPTS):
                try:
                    with transaction.atomic(durable=True):
                        fund_reserve(
                            fund=fund,
                            amount=Decimal("100.00"),
                            key=f"claim:{n}-{i}:submit",
                            reference=f"claim:{n}-{i}",
                            actor=enrolled.partner_admin,
                        )
                    outcomes.append("reserved")
                except ledger.InsufficientFunds:
                    outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert (outcomes.count("reserved"), outcomes.count("refused")) == (120, 40)
    b = balances(fund)
    assert (b.available, b.reserved) == (Decimal("0.00"), Decimal("12000.00"))
    assert Transfer.objects.filter(kind="reserve").count() == 120
    assert Entry.objects.aggregate(total=Sum("amount"))["total"] == Decimal("0.00")
    assert ledger_drift() == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database with row locks")
@pytest.mark.django_db(transaction=True)
def test_opposite_moves_on_one_fund_never_deadlock(enrolled):
    """Reservations (available -> reserved) and releases (reserved -> available) on one fund at once lock the
    same two rows from opposite ends; the ledger takes them in one order, so no transaction waits forever
    (PostgreSQL would abort one with a deadlock error) and every outcome is accounted for exactly."""
    from coopfunds.funds.services import fund_release

    earnings_import(
        stream=csv_file("2026-03-15,FAB-001,coop,30000.00,USD,,,,A-1"), file_name="e.csv", actor=enrolled.finance
    )
    period_close(program=enrolled.program, today=date(2026, 7, 1))
    fund = Fund.objects.get(location=enrolled.location)  # 12,000.00 available
    with transaction.atomic():
        fund_reserve(fund=fund, amount=Decimal("6000.00"), key="seed", reference="seed", actor=enrolled.partner_admin)
    outcomes: list[tuple[str, bool]] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(CLIENTS)

    def client(n: int) -> None:
        act, verb = (fund_reserve, "reserve") if n % 2 else (fund_release, "release")
        barrier.wait()
        try:
            for i in range(ATTEMPTS):
                try:
                    with transaction.atomic(durable=True):
                        act(
                            fund=fund,
                            amount=Decimal("100.00"),
                            key=f"{verb}:{n}-{i}",
                            reference=f"claim:{n}-{i}",
                            actor=enrolled.partner_admin,
                        )
                    outcomes.append((verb, True))
                except ledger.InsufficientFunds:
                    outcomes.append((verb, False))
        except BaseException as error:  # a deadlock would surface here
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert failures == []
    assert len(outcomes) == CLIENTS * ATTEMPTS
    reserved = outcomes.count(("reserve", True))
    released = outcomes.count(("release", True))
    b = balances(fund)
    assert (b.available, b.reserved) == (
        Decimal("6000.00") - 100 * reserved + 100 * released,
        Decimal("6000.00") + 100 * reserved - 100 * released,
    )
    assert Transfer.objects.filter(kind__in=["reserve", "release"]).count() == 1 + reserved + released
    assert Entry.objects.aggregate(total=Sum("amount"))["total"] == Decimal("0.00")
    assert ledger_drift() == []
