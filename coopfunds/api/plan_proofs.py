"""Proof of execution over HTTP: filing (fields, documents, certification report, submit, withdraw, dispute),
review (assign, approve, request action, reject, with reasons), history and the reviewers' queue. Its router
is included by coopfunds/api/plans.py."""

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

from coopfunds.accounts.models import User
from coopfunds.accounts.permissions import is_vendor_staff
from coopfunds.api.common import ERRORS, Amount, Currency, DocumentKind, Files, Hours, Id, Keyset, Text
from coopfunds.api.idempotency import IdempotencyKey, idempotent
from coopfunds.api.plan_schemas import (
    PlanEventOut,
    PlanQueueQuery,
    PlanStrict,
    request_user,
    reviewer_by_id,
    staff_only,
)
from coopfunds.core.errors import NotFound
from coopfunds.plans import deadlines, proof_checks, proofs, selectors, services
from coopfunds.plans.models import (
    PlanEvent,
    Proof,
    ProofDocument,
)
from coopfunds.review.workflow import AWAITING_REVIEW, EDITABLE

router = Router(tags=["proof of execution"])


def _user(request: HttpRequest) -> User:
    return request_user(request)


# --- proof of execution ------------------------------------------------------------------------------------------


class ProofDocumentOut(Schema):
    id: int = Field(..., description="The document's id.")
    name: str
    kind: str
    note: str
    size: int
    locked: bool
    added_at: datetime
    download_url: str

    @staticmethod
    def resolve_id(obj: ProofDocument) -> int:
        return obj.document_id

    @staticmethod
    def resolve_name(obj: ProofDocument) -> str:
        return obj.document.original_name

    @staticmethod
    def resolve_kind(obj: ProofDocument) -> str:
        return obj.document.kind

    @staticmethod
    def resolve_note(obj: ProofDocument) -> str:
        return obj.document.note

    @staticmethod
    def resolve_size(obj: ProofDocument) -> int:
        return obj.document.size

    @staticmethod
    def resolve_locked(obj: ProofDocument) -> bool:
        return obj.document.is_locked

    @staticmethod
    def resolve_download_url(obj: ProofDocument) -> str:
        return f"/api/v1/documents/{obj.document_id}/download"


class ProofOut(Schema):
    id: int
    plan_id: Id
    activity_id: Id
    location_id: Id
    fund_id: Id | None
    name: str
    execution_date: date | None
    amount: Decimal | None
    currency: str
    estimated_impressions: int | None
    pre_approval_id: str
    invoice_vendor: str
    invoice_number: str
    invoice_date: date | None
    invoice_amount: Decimal | None
    invoice_currency: str
    status: str
    status_label: str
    reviewer_id: Id | None
    first_approver_id: Id | None = Field(
        ..., description="Who gave the first of two approvals (above their approval limit), until the second."
    )
    submissions: int
    reserved: Decimal = Field(..., description="Held in the fund for this proof now.")
    approved_amount: Decimal | None
    payable: Decimal = Field(..., description="Made payable, counted against the plan's limit.")
    carried: Decimal = Field(..., description="Approved above the limit and still held (program rule: carry).")
    due_by: date = Field(..., description="The last day it may be first submitted.")
    due_on: date | None = Field(..., description="When the review is due.")
    submitted_at: datetime | None
    decided_at: datetime | None
    dispute_deadline: date | None

    @staticmethod
    def resolve_status_label(obj: Proof) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_due_by(obj: Proof) -> date:
        return deadlines.proof_due(selectors.plan_settings_of(obj.plan.program), obj.activity.campaign.start)

    @staticmethod
    def resolve_dispute_deadline(obj: Proof) -> date | None:
        return proofs.dispute_deadline(obj)


class ProofFindingOut(Schema):
    code: str
    field: str
    message: str
    blocking: bool


class ProofDetailOut(ProofOut):
    """The proof and its documents; the checker's findings are at `GET /proofs/{id}/checks`."""

    documents: list[ProofDocumentOut]

    @staticmethod
    def resolve_documents(obj: Proof) -> list[ProofDocument]:
        return list(selectors.proof_attachments(obj))


class ProofFields(PlanStrict):
    execution_date: date | None = None
    amount: Amount | None = None
    estimated_impressions: int | None = Field(None, ge=0, le=2**63 - 1)
    pre_approval_id: str | None = Field(None, max_length=64)
    invoice_vendor: str | None = Field(None, max_length=200)
    invoice_number: str | None = Field(None, max_length=64)
    invoice_date: date | None = None
    invoice_amount: Amount | None = None
    invoice_currency: Currency | None = None


class ProofIn(ProofFields):
    name: Text = Field(..., max_length=200)


class ProofPatchIn(ProofFields):
    name: Text | None = Field(None, max_length=200)


class ProofDocumentsIn(Schema):
    kind: DocumentKind = Field(
        ..., description="invoice, certification_report, proof, or a catalogue kind (screenshot, ...)."
    )
    note: str = Field(
        "", max_length=2000, description="Required for every kind but the invoice and the certification report."
    )


