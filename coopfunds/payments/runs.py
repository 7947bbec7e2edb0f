"""Payment runs: prepare (finance), approve (another finance user: four eyes), export the bank files, or cancel.

- Prepare collects what is payable for the entity, adds it to the location's open held payment or makes new
  payments (one per location; currency of the payout profile), and looks again at every open payment of the
  entity: held ones whose reasons are gone become Upcoming (or Pending tax invoice), and failed payments that
  finance marked Reprocessing join the run. Nothing moves in the ledger.
- Approve moves the money of every Upcoming payment from payable to paid (one ledger transfer per currency
  and 250 lines) and makes it In progress, with the Reprocessing ones (already paid in the ledger).
- Export writes the bank files (pain.001 per currency for IBAN accounts, one CSV with every payment) and keeps
  them encrypted; bank details are decrypted for that and nowhere else.
Bulk steps write their per-payment audit rows in one statement; each run action writes its own audit row.
"""

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_noop, pgettext_lazy

from coopfunds.accounts.models import Location, User
from coopfunds.audit.models import AuditEvent
from coopfunds.audit.services import audit_record
from coopfunds.core.errors import Conflict
from coopfunds.core.i18n import Said, day_lazy
from coopfunds.enrollments.models import PayoutProfile, ProfileStatus
from coopfunds.funds.services import funds_pay
from coopfunds.payments import bankfiles, collect, permissions
from coopfunds.payments.models import (
    OPEN,
    RUN_TRANSITIONS,
    TAX_INVOICE_WAIT,
    TRANSITIONS,
    BankFile,
    PayingEntity,
    Payment,
    PaymentLine,
    PaymentRun,
    PaymentStatus,
    RunStatus,
)

P = PaymentStatus
PAY_CHUNK = 250  # lines per ledger transfer: the ledger's many-account update grows with the square of its accounts


def new_reference() -> str:
    return "CF" + uuid4().hex[:24].upper()


def _audit_many(actor: User, verb: str, payments: list[Payment], changes: dict[int, dict[str, list[Any]]]) -> None:
    """One audit row per payment, written in one statement (a run moves thousands at once)."""
    label = actor.email if actor and actor.pk else "system"
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor if actor and actor.pk else None,
                actor_label=label,
                verb=verb,
                target_type=Payment._meta.label_lower,
                target_id=str(p.pk),
                target_repr=str(p),
                organisation_id=p.location.organisation_id,
                changes=changes[p.pk],
            )
            for p in payments
            if changes.get(p.pk)
        ],
        batch_size=1000,
    )


def _lock_run(run: PaymentRun) -> PaymentRun:
    return PaymentRun.objects.select_for_update().select_related("entity").get(pk=run.pk)


# What a run becomes, as "cannot be ... now" says it.
BECOMES: dict[str, Promise] = {
    RunStatus.APPROVED: pgettext_lazy("a payment run cannot be", "approved"),
    RunStatus.EXPORTED: pgettext_lazy("a payment run cannot be", "exported"),
    RunStatus.CANCELLED: pgettext_lazy("a payment run cannot be", "cancelled"),
}


def _move_run(run: PaymentRun, to: str) -> str:
    if to not in RUN_TRANSITIONS[run.status]:
        raise Conflict(
            gettext("A payment run that is %(status)s cannot be %(to)s now.")
            % {"status": str(RunStatus(run.status).label).lower(), "to": BECOMES.get(to, to)},
            code="invalid_transition",
        )
    old, run.status = run.status, to
    return old


def _require_finance(actor: User) -> None:
    if not permissions.can_run_payments(actor):
        raise PermissionDenied(gettext("Only finance (for every program) runs payments."))


# --- prepare -------------------------------------------------------------------------------------------


