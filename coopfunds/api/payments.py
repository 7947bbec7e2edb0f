"""Payments over HTTP: payment runs (prepare, approve by a second finance user, export, cancel, bank files),
payments (bank statuses, tax invoices, remittance advice, disputes), the exchange-rate table, paying entities,
and a location's reconciliation statement.

Partners see their own locations' payments only (another partner's is 404) and never runs, files, rates or
entities (404). Bank details never appear in a response: accounts are masked; the bank files (finance only)
are the one place they are written out.
"""

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext, gettext_noop
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from coopfunds.accounts.models import User
from coopfunds.accounts.selectors import location_for
from coopfunds.api.common import ERRORS, MONTH, PATTERN_MESSAGES, Country, Currency, Id, Keyset, Text
from coopfunds.core.errors import NotFound, PermissionDenied, ValidationError
from coopfunds.payments import permissions, rates, remittance, runs, selectors, services, statement
from coopfunds.payments.models import (
    BankFile,
    PayingEntity,
    Payment,
    PaymentDispute,
    PaymentLine,
    PaymentRun,
    PaymentStatus,
)
from coopfunds.programs.models import ExchangeRate, Program

router = Router(tags=["payments"])


def _actor(request: HttpRequest) -> User:
    return cast(User, request.auth)  # type: ignore[attr-defined]


def _vendor_only(user: User) -> None:
    if not permissions.can_see_runs(user):
        raise NotFound(gettext("Not found."))


# --- schemas -------------------------------------------------------------------------------------------


class PaymentLineOut(Schema):
    fund_id: Id
    fund_label: str = Field(..., alias="fund.label")
    program_code: str = Field(..., alias="fund.program.code")
    bucket: str = Field(..., description="payable (claims, proofs, plan payouts), rebate or converted")
    source_amount: Decimal
    source_currency: str
    rate: Decimal = Field(..., description="1 source currency = rate payment currency")
    rate_month: dt.date
    amount: Decimal


class PaymentOut(Schema):
    id: int
    end_to_end_id: str
    location_id: Id
    partner_id: str = Field(..., alias="location.partner_id")
    entity_id: Id
    entity_name: str = Field(..., alias="entity.name")
    run_id: Id | None
    status: str
    status_label: str
    hold_reason: str = Field(..., alias="hold_text", description="In the caller's language.")
    currency: str
    amount: Decimal
    account: str = Field(..., description="The payout account, masked (last four characters).")
    tax_invoice_required: bool
    tax_invoice_number: str
    tax_invoice_date: dt.date | None
    tax_invoice_note: str
    sent_at: dt.datetime | None
    bank_reference: str
    status_note: str

    @staticmethod
    def resolve_status_label(obj: Payment) -> str:
        return str(PaymentStatus(obj.status).label)

    @staticmethod
    def resolve_account(obj: Payment) -> str:
        return obj.payout_profile.masked_account if obj.payout_profile else ""


class PaymentDetailOut(PaymentOut):
    lines: list[PaymentLineOut]

    @staticmethod
    def resolve_lines(obj: Payment) -> list[PaymentLine]:
        return list(selectors.lines_of(obj))


class PaymentQuery(Schema):
    status: PaymentStatus | None = None
    location_id: Id | None = None
    run_id: Id | None = None


class NoteIn(Schema):
    note: str = Field(
        "",
        max_length=2000,
        description="What the bank reported (required for failed, reversed, rejected, incorrect, recouped).",
    )


class SentIn(NoteIn):
    bank_reference: str = Field("", max_length=100)


class PaymentReasonIn(Schema):
    reason: str = Field(..., max_length=2000)


class ResolutionIn(Schema):
    resolution: str = Field(..., max_length=2000)


class DisputeOut(Schema):
    id: int
    payment_id: Id
    status: str
    reason: str
    evidence_document_id: Id | None = Field(..., alias="evidence_id")
    raised_by: str = Field(..., alias="raised_by.email")
    created_at: dt.datetime
    resolution: str
    resolved_at: dt.datetime | None