class ProofWorkLineIn(PlanStrict):
    person: Text = Field(..., max_length=100)
    hours: Hours
    rate: Amount = Field(..., description="An hour's rate, in the fund's currency.")


class ProofCertificationIn(PlanStrict):
    description: Text = Field(..., max_length=2000)
    lines: list[ProofWorkLineIn] = Field(..., min_length=1, max_length=20)


class ProofReasonIn(PlanStrict):
    code: str
    note: str = ""
    document_id: Id | None = Field(None, description="A document of this proof.")
    field: str = Field("", description="A field of the proof it is about.")


class ProofApproveIn(PlanStrict):
    amount: Amount | None = Field(None, description="Less than asked, where the program allows partial approval.")
    note: str = ""
    reasons: list[ProofReasonIn] = []


class ProofDecisionIn(PlanStrict):
    message: str = ""
    reasons: list[ProofReasonIn]


class ProofReasonTextIn(PlanStrict):
    reason: str = ""


class ProofAssignIn(PlanStrict):
    reviewer_id: Id | None = Field(None, description="Empty: yourself.")


class ProofListQuery(Schema):
    status: str | None = None
    plan_id: Id | None = None


def _proof(request: HttpRequest, proof_id: Id) -> Proof:
    return selectors.proof_for(_user(request), proof_id)


def _proof_reasons(items: list[ProofReasonIn]) -> list[services.Reason]:
    return [services.Reason(code=r.code, note=r.note, document_id=r.document_id, field=r.field) for r in items]


@router.get("/proofs", response={200: list[ProofOut], **ERRORS})
@paginate(Keyset)
def proof_list(request: HttpRequest, filters: Query[ProofListQuery]) -> QuerySet[Proof]:
    qs = selectors.proofs_visible_to(_user(request))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.plan_id:
        qs = qs.filter(plan_id=filters.plan_id)
    return qs


@router.post("/plan-activities/{activity_id}/proofs", response={201: ProofDetailOut, **ERRORS})
@decorate_view(idempotent)
def proof_create(
    request: HttpRequest, activity_id: Id, payload: ProofIn, idempotency_key: IdempotencyKey = None
) -> Status[Proof]:
    """Start proof of execution for an activity of the plan in force, before it is due."""
    user = _user(request)
    activity = selectors.plan_activity_for(user, activity_id)
    fields = payload.model_dump(exclude_unset=True, exclude={"name"})
    proof = proofs.proof_create(activity=activity, actor=user, name=payload.name, **fields)
    return Status(201, _proof(request, proof.pk))


@router.get("/proofs/{proof_id}", response={200: ProofDetailOut, **ERRORS})
def proof_detail(request: HttpRequest, proof_id: Id) -> Proof:
    return _proof(request, proof_id)


@router.get("/proofs/{proof_id}/checks", response={200: list[ProofFindingOut], **ERRORS})
def proof_checks_now(request: HttpRequest, proof_id: Id) -> list[dict[str, Any]]:
    """The checker's findings on the proof as saved, now, in the caller's words (vendor staff: where a duplicate
    is); a blocking one prevents submission. Empty once the proof is decided."""
    user, proof = _user(request), _proof(request, proof_id)
    if proof.status not in EDITABLE | AWAITING_REVIEW:
        return []
    vendor = is_vendor_staff(user)
    return [
        {"code": f.code, "field": f.field, "message": f.for_reviewer() if vendor else f.message, "blocking": f.blocking}
        for f in proof_checks.proof_findings(proof)
    ]


@router.patch("/proofs/{proof_id}", response={200: ProofDetailOut, **ERRORS})
def proof_update(request: HttpRequest, proof_id: Id, payload: ProofPatchIn) -> Proof:
    proofs.proof_update(proof=_proof(request, proof_id), actor=_user(request), **payload.model_dump(exclude_unset=True))
    return _proof(request, proof_id)


@router.post("/proofs/{proof_id}/documents", response={201: list[ProofDocumentOut], **ERRORS})
@decorate_view(idempotent)
def proof_documents_add(
    request: HttpRequest,
    proof_id: Id,
    data: Form[ProofDocumentsIn],
    files: Files,
    idempotency_key: IdempotencyKey = None,
) -> Status[list[ProofDocument]]:
    """Attach files (multipart: repeat `files`, with `kind` and `note`); all or nothing."""
    proof = _proof(request, proof_id)
    uploads = cast(list[DjangoUploadedFile], files)
    stored = proofs.proof_add_documents(
        proof=proof, uploads=uploads, kind=data.kind, note=data.note, actor=_user(request)
    )
    return Status(201, list(selectors.proof_attachments(proof).filter(document_id__in=[d.pk for d in stored])))


@router.delete("/proofs/{proof_id}/documents/{document_id}", response={204: None, **ERRORS})
def proof_document_remove(request: HttpRequest, proof_id: Id, document_id: Id) -> Status[None]:
    proof = _proof(request, proof_id)
    attached = selectors.proof_attachments(proof).filter(document_id=document_id).first()
    if attached is None:
        raise NotFound(_("No such document on this proof."))
    proofs.proof_remove_document(proof=proof, document=attached.document, actor=_user(request))
    return Status(204, None)


