import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
import xmlschema

from coopfunds.audit.models import AuditEvent
from coopfunds.core.errors import Conflict, PermissionDenied, ValidationError
from coopfunds.enrollments.tests.helpers import BIC
from coopfunds.funds.models import Account, Bucket, Transfer
from coopfunds.payments import rates, runs, services
from coopfunds.payments.models import BankFile, Payment, PaymentLine, PaymentRun
from coopfunds.payments.tests.conftest import (
    ENTITY_IBAN,
    PARTNER_IBAN,
    RUN_DATE,
    approve_profiles,
    approved,
    approved_claim,
    exported,
    prepared,
)

XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"


def balance(world, location, bucket):
    return Account.objects.get(fund__location=location, bucket=bucket).balance


def rows(payment):
    return list(payment.lines.order_by("id").values_list("bucket", "source_amount", "rate", "rate_month", "amount"))


def test_prepare_groups_per_location_converts_and_holds(pay_world):
    w = pay_world
    run = prepared(w)
    assert (run.status, run.prepared_by, run.run_date) == ("prepared", w.finance, RUN_DATE)
    berlin = Payment.objects.get(location=w.location)
    oslo = Payment.objects.get(location=w.other_location)
    assert (berlin.status, berlin.currency, berlin.amount, berlin.hold_reason, berlin.run) == (
        "upcoming",
        "EUR",
        Decimal("17100.00"),
        "",
        run,
    )
    assert rows(berlin) == [
        ("payable", Decimal("1000.00"), Decimal("0.9"), date(2026, 11, 1), Decimal("900.00")),
        ("rebate", Decimal("18000.00"), Decimal("0.9"), date(2026, 11, 1), Decimal("16200.00")),
    ]
    assert (oslo.status, oslo.currency, oslo.amount) == ("unprocessed", "USD", Decimal("18000.00"))
    assert oslo.hold_reason == "Add a payout profile (the bank account to pay). Add a tax profile."
    # Nothing moves in the ledger until a second finance user approves.
    assert Transfer.objects.filter(kind="pay").count() == 0
    assert AuditEvent.objects.filter(verb="payment_run.prepare").count() == 1
    assert AuditEvent.objects.filter(verb="payment.prepare").count() == 2


def test_missing_exchange_rate_holds_with_reason(pay_world):
    w = pay_world
    run = runs.payment_run_prepare(entity=w.entity, run_date=date(2026, 12, 15), actor=w.finance)
    berlin = run.payments.get(location=w.location)
    assert (berlin.status, berlin.amount) == ("unprocessed", Decimal("0.00"))
    assert berlin.hold_reason == (
        "No exchange rate from USD to EUR for December 2026 yet: the payment waits until finance adds it."
    )


def test_four_eyes_preparer_cannot_approve(pay_world):
    w = pay_world
    run = prepared(w)
    with pytest.raises(PermissionDenied):
        runs.payment_run_approve(run=run, actor=w.finance)
    run.refresh_from_db()
    assert run.status == "prepared"
    assert Transfer.objects.filter(kind="pay").count() == 0


@pytest.mark.parametrize("persona", ["partner_admin", "program_manager", "reviewer", "auditor"])
def test_only_finance_prepares(pay_world, persona):
    with pytest.raises(PermissionDenied):
        runs.payment_run_prepare(entity=pay_world.entity, run_date=RUN_DATE, actor=getattr(pay_world, persona))
    assert PaymentRun.objects.count() == 0
    assert Payment.objects.count() == 0


def test_approve_pays_in_the_ledger(pay_world):
    w = pay_world
    run = approved(w)
    berlin = Payment.objects.get(location=w.location)
    assert (run.status, run.approved_by, berlin.status) == ("approved", w.finance2, "in_progress")
    assert balance(w, w.location, Bucket.PAYABLE) == 0
    assert balance(w, w.location, Bucket.PAID) == Decimal("1000.00")
    assert balance(w, w.location, Bucket.REBATE) == 0
    assert balance(w, w.location, Bucket.REBATE_PAID) == Decimal("18000.00")
    # The held location's money stays payable.
    assert balance(w, w.other_location, Bucket.REBATE) == Decimal("18000.00")
    pay = Transfer.objects.get(kind="pay")
    assert (pay.idempotency_key, pay.reference, pay.effective_on) == (
        f"run:{run.pk}:pay:USD:1",
        f"run:{run.pk}",
        RUN_DATE,
    )
    assert sorted(pay.entries.values_list("account__bucket", "amount")) == sorted(
        [
            ("payable", Decimal("-1000.00")),
            ("paid", Decimal("1000.00")),
            ("rebate", Decimal("-18000.00")),
            ("rebate_paid", Decimal("18000.00")),
        ]
    )


def test_second_prepare_while_one_waits_is_refused(pay_world):
    prepared(pay_world)
    with pytest.raises(Conflict):
        prepared(pay_world)
    assert PaymentRun.objects.count() == 1


def test_run_date_in_the_past_and_nothing_payable(pay_world):
    w = pay_world
    with pytest.raises(ValidationError) as error:
        runs.payment_run_prepare(entity=w.entity, run_date=date(2026, 11, 1), actor=w.finance)
    assert error.value.message_dict == {"run_date": ["A run pays on 20 Nov 2026 or later."]}
    exported(w)
    approve_profiles(
        w, w.other_location, currency="EUR", iban="NO9386011117947", method="wire", bic="DNBANOKKXXX", bank_country="NO"
    )
    # Oslo's held payment is looked at again by the next run: its profiles are approved now.
    run2 = runs.payment_run_prepare(entity=w.entity, run_date=date(2026, 11, 30), actor=w.finance)
    oslo = Payment.objects.get(location=w.other_location)
    assert (oslo.status, oslo.run, oslo.currency, oslo.amount) == ("upcoming", run2, "EUR", Decimal("16200.00"))