class RunOut(Schema):
    id: int
    entity_id: Id
    entity_name: str = Field(..., alias="entity.name")
    run_date: dt.date
    status: str
    prepared_by: str = Field(..., alias="prepared_by.email")
    approved_by: str | None
    approved_at: dt.datetime | None
    exported_at: dt.datetime | None
    message_id: str

    @staticmethod
    def resolve_approved_by(obj: PaymentRun) -> str | None:
        return obj.approved_by.email if obj.approved_by else None


class RunTotalOut(Schema):
    status: str
    currency: str
    count: int
    total: Decimal


class RunDetailOut(RunOut):
    totals: list[RunTotalOut]

    @staticmethod
    def resolve_totals(obj: PaymentRun) -> list[dict[str, Any]]:
        return selectors.run_totals(obj)


class RunIn(Schema):
    entity_id: Id
    run_date: dt.date


class BankFileOut(Schema):
    id: int
    kind: str
    currency: str
    file_name: str
    sha256: str
    transactions: int
    total: Decimal
    created_at: dt.datetime


RATE = r"^([1-9][0-9]{0,9}(\.[0-9]{1,8})?|0\.[0-9]{0,7}[1-9])$"
ENTITY_CODE = r"^[A-Za-z0-9_-]*[A-Za-z0-9][A-Za-z0-9_-]*$"
IBAN = r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"
# Marked only (gettext_noop): the shared table holds plain strings; whoever reads it translates them.
PATTERN_MESSAGES[RATE] = gettext_noop("Write the rate with a dot and at most 8 decimals, above zero, e.g. 0.9215.")
PATTERN_MESSAGES[ENTITY_CODE] = gettext_noop("A short code of letters, digits, - and _ (at most 32).")
PATTERN_MESSAGES[IBAN] = gettext_noop("Write the IBAN without spaces, in capitals, e.g. DE89370400440532013000.")


class RateIn(Schema):
    month: str = Field(..., pattern=MONTH, description="YYYY-MM")
    source: Currency
    target: Currency = Field(..., description="ISO 4217 code, another than the source.")
    rate: str = Field(..., pattern=RATE, description="1 source = rate target, with a dot, at most 8 decimals")


class RatesIn(Schema):
    rates: list[RateIn] = Field(..., min_length=1, max_length=1000)


class RateOut(Schema):
    id: int
    month: dt.date
    source: str
    target: str
    rate: Decimal


class RateQuery(Schema):
    month: dt.date | None = Field(None, description="The first day of a month")


class EntityIn(Schema):
    code: str = Field(..., pattern=ENTITY_CODE, max_length=32)
    name: Text = Field(..., max_length=70, description="The account holder's name as the bank knows it.")
    country: Country
    iban: str = Field(..., pattern=IBAN, description="The paying account. Stored encrypted, never returned.")
    bic: str = Field("", description="8 or 11 letters and digits.")
    run_day: int = Field(15, ge=1, le=28)
    tax_invoice_countries: list[Country] | None = None


class EntityOut(Schema):
    id: int
    code: str
    name: str
    country: str
    run_day: int
    tax_invoice_countries: list[str]
    tax_invoice_max_digits: int
    tax_invoice_max_age_days: int
    program_ids: list[int]

    @staticmethod
    def resolve_program_ids(obj: PayingEntity) -> list[int]:
        return sorted(p.program_id for p in obj.program_payers.all())


class AssignIn(Schema):
    program_id: Id


class StatementRowOut(Schema):
    date: dt.date
    program: str
    fund: str
    fund_id: Id
    currency: str
    movement: str
    reference: str
    memo: str
    amounts: dict[str, Decimal] = Field(..., description="Signed change of each fund bucket it touched.")


class StatementOut(Schema):
    location_id: Id
    rows: list[StatementRowOut]
    balances: dict[int, dict[str, Decimal]] = Field(
        ..., description="Ledger balances by fund and bucket: each bucket's rows sum to them."
    )


class StatementQuery(Schema):
    location_id: Id
    program_id: Id | None = None


# --- payments ------------------------------------------------------------------------------------------


@router.get("/payments", response={200: list[PaymentOut], **ERRORS})
@paginate(Keyset)
def payment_list(request: HttpRequest, filters: Query[PaymentQuery]) -> Any:
    return selectors.payments_filter(
        selectors.payments_visible_to(_actor(request)),
        status=filters.status or "",
        location_id=filters.location_id,
        run_id=filters.run_id,
    )


