from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from conftest import PERSONAS
from coopfunds.audit.models import AuditEvent
from coopfunds.claims.tests.conftest import pdf
from coopfunds.core.errors import Conflict, PermissionDenied, ValidationError
from coopfunds.funds.models import Account, Bucket, Transfer
from coopfunds.notifications.models import Notification
from coopfunds.payments import runs, services
from coopfunds.payments.models import Payment, PaymentDispute
from coopfunds.payments.tests.conftest import approved, exported

PAID = {
    "payable": Decimal("0.00"),
    "paid": Decimal("1000.00"),
    "rebate": Decimal("0.00"),
    "rebate_paid": Decimal("18000.00"),
}
RETURNED = {
    "payable": Decimal("1000.00"),
    "paid": Decimal("0.00"),
    "rebate": Decimal("18000.00"),
    "rebate_paid": Decimal("0.00"),
}


def money(world):
    accounts = Account.objects.filter(fund__location=world.location, bucket__in=list(PAID))
    return {a.bucket: a.balance for a in accounts}


def berlin():
    return Payment.objects.get(location__partner_id="FAB-001")


def state():
    return (
        list(Payment.objects.order_by("id").values_list("id", "status", "amount", "tax_invoice_number")),
        Transfer.objects.count(),
        AuditEvent.objects.count(),
        PaymentDispute.objects.count(),
    )


def actor(world, name):
    return world.persona(name) or AnonymousUser()


def set_status(payment, status):
    Payment.objects.filter(pk=payment.pk).update(status=status)
    payment.refresh_from_db()
    return payment


# (service, status it starts from, status it ends in, ledger after, note)
BANK = [
    (services.payment_mark_sent, "in_progress", "sent", PAID),
    (services.payment_mark_failed, "in_progress", "failed", PAID),
    (services.payment_reprocess, "failed", "reprocessing", PAID),
    (services.payment_mark_reversed, "sent", "reversed", RETURNED),
    (services.payment_mark_rejected, "in_progress", "rejected", RETURNED),
    (services.payment_mark_rejected, "failed", "rejected", RETURNED),
    (services.payment_mark_incorrect, "sent", "incorrect", PAID),
    (services.payment_recoup, "incorrect", "recouped", RETURNED),
]


@pytest.mark.parametrize(("service", "start", "end", "ledger"), BANK)
def test_finance_records_bank_status(pay_world, service, start, end, ledger):
    w = pay_world
    exported(w)
    payment = set_status(berlin(), start)
    audits = AuditEvent.objects.count()
    service(payment=payment, actor=w.finance, note="Bank statement 12")
    payment = berlin()
    assert (payment.status, payment.status_note) == (end, "Bank statement 12")
    assert money(w) == ledger
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.verb, event.changes["status"], event.reason) == (f"payment.{end}", [start, end], "Bank statement 12")
    assert AuditEvent.objects.count() == audits + 1
    if ledger is RETURNED:
        back = Transfer.objects.get(kind="reverse")
        assert (back.reference, back.idempotency_key) == (payment.reference, f"{payment.reference}:returned:USD")


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "finance"])
@pytest.mark.parametrize(("service", "start", "end", "ledger"), BANK)
def test_only_finance_records_bank_status(pay_world, persona, service, start, end, ledger):
    w = pay_world
    exported(w)
    payment = set_status(berlin(), start)
    before = state()
    with pytest.raises(PermissionDenied):
        service(payment=payment, actor=actor(w, persona), note="x")
    assert state() == before


def test_out_of_order_transitions_are_conflicts(pay_world):
    w = pay_world
    exported(w)
    payment = berlin()
    before = state()
    for service in (services.payment_mark_reversed, services.payment_recoup, services.payment_reprocess):
        with pytest.raises(Conflict):
            service(payment=payment, actor=w.finance, note="x")
    assert state() == before


def test_sent_needs_an_exported_run(pay_world):
    w = pay_world
    approved(w)
    with pytest.raises(Conflict):
        services.payment_mark_sent(payment=berlin(), actor=w.finance)
    assert berlin().status == "in_progress"


def test_failed_needs_a_note(pay_world):
    w = pay_world
    exported(w)
    with pytest.raises(ValidationError) as error:
        services.payment_mark_failed(payment=berlin(), actor=w.finance, note="  ")
    assert error.value.message_dict == {"note": ["Say what the bank reported."]}


def test_reversed_money_goes_out_with_the_next_run(pay_world):
    w = pay_world
    exported(w)
    services.payment_mark_sent(payment=berlin(), actor=w.finance, bank_reference="B-1")
    services.payment_mark_reversed(payment=berlin(), actor=w.finance, note="Account closed")
    assert Notification.objects.filter(user=w.partner_admin, subject__contains="came back").count() == 1
    run2 = runs.payment_run_prepare(entity=w.entity, run_date=date(2026, 11, 30), actor=w.finance)
    again = run2.payments.get(location=w.location)
    assert (again.status, again.amount) == ("upcoming", Decimal("17100.00"))
    assert Payment.objects.filter(location=w.location).count() == 2


def test_reprocessing_joins_the_next_run_without_paying_twice(pay_world):
    w = pay_world
    exported(w)
    services.payment_mark_failed(payment=berlin(), actor=w.finance, note="Cut-off missed")
    services.payment_reprocess(payment=berlin(), actor=w.finance)
    run2 = runs.payment_run_prepare(entity=w.entity, run_date=date(2026, 11, 30), actor=w.finance)
    runs.payment_run_approve(run=run2, actor=w.finance2)
    payment = berlin()
    assert (payment.status, payment.run) == ("in_progress", run2)
    assert money(w) == PAID
    assert Transfer.objects.filter(kind="pay").count() == 1