def test_new_money_joins_the_held_payment(pay_world):
    w = pay_world
    first = prepared(w)
    runs.payment_run_cancel(run=first, actor=w.finance)
    assert Payment.objects.filter(run__isnull=True).count() == 2
    approved_claim(w, amount="500.00", invoice="INV-2")
    run = prepared(w)
    berlin = Payment.objects.get(location=w.location)
    assert Payment.objects.count() == 2
    assert (berlin.run, berlin.amount) == (run, Decimal("17550.00"))
    assert rows(berlin)[0][:2] == ("payable", Decimal("1500.00"))


def test_profile_changed_after_prepare_is_not_paid(pay_world):
    w = pay_world
    run = prepared(w)
    approve_profiles(w, iban="DE75512108001245126199", bic=BIC)  # a new current profile, approved
    runs.payment_run_approve(run=run, actor=w.finance2)
    berlin = Payment.objects.get(location=w.location)
    assert (berlin.status, berlin.hold_reason) == (
        "unprocessed",
        "The payout profile changed after the run was prepared: the next run pays it.",
    )
    assert Transfer.objects.filter(kind="pay").count() == 0


def test_tax_invoice_country_waits(pay_world):
    w = pay_world
    w.entity.tax_invoice_countries = ["DE"]
    w.entity.save()
    run = approved(w)
    berlin = Payment.objects.get(location=w.location)
    assert (berlin.status, berlin.tax_invoice_required, berlin.run) == ("pending_tax_invoice", True, run)
    assert balance(w, w.location, Bucket.PAYABLE) == Decimal("1000.00")


def test_export_writes_valid_pain001_and_csv(pay_world):
    w = pay_world
    run = exported(w)
    assert run.status == "exported"
    files = list(BankFile.objects.filter(run=run).order_by("id"))
    assert [(f.kind, f.currency, f.file_name, f.transactions, f.total) for f in files] == [
        ("pain001", "EUR", f"run-{run.pk}-EUR-pain001.xml", 1, Decimal("17100.00")),
        ("csv", "", f"run-{run.pk}-payments.csv", 1, Decimal("17100.00")),
    ]
    xml = str(files[0].content)
    xmlschema.XMLSchema(str(XSD)).validate(xml)  # raises if the file does not follow pain.001.001.03
    document = xmlschema.XMLSchema(str(XSD)).to_dict(xml)
    header = document["CstmrCdtTrfInitn"]["GrpHdr"]
    assert (header["MsgId"], header["NbOfTxs"], header["CtrlSum"]) == (
        f"{run.message_id}-EUR",
        "1",
        Decimal("17100.00"),
    )
    info = document["CstmrCdtTrfInitn"]["PmtInf"][0]
    assert info["DbtrAcct"]["Id"]["IBAN"] == ENTITY_IBAN
    tx = info["CdtTrfTxInf"][0]
    berlin = Payment.objects.get(location=w.location)
    assert tx["PmtId"]["EndToEndId"] == berlin.end_to_end_id
    assert tx["Amt"]["InstdAmt"] == {"@Ccy": "EUR", "$": Decimal("17100.00")}
    assert tx["CdtrAcct"]["Id"]["IBAN"] == PARTNER_IBAN
    table = list(csv.reader(io.StringIO(str(files[1].content))))
    assert table[1][:3] == [berlin.end_to_end_id, "2026-11-30", "FAB-001"]
    assert table[1][7] == PARTNER_IBAN
    assert table[1][11:13] == ["17100.00", "EUR"]
    # Stored encrypted: the plain IBAN is nowhere in the database row.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("select content from payments_bankfile")
        assert all(PARTNER_IBAN not in row[0] for row in cursor.fetchall())
    assert AuditEvent.objects.filter(verb="payment_run.export").count() == 1
    assert not AuditEvent.objects.filter(changes__icontains=PARTNER_IBAN).exists()


def test_export_only_after_approval_and_once(pay_world):
    w = pay_world
    run = prepared(w)
    with pytest.raises(Conflict):
        runs.payment_run_export(run=run, actor=w.finance)
    assert BankFile.objects.count() == 0
    run = runs.payment_run_approve(run=run, actor=w.finance2)
    runs.payment_run_export(run=run, actor=w.finance)
    with pytest.raises(Conflict):
        runs.payment_run_export(run=run, actor=w.finance)
    assert BankFile.objects.count() == 2


def test_other_currency_and_wire_without_sepa_service_level(pay_world):
    w = pay_world
    services.exchange_rates_set(
        rows=[rates.clean_rate(month="2026-11", source="USD", target="NOK", rate="10.5")], actor=w.finance
    )
    approve_profiles(
        w,
        w.other_location,
        method="wire",
        currency="NOK",
        iban="NO9386011117947",
        bic="DNBANOKKXXX",
        bank_country="NO",
        beneficiary_name="Northwind AS",
    )
    run = exported(w)
    nok = BankFile.objects.get(run=run, currency="NOK")
    xmlschema.XMLSchema(str(XSD)).validate(str(nok.content))
    assert "<SvcLvl>" not in str(nok.content)
    assert Payment.objects.get(location=w.other_location).amount == Decimal("189000.00")


def test_cancel_keeps_payments_open(pay_world):
    w = pay_world
    run = runs.payment_run_cancel(run=prepared(w), actor=w.finance, reason="Wrong date")
    assert run.status == "cancelled"
    assert sorted(Payment.objects.values_list("status", flat=True)) == ["unprocessed", "upcoming"]
    assert PaymentLine.objects.count() == 3
    with pytest.raises(Conflict):
        runs.payment_run_approve(run=run, actor=w.finance2)