def _assign(
    payment: Payment,
    lines: list[PaymentLine],
    *,
    entity: PayingEntity,
    payout: PayoutProfile | None,
    holds: list[str],
    book: collect.RateBook,
) -> None:
    """Decide an open (not tax-invoice-waiting) payment's status, currency and conversion for this run."""
    if payment.status in TAX_INVOICE_WAIT:
        return
    if payment.status == P.REPROCESSING:
        if payout is None or payout.status != ProfileStatus.APPROVED:
            payment.hold_reason = " ".join(holds) or Said(gettext_noop("The payout profile is not approved."))
        elif payout.currency != payment.currency:
            payment.hold_reason = Said(
                gettext_noop(
                    "The payout profile is now in %(new)s; this payment is in %(currency)s. Finance marks it "
                    "rejected so that a next run pays it anew."
                ),
                new=payout.currency,
                currency=payment.currency,
            )
        else:
            payment.payout_profile, payment.hold_reason = payout, ""
        return
    currency = payout.currency if payout is not None else payment.currency
    payment.currency = currency
    _, missing_rates = collect.lines_converted(lines, currency, book)
    payment.amount = sum((line.amount for line in lines), Decimal(0)) if not missing_rates else Decimal(0)
    reasons = holds + missing_rates
    if reasons:
        payment.status, payment.hold_reason, payment.payout_profile = P.UNPROCESSED, " ".join(reasons), None
        return
    payment.payout_profile, payment.hold_reason = payout, ""
    if payment.tax_invoice_required and payment.tax_invoice_approved_at is None:
        payment.status = P.PENDING_TAX_INVOICE
    else:
        payment.status = P.UPCOMING


def _mergeable(payment: Payment) -> bool:
    """New money joins a held payment, or an upcoming one that needs no tax invoice (an invoice covers a fixed sum)."""
    return payment.status == P.UNPROCESSED or (payment.status == P.UPCOMING and not payment.tax_invoice_required)


