"""Writes on payments, one function per use case (the run's own steps are in runs.py):

- bank statuses finance records after the export (sent, failed, reprocessing, reversed, rejected, incorrect
  payment, recouped), each checked against the transition table and posting the ledger entries it needs:
  reversed, rejected and recouped give the money back to its payable buckets (a next run pays it again);
- the tax invoice a partner sends where the paying entity needs one, and finance's review of it;
- payment disputes (incentives admins) and their resolution (finance);
- the monthly exchange-rate table and the paying entities.
"""

from datetime import date, timedelta
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.functional import Promise, lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from coopfunds.accounts.models import Organisation, Role, RoleAssignment, User
from coopfunds.audit.services import audit_record
from coopfunds.core.errors import Conflict
from coopfunds.core.i18n import Said
from coopfunds.documents.services import UploadPolicy, document_lock, document_store
from coopfunds.funds.services import funds_pay
from coopfunds.notifications.models import NotificationKind
from coopfunds.notifications.services import Text, notify
from coopfunds.payments import permissions, rates
from coopfunds.payments.models import (
    TRANSITIONS,
    PayingEntity,
    Payment,
    PaymentDispute,
    PaymentLine,
    PaymentStatus,
    ProgramPayer,
    RunStatus,
)
from coopfunds.programs.models import ExchangeRate, Program

P = PaymentStatus
EVIDENCE_POLICY = UploadPolicy(allowed=frozenset({"pdf", "png", "jpeg"}), max_file_bytes=10 * 1024 * 1024)
MAX_TEXT = 2000

# An amount as the ledger holds it ("1234.50" in English, "1234,50" in Swedish), in each reader's language.
figures_lazy = lazy(number_format, str)


def _link(payment: Payment) -> str:
    return f"/payments/{payment.pk}/"


def _lock(payment: Payment) -> Payment:
    return (
        Payment.objects.select_for_update(of=("self",))
        .select_related("location__organisation", "entity", "run", "payout_profile")
        .get(pk=payment.pk)
    )


def partner_admins(payment: Payment) -> list[User]:
    ids = RoleAssignment.objects.filter(role=Role.INCENTIVES_ADMIN, location=payment.location_id).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True, organisation_id=payment.location.organisation_id))


def finance_users() -> list[User]:
    ids = RoleAssignment.objects.filter(role=Role.FINANCE, program__isnull=True).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True))


def _move(payment: Payment, to: str, actor: User, note: str = "", **changes: Any) -> None:
    """Check the transition table, change the status and stamp it, write the audit row."""
    if to not in TRANSITIONS[payment.status]:
        raise Conflict(
            gettext("A payment that is %(status)s cannot become %(to)s.")
            % {"status": str(P(payment.status).label).lower(), "to": str(P(to).label).lower()},
            code="invalid_transition",
        )
    old, payment.status = payment.status, to
    payment.status_changed_at = timezone.now()
    audit_record(
        actor=actor,
        verb=f"payment.{to}",
        target=payment,
        changes={"status": (old, to), **changes},
        reason=note,
        organisation_id=payment.location.organisation_id,
    )


def _text(value: str, field: str, *, required: bool, what: str | Promise) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: str(what)})
    if len(value) > MAX_TEXT:
        raise ValidationError(
            {
                field: gettext("Keep it to %(most)s characters; it is %(length)s.")
                % {
                    "most": number_format(MAX_TEXT, force_grouping=True),
                    "length": number_format(len(value), force_grouping=True),
                }
            }
        )
    return value


# --- bank statuses (finance) ---------------------------------------------------------------------------


def _finance_payment(payment: Payment, actor: User) -> Payment:
    if not permissions.can_run_payments(actor):
        raise PermissionDenied(gettext("Only finance records what the bank did with a payment."))
    return _lock(payment)


