"""Claims over HTTP: filing (create, edit, documents, submit, withdraw, dispute, comments, colleagues), the
checker, the history, and the review (queue, assign, approve, request action, reject, reason codes).

A partner sees the claims of the locations their roles cover (another partner's claim is 404); vendor staff
see all. Findings come in the caller's words: a partner reads `message`, vendor staff the reviewer's
version (which says where a duplicate is). Every state-changing POST accepts an `Idempotency-Key` header:
a retry with the same key and body returns the first response and does nothing again."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from django.core.files.uploadedfile import UploadedFile as DjangoUploadedFile
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Form, Query, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.pagination import paginate
from pydantic import ConfigDict

from coopfunds.accounts.models import User
from coopfunds.accounts.permissions import is_vendor_staff
from coopfunds.accounts.selectors import users_visible_to
from coopfunds.api.common import ERRORS, Amount, Currency, DocumentKind, Files, Id, Keyset, PartnerItemOut, Text
from coopfunds.api.idempotency import IdempotencyKey, idempotent
from coopfunds.claims import checks, selectors, services
from coopfunds.claims.models import Claim, ClaimDocument, ClaimEvent, ClaimStatus, ReasonCode
from coopfunds.claims.services import Reason
from coopfunds.core.errors import NotFound, PermissionDenied, ValidationError
from coopfunds.funds.selectors import fund_for
from coopfunds.programs import periods
from coopfunds.programs.selectors import activity_type_for, program_for
from coopfunds.review.workflow import AWAITING_REVIEW, EDITABLE

router = Router(tags=["claims"])


def _actor(request: HttpRequest) -> User:
    return cast(User, request.auth)  # type: ignore[attr-defined]  # every endpoint is authenticated


# --- schemas -------------------------------------------------------------------------------------------


class ClaimFindingOut(Schema):
    code: str
    field: str = Field(..., description="The claim field it is about; empty for the claim as a whole.")
    message: str = Field(..., description="In the caller's words (vendor staff: where a duplicate is).")
    blocking: bool


def _findings_for(user: User, claim: Claim) -> list[dict[str, Any]]:
    vendor = is_vendor_staff(user)
    return [
        {"code": f.code, "field": f.field, "message": f.for_reviewer() if vendor else f.message, "blocking": f.blocking}
        for f in checks.findings(claim)
    ]


class ClaimDocumentOut(Schema):
    id: int = Field(..., description="The document's id.")
    name: str
    kind: str
    note: str
    file_type: str
    size: int
    sha256: str
    locked: bool
    added_at: datetime
    download_url: str

    @staticmethod
    def resolve_id(obj: ClaimDocument) -> int:
        return obj.document_id

    @staticmethod
    def resolve_name(obj: ClaimDocument) -> str:
        return obj.document.original_name

    @staticmethod
    def resolve_kind(obj: ClaimDocument) -> str:
        return obj.document.kind

    @staticmethod
    def resolve_note(obj: ClaimDocument) -> str:
        return obj.document.note

    @staticmethod
    def resolve_file_type(obj: ClaimDocument) -> str:
        return obj.document.file_type

    @staticmethod
    def resolve_size(obj: ClaimDocument) -> int:
        return obj.document.size

    @staticmethod
    def resolve_sha256(obj: ClaimDocument) -> str:
        return obj.document.sha256

    @staticmethod
    def resolve_locked(obj: ClaimDocument) -> bool:
        return obj.document.is_locked

    @staticmethod
    def resolve_download_url(obj: ClaimDocument) -> str:
        return f"/api/v1/documents/{obj.document_id}/download"


class ClaimOut(PartnerItemOut):
    fund_id: Id
    fund_label: str = Field(..., alias="fund.label", description="The usage period, e.g. FY27 H1.")
    activity_type_id: Id
    activity_type_code: str = Field(..., alias="activity_type.code")
    name: str
    description: str
    execution_start: date | None
    execution_end: date | None
    amount: Decimal | None
    currency: str
    approved_amount: Decimal | None
    invoice_vendor: str
    invoice_vendor_tax_id: str
    invoice_number: str
    invoice_date: date | None
    invoice_amount: Decimal | None
    invoice_currency: str
    attendees: int | None
    metrics: dict[str, str]
    comments: str
    status: str
    status_label: str
    reviewer_id: Id | None
    submissions: int
    reserved: Decimal = Field(..., description="Held in the fund for this claim now.")
    created_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    due_on: date | None = Field(..., description="When the review (or the dispute's review) is due.")
    expires_on: date | None = Field(..., description="The last day the draft can be submitted; it expires after it.")
    dispute_deadline: date | None = Field(..., description="A rejected claim can be disputed until this day.")

    @staticmethod
    def resolve_status_label(obj: Claim) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_dispute_deadline(obj: Claim) -> date | None:
        return services.dispute_deadline(obj)


class ClaimDetailOut(ClaimOut):
    """The claim and its documents. The checker's findings are not part of it: they are computed against the
    fund, the caps and every other claim at the moment they are asked for, at `GET /claims/{id}/checks`."""

    documents: list[ClaimDocumentOut]

    @staticmethod
    def resolve_documents(obj: Claim) -> list[ClaimDocument]:
        return selectors.attached_documents(obj)


class ReviewQueueItemOut(ClaimOut):
    age_business_days: int = Field(..., description="Business days since submission (or dispute).")
    days_left: int | None = Field(..., description="Business days until due; negative when overdue.")
    breached: bool = Field(..., description="The review is past its due date.")

    @staticmethod
    def resolve_age_business_days(obj: Claim, context: Any) -> int:
        return _clock(obj, context["request"]).age

    @staticmethod
    def resolve_days_left(obj: Claim, context: Any) -> int | None:
        return _clock(obj, context["request"]).days_left

    @staticmethod
    def resolve_breached(obj: Claim, context: Any) -> bool:
        return _clock(obj, context["request"]).breached


def _clock(claim: Claim, request: HttpRequest) -> selectors.Clock:
    """One calendar per program per request (a page of the queue costs a query per program, not per claim)."""
    calendars: dict[int, periods.BusinessCalendar] = request.__dict__.setdefault("_claim_calendars", {})
    if claim.program_id not in calendars:
        calendars[claim.program_id] = periods.calendar_for(claim.program)
    return selectors.clock(claim, calendar=calendars[claim.program_id])


class ClaimReasonOut(Schema):
    code: str = Field(..., alias="code.code")
    label: str = Field(..., alias="code.label")
    note: str
    document_id: Id | None
    field: str


class ClaimEventOut(Schema):
    id: int
    kind: str
    kind_label: str
    message: str = Field(..., description="In the caller's language where the product wrote it.")
    internal: bool = Field(..., description="An internal note (vendor staff only).")
    old_status: str
    new_status: str
    actor: str | None = Field(..., description="Who did it (empty: Coopfunds itself).")
    created_at: datetime
    reasons: list[ClaimReasonOut]

    @staticmethod
    def resolve_kind_label(obj: ClaimEvent) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_message(obj: ClaimEvent) -> str:
        return obj.text

    @staticmethod
    def resolve_actor(obj: ClaimEvent) -> str | None:
        return obj.actor.get_full_name() if obj.actor else None

    @staticmethod
    def resolve_reasons(obj: ClaimEvent) -> list[Any]:
        return list(obj.reasons.all())


class ClaimFields(Schema):
    """The fields a partner fills in (all optional here; the checker says what submission needs)."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    execution_start: date | None = None
    execution_end: date | None = None
    amount: Amount | None = Field(None, description='Claimed, in the fund\'s currency, e.g. "1250.00".')
    invoice_vendor: str | None = Field(None, max_length=200)
    invoice_vendor_tax_id: str | None = Field(None, max_length=64)
    invoice_number: str | None = Field(None, max_length=64)
    invoice_date: date | None = None
    invoice_amount: Amount | None = None
    invoice_currency: Currency | None = None
    attendees: int | None = Field(None, ge=1, le=100000)
    metrics: dict[str, str] | None = Field(None, description="One value per metric of the activity type.")
    comments: str | None = None