@transaction.atomic(durable=True)
def payment_run_prepare(*, entity: PayingEntity, run_date: date, actor: User) -> PaymentRun:
    _require_finance(actor)
    entity = PayingEntity.objects.select_for_update().get(pk=entity.pk)  # one preparation per entity at a time
    today = timezone.localdate()
    if run_date < today:
        raise ValidationError({"run_date": gettext("A run pays on %(day)s or later.") % {"day": day_lazy(today)}})
    prepared = PaymentRun.objects.filter(entity=entity, status=RunStatus.PREPARED).first()
    if prepared is not None:
        raise Conflict(
            gettext("Payment run %(run)s of %(entity)s is prepared and waits for approval: approve or cancel it first.")
            % {"run": prepared.pk, "entity": entity.name},
            code="run_already_prepared",
        )
    program_ids = collect.program_ids_of(entity)
    if not program_ids:
        raise ValidationError(
            {"entity": gettext("%(entity)s pays no program yet: assign its programs first.") % {"entity": entity.name}}
        )

    run = PaymentRun.objects.create(entity=entity, run_date=run_date, prepared_by=actor, message_id=new_reference())
    book = collect.RateBook(run_date)
    payable = collect.payable_by_location(program_ids)
    open_payments = list(
        Payment.objects.select_for_update(of=("self",))
        .select_related("location")
        .filter(entity=entity, status__in=[*OPEN, P.REPROCESSING])
        .order_by("id")
    )
    location_ids = set(payable) | {p.location_id for p in open_payments}
    locations = Location.objects.in_bulk(location_ids)
    payouts, taxes = collect.current_profiles(location_ids)
    before = {p.pk: (p.status, str(p.amount)) for p in open_payments}

    lines_by_payment = collect.group_lines(list(PaymentLine.objects.filter(payment__in=open_payments)))
    merge_into = {p.location_id: p for p in open_payments if _mergeable(p)}
    new_payments: list[Payment] = []
    new_lines: dict[int, list[PaymentLine]] = {}  # by location, for new payments
    added_lines: list[PaymentLine] = []  # new lines of existing payments
    for location_id, money in payable.items():
        target = merge_into.get(location_id)
        if target is None:
            location = locations[location_id]
            target = Payment(
                location=location,
                entity=entity,
                status=P.UNPROCESSED,
                currency=next(iter(money.items.values()))[1],
                end_to_end_id=new_reference(),
                tax_invoice_required=collect.needs_tax_invoice(entity, str(location.country)),
            )
            new_payments.append(target)
            new_lines[location_id] = []
        existing = {(ln.fund_id, ln.bucket): ln for ln in lines_by_payment.get(target.pk or 0, [])}
        for (fund_id, bucket), (amount, currency) in money.items.items():
            line = existing.get((fund_id, bucket))
            if line is not None:
                line.source_amount += amount
                continue
            line = PaymentLine(
                fund_id=fund_id,
                bucket=bucket,
                source_amount=amount,
                source_currency=currency,
                rate=Decimal(1),
                rate_month=book.month,
                amount=Decimal(0),
            )
            if target.pk:
                line.payment = target
                lines_by_payment.setdefault(target.pk, []).append(line)
                added_lines.append(line)
            else:
                new_lines[location_id].append(line)

    for payment in [*open_payments, *new_payments]:
        lines = lines_by_payment.get(payment.pk, []) if payment.pk else new_lines[payment.location_id]
        payout, tax = payouts.get(payment.location_id), taxes.get(payment.location_id)
        _assign(
            payment,
            lines,
            entity=entity,
            payout=payout,
            holds=collect.profile_holds(payout, tax, run_date),
            book=book,
        )
        payment.run = run
        payment.status_changed_at = timezone.now()
    if not open_payments and not new_payments:
        raise ValidationError(
            {
                "entity": gettext("Nothing is payable for %(entity)s and no payment waits: no run needed.")
                % {"entity": entity.name}
            }
        )

    changed_lines = [ln for p in open_payments for ln in lines_by_payment.get(p.pk, []) if ln.pk]
    Payment.objects.bulk_create(new_payments, batch_size=1000)
    for payment in new_payments:
        for line in new_lines[payment.location_id]:
            line.payment = payment
    PaymentLine.objects.bulk_create(
        [ln for p in new_payments for ln in new_lines[p.location_id]] + added_lines, batch_size=1000
    )
    PaymentLine.objects.bulk_update(changed_lines, ["source_amount", "rate", "rate_month", "amount"], batch_size=1000)
    Payment.objects.bulk_update(
        open_payments,
        ["status", "hold_reason", "currency", "amount", "payout_profile", "run", "status_changed_at"],
        batch_size=1000,
    )
    changes: dict[int, dict[str, list[Any]]] = {}
    for p in open_payments:
        old_status, old_amount = before[p.pk]
        if (old_status, old_amount) != (p.status, str(p.amount)):
            changes[p.pk] = {"status": [old_status, p.status], "amount": [old_amount, str(p.amount)]}
    for p in new_payments:
        changes[p.pk] = {"status": [None, p.status], "amount": [None, str(p.amount)]}
    _audit_many(actor, "payment.prepare", [*open_payments, *new_payments], changes)
    audit_record(
        actor=actor,
        verb="payment_run.prepare",
        target=run,
        changes={"payments": (None, len(open_payments) + len(new_payments)), "run_date": (None, run_date.isoformat())},
    )
    return run


# --- approve, export, cancel ---------------------------------------------------------------------------