@router.get("/payments/statement", response={200: StatementOut, **ERRORS})
def payment_statement(request: HttpRequest, query: Query[StatementQuery]) -> dict[str, Any]:
    """A location's transaction history for reconciling: per movement and fund, the change of each bucket;
    the rows of each bucket sum exactly to the `balances`."""
    location = location_for(_actor(request), query.location_id)
    return {
        "location_id": location.pk,
        "rows": list(statement.rows(statement.entries_of(location, query.program_id))),
        "balances": statement.balances(location, query.program_id),
    }


@router.get("/payments/{payment_id}", response={200: PaymentDetailOut, **ERRORS})
def payment_get(request: HttpRequest, payment_id: Id) -> Payment:
    return selectors.payment_for(_actor(request), payment_id)


@router.get(
    "/payments/{payment_id}/remittance",
    response={200: None, **ERRORS},
    openapi_extra={
        "responses": {"200": {"description": "The remittance advice (PDF)", "content": {"application/pdf": {}}}}
    },
)
def payment_remittance(request: HttpRequest, payment_id: Id) -> HttpResponse:
    payment = selectors.payment_for(_actor(request), payment_id)
    response = HttpResponse(
        remittance.remittance_pdf(payment, list(selectors.lines_of(payment))), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="remittance-{payment.end_to_end_id}.pdf"'
    return response


def _bank(request: HttpRequest, payment_id: Id, service: Any, **kwargs: Any) -> Payment:
    user = _actor(request)
    return service(payment=selectors.payment_for(user, payment_id), actor=user, **kwargs)


@router.post("/payments/{payment_id}/sent", response={200: PaymentDetailOut, **ERRORS})
def payment_sent(request: HttpRequest, payment_id: Id, data: SentIn) -> Payment:
    """The bank executed the transfer (finance)."""
    return _bank(request, payment_id, services.payment_mark_sent, note=data.note, bank_reference=data.bank_reference)


@router.post("/payments/{payment_id}/failed", response={200: PaymentDetailOut, **ERRORS})
def payment_failed(request: HttpRequest, payment_id: Id, data: NoteIn) -> Payment:
    """The bank could not process it; reprocess or reject it next (finance)."""
    return _bank(request, payment_id, services.payment_mark_failed, note=data.note)


@router.post("/payments/{payment_id}/reprocess", response={200: PaymentDetailOut, **ERRORS})
def payment_reprocess(request: HttpRequest, payment_id: Id, data: NoteIn) -> Payment:
    """Send a failed payment again with the next run (finance)."""
    return _bank(request, payment_id, services.payment_reprocess, note=data.note)


@router.post("/payments/{payment_id}/reversed", response={200: PaymentDetailOut, **ERRORS})
def payment_reversed(request: HttpRequest, payment_id: Id, data: NoteIn) -> Payment:
    """The bank returned a sent payment: its money is payable again, paid by the next run (finance)."""
    return _bank(request, payment_id, services.payment_mark_reversed, note=data.note)


@router.post("/payments/{payment_id}/rejected", response={200: PaymentDetailOut, **ERRORS})
def payment_rejected(request: HttpRequest, payment_id: Id, data: NoteIn) -> Payment:
    """The bank refused the transfer: its money is payable again (finance)."""
    return _bank(request, payment_id, services.payment_mark_rejected, note=data.note)


@router.post("/payments/{payment_id}/incorrect", response={200: PaymentDetailOut, **ERRORS})
def payment_incorrect(request: HttpRequest, payment_id: Id, data: NoteIn) -> Payment:
    """A sent payment was wrong and is being recouped (finance)."""
    return _bank(request, payment_id, services.payment_mark_incorrect, note=data.note)


@router.post("/payments/{payment_id}/recouped", response={200: PaymentDetailOut, **ERRORS})
def payment_recouped(request: HttpRequest, payment_id: Id, data: NoteIn) -> Payment:
    """The incorrect payment's money is back: payable again (finance)."""
    return _bank(request, payment_id, services.payment_recoup, note=data.note)


@router.post("/payments/{payment_id}/tax-invoice", response={200: PaymentDetailOut, **ERRORS})
def payment_tax_invoice(
    request: HttpRequest,
    payment_id: Id,
    number: Form[str],
    invoice_date: Form[dt.date],
    file: File[UploadedFile | None] = None,
) -> Payment:
    """The partner's tax invoice (multipart: number, invoice_date, file), for finance to review."""
    return _bank(
        request, payment_id, services.payment_tax_invoice_submit, number=number, invoice_date=invoice_date, upload=file
    )


@router.post("/payments/{payment_id}/tax-invoice/approve", response={200: PaymentDetailOut, **ERRORS})
def payment_tax_invoice_approve(request: HttpRequest, payment_id: Id) -> Payment:
    return _bank(request, payment_id, services.payment_tax_invoice_approve)


@router.post("/payments/{payment_id}/tax-invoice/reject", response={200: PaymentDetailOut, **ERRORS})
def payment_tax_invoice_reject(request: HttpRequest, payment_id: Id, data: PaymentReasonIn) -> Payment:
    return _bank(request, payment_id, services.payment_tax_invoice_reject, reason=data.reason)


@router.post("/payments/{payment_id}/disputes", response={201: DisputeOut, **ERRORS})
def payment_dispute(
    request: HttpRequest, payment_id: Id, reason: Form[str], file: File[UploadedFile | None] = None
) -> Status[PaymentDispute]:
    """An incentives admin disputes a payment (multipart: reason, optional evidence file)."""
    user = _actor(request)
    payment = selectors.payment_for(user, payment_id)
    return Status(201, services.payment_dispute_open(payment=payment, reason=reason, upload=file, actor=user))


@router.get("/payment-disputes", response={200: list[DisputeOut], **ERRORS})
@paginate(Keyset)
def dispute_list(request: HttpRequest) -> Any:
    return selectors.disputes_visible_to(_actor(request))


@router.post("/payment-disputes/{dispute_id}/resolve", response={200: DisputeOut, **ERRORS})
def dispute_resolve(request: HttpRequest, dispute_id: Id, data: ResolutionIn) -> PaymentDispute:
    user = _actor(request)
    dispute = selectors.dispute_for(user, dispute_id)
    return services.payment_dispute_resolve(dispute=dispute, resolution=data.resolution, actor=user)


# --- runs ----------------------------------------------------------------------------------------------


@router.get("/payment-runs", response={200: list[RunOut], **ERRORS})
@paginate(Keyset, ordering=("-id",))
def run_list(request: HttpRequest) -> Any:
    user = _actor(request)
    _vendor_only(user)
    return selectors.runs_visible_to(user)


@router.post("/payment-runs", response={201: RunDetailOut, **ERRORS})
def run_prepare(request: HttpRequest, data: RunIn) -> Status[PaymentRun]:
    """Prepare a run for a paying entity and date (finance); another finance user approves it."""
    user = _actor(request)
    _vendor_only(user)
    try:
        entity = selectors.entity_by_id(data.entity_id)
    except NotFound:
        raise ValidationError({"entity_id": gettext("No paying entity with this id.")}) from None
    return Status(201, runs.payment_run_prepare(entity=entity, run_date=data.run_date, actor=user))


@router.get("/payment-runs/{run_id}", response={200: RunDetailOut, **ERRORS})
def run_get(request: HttpRequest, run_id: Id) -> PaymentRun:
    return selectors.run_for(_actor(request), run_id)


@router.post("/payment-runs/{run_id}/approve", response={200: RunDetailOut, **ERRORS})
def run_approve(request: HttpRequest, run_id: Id) -> PaymentRun:
    """Four eyes: a finance user other than the preparer; upcoming payments are paid in the ledger."""
    user = _actor(request)
    return runs.payment_run_approve(run=selectors.run_for(user, run_id), actor=user)


@router.post("/payment-runs/{run_id}/export", response={200: list[BankFileOut], **ERRORS})
def run_export(request: HttpRequest, run_id: Id) -> list[BankFile]:
    """Write the bank files of an approved run (pain.001 per currency, and a CSV)."""
    user = _actor(request)
    return runs.payment_run_export(run=selectors.run_for(user, run_id), actor=user)


@router.post("/payment-runs/{run_id}/cancel", response={200: RunDetailOut, **ERRORS})
def run_cancel(request: HttpRequest, run_id: Id) -> PaymentRun:
    user = _actor(request)
    return runs.payment_run_cancel(run=selectors.run_for(user, run_id), actor=user)


@router.get("/payment-runs/{run_id}/files", response={200: list[BankFileOut], **ERRORS})
def run_files(request: HttpRequest, run_id: Id) -> list[BankFile]:
    user = _actor(request)
    run = selectors.run_for(user, run_id)
    if not permissions.can_run_payments(user):
        raise PermissionDenied(gettext("Only finance sees bank files."))
    return list(selectors.bank_files_of(run))


@router.get(
    "/payment-runs/{run_id}/files/{file_id}",
    response={200: None, **ERRORS},
    openapi_extra={
        "responses": {
            "200": {
                "description": "The bank file (pain.001 XML or CSV)",
                "content": {"application/xml": {}, "text/csv": {}},
            }
        }
    },
)
def run_file(request: HttpRequest, run_id: Id, file_id: Id) -> HttpResponse:
    user = _actor(request)
    run = selectors.run_for(user, run_id)
    if not permissions.can_run_payments(user):
        raise PermissionDenied(gettext("Only finance downloads bank files."))
    bank_file = selectors.bank_file_for(user, run, file_id)
    content_type = "application/xml" if bank_file.kind == BankFile.Kind.PAIN001 else "text/csv; charset=utf-8"
    response = HttpResponse(str(bank_file.content).encode(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{bank_file.file_name}"'
    response["Cache-Control"] = "no-store"
    return response


# --- exchange rates and paying entities ----------------------------------------------------------------


@router.get("/exchange-rates", response={200: list[RateOut], **ERRORS})
@paginate(Keyset)
def rate_list(request: HttpRequest, query: Query[RateQuery]) -> Any:
    _vendor_only(_actor(request))
    return selectors.rates(query.month)


@router.post("/exchange-rates", response={200: list[RateOut], **ERRORS})
def rates_set(request: HttpRequest, data: RatesIn) -> list[ExchangeRate]:
    """Add or change monthly rates, all or nothing (finance)."""
    user = _actor(request)
    _vendor_only(user)
    rows: list[rates.RateRow] = []
    fields: dict[str, list[str]] = {}
    for n, item in enumerate(data.rates):
        try:
            rows.append(rates.clean_rate(month=item.month, source=item.source, target=item.target, rate=item.rate))
        except ValidationError as e:
            fields |= {f"rates.{n}.{name}": messages for name, messages in e.message_dict.items()}
    if fields:
        raise ValidationError(fields)
    return services.exchange_rates_set(rows=rows, actor=user)


@router.post("/exchange-rates/import", response={200: list[RateOut], **ERRORS})
def rates_import(request: HttpRequest, file: File[UploadedFile]) -> list[ExchangeRate]:
    """A CSV (month,source,target,rate) as multipart `file`; all or nothing (finance)."""
    user = _actor(request)
    _vendor_only(user)
    return services.exchange_rates_import(stream=file, actor=user)


@router.get("/paying-entities", response={200: list[EntityOut], **ERRORS})
@paginate(Keyset)
def entity_list(request: HttpRequest) -> Any:
    _vendor_only(_actor(request))
    return selectors.entities()


@router.post("/paying-entities", response={201: EntityOut, **ERRORS})
def entity_create(request: HttpRequest, data: EntityIn) -> Status[PayingEntity]:
    user = _actor(request)
    _vendor_only(user)
    return Status(201, services.paying_entity_create(vendor=user.organisation, actor=user, **data.dict()))


@router.post("/paying-entities/{entity_id}/programs", response={200: EntityOut, **ERRORS})
def entity_assign(request: HttpRequest, entity_id: Id, data: AssignIn) -> PayingEntity:
    """Make this entity pay the program's partners (finance)."""
    user = _actor(request)
    _vendor_only(user)
    entity = selectors.entity_by_id(entity_id)
    program = Program.objects.filter(pk=data.program_id).first()
    if program is None:
        raise ValidationError({"program_id": gettext("No program with this id.")})
    services.paying_entity_assign(entity=entity, program=program, actor=user)
    return selectors.entities().get(pk=entity.pk)
