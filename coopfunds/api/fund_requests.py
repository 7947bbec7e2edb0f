"""Fund requests over HTTP: a partner location asks for the vendor's share of an activity's expected costs out of a
market development budget, before the activity runs; reviewers decide; approval reserves the money.

A partner sees its own locations' requests (another partner's is 404); vendor staff see every request once it
is submitted. `PUT /fund-requests/{id}` replaces what a draft (or a request sent back for changes) says, its
expense lines included. Workflow verbs are their own POST endpoints, each accepting an `Idempotency-Key` header.
Money is in the budget's currency; `requested` is the lines' total times `cost_share_percent`, rounded once to
the cent."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema, Status
from ninja.decorators import decorate_view
from ninja.pagination import paginate

from coopfunds.accounts.models import User
from coopfunds.accounts.selectors import location_for
from coopfunds.api.common import ERRORS, Amount, AmountOrZero, Id, Keyset, PartnerItemOut, Text
from coopfunds.api.idempotency import IdempotencyKey, idempotent
from coopfunds.api.plan_schemas import reviewer_by_id
from coopfunds.core.errors import ValidationError
from coopfunds.funds.models import Budget
from coopfunds.mdf import selectors, services
from coopfunds.mdf.models import FundRequest, RequestEvent
from coopfunds.programs.models import ActivityType, ExpenseCategory
from coopfunds.review.workflow import ReviewStatus

router = Router(tags=["fund requests"])


def _actor(request: HttpRequest) -> User:
    return cast(User, request.auth)  # type: ignore[attr-defined]


class ExpenseLineIO(Schema):
    category: ExpenseCategory
    description: Text = Field(..., max_length=200)
    amount: Amount


class FundRequestOut(PartnerItemOut):
    budget_id: Id
    budget_name: str = Field(..., alias="budget.name")
    allocation_id: Id | None = Field(..., description="Where its money is held once approved.")
    activity_type_id: Id
    activity_type_code: str = Field(..., alias="activity_type.code")
    name: str
    description: str
    starts_on: date
    ends_on: date
    currency: str
    expected_leads: int | None
    expected_pipeline: Decimal | None
    lines: list[ExpenseLineIO]
    total_cost: Decimal = Field(..., description="The sum of the expense lines.")
    cost_share_percent: Decimal = Field(..., description="The vendor's share (the rules in force when filed).")
    requested: Decimal = Field(..., description="The vendor's share of the total cost.")
    approved_amount: Decimal | None
    reserved: Decimal = Field(..., description="Held in the allocation for it now.")
    returned: Decimal = Field(..., description="Given back unclaimed.")
    claim_by: date | None = Field(..., description="The last day its money can be claimed.")
    reported_leads: int | None
    reported_opportunities: int | None
    reported_revenue: Decimal | None
    results_reported_at: datetime | None
    status: ReviewStatus
    reviewer_id: Id | None
    submitted_at: datetime | None
    due_on: date | None
    decided_at: datetime | None
    closed_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_lines(obj: FundRequest) -> list[Any]:
        return list(obj.lines.all())


class FundRequestIn(Schema):
    activity_type_id: Id
    name: Text = Field(..., max_length=200)
    description: str = Field("", max_length=5000)
    starts_on: date
    ends_on: date
    expected_leads: int | None = Field(None, ge=0, le=2_000_000_000)
    expected_pipeline: AmountOrZero | None = None
    lines: list[ExpenseLineIO] = Field(default_factory=list, max_length=200)


class FundRequestCreateIn(FundRequestIn):
    budget_id: Id
    location_id: Id


class RequestEventOut(Schema):
    id: int
    kind: str
    message: str = Field(..., description="In the caller's language where the product wrote it.")
    internal: bool
    old_status: str
    new_status: str
    actor_id: Id | None
    created_at: datetime

    @staticmethod
    def resolve_message(obj: RequestEvent) -> str:
        return obj.text


class RequestAssignIn(Schema):
    reviewer_id: Id | None = Field(None, description="Empty: yourself.")


class RequestApproveIn(Schema):
    amount: Amount | None = Field(None, description="Empty: all that is requested; less only where allowed.")
    note: str = Field("", max_length=5000, description="Why only part is approved, or a word to the partner.")


class RequestMessageIn(Schema):
    message: Text = Field(..., max_length=5000)


class GiveBackIn(Schema):
    reason: Text = Field(..., max_length=2000)


class ResultsIn(Schema):
    leads: int | None = Field(None, ge=0, le=2_000_000_000)
    opportunities: int | None = Field(None, ge=0, le=2_000_000_000)
    revenue: AmountOrZero | None = Field(None, description="Revenue won from the activity's leads.")


class RequestQuery(Schema):
    status: ReviewStatus | None = None
    budget_id: Id | None = None
    location_id: Id | None = None


def _request(request: HttpRequest, pk: int) -> FundRequest:
    return selectors.request_for(_actor(request), pk)


def _activity_type(budget_program_id: int, pk: int) -> ActivityType:
    found = ActivityType.objects.filter(pk=pk, program_id=budget_program_id).first()
    if found is None:
        raise ValidationError({"activity_type_id": gettext("No activity type of the budget's program with this id.")})
    return found


def _values(data: FundRequestIn) -> dict[str, Any]:
    return {
        "name": data.name,
        "description": data.description,
        "starts_on": data.starts_on,
        "ends_on": data.ends_on,
        "expected_leads": data.expected_leads,
        "expected_pipeline": data.expected_pipeline,
        "lines": [services.Line(line.category, line.description, line.amount) for line in data.lines],
    }


@router.get("/fund-requests", response={200: list[FundRequestOut], **ERRORS})
@paginate(Keyset)
def request_list(request: HttpRequest, filters: Query[RequestQuery]) -> Any:
    """The fund requests the caller may see, oldest first (new ones appear at the end)."""
    qs = selectors.requests_visible_to(_actor(request)).prefetch_related("lines")
    for field in ("status", "budget_id", "location_id"):
        value = getattr(filters, field)
        if value:
            qs = qs.filter(**{field: value})
    return qs


@router.post("/fund-requests", response={201: FundRequestOut, **ERRORS})
@decorate_view(idempotent)
def request_create(
    request: HttpRequest, data: FundRequestCreateIn, idempotency_key: IdempotencyKey = None
) -> Status[FundRequest]:
    """A draft request of the location for an activity paid from the budget."""
    user = _actor(request)
    budget = Budget.objects.select_related("program").filter(pk=data.budget_id).first()
    if budget is None:  # partners file against a budget they do not read (they read their allocations)
        raise ValidationError({"budget_id": gettext("No budget with this id.")})
    location = location_for(user, data.location_id)
    created = services.request_create(
        budget=budget,
        location=location,
        activity_type=_activity_type(budget.program_id, data.activity_type_id),
        actor=user,
        **_values(data),
    )
    return Status(201, selectors.request_for(user, created.pk))


@router.get("/fund-requests/{request_id}", response={200: FundRequestOut, **ERRORS})
def request_get(request: HttpRequest, request_id: Id) -> FundRequest:
    return _request(request, request_id)


@router.put("/fund-requests/{request_id}", response={200: FundRequestOut, **ERRORS})
def request_update(request: HttpRequest, request_id: Id, data: FundRequestIn) -> FundRequest:
    """Replace what the draft says, its lines included (409 once it is submitted and not sent back)."""
    found = _request(request, request_id)
    services.request_update(
        request=found,
        activity_type=_activity_type(found.program_id, data.activity_type_id),
        actor=_actor(request),
        **_values(data),
    )
    return _request(request, request_id)


@router.get("/fund-requests/{request_id}/history", response={200: list[RequestEventOut], **ERRORS})
@paginate(Keyset)
def request_history(request: HttpRequest, request_id: Id) -> Any:
    """Everything done to the request, oldest first; internal notes only for vendor staff."""
    user = _actor(request)
    return selectors.history_of(_request(request, request_id), user)


def _verb(path: str, summary: str) -> Any:
    return router.post(path, response={200: FundRequestOut, **ERRORS}, summary=summary)


@_verb("/fund-requests/{request_id}/submit", "Submit for review")
@decorate_view(idempotent)
def request_submit(request: HttpRequest, request_id: Id, idempotency_key: IdempotencyKey = None) -> FundRequest:
    """Send it for review: 422 without expense lines, or later than the program's lead time before the
    activity."""
    services.request_submit(request=_request(request, request_id), actor=_actor(request))
    return _request(request, request_id)


@_verb("/fund-requests/{request_id}/withdraw", "Withdraw")
@decorate_view(idempotent)
def request_withdraw(request: HttpRequest, request_id: Id, idempotency_key: IdempotencyKey = None) -> FundRequest:
    services.request_withdraw(request=_request(request, request_id), actor=_actor(request))
    return _request(request, request_id)


@_verb("/fund-requests/{request_id}/assign", "Assign a reviewer")
@decorate_view(idempotent)
def request_assign(
    request: HttpRequest, request_id: Id, data: RequestAssignIn, idempotency_key: IdempotencyKey = None
) -> FundRequest:
    user = _actor(request)
    reviewer = reviewer_by_id(data.reviewer_id) or user
    services.request_assign(request=_request(request, request_id), reviewer=reviewer, actor=user)
    return _request(request, request_id)


@_verb("/fund-requests/{request_id}/approve", "Approve and reserve")
@decorate_view(idempotent)
def request_approve(
    request: HttpRequest, request_id: Id, data: RequestApproveIn, idempotency_key: IdempotencyKey = None
) -> FundRequest:
    """Approve the vendor's share (or less, where the program allows it, with a note) and reserve it in the
    location's allocation (or from the budget's pool where it has none): 422 when there is not enough."""
    services.request_approve(
        request=_request(request, request_id), actor=_actor(request), amount=data.amount, note=data.note
    )
    return _request(request, request_id)


@_verb("/fund-requests/{request_id}/request-changes", "Ask for changes")
@decorate_view(idempotent)
def request_changes(
    request: HttpRequest, request_id: Id, data: RequestMessageIn, idempotency_key: IdempotencyKey = None
) -> FundRequest:
    services.request_changes(request=_request(request, request_id), actor=_actor(request), message=data.message)
    return _request(request, request_id)


@_verb("/fund-requests/{request_id}/reject", "Reject")
@decorate_view(idempotent)
def request_reject(
    request: HttpRequest, request_id: Id, data: RequestMessageIn, idempotency_key: IdempotencyKey = None
) -> FundRequest:
    services.request_reject(request=_request(request, request_id), actor=_actor(request), message=data.message)
    return _request(request, request_id)


@_verb("/fund-requests/{request_id}/give-back", "Give the money back")
@decorate_view(idempotent)
def request_give_back(
    request: HttpRequest, request_id: Id, data: GiveBackIn, idempotency_key: IdempotencyKey = None
) -> FundRequest:
    """What the approved request holds goes back to the allocation now (the activity will not use it)."""
    services.request_give_back(request=_request(request, request_id), actor=_actor(request), reason=data.reason)
    return _request(request, request_id)


@router.put("/fund-requests/{request_id}/results", response={200: FundRequestOut, **ERRORS})
def request_results(request: HttpRequest, request_id: Id, data: ResultsIn) -> FundRequest:
    """What the approved activity brought (409 before it starts); sending it again replaces it."""
    services.results_report(
        request=_request(request, request_id),
        leads=data.leads,
        opportunities=data.opportunities,
        revenue=data.revenue,
        actor=_actor(request),
    )
    return _request(request, request_id)


@router.get("/review/fund-requests", response={200: list[FundRequestOut], **ERRORS})
@paginate(Keyset, ordering=("due_on", "id"))
def review_queue(request: HttpRequest) -> Any:
    """Fund requests waiting for a decision (vendor staff)."""
    return selectors.review_queue(_actor(request)).prefetch_related("lines")