@transaction.atomic(durable=True)
def payment_run_approve(*, run: PaymentRun, actor: User) -> PaymentRun:
    """The second finance user's approval: Upcoming payments are paid in the ledger and go In progress."""
    run = _lock_run(run)
    _require_finance(actor)
    if not permissions.can_approve_run(actor, run):
        raise PermissionDenied(
            gettext("Four eyes: a run is approved by another finance user than the one who prepared it.")
        )
    old = _move_run(run, RunStatus.APPROVED)
    payments = list(
        run.payments.select_for_update(of=("self",))
        .select_related("location")
        .filter(status__in=[P.UPCOMING, P.REPROCESSING], hold_reason="")
        .order_by("id")
    )
    still_valid = set(
        PayoutProfile.objects.filter(
            pk__in={p.payout_profile_id for p in payments}, is_current=True, status=ProfileStatus.APPROVED
        ).values_list("pk", flat=True)
    )
    changes: dict[int, dict[str, list[Any]]] = {}
    to_pay, now = [], timezone.now()
    for p in payments:
        if p.payout_profile_id not in still_valid:
            reason = Said(gettext_noop("The payout profile changed after the run was prepared: the next run pays it."))
            if p.status == P.UPCOMING:
                p.status = P.UNPROCESSED
                changes[p.pk] = {"status": [P.UPCOMING, P.UNPROCESSED]}
            p.hold_reason = reason
            continue
        if p.status == P.UPCOMING:
            to_pay.append(p.pk)
        assert P.IN_PROGRESS in TRANSITIONS[p.status]
        changes[p.pk] = {"status": [p.status, P.IN_PROGRESS]}
        p.status, p.status_changed_at = P.IN_PROGRESS, now
    _pay(run, to_pay, actor)
    going = [p.pk for p in payments if p.status == P.IN_PROGRESS]
    Payment.objects.filter(pk__in=going).update(status=P.IN_PROGRESS, status_changed_at=now)
    held = [p for p in payments if p.status != P.IN_PROGRESS]
    Payment.objects.bulk_update(held, ["status", "hold_reason", "status_changed_at"], batch_size=1000)
    _audit_many(actor, "payment.approve", payments, changes)
    run.approved_by, run.approved_at = actor, now
    run.save()
    audit_record(actor=actor, verb="payment_run.approve", target=run, changes={"status": (old, run.status)})
    return run


def _pay(run: PaymentRun, payment_ids: list[int], actor: User) -> None:
    """Payable -> paid for the lines of these payments: one ledger transfer per currency and PAY_CHUNK lines."""
    by_currency: dict[str, list[tuple[int, str, Decimal]]] = defaultdict(list)
    rows = (
        PaymentLine.objects.filter(payment_id__in=payment_ids)
        .order_by("id")
        .values_list("fund_id", "bucket", "source_amount", "source_currency")
    )
    for fund_id, bucket, amount, currency in rows:
        by_currency[currency].append((fund_id, bucket, amount))
    for currency, items in sorted(by_currency.items()):
        for n, start in enumerate(range(0, len(items), PAY_CHUNK), start=1):
            funds_pay(
                items=items[start : start + PAY_CHUNK],
                key=f"run:{run.pk}:pay:{currency}:{n}",
                reference=f"run:{run.pk}",
                effective_on=run.run_date,
                memo=Said(
                    gettext_noop("Payment run %(run)s of %(entity)s, %(day)s."),
                    run=run.pk,
                    entity=run.entity.name,
                    day=run.run_date,
                ),
                actor=actor,
            )


@transaction.atomic(durable=True)
def payment_run_export(*, run: PaymentRun, actor: User) -> list[BankFile]:
    """Write and keep the bank files of an approved run (In progress payments)."""
    run = _lock_run(run)
    _require_finance(actor)
    old = _move_run(run, RunStatus.EXPORTED)
    payments = list(
        run.payments.filter(status=P.IN_PROGRESS).select_related("location", "payout_profile").order_by("id")
    )
    files = BankFile.objects.bulk_create(bankfiles.build(run, payments))
    run.exported_by, run.exported_at = actor, timezone.now()
    run.save()
    audit_record(
        actor=actor,
        verb="payment_run.export",
        target=run,
        changes={"status": (old, run.status), "files": (None, ", ".join(f.file_name for f in files))},
    )
    return files


@transaction.atomic(durable=True)
def payment_run_cancel(*, run: PaymentRun, actor: User, reason: str = "") -> PaymentRun:
    """Drop a prepared run: nothing moved; its payments stay open for the next run."""
    run = _lock_run(run)
    _require_finance(actor)
    old = _move_run(run, RunStatus.CANCELLED)
    Payment.objects.filter(run=run, status__in=[*OPEN, P.REPROCESSING]).update(run=None)
    run.cancelled_at = timezone.now()
    run.save()
    audit_record(
        actor=actor, verb="payment_run.cancel", target=run, changes={"status": (old, run.status)}, reason=reason
    )
    return run
