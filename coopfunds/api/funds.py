"""Co-op funds over HTTP: funds with their balances, the transaction history, earnings imports, manual
adjustments and the period jobs.

A partner sees the funds of their own locations only (another partner's fund is 404); vendor staff see all.

Earnings imports: a file is checked whole and applied all or nothing. An applied file answers 201 with the
import. A rejected file answers 422 `{code: "import_rejected", message, fields: {"file": [...], "rows":
["row 3, partner ID: ...", ...]}}`; nothing was applied, but the import and its report are kept: the
`Location` header and the message name it, and `GET /earnings-imports/{id}` returns its `errors` as
`{row, column, message}` objects.
"""

import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, cast

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.params import HeaderEx, P

from coopfunds.accounts.models import User
from coopfunds.api.common import ERRORS, SIGNED_AMOUNT, ErrorOut, Id, Keyset, Text
from coopfunds.api.idempotency import PATTERN as KEY_PATTERN
from coopfunds.core.errors import NotFound, PermissionDenied, ValidationError
from coopfunds.core.money import parse_amount, quantize
from coopfunds.funds import selectors, services
from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.models import EarningImport, Entry, Fund, Transfer, TransferKind
from coopfunds.funds.services import period_jobs_run

router = Router(tags=["funds"])


def _actor(request: HttpRequest) -> User:
    """The authenticated caller (token owner or session user): every endpoint requires one."""
    return cast(User, request.auth)  # type: ignore[attr-defined]


# --- schemas -------------------------------------------------------------------------------------------


class FundBalancesOut(Schema):
    earned: Decimal = Field(..., description="Co-op part of the earnings.")
    earned_rebate: Decimal = Field(..., description="Rebate part of the earnings.")
    accrued: Decimal = Field(..., description="Co-op accruing while the earning period is open.")
    available: Decimal
    reserved: Decimal = Field(..., description="Held by pending claims.")
    payable: Decimal = Field(..., description="Approved, not paid yet.")
    paid: Decimal
    forfeited: Decimal
    converted: Decimal = Field(..., description="Co-op converted to rebate (below the program threshold).")
    rebate: Decimal = Field(..., description="Rebate payable.")
    rebate_paid: Decimal
    claimed: Decimal = Field(..., description="reserved + payable + paid")
    remaining: Decimal = Field(..., description="What can still be claimed: available + accrued.")


def _balances_out(b: selectors.Balances) -> dict[str, Decimal]:
    names = [name for name in FundBalancesOut.model_fields if name not in ("claimed", "remaining")]
    return {**{name: getattr(b, name) for name in names}, "claimed": b.claimed, "remaining": b.remaining}


class FundOut(Schema):
    id: int
    location_id: Id
    partner_id: str = Field(..., alias="location.partner_id")
    location_name: str = Field(..., alias="location.name")
    program_id: Id
    program_code: str = Field(..., alias="program.code")
    currency: str
    label: str = Field(..., description="The usage period, e.g. FY27 H1.")
    earning_start: date
    earning_end: date
    usage_start: date
    usage_end: date
    claim_opens: date
    claim_closes: date
    expires_on: date = Field(..., description="The end of the usage period: unused money is forfeited after it.")
    expires_soon: bool = Field(..., description="Money remains and it expires within 45 days.")
    closed_at: datetime | None = Field(..., description="When the earning period was closed.")
    threshold_applied: Decimal | None
    converted_to_rebate: bool
    forfeited_at: datetime | None
    balances: FundBalancesOut

    @staticmethod
    def resolve_expires_on(obj: Fund) -> date:
        return obj.usage_end

    @staticmethod
    def resolve_expires_soon(obj: Fund) -> bool:
        return _balances(obj).expires_soon()

    @staticmethod
    def resolve_balances(obj: Fund) -> dict[str, Decimal]:
        return _balances_out(_balances(obj))


def _balances(fund: Fund) -> selectors.Balances:
    """From the list's annotations when present, else read."""
    return selectors.balances_from(fund) if hasattr(fund, "bal_available") else selectors.balances(fund)