def _require_exported(payment: Payment) -> None:
    if payment.run is None or payment.run.status != RunStatus.EXPORTED:
        raise Conflict(gettext("This payment's run has not been exported to the bank yet."), code="run_not_exported")


def _give_back(payment: Payment, actor: User, memo: str) -> None:
    """Paid -> payable for every line: the bank returned the money, a next run pays it again."""
    by_currency: dict[str, list[tuple[int, str, Decimal]]] = {}
    for ln in payment.lines.order_by("id"):
        by_currency.setdefault(ln.source_currency, []).append((ln.fund_id, ln.bucket, ln.source_amount))
    for currency, group in sorted(by_currency.items()):
        funds_pay(
            items=group,
            key=f"{payment.reference}:returned:{currency}",
            reference=payment.reference,
            effective_on=timezone.localdate(),
            memo=memo,
            actor=actor,
            back=True,
        )


def _tell_partner(payment: Payment, subject: Text, body: Text) -> None:
    notify(users=partner_admins(payment), subject=subject, body=body, link=_link(payment))


@transaction.atomic(durable=True)
def payment_mark_sent(*, payment: Payment, actor: User, bank_reference: str = "", note: str = "") -> Payment:
    payment = _finance_payment(payment, actor)
    _require_exported(payment)
    bank_reference = _text(bank_reference, "bank_reference", required=False, what="")[:100]
    _move(payment, P.SENT, actor, note.strip(), bank_reference=(payment.bank_reference, bank_reference))
    payment.sent_at, payment.bank_reference, payment.status_note = timezone.now(), bank_reference, note.strip()
    payment.save()
    _tell_partner(
        payment,
        format_lazy(gettext_lazy("Payment {payment} sent"), payment=payment.end_to_end_id),
        format_lazy(
            gettext_lazy("{amount} {currency} is on its way."),
            amount=figures_lazy(payment.amount),
            currency=payment.currency,
        ),
    )
    return payment


@transaction.atomic(durable=True)
def payment_mark_failed(*, payment: Payment, actor: User, note: str) -> Payment:
    """The bank could not process it (the money is still ours); finance reprocesses or rejects it."""
    payment = _finance_payment(payment, actor)
    _require_exported(payment)
    note = _text(note, "note", required=True, what=gettext_lazy("Say what the bank reported."))
    _move(payment, P.FAILED, actor, note)
    payment.status_note = note
    payment.save()
    return payment


@transaction.atomic(durable=True)
def payment_reprocess(*, payment: Payment, actor: User, note: str = "") -> Payment:
    """Send a failed payment again with the next run (its money stays paid in the ledger)."""
    payment = _finance_payment(payment, actor)
    _move(payment, P.REPROCESSING, actor, note.strip())
    payment.status_note = note.strip()
    payment.save()
    return payment


@transaction.atomic(durable=True)
def payment_mark_reversed(*, payment: Payment, actor: User, note: str) -> Payment:
    """The bank returned a sent payment: the money is payable again and goes out with the next run."""
    payment = _finance_payment(payment, actor)
    note = _text(note, "note", required=True, what=gettext_lazy("Say why the bank reversed the payment."))
    _move(payment, P.REVERSED, actor, note)
    _give_back(
        payment,
        actor,
        Said(
            gettext_noop("Payment %(payment)s reversed by the bank: %(note)s"), payment=payment.end_to_end_id, note=note
        ),
    )
    payment.status_note = note
    payment.save()
    _tell_partner(
        payment,
        format_lazy(gettext_lazy("Payment {payment} came back from the bank"), payment=payment.end_to_end_id),
        format_lazy(
            gettext_lazy("The bank reversed it ({note}). The money is paid again with the next payment run."),
            note=note,
        ),
    )
    return payment