@router.post("/proofs/{proof_id}/certification", response={201: ProofDocumentOut, **ERRORS})
@decorate_view(idempotent)
def proof_certification(
    request: HttpRequest, proof_id: Id, payload: ProofCertificationIn, idempotency_key: IdempotencyKey = None
) -> Status[ProofDocument]:
    """The certification report for in-house work (instead of an invoice), written as a PDF and attached."""
    proof = _proof(request, proof_id)
    lines: list[tuple[str, object, object]] = [(line.person, line.hours, line.rate) for line in payload.lines]
    document = proofs.proof_add_certification(
        proof=proof, actor=_user(request), description=payload.description, lines=lines
    )
    return Status(201, selectors.proof_attachments(proof).get(document=document))


@router.post("/proofs/{proof_id}/submit", response={200: ProofDetailOut, **ERRORS})
@decorate_view(idempotent)
def proof_submit(request: HttpRequest, proof_id: Id, idempotency_key: IdempotencyKey = None) -> Proof:
    """Submit: the amount is reserved in the fund; a 422 lists the checker's blocking findings by field."""
    proofs.proof_submit(proof=_proof(request, proof_id), actor=_user(request))
    return _proof(request, proof_id)


@router.post("/proofs/{proof_id}/withdraw", response={200: ProofDetailOut, **ERRORS})
@decorate_view(idempotent)
def proof_withdraw(
    request: HttpRequest, proof_id: Id, payload: ProofReasonTextIn, idempotency_key: IdempotencyKey = None
) -> Proof:
    proofs.proof_withdraw(proof=_proof(request, proof_id), actor=_user(request), reason=payload.reason)
    return _proof(request, proof_id)


@router.post("/proofs/{proof_id}/dispute", response={200: ProofDetailOut, **ERRORS})
@decorate_view(idempotent)
def proof_dispute(
    request: HttpRequest, proof_id: Id, payload: ProofReasonTextIn, idempotency_key: IdempotencyKey = None
) -> Proof:
    proofs.proof_dispute(proof=_proof(request, proof_id), actor=_user(request), reason=payload.reason)
    return _proof(request, proof_id)


@router.post("/proofs/{proof_id}/assign", response={200: ProofDetailOut, **ERRORS})
@decorate_view(idempotent)
def proof_assign(
    request: HttpRequest, proof_id: Id, payload: ProofAssignIn, idempotency_key: IdempotencyKey = None
) -> Proof:
    user = _user(request)
    proofs.proof_assign(
        proof=_proof(request, proof_id), reviewer=reviewer_by_id(payload.reviewer_id) or user, actor=user
    )
    return _proof(request, proof_id)


@router.post("/proofs/{proof_id}/approve", response={200: ProofDetailOut, **ERRORS})
@decorate_view(idempotent)
def proof_approve(
    request: HttpRequest, proof_id: Id, payload: ProofApproveIn, idempotency_key: IdempotencyKey = None
) -> Proof:
    """Approve: what is left of the plan's limit becomes payable; the rest is carried or dropped."""
    proofs.proof_approve(
        proof=_proof(request, proof_id),
        actor=_user(request),
        amount=payload.amount,
        note=payload.note,
        reasons=_proof_reasons(payload.reasons) or None,
    )
    return _proof(request, proof_id)


@router.post("/proofs/{proof_id}/request-action", response={200: ProofDetailOut, **ERRORS})
@decorate_view(idempotent)
def proof_request_action(
    request: HttpRequest, proof_id: Id, payload: ProofDecisionIn, idempotency_key: IdempotencyKey = None
) -> Proof:
    proofs.proof_request_action(
        proof=_proof(request, proof_id),
        actor=_user(request),
        reasons=_proof_reasons(payload.reasons),
        message=payload.message,
    )
    return _proof(request, proof_id)


@router.post("/proofs/{proof_id}/reject", response={200: ProofDetailOut, **ERRORS})
@decorate_view(idempotent)
def proof_reject(
    request: HttpRequest, proof_id: Id, payload: ProofDecisionIn, idempotency_key: IdempotencyKey = None
) -> Proof:
    proofs.proof_reject(
        proof=_proof(request, proof_id),
        actor=_user(request),
        reasons=_proof_reasons(payload.reasons),
        message=payload.message,
    )
    return _proof(request, proof_id)


@router.get("/proofs/{proof_id}/history", response={200: list[PlanEventOut], **ERRORS})
@paginate(Keyset)
def proof_history(request: HttpRequest, proof_id: Id) -> QuerySet[PlanEvent]:
    user = _user(request)
    return selectors.proof_timeline(user, _proof(request, proof_id))


@router.get("/review/proofs", response={200: list[ProofOut], **ERRORS})
@paginate(Keyset, ordering=("due_on", "id"))
def proof_review_queue(request: HttpRequest, filters: Query[PlanQueueQuery]) -> QuerySet[Proof]:
    """Proofs of execution waiting for a decision, the earliest due first (vendor staff)."""
    user = _user(request)
    staff_only(user)
    return selectors.proof_review_queue(user, mine=filters.mine, program_id=filters.program_id)
