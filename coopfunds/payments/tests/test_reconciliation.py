"""Reconciliation: a location's transaction history export sums exactly to its ledger balances, on data made by
the real services (earnings over several periods, threshold conversion, claims approved, rejected and pending,
an adjustment, forfeiture, payment runs, a bank reversal and a second run)."""

import csv
import io
from datetime import date
from decimal import Decimal

from django.urls import reverse

from coopfunds.claims import services as claim_services
from coopfunds.claims.tests.helpers import MISSING
from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.models import Fund
from coopfunds.funds.services import fund_adjust, fund_forfeit_expired, period_close
from coopfunds.funds.tests.conftest import csv_file
from coopfunds.payments import rates, runs, services, statement
from coopfunds.payments.models import Payment
from coopfunds.payments.tests.conftest import RUN_DATE, approved_claim, ready_claim


def generated(w):
    """More history on top of pay_world: earnings lines of many days (the FY26 H2 fund stays below the
    threshold and converts), claims in every outcome, an adjustment, two runs and a reversal."""
    lines = [
        f"2026-{1 + i % 6:02d}-{1 + (7 * i) % 28:02d},FAB-001,coop,{100 + 37 * i}.{i % 100:02d},USD,,,,G-{i}"
        for i in range(40)
    ]
    lines += [
        f"2026-{7 + i % 4:02d}-{1 + (5 * i) % 28:02d},FAB-001,coop,{300 + 13 * i}.{(3 * i) % 100:02d},USD,,,,H-{i}"
        for i in range(25)
    ]
    earnings_import(stream=csv_file(*lines), file_name="more.csv", actor=w.finance)
    period_close(program=w.program, today=date(2026, 11, 20))
    for n in range(3):
        approved_claim(w, amount=f"{250 + 111 * n}.{n}5", invoice=f"R-{n}")
    claim = claim_services.claim_submit(claim=ready_claim(w, amount="333.33", invoice="REJ"), actor=w.partner_admin)
    claim_services.claim_reject(claim=claim, actor=w.reviewer, reasons=MISSING, message="No.")
    claim_services.claim_submit(claim=ready_claim(w, amount="77.70", invoice="PEND"), actor=w.partner_admin)
    fund_adjust(
        fund=w.fund,
        amount=Decimal("-123.45"),
        reason_code="operations_adjustment",
        memo="Correction",
        key="adj-1",
        actor=w.program_manager,
    )
    run = runs.payment_run_prepare(entity=w.entity, run_date=RUN_DATE, actor=w.finance)
    runs.payment_run_approve(run=run, actor=w.finance2)
    runs.payment_run_export(run=run, actor=w.finance)
    berlin = Payment.objects.get(location=w.location, run=run)
    services.payment_mark_sent(payment=berlin, actor=w.finance)
    services.payment_mark_reversed(payment=berlin, actor=w.finance, note="Account closed")
    approved_claim(w, amount="42.42", invoice="LATE")
    services.exchange_rates_set(
        rows=[rates.clean_rate(month="2026-12", source="USD", target="EUR", rate="0.9123")], actor=w.finance
    )
    run2 = runs.payment_run_prepare(entity=w.entity, run_date=date(2026, 12, 15), actor=w.finance)
    runs.payment_run_approve(run=run2, actor=w.finance2)
    period_close(program=w.program, today=date(2027, 1, 2))  # FY27 H2's co-op is below the threshold: converted
    fund_forfeit_expired(program=w.program, today=date(2027, 7, 1))


def test_statement_sums_exactly_to_ledger_balances(pay_world, as_persona):
    w = pay_world
    generated(w)
    assert Fund.objects.filter(location=w.location).count() == 2
    response = as_persona("partner_admin").get(reverse("payment_statement_csv") + f"?location={w.location.pk}")
    assert response.status_code == 200
    table = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header, body = table[0], table[1:]
    assert header[:7] == ["Date", "Program", "Fund", "Currency", "Movement", "Reference", "Memo"]
    labels = dict(zip(header[7:], statement.BUCKETS, strict=True))
    totals: dict[tuple[str, str], Decimal] = {}
    for row in body:
        for label, bucket in labels.items():
            cell = row[header.index(label)]
            if cell:
                totals[(row[2], bucket)] = totals.get((row[2], bucket), Decimal(0)) + Decimal(cell)
    ledger = {
        (fund.label, bucket): amount
        for fund in Fund.objects.filter(location=w.location)
        for bucket, amount in statement.balances(w.location)[fund.pk].items()
    }
    assert {k: v for k, v in totals.items() if v} == {k: v for k, v in ledger.items() if v}
    movements = {row[4] for row in body}
    assert movements >= {
        "Earned",
        "Made available",
        "Converted to rebate",
        "Claimed",
        "Released",
        "Approved",
        "Paid",
        "Payment returned",
        "Adjusted",
        "Forfeited",
    }
    # Every movement of the location's funds is one row per fund: none dropped, none twice.
    assert len(body) == len(list(statement.rows(statement.entries_of(w.location))))


def test_statement_api_balances_match(pay_world, api_as):
    generated(pay_world)
    body = api_as("partner_user").get(f"/api/v1/payments/statement?location_id={pay_world.location.pk}").json()
    sums: dict[tuple[str, str], Decimal] = {}
    for row in body["rows"]:
        for bucket, amount in row["amounts"].items():
            sums[(str(row["fund_id"]), bucket)] = sums.get((str(row["fund_id"]), bucket), Decimal(0)) + Decimal(amount)
    balances = {(f, b): Decimal(v) for f, buckets in body["balances"].items() for b, v in buckets.items()}
    assert {k: v for k, v in sums.items() if v} == {k: v for k, v in balances.items() if v}
    assert (
        api_as("other_admin").get(f"/api/v1/payments/statement?location_id={pay_world.location.pk}").status_code == 404
    )