class FundQuery(Schema):
    location_id: Id | None = None
    program_id: Id | None = None
    expiring_within_days: int | None = Field(
        None, ge=0, le=3660, description="Only funds with money left whose usage period ends within this many days."
    )


class FundTransactionOut(Schema):
    """One ledger entry on a fund: a transfer moves money between buckets, each leg is one entry."""

    id: int
    transfer_id: Id
    date: dt.date = Field(..., description="The business date of the movement.")
    recorded_at: datetime
    fund_id: Id
    fund_label: str
    location_id: Id
    partner_id: str
    program_id: Id
    program_code: str
    kind: str
    kind_label: str
    bucket: str
    bucket_label: str
    amount: Decimal = Field(..., description="Signed: positive into the bucket, negative out of it.")
    currency: str
    reference: str
    reason_code: str
    memo: str

    @staticmethod
    def resolve_date(obj: Entry) -> dt.date:
        return obj.transfer.effective_on

    @staticmethod
    def resolve_recorded_at(obj: Entry) -> datetime:
        return obj.transfer.created_at

    @staticmethod
    def resolve_fund_id(obj: Entry) -> int:
        return cast(int, obj.account.fund_id)

    @staticmethod
    def resolve_fund_label(obj: Entry) -> str:
        return _fund_of(obj).label

    @staticmethod
    def resolve_location_id(obj: Entry) -> int:
        return _fund_of(obj).location_id

    @staticmethod
    def resolve_partner_id(obj: Entry) -> str:
        return _fund_of(obj).location.partner_id

    @staticmethod
    def resolve_program_id(obj: Entry) -> int:
        return _fund_of(obj).program_id

    @staticmethod
    def resolve_program_code(obj: Entry) -> str:
        return _fund_of(obj).program.code

    @staticmethod
    def resolve_kind(obj: Entry) -> str:
        return obj.transfer.kind

    @staticmethod
    def resolve_kind_label(obj: Entry) -> str:
        return selectors.movement_label(obj.transfer.kind)

    @staticmethod
    def resolve_bucket(obj: Entry) -> str:
        return obj.account.bucket

    @staticmethod
    def resolve_bucket_label(obj: Entry) -> str:
        return selectors.bucket_label(obj.account.bucket)

    @staticmethod
    def resolve_currency(obj: Entry) -> str:
        return obj.account.currency

    @staticmethod
    def resolve_reference(obj: Entry) -> str:
        return obj.transfer.reference

    @staticmethod
    def resolve_reason_code(obj: Entry) -> str:
        return obj.transfer.reason_code

    @staticmethod
    def resolve_memo(obj: Entry) -> str:
        return obj.transfer.memo_text


def _fund_of(entry: Entry) -> Fund:
    fund = entry.account.fund
    assert fund is not None  # fund-side entries only
    return fund


class FundTransactionQuery(Schema):
    location_id: Id | None = None
    program_id: Id | None = None
    fund_id: Id | None = None
    kind: TransferKind | None = None
    date_from: date | None = Field(None, description="First business date, inclusive.")
    date_to: date | None = Field(None, description="Last business date, inclusive.")


class EarningImportProblemOut(Schema):
    row: int = Field(..., description="As a spreadsheet shows it: the header is row 1; 0 for the whole file.")
    column: str
    message: str


class EarningImportOut(Schema):
    id: int
    created_at: datetime
    created_by: str | None
    file_name: str
    sha256: str
    status: str = Field(..., description="applied, or rejected (nothing changed)")
    rows: int
    applied: int
    skipped: int = Field(..., description="Lines imported before with the same content.")
    total: Decimal
    problems: int

    @staticmethod
    def resolve_created_by(obj: EarningImport) -> str | None:
        return obj.created_by.email if obj.created_by else None

    @staticmethod
    def resolve_total(obj: EarningImport) -> Decimal:
        return quantize(Decimal(obj.total))  # a fresh instance may hold the int default

    @staticmethod
    def resolve_problems(obj: EarningImport) -> int:
        return len(obj.errors)


class EarningImportDetailOut(EarningImportOut):
    errors: list[EarningImportProblemOut]