class ClaimCreateIn(ClaimFields):
    fund_id: Id = Field(..., description="The location's fund (usage period) the claim spends.")
    activity_type_id: Id = Field(..., description="An activity of the fund's fiscal-year catalogue.")
    name: Text = Field(..., max_length=200)


class ClaimPatchIn(ClaimFields):
    name: Text | None = Field(None, max_length=200)


class ClaimQuery(Schema):
    status: ClaimStatus | None = None
    location_id: Id | None = None
    program_id: Id | None = None
    fund_id: Id | None = None
    activity_type_id: Id | None = None


class ClaimDocumentsIn(Schema):
    kind: DocumentKind = Field(
        ..., description="invoice, certification_report, proof, other, or a kind of the activity."
    )
    note: str = Field("", max_length=2000, description="Required for proof: what the documents show.")


class ClaimReasonIn(Schema):
    code: str = Field(..., description="A code from GET /reason-codes.")
    note: str = ""
    document_id: Id | None = Field(None, description="A document of this claim the reason points at.")
    field: str = Field("", max_length=64, description="A claim field the reason points at, e.g. invoice_number.")


class ClaimApproveIn(Schema):
    amount: Amount | None = Field(None, description="Less than claimed: a partial approval (if the program allows).")
    note: str = ""
    reasons: list[ClaimReasonIn] = []