@transaction.atomic(durable=True)
def payment_mark_rejected(*, payment: Payment, actor: User, note: str) -> Payment:
    """The bank refused the transfer (e.g. the account does not exist): the money is payable again; the next
    run holds it until the payout profile is put right."""
    payment = _finance_payment(payment, actor)
    if payment.status == P.IN_PROGRESS:
        _require_exported(payment)
    note = _text(note, "note", required=True, what=gettext_lazy("Say why the bank rejected the payment."))
    _move(payment, P.REJECTED, actor, note)
    _give_back(
        payment,
        actor,
        Said(
            gettext_noop("Payment %(payment)s rejected by the bank: %(note)s"), payment=payment.end_to_end_id, note=note
        ),
    )
    payment.status_note = note
    payment.save()
    _tell_partner(
        payment,
        format_lazy(gettext_lazy("Payment {payment} was rejected by the bank"), payment=payment.end_to_end_id),
        format_lazy(gettext_lazy("{note} Check your payout profile: the money is paid with a next run."), note=note),
    )
    return payment


@transaction.atomic(durable=True)
def payment_mark_incorrect(*, payment: Payment, actor: User, note: str) -> Payment:
    """A sent payment was wrong (amount, account): it is being recouped."""
    payment = _finance_payment(payment, actor)
    note = _text(note, "note", required=True, what=gettext_lazy("Say what was wrong with the payment."))
    _move(payment, P.INCORRECT, actor, note)
    payment.status_note = note
    payment.save()
    _tell_partner(
        payment, format_lazy(gettext_lazy("Payment {payment} is being recouped"), payment=payment.end_to_end_id), note
    )
    return payment


@transaction.atomic(durable=True)
def payment_recoup(*, payment: Payment, actor: User, note: str) -> Payment:
    """The incorrect payment's money is back: payable again, paid correctly by a next run."""
    payment = _finance_payment(payment, actor)
    note = _text(note, "note", required=True, what=gettext_lazy("Say how the money was recovered."))
    _move(payment, P.RECOUPED, actor, note)
    _give_back(
        payment,
        actor,
        Said(gettext_noop("Payment %(payment)s recouped: %(note)s"), payment=payment.end_to_end_id, note=note),
    )
    payment.status_note = note
    payment.save()
    return payment


# --- tax invoices --------------------------------------------------------------------------------------