class FundAdjustmentIn(Schema):
    amount: str = Field(
        ...,
        pattern=SIGNED_AMOUNT,
        description="Signed, with a dot: 500.00 credits, -200.00 debits the available balance.",
    )
    reason_code: Literal["policy_exception", "previous_period", "operations_adjustment", "rollover"]
    memo: Text = Field(..., description="Why, in a sentence the partner will read.")
    to_fund_id: Id | None = Field(None, description="For a rollover: the fund (same location and program) it moves to.")


class FundAdjustmentEntryOut(Schema):
    fund_id: Id
    bucket: str
    amount: Decimal

    @staticmethod
    def resolve_fund_id(obj: Entry) -> int:
        return cast(int, obj.account.fund_id)

    @staticmethod
    def resolve_bucket(obj: Entry) -> str:
        return obj.account.bucket


class FundAdjustmentOut(Schema):
    id: int
    kind: str
    reason_code: str
    memo: str
    reference: str
    date: dt.date
    created_at: datetime
    entries: list[FundAdjustmentEntryOut] = Field(..., description="The fund-side legs of the adjustment.")

    @staticmethod
    def resolve_date(obj: Transfer) -> dt.date:
        return obj.effective_on

    @staticmethod
    def resolve_entries(obj: Transfer) -> list[Entry]:
        return list(obj.entries.filter(account__fund__isnull=False).select_related("account").order_by("id"))


class FundPeriodJobsOut(Schema):
    closed: int = Field(..., description="Funds whose ended earning period was closed now.")
    reevaluated: int = Field(
        ..., description="Closed funds converted to rebate that late earnings took to the threshold: now available."
    )
    forfeited: int = Field(..., description="Expired funds whose available money was forfeited now.")


# --- funds ---------------------------------------------------------------------------------------------


@router.get("/funds", response={200: list[FundOut], **ERRORS})
@paginate(Keyset)
def fund_list(request: HttpRequest, filters: Query[FundQuery]) -> Any:
    """The funds the caller may see (one per location, program and usage period), with their balances."""
    funds = selectors.funds_filter(
        selectors.funds_visible_to(_actor(request)),
        location_id=filters.location_id,
        program_id=filters.program_id,
        expiring_within_days=filters.expiring_within_days,
    )
    return selectors.funds_with_balances(funds)


@router.get("/funds/{fund_id}", response={200: FundOut, **ERRORS})
def fund_get(request: HttpRequest, fund_id: Id) -> Fund:
    return selectors.fund_for(_actor(request), fund_id)


@router.get("/funds/{fund_id}/transactions", response={200: list[FundTransactionOut], **ERRORS})
@paginate(Keyset)
def fund_transactions(request: HttpRequest, fund_id: Id) -> Any:
    """The fund's ledger entries, oldest first."""
    user = _actor(request)
    fund = selectors.fund_for(user, fund_id)
    return selectors.entries_filter(selectors.entries_visible_to(user), fund_id=fund.pk)


@router.get("/transactions", response={200: list[FundTransactionOut], **ERRORS})
@paginate(Keyset)
def transaction_list(request: HttpRequest, filters: Query[FundTransactionQuery]) -> Any:
    """The ledger entries of every fund the caller may see, oldest first; new entries appear at the end, so
    following `next` later picks up what was added."""
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        raise ValidationError({"date_to": gettext("The end date is before the start date.")})
    return selectors.entries_filter(
        selectors.entries_visible_to(_actor(request)),
        location_id=filters.location_id,
        program_id=filters.program_id,
        fund_id=filters.fund_id,
        kind=filters.kind or "",
        date_from=filters.date_from,
        date_to=filters.date_to,
    )