class ClaimDecisionIn(Schema):
    reasons: list[ClaimReasonIn] = Field(..., description="At least one.")
    message: str = ""


class ClaimWithdrawIn(Schema):
    reason: str = ""


class ClaimDisputeIn(Schema):
    reason: Text = Field(..., description="Why the rejection is wrong.")


class ClaimAssignIn(Schema):
    reviewer_id: Id | None = Field(None, description="Another reviewer of the program; empty: the caller.")


class ClaimCommentIn(Schema):
    message: Text
    internal: bool = Field(False, description="An internal note, seen by vendor staff only (vendor staff only).")


class ClaimDocumentRequestIn(Schema):
    colleague_id: Id = Field(..., description="A colleague who can work on this location's claims.")
    message: Text


class ReviewQueueQuery(Schema):
    mine: bool = Field(False, description="Only claims assigned to the caller.")
    program_id: Id | None = None
    overdue: bool = Field(False, description="Only reviews past their due date.")
    status: ClaimStatus | None = Field(None, description="submitted, under_review or disputed.")


class ReasonCodeQuery(Schema):
    claim_id: Id | None = Field(None, description="The codes a reviewer may give on this claim.")
    program_id: Id | None = Field(None, description="The codes of this program (and those of every program).")


class ReasonCodeOut(Schema):
    id: int
    code: str
    label: str
    program_id: Id | None


# --- filing --------------------------------------------------------------------------------------------


def _claim(request: HttpRequest, claim_id: Id) -> Claim:
    return selectors.claim_for(_actor(request), claim_id)


def _fields(data: ClaimFields) -> dict[str, Any]:
    """The fields the client sent (PATCH semantics); None clears a field."""
    values = data.model_dump(exclude_unset=True, exclude={"fund_id", "activity_type_id"})
    for text in ("description", "invoice_vendor", "invoice_vendor_tax_id", "invoice_number", "comments", "name"):
        if text in values and values[text] is None:
            values[text] = ""
    if values.get("invoice_currency") is None and "invoice_currency" in values:
        values["invoice_currency"] = ""
    return values