def clean_tax_invoice(entity: PayingEntity, number: str, invoice_date: date | None, today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    number = (number or "").strip()
    if not number:
        errors["number"] = gettext("Enter the tax invoice number.")
    elif not number.isdigit() or not number.isascii():
        errors["number"] = gettext("A tax invoice number has digits only (0-9).")
    elif len(number) > entity.tax_invoice_max_digits:
        errors["number"] = gettext("A tax invoice number has at most %(most)s digits; this has %(length)s.") % {
            "most": entity.tax_invoice_max_digits,
            "length": len(number),
        }
    if invoice_date is None:
        errors["invoice_date"] = gettext("Enter the date of the tax invoice.")
    elif invoice_date > today:
        errors["invoice_date"] = gettext("The tax invoice's date is in the future.")
    elif invoice_date < today - timedelta(days=entity.tax_invoice_max_age_days):
        errors["invoice_date"] = gettext("The tax invoice must be dated within the last %(days)s days.") % {
            "days": entity.tax_invoice_max_age_days
        }
    return errors


@transaction.atomic(durable=True)
def payment_tax_invoice_submit(
    *, payment: Payment, number: str, invoice_date: date | None, upload: File | None, actor: User
) -> Payment:
    payment = _lock(payment)
    if not permissions.can_act_for_partner(actor, payment):
        raise PermissionDenied(gettext("Only the location's incentives admins send tax invoices."))
    if payment.status not in (P.PENDING_TAX_INVOICE, P.TAX_INVOICE_REJECTED):
        raise Conflict(gettext("This payment does not wait for a tax invoice."), code="invalid_transition")
    errors = clean_tax_invoice(payment.entity, number, invoice_date, timezone.localdate())
    if upload is None:
        errors["file"] = gettext("Attach the tax invoice (PDF or image).")
    if errors:
        raise ValidationError(errors)
    assert upload is not None
    assert invoice_date is not None
    document = document_store(
        upload=upload,
        kind="tax_invoice",
        note=Said(gettext_noop("Tax invoice %(number)s"), number=number.strip()),
        location=payment.location,
        policy=EVIDENCE_POLICY,
        actor=actor,
        retain_from=invoice_date,
    )
    document_lock(documents=[document], actor=actor)
    _move(payment, P.TAX_INVOICE_REVIEW, actor, "", tax_invoice_number=(payment.tax_invoice_number, number.strip()))
    payment.tax_invoice_number, payment.tax_invoice_date = number.strip(), invoice_date
    payment.tax_invoice_document, payment.tax_invoice_note = document, ""
    payment.tax_invoice_submitted_at = timezone.now()
    payment.save()
    notify(
        users=finance_users(),
        subject=format_lazy(gettext_lazy("Tax invoice to review: payment {payment}"), payment=payment.end_to_end_id),
        kind=NotificationKind.REVIEW,
        body=format_lazy(
            gettext_lazy("{location} sent tax invoice {number}."),
            location=str(payment.location),
            number=payment.tax_invoice_number,
        ),
        link=_link(payment),
    )
    return payment


@transaction.atomic(durable=True)
def payment_tax_invoice_approve(*, payment: Payment, actor: User) -> Payment:
    payment = _finance_payment(payment, actor)
    _move(payment, P.UPCOMING, actor, Said(gettext_noop("Tax invoice accepted.")))
    payment.tax_invoice_approved_at = timezone.now()
    payment.save()
    _tell_partner(
        payment,
        format_lazy(gettext_lazy("Tax invoice accepted: payment {payment}"), payment=payment.end_to_end_id),
        gettext_lazy("It is paid with the next run."),
    )
    return payment


@transaction.atomic(durable=True)
def payment_tax_invoice_reject(*, payment: Payment, actor: User, reason: str) -> Payment:
    payment = _finance_payment(payment, actor)
    reason = _text(reason, "reason", required=True, what=gettext_lazy("Say what is wrong with the tax invoice."))
    _move(payment, P.TAX_INVOICE_REJECTED, actor, reason)
    payment.tax_invoice_note = reason
    payment.save()
    _tell_partner(
        payment,
        format_lazy(gettext_lazy("Tax invoice rejected: payment {payment}"), payment=payment.end_to_end_id),
        format_lazy(gettext_lazy("{reason} Send a corrected one."), reason=reason),
    )
    return payment


# --- disputes ------------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def payment_dispute_open(*, payment: Payment, reason: str, upload: File | None, actor: User) -> PaymentDispute:
    payment = _lock(payment)
    if not permissions.can_act_for_partner(actor, payment):
        raise PermissionDenied(gettext("Only the location's incentives admins dispute payments."))
    reason = _text(reason, "reason", required=True, what=gettext_lazy("Say what is wrong with the payment."))
    if payment.disputes.filter(status=PaymentDispute.Status.OPEN).exists():
        raise Conflict(
            gettext("This payment already has an open dispute: finance answers it first."), code="dispute_open"
        )
    evidence = None
    if upload is not None:
        evidence = document_store(
            upload=upload,
            kind="payment_evidence",
            note=reason[:200],
            location=payment.location,
            policy=EVIDENCE_POLICY,
            actor=actor,
        )
        document_lock(documents=[evidence], actor=actor)
    try:
        with transaction.atomic():
            dispute = PaymentDispute.objects.create(payment=payment, reason=reason, evidence=evidence, raised_by=actor)
    except IntegrityError:
        raise Conflict(
            gettext("This payment already has an open dispute: finance answers it first."), code="dispute_open"
        ) from None
    audit_record(
        actor=actor,
        verb="payment.dispute",
        target=payment,
        changes={"dispute": (None, dispute.pk)},
        reason=reason,
        organisation_id=payment.location.organisation_id,
    )
    notify(
        users=finance_users(),
        subject=format_lazy(gettext_lazy("Payment {payment} disputed"), payment=payment.end_to_end_id),
        body=reason,
        link=_link(payment),
    )
    return dispute


@transaction.atomic(durable=True)
def payment_dispute_resolve(*, dispute: PaymentDispute, resolution: str, actor: User) -> PaymentDispute:
    if not permissions.can_run_payments(actor):
        raise PermissionDenied(gettext("Only finance resolves payment disputes."))
    dispute = PaymentDispute.objects.select_for_update().select_related("payment__location").get(pk=dispute.pk)
    if dispute.status != PaymentDispute.Status.OPEN:
        raise Conflict(gettext("This dispute is already resolved."), code="invalid_transition")
    resolution = _text(resolution, "resolution", required=True, what=gettext_lazy("Say how the dispute is resolved."))
    dispute.status, dispute.resolution = PaymentDispute.Status.RESOLVED, resolution
    dispute.resolved_by, dispute.resolved_at = actor, timezone.now()
    dispute.save()
    payment = dispute.payment
    audit_record(
        actor=actor,
        verb="payment.dispute_resolve",
        target=payment,
        changes={"dispute": (dispute.pk, "resolved")},
        reason=resolution,
        organisation_id=payment.location.organisation_id,
    )
    _tell_partner(
        payment,
        format_lazy(gettext_lazy("Your dispute of payment {payment} is resolved"), payment=payment.end_to_end_id),
        resolution,
    )
    return dispute


# --- exchange rates ------------------------------------------------------------------------------------


def _require_finance(actor: User, refusal: Promise) -> None:
    if not permissions.can_run_payments(actor):
        raise PermissionDenied(str(refusal))


@transaction.atomic(durable=True)
def exchange_rates_set(*, rows: list[rates.RateRow], actor: User, source: str = "api") -> list[ExchangeRate]:
    """Add or change monthly rates (all or nothing). Lines already paid keep the rate they recorded."""
    _require_finance(actor, gettext_lazy("Only finance keeps the exchange-rate table."))
    if not rows:
        raise ValidationError({"rates": gettext("Send at least one rate.")})
    existing = {
        (r.month, r.source, r.target): r
        for r in ExchangeRate.objects.select_for_update().filter(month__in={row.month for row in rows})
    }
    saved = []
    for row in rows:
        current = existing.get((row.month, row.source, row.target))
        if current is None:
            current = ExchangeRate.objects.create(
                month=row.month, source=row.source, target=row.target, rate=row.rate, created_by=actor
            )
            changes: dict[str, tuple[str | None, str]] = {"rate": (None, str(row.rate))}
        elif current.rate != row.rate:
            changes = {"rate": (str(current.rate), str(row.rate))}
            current.rate, current.created_by = row.rate, actor
            current.save()
        else:
            saved.append(current)
            continue
        audit_record(actor=actor, verb="exchange_rate.set", target=current, changes=changes, reason=source)
        saved.append(current)
    return saved


def exchange_rates_import(*, stream: IO[bytes], actor: User) -> list[ExchangeRate]:
    _require_finance(actor, gettext_lazy("Only finance keeps the exchange-rate table."))
    return exchange_rates_set(rows=rates.parse_csv(stream), actor=actor, source="csv upload")


# --- paying entities -----------------------------------------------------------------------------------


def _clean_account(iban: str, bic: str) -> tuple[str, str, dict[str, str]]:
    errors: dict[str, str] = {}
    iban, bic = "".join(iban.split()).upper(), "".join(bic.split()).upper()
    try:
        iban = str(IBAN(iban).compact)
    except SchwiftyException:
        errors["iban"] = gettext("This is not a valid IBAN: check it for typing mistakes.")
    if bic:
        try:
            bic = str(BIC(bic).compact)
        except SchwiftyException:
            errors["bic"] = gettext("This is not a valid BIC (8 or 11 letters and digits).")
    return iban, bic, errors


@transaction.atomic(durable=True)
def paying_entity_create(
    *,
    vendor: Organisation,
    code: str,
    name: str,
    country: str,
    iban: str,
    bic: str = "",
    run_day: int = 15,
    tax_invoice_countries: list[str] | None = None,
    actor: User,
) -> PayingEntity:
    _require_finance(actor, gettext_lazy("Only finance sets up paying entities."))
    errors: dict[str, str] = {}
    code, name, country = code.strip().lower(), " ".join(name.split()), country.strip().upper()
    if not code or not code.replace("-", "").replace("_", "").isalnum() or len(code) > 32:
        errors["code"] = gettext("A short code of letters, digits, - and _ (at most 32).")
    elif PayingEntity.objects.filter(code=code).exists():
        errors["code"] = gettext("The code %(code)s is taken.") % {"code": code}
    if not name or len(name) > 70:
        errors["name"] = gettext("The account holder's name as the bank knows it (1 to 70 characters).")
    if len(country) != 2 or not country.isalpha():
        errors["country"] = gettext("A two-letter country code, e.g. DE.")
    if not 1 <= run_day <= 28:
        errors["run_day"] = gettext("A day from 1 to 28.")
    countries = sorted({c.strip().upper() for c in (tax_invoice_countries or [])})
    if any(len(c) != 2 or not c.isalpha() for c in countries):
        errors["tax_invoice_countries"] = gettext("Two-letter country codes, e.g. IN, MX.")
    iban, bic, account_errors = _clean_account(iban, bic)
    errors |= account_errors
    if vendor.kind != Organisation.Kind.VENDOR or vendor.pk != actor.organisation_id:
        errors["vendor"] = gettext("A paying entity belongs to your own vendor organisation.")
    if errors:
        raise ValidationError(errors)
    entity = PayingEntity.objects.create(
        vendor=vendor,
        code=code,
        name=name,
        country=country,
        iban=iban,
        bic=bic,
        run_day=run_day,
        tax_invoice_countries=countries if tax_invoice_countries is not None else PayingEntity().tax_invoice_countries,
    )
    audit_record(actor=actor, verb="paying_entity.create", target=entity, changes={"name": (None, name)})
    return entity


@transaction.atomic(durable=True)
def paying_entity_assign(*, entity: PayingEntity, program: Program, actor: User) -> ProgramPayer:
    """Make `entity` pay `program`'s partners. Refused while open payments of the program's funds wait with
    another entity (they would be paid twice)."""
    _require_finance(actor, gettext_lazy("Only finance assigns programs to paying entities."))
    payer = ProgramPayer.objects.select_for_update().filter(program=program).first()
    if payer is not None and payer.entity_id == entity.pk:
        return payer
    if payer is not None:
        waiting = PaymentLine.objects.filter(fund__program=program, payment__entity_id=payer.entity_id).filter(
            ~Q(payment__status__in=[P.SENT, P.REVERSED, P.REJECTED, P.RECOUPED])
        )
        if waiting.exists():
            raise Conflict(
                gettext("Payments of this program are still in progress with its current entity."),
                code="payments_open",
            )
        old = payer.entity_id
        payer.entity = entity
        payer.save()
    else:
        old = None
        payer = ProgramPayer.objects.create(program=program, entity=entity)
    audit_record(actor=actor, verb="paying_entity.assign", target=program, changes={"paying_entity": (old, entity.pk)})
    return payer


def run_due_date(entity: PayingEntity, today: date | None = None) -> date:
    """The next run day (the entity's day of the month) on or after today."""
    today = today or timezone.localdate()
    due = today.replace(day=entity.run_day)
    if due < today:
        due = (due.replace(day=1) + timedelta(days=32)).replace(day=entity.run_day)
    return due