@router.post("/funds/{fund_id}/adjustments", response={201: FundAdjustmentOut, 200: FundAdjustmentOut, **ERRORS})
def fund_adjust(
    request: HttpRequest,
    fund_id: Id,
    data: FundAdjustmentIn,
    idempotency_key: HeaderEx[
        str, P(alias="Idempotency-Key", pattern=KEY_PATTERN, description="A unique key per adjustment (a UUID).")
    ],
) -> Status[Transfer]:
    """A program manager's credit, debit or rollover of a fund's available balance. Sending the same
    `Idempotency-Key` again returns the first adjustment (200) and changes nothing; other content with a used
    key is 409."""
    user = _actor(request)
    fund = selectors.fund_for(user, fund_id)
    try:
        amount = parse_amount(data.amount)
    except ValidationError as error:
        raise ValidationError({"amount": error.messages}) from None
    to_fund = None
    if data.to_fund_id is not None:
        try:
            to_fund = selectors.fund_for(user, data.to_fund_id)
        except NotFound:
            raise ValidationError({"to_fund_id": gettext("No fund with this id.")}) from None
    key = f"adjust:{user.pk}:{idempotency_key}"
    replay = selectors.adjustment_by_key(key) is not None
    transfer = services.fund_adjust(
        fund=fund,
        amount=amount,
        reason_code=data.reason_code,
        memo=data.memo,
        key=key,
        actor=user,
        to_fund=to_fund,
    )
    return Status(200 if replay else 201, transfer)


@router.post("/period-jobs", response={200: FundPeriodJobsOut, **ERRORS})
def period_jobs(request: HttpRequest) -> dict[str, int]:
    """Close every ended earning period, re-evaluate closed ones that late earnings changed (where the program
    says so) and forfeit expired funds now (program managers of all programs).
    Safe to repeat: what was done is not done again."""
    if not selectors.can_run_period_jobs(_actor(request)):
        raise PermissionDenied(gettext("Only a program manager of every program can run the period jobs."))
    return period_jobs_run(actor=_actor(request))


# --- earnings imports ----------------------------------------------------------------------------------


@router.get("/earnings-imports", response={200: list[EarningImportOut], **ERRORS})
@paginate(Keyset, ordering=("-id",))
def import_list(request: HttpRequest) -> Any:
    """Past imports, newest first (program managers, finance, auditors)."""
    user = _actor(request)
    if not selectors.can_see_imports(user):
        raise PermissionDenied(gettext("Only program managers, finance and auditors see earnings imports."))
    return selectors.imports_visible_to(user)


@router.get(
    "/earnings-imports/{import_id}", response={200: EarningImportDetailOut, **ERRORS}, url_name="earnings_import_get"
)
def import_get(request: HttpRequest, import_id: Id) -> EarningImport:
    return selectors.import_for(_actor(request), import_id)


def _problem_text(problem: dict[str, Any]) -> str:
    return gettext("row %(row)s, %(column)s: %(message)s") % {
        "row": problem["row"],
        "column": problem["column"],
        "message": problem["message"],
    }


@router.post("/earnings-imports", response={201: EarningImportDetailOut, **ERRORS})
def import_create(request: HttpRequest, response: HttpResponse, file: File[UploadedFile]) -> Status[Any]:
    """Upload a CSV (UTF-8) or .xlsx file of earning lines as multipart form data (`file`). Applied: 201 with
    the import. Rejected: 422 `import_rejected`, every problem in `fields.rows` (and `fields.file` for the
    file as a whole); the import is kept, named by the `Location` header."""
    batch = earnings_import(stream=file, file_name=file.name or "upload", actor=_actor(request))
    if batch.status == EarningImport.Status.APPLIED:
        return Status(201, batch)
    url = reverse("api:earnings_import_get", args=[batch.pk])
    response["Location"] = url
    fields = {
        "file": [p["message"] for p in batch.errors if p["row"] == 0],
        "rows": [_problem_text(p) for p in batch.errors if p["row"] != 0],
    }
    n = len(batch.errors)
    message = ngettext(
        "%(file)s: %(n)s problem found; nothing was imported. The report is import %(batch)s (%(url)s).",
        "%(file)s: %(n)s problems found; nothing was imported. The report is import %(batch)s (%(url)s).",
        n,
    ) % {"file": batch.file_name, "n": n, "batch": batch.pk, "url": url}
    return Status(422, ErrorOut(code="import_rejected", message=message, fields={k: v for k, v in fields.items() if v}))