@router.get("/claims", response={200: list[ClaimOut], **ERRORS})
@paginate(Keyset, ordering=("-id",))
def claim_list(request: HttpRequest, filters: Query[ClaimQuery]) -> QuerySet[Claim]:
    """The claims the caller may see, newest first."""
    claims = selectors.claims_visible_to(_actor(request))
    for name in ("status", "location_id", "program_id", "fund_id", "activity_type_id"):
        value = getattr(filters, name)
        if value is not None:
            claims = claims.filter(**{name: value})
    return claims


@router.post("/claims", response={201: ClaimDetailOut, **ERRORS})
@decorate_view(idempotent)
def claim_create(request: HttpRequest, data: ClaimCreateIn, idempotency_key: IdempotencyKey = None) -> Status[Claim]:
    """Start a claim (Editing) against one fund for one activity type of that fund's fiscal-year catalogue."""
    user = _actor(request)
    try:
        fund = fund_for(user, data.fund_id)
    except NotFound:
        raise ValidationError({"fund_id": _("No fund with this id.")}) from None
    try:
        activity = activity_type_for(user, data.activity_type_id)
    except NotFound:
        raise ValidationError({"activity_type_id": _("No activity type with this id.")}) from None
    fields = _fields(data)
    name = fields.pop("name")
    claim = services.claim_create(fund=fund, activity_type=activity, name=name, actor=user, **fields)
    return Status(201, selectors.claim_shown_to(user, claim.pk))


@router.get("/claims/{claim_id}", response={200: ClaimDetailOut, **ERRORS})
def claim_get(request: HttpRequest, claim_id: Id) -> Claim:
    """The claim and its documents (its checker's findings: `/claims/{id}/checks`)."""
    return selectors.claim_shown_to(_actor(request), claim_id)


@router.patch("/claims/{claim_id}", response={200: ClaimDetailOut, **ERRORS})
def claim_patch(request: HttpRequest, claim_id: Id, data: ClaimPatchIn) -> Claim:
    """Change the fields sent (only while Editing or Action required); status changes have their own verbs."""
    user = _actor(request)
    claim = _claim(request, claim_id)
    services.claim_update(claim=claim, actor=user, **_fields(data))
    return selectors.claim_shown_to(user, claim.pk)


@router.get("/claims/{claim_id}/checks", response={200: list[ClaimFindingOut], **ERRORS})
def claim_checks(request: HttpRequest, claim_id: Id) -> list[dict[str, Any]]:
    """The checker's findings on the claim as saved, now: a blocking one prevents submission, and a reviewer
    reads them before deciding (empty once the claim is decided)."""
    claim = _claim(request, claim_id)
    if claim.status not in EDITABLE | AWAITING_REVIEW:
        return []
    return _findings_for(_actor(request), claim)


@router.post("/claims/{claim_id}/documents", response={201: list[ClaimDocumentOut], **ERRORS})
@decorate_view(idempotent)
def claim_documents_add(
    request: HttpRequest,
    claim_id: Id,
    data: Form[ClaimDocumentsIn],
    files: Files,
    idempotency_key: IdempotencyKey = None,
) -> Status[list[ClaimDocument]]:
    """Attach files (multipart: repeat `files`, with `kind` and `note`). All or nothing: a 422 names every
    refused file in `fields.files` and nothing is kept."""
    user = _actor(request)
    claim = _claim(request, claim_id)
    uploads = cast(list[DjangoUploadedFile], files)  # ninja's UploadedFile is Django's
    stored = services.claim_add_documents(claim=claim, uploads=uploads, kind=data.kind, note=data.note, actor=user)
    ids = [d.pk for d in stored]
    return Status(201, list(selectors.attachments(claim).filter(document_id__in=ids)))