# --- tax invoices --------------------------------------------------------------------------------------


@pytest.fixture
def waiting(pay_world):
    pay_world.entity.tax_invoice_countries = ["DE"]
    pay_world.entity.save()
    approved(pay_world)
    return berlin()


def test_tax_invoice_flow(pay_world, waiting):
    w = pay_world
    payment = services.payment_tax_invoice_submit(
        payment=waiting,
        number="2026000012",
        invoice_date=date(2026, 11, 2),
        upload=pdf("tax.pdf"),
        actor=w.partner_admin,
    )
    assert (payment.status, payment.tax_invoice_number, payment.tax_invoice_document.kind) == (
        "tax_invoice_review",
        "2026000012",
        "tax_invoice",
    )
    payment = services.payment_tax_invoice_reject(payment=payment, actor=w.finance, reason="Wrong legal name.")
    assert (payment.status, payment.tax_invoice_note) == ("tax_invoice_rejected", "Wrong legal name.")
    payment = services.payment_tax_invoice_submit(
        payment=payment,
        number="2026000013",
        invoice_date=date(2026, 11, 3),
        upload=pdf("tax2.pdf"),
        actor=w.partner_admin,
    )
    payment = services.payment_tax_invoice_approve(payment=payment, actor=w.finance)
    assert payment.status == "upcoming"
    run2 = runs.payment_run_prepare(entity=w.entity, run_date=date(2026, 11, 30), actor=w.finance)
    runs.payment_run_approve(run=run2, actor=w.finance2)
    assert (berlin().status, berlin().run) == ("in_progress", run2)
    assert money(w) == PAID


@pytest.mark.parametrize(
    ("number", "day", "errors"),
    [
        ("", date(2026, 11, 2), {"number": ["Enter the tax invoice number."]}),
        ("INV-12", date(2026, 11, 2), {"number": ["A tax invoice number has digits only (0-9)."]}),
        (
            "12345678901234567",
            date(2026, 11, 2),
            {"number": ["A tax invoice number has at most 16 digits; this has 17."]},
        ),
        ("1", date(2026, 11, 21), {"invoice_date": ["The tax invoice's date is in the future."]}),
        (
            "1",
            date(2026, 11, 20) - timedelta(days=181),
            {"invoice_date": ["The tax invoice must be dated within the last 180 days."]},
        ),
        ("1", None, {"invoice_date": ["Enter the date of the tax invoice."]}),
    ],
)
def test_tax_invoice_bad_input(pay_world, waiting, number, day, errors):
    before = state()
    with pytest.raises(ValidationError) as error:
        services.payment_tax_invoice_submit(
            payment=waiting, number=number, invoice_date=day, upload=pdf(), actor=pay_world.partner_admin
        )
    assert error.value.message_dict == errors
    assert state() == before


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "partner_admin"])
def test_only_the_locations_admin_sends_the_tax_invoice(pay_world, waiting, persona):
    before = state()
    with pytest.raises(PermissionDenied):
        services.payment_tax_invoice_submit(
            payment=waiting, number="1", invoice_date=date(2026, 11, 2), upload=pdf(), actor=actor(pay_world, persona)
        )
    assert state() == before


# --- disputes ------------------------------------------------------------------------------------------


def test_dispute_and_resolution(pay_world):
    w = pay_world
    exported(w)
    dispute = services.payment_dispute_open(
        payment=berlin(), reason="Amount is 100 EUR short.", upload=pdf("statement.pdf"), actor=w.partner_admin
    )
    assert (dispute.status, dispute.raised_by, dispute.evidence.kind) == ("open", w.partner_admin, "payment_evidence")
    assert Notification.objects.filter(user=w.finance, subject__contains="disputed").count() == 1
    with pytest.raises(Conflict):
        services.payment_dispute_open(payment=berlin(), reason="Again", upload=None, actor=w.partner_admin)
    with pytest.raises(PermissionDenied):
        services.payment_dispute_resolve(dispute=dispute, resolution="No.", actor=w.reviewer)
    dispute = services.payment_dispute_resolve(
        dispute=dispute, resolution="Rate of 0.90 applied; see remittance.", actor=w.finance
    )
    assert (dispute.status, dispute.resolved_by) == ("resolved", w.finance)
    assert list(
        AuditEvent.objects.filter(target_id=str(berlin().pk), verb__startswith="payment.dispute")
        .order_by("id")
        .values_list("verb", flat=True)
    ) == [
        "payment.dispute",
        "payment.dispute_resolve",
    ]


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "partner_admin"])
def test_only_the_locations_admin_disputes(pay_world, persona):
    exported(pay_world)
    before = state()
    with pytest.raises(PermissionDenied):
        services.payment_dispute_open(payment=berlin(), reason="x", upload=None, actor=actor(pay_world, persona))
    assert state() == before


def test_dispute_needs_a_reason(pay_world):
    exported(pay_world)
    with pytest.raises(ValidationError) as error:
        services.payment_dispute_open(payment=berlin(), reason=" ", upload=None, actor=pay_world.partner_admin)
    assert error.value.message_dict == {"reason": ["Say what is wrong with the payment."]}


def test_ledger_drift_free_after_everything(pay_world):
    from coopfunds.funds.selectors import ledger_drift, unbalanced_transfers

    w = pay_world
    exported(w)
    services.payment_mark_sent(payment=berlin(), actor=w.finance)
    services.payment_mark_reversed(payment=berlin(), actor=w.finance, note="Closed")
    assert (ledger_drift(), unbalanced_transfers()) == ([], [])
    assert money(w) == RETURNED
    assert Account.objects.get(fund__location=w.location, bucket=Bucket.AVAILABLE).balance == Decimal("11000.00")