@router.delete("/claims/{claim_id}/documents/{document_id}", response={204: None, **ERRORS})
def claim_document_remove(request: HttpRequest, claim_id: Id, document_id: Id) -> Status[None]:
    """Take a document off a claim being edited (it stays in the history)."""
    user = _actor(request)
    claim = _claim(request, claim_id)
    attached = selectors.attachments(claim).filter(document_id=document_id).first()
    if attached is None:
        raise NotFound(_("No such document on this claim."))
    services.claim_remove_document(claim=claim, document=attached.document, actor=user)
    return Status(204, None)


def _transition(request: HttpRequest, claim_id: Id, act: Any) -> Claim:
    """Run a transition; the service reads the claim under lock (404 if the caller may not see it) and returns
    it as the transition left it, which is the response."""
    return cast(Claim, act(Claim(pk=claim_id), _actor(request)))


@router.post("/claims/{claim_id}/submit", response={200: ClaimDetailOut, **ERRORS})
@decorate_view(idempotent)
def claim_submit(request: HttpRequest, claim_id: Id, idempotency_key: IdempotencyKey = None) -> Claim:
    """Submit for review: 422 with the blocking findings per field if the checker refuses."""
    return _transition(request, claim_id, lambda c, u: services.claim_submit(claim=c, actor=u))


@router.post("/claims/{claim_id}/withdraw", response={200: ClaimDetailOut, **ERRORS})
@decorate_view(idempotent)
def claim_withdraw(
    request: HttpRequest, claim_id: Id, data: ClaimWithdrawIn, idempotency_key: IdempotencyKey = None
) -> Claim:
    return _transition(request, claim_id, lambda c, u: services.claim_withdraw(claim=c, actor=u, reason=data.reason))


@router.post("/claims/{claim_id}/dispute", response={200: ClaimDetailOut, **ERRORS})
@decorate_view(idempotent)
def claim_dispute(
    request: HttpRequest, claim_id: Id, data: ClaimDisputeIn, idempotency_key: IdempotencyKey = None
) -> Claim:
    """Dispute a rejection (incentives admins, within the program's dispute window: see dispute_deadline)."""
    return _transition(request, claim_id, lambda c, u: services.claim_dispute(claim=c, actor=u, reason=data.reason))


@router.post("/claims/{claim_id}/comments", response={201: ClaimEventOut, **ERRORS})
@decorate_view(idempotent)
def claim_comment(
    request: HttpRequest, claim_id: Id, data: ClaimCommentIn, idempotency_key: IdempotencyKey = None
) -> Status[ClaimEvent]:
    user = _actor(request)
    event = services.claim_comment(
        claim=_claim(request, claim_id), actor=user, message=data.message, internal=data.internal
    )
    return Status(201, event)


@router.post("/claims/{claim_id}/document-requests", response={201: ClaimEventOut, **ERRORS})
@decorate_view(idempotent)
def claim_document_request(
    request: HttpRequest, claim_id: Id, data: ClaimDocumentRequestIn, idempotency_key: IdempotencyKey = None
) -> Status[ClaimEvent]:
    """Ask a colleague of the same organisation to add documents (they are notified)."""
    user = _actor(request)
    claim = _claim(request, claim_id)
    colleague = selectors.colleagues_of(user, claim).filter(pk=data.colleague_id).first()
    if colleague is None:
        raise ValidationError({"colleague_id": _("Choose a colleague who can work on this location's claims.")})
    event = services.claim_request_documents(claim=claim, colleague=colleague, message=data.message, actor=user)
    return Status(201, event)


@router.get("/claims/{claim_id}/timeline", response={200: list[ClaimEventOut], **ERRORS})
@paginate(Keyset)
def claim_timeline(request: HttpRequest, claim_id: Id) -> QuerySet[ClaimEvent]:
    """The claim's history, oldest first, with the reasons of decisions (internal notes: vendor staff only)."""
    user = _actor(request)
    return selectors.timeline(user, _claim(request, claim_id))


# --- review --------------------------------------------------------------------------------------------


def _reasons(reasons: list[ClaimReasonIn]) -> list[Reason]:
    return [Reason(code=r.code, note=r.note, document_id=r.document_id, field=r.field) for r in reasons]


@router.post("/claims/{claim_id}/assign", response={200: ClaimDetailOut, **ERRORS})
@decorate_view(idempotent)
def claim_assign(
    request: HttpRequest, claim_id: Id, data: ClaimAssignIn, idempotency_key: IdempotencyKey = None
) -> Claim:
    """Assign the claim to the caller (no reviewer_id) or to another reviewer of the program."""
    user = _actor(request)
    reviewer = user
    if data.reviewer_id is not None and data.reviewer_id != user.pk:
        found = users_visible_to(user).filter(pk=data.reviewer_id).first()
        if found is None:
            raise ValidationError({"reviewer_id": _("No user with this id.")})
        reviewer = found
    return _transition(request, claim_id, lambda c, u: services.claim_assign(claim=c, reviewer=reviewer, actor=u))


@router.post("/claims/{claim_id}/approve", response={200: ClaimDetailOut, **ERRORS})
@decorate_view(idempotent)
def claim_approve(
    request: HttpRequest, claim_id: Id, data: ClaimApproveIn, idempotency_key: IdempotencyKey = None
) -> Claim:
    """Approve in full, or `amount` (partial, where the program allows it, with a note or reasons). Above the
    reviewer's approval limit this is a first approval: the claim stays under review for a second reviewer."""
    return _transition(
        request,
        claim_id,
        lambda c, u: services.claim_approve(
            claim=c, actor=u, amount=data.amount, note=data.note, reasons=_reasons(data.reasons) or None
        ),
    )


@router.post("/claims/{claim_id}/request-action", response={200: ClaimDetailOut, **ERRORS})
@decorate_view(idempotent)
def claim_request_action(
    request: HttpRequest, claim_id: Id, data: ClaimDecisionIn, idempotency_key: IdempotencyKey = None
) -> Claim:
    """Send the claim back to the partner with reasons; the money stays reserved."""
    return _transition(
        request,
        claim_id,
        lambda c, u: services.claim_request_action(
            claim=c, actor=u, reasons=_reasons(data.reasons), message=data.message
        ),
    )


@router.post("/claims/{claim_id}/reject", response={200: ClaimDetailOut, **ERRORS})
@decorate_view(idempotent)
def claim_reject(
    request: HttpRequest, claim_id: Id, data: ClaimDecisionIn, idempotency_key: IdempotencyKey = None
) -> Claim:
    """Reject with reasons; the reserved money goes back to the fund."""
    return _transition(
        request,
        claim_id,
        lambda c, u: services.claim_reject(claim=c, actor=u, reasons=_reasons(data.reasons), message=data.message),
    )


@router.get("/review-queue", response={200: list[ReviewQueueItemOut], **ERRORS})
@paginate(Keyset, ordering=("due_on", "id"))
def review_queue(request: HttpRequest, filters: Query[ReviewQueueQuery]) -> QuerySet[Claim]:
    """Claims waiting for a decision, the earliest due first, with their review clock in business days."""
    user = _actor(request)
    if not is_vendor_staff(user):
        raise PermissionDenied(_("The review queue is for vendor staff."))
    queue = selectors.review_queue(user, mine=filters.mine, program_id=filters.program_id, overdue=filters.overdue)
    if filters.status is not None:
        queue = queue.filter(status=filters.status)
    return queue


@router.get("/reason-codes", response={200: list[ReasonCodeOut], **ERRORS})
@paginate(Keyset)
def reason_codes(request: HttpRequest, filters: Query[ReasonCodeQuery]) -> QuerySet[ReasonCode]:
    """The structured reasons reviewers give: every program's, plus the program's own."""
    user = _actor(request)
    if filters.claim_id is not None:
        return selectors.reason_codes(_claim(request, filters.claim_id))
    if filters.program_id is not None:
        return selectors.reason_codes_of(program_for(user, filters.program_id))
    return selectors.reason_codes_of(None)
