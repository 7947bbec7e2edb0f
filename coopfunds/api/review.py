"""The reviewer's desk over the API: one queue of the claims and proofs of execution waiting for a decision,
and approval of many in one request (each still checked and audited on its own). Vendor staff only."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal, cast

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy
from ninja import Field, Query, Router, Schema

from coopfunds.accounts.models import User
from coopfunds.accounts.permissions import is_vendor_staff
from coopfunds.api.common import ERRORS, PATTERN_MESSAGES, Id
from coopfunds.desk import selectors, services
from coopfunds.desk.selectors import QueueItem

router = Router(tags=["review"])
REFERENCE = r"^(claim|proof):[1-9][0-9]{0,17}$"  # no leading zeros: one way to write each, so uniqueItems holds
PATTERN_MESSAGES[REFERENCE] = gettext_lazy("Name each item as claim:<id> or proof:<id>, e.g. claim:42.")  # type: ignore[assignment]


def _staff(request: HttpRequest) -> User:
    user = cast(User, request.auth)  # type: ignore[attr-defined]  # every endpoint is authenticated
    if not is_vendor_staff(user):
        raise PermissionDenied(gettext("The review desk is for vendor staff."))
    return user


class DeskQuery(Schema):
    kind: Literal["claim", "proof"] | None = Field(None, description="Only claims, or only proofs of execution.")
    mine: bool = Field(False, description="Only items assigned to the caller.")
    program_id: Id | None = Field(None, ge=1)
    overdue: bool = Field(False, description="Only reviews past their due date.")
    status: Literal["submitted", "under_review", "disputed"] | None = None
    page: int = Field(1, ge=1, le=100_000, description="1 for the earliest due.")
    page_size: int = Field(50, ge=1, le=200)


class DeskItemOut(Schema):
    kind: Literal["claim", "proof"]
    id: int
    reference: str = Field(..., description="claim:<id> or proof:<id>, as the approve endpoint takes it.")
    name: str
    status: str
    amount: Decimal | None
    currency: str
    location_id: Id
    program_id: Id
    reviewer_id: Id | None
    due_on: date | None
    age_business_days: int = Field(..., description="Business days since submission (or dispute).")
    days_left: int | None = Field(..., description="Business days until due; negative when overdue.")
    breached: bool = Field(..., description="The review is past its due date.")
    can_review: bool = Field(..., description="The caller may decide it (a reviewer of its program, not its filer).")


class DeskPageOut(Schema):
    items: list[DeskItemOut]
    next_page: int | None = Field(..., description="The next page's number; null on the last page.")


class ApproveManyIn(Schema):
    items: list[Annotated[str, Field(pattern=REFERENCE)]] = Field(
        ...,
        min_length=1,
        max_length=services.MAX_ITEMS,
        description="What to approve in full, in this order: claim:<id> or proof:<id>, each once.",
        json_schema_extra={"uniqueItems": True},
    )
    note: str = Field("", max_length=500, description="A note to the partners, on every approval.")


class OutcomeOut(Schema):
    kind: Literal["claim", "proof"]
    id: int
    outcome: Literal["approved", "first_approval", "refused"] = Field(
        ..., description="first_approval: above the caller's approval limit, a second reviewer must approve."
    )
    code: str = Field(..., description="Why it was refused: invalid, forbidden, not_found, invalid_transition, ...")
    message: str
    approved_amount: Decimal | None


class ApproveManyOut(Schema):
    approved: int
    first_approvals: int
    refused: int
    results: list[OutcomeOut]


def _item(row: QueueItem) -> DeskItemOut:
    item = row.item
    return DeskItemOut(
        kind=row.kind,
        id=item.pk,
        reference=row.key,
        name=item.name,
        status=item.status,
        amount=item.amount,
        currency=item.currency,
        location_id=item.location_id,
        program_id=item.program_id,
        reviewer_id=item.reviewer_id,
        due_on=item.due_on,
        age_business_days=row.clock.age,
        days_left=row.clock.days_left,
        breached=row.clock.breached,
        can_review=row.can_review,
    )


@router.get("/review/queue", response={200: DeskPageOut, **ERRORS})
def desk_queue(request: HttpRequest, filters: Query[DeskQuery]) -> DeskPageOut:
    """Claims and proofs of execution waiting for a decision, the earliest due first, with their review clock."""
    user = _staff(request)
    queue = selectors.queue(
        user,
        kind=filters.kind,
        mine=filters.mine,
        program_id=filters.program_id,
        overdue=filters.overdue,
        status=filters.status or "",
    )
    start = (filters.page - 1) * filters.page_size
    rows = list(queue[start : start + filters.page_size + 1])
    more = len(rows) > filters.page_size
    items = selectors.items_of(user, rows[: filters.page_size])
    return DeskPageOut(items=[_item(r) for r in items], next_page=filters.page + 1 if more else None)


@router.post("/review/approve", response={200: ApproveManyOut, **ERRORS})
def desk_approve(request: HttpRequest, data: ApproveManyIn) -> ApproveManyOut:
    """Approve many claims and proofs in full, in one request. Each is decided by its own service in its own
    transaction (checked and audited as on its page); the answer says, per item, whether it was approved, got
    its first approval (above the caller's approval limit), or was refused and why. 400 only when the list
    itself is wrong (empty, too long, a reference twice or malformed)."""
    user = _staff(request)
    outcomes = services.review_approve_many(items=services.parse_keys(data.items), actor=user, note=data.note)
    return ApproveManyOut(
        approved=sum(o.outcome == "approved" for o in outcomes),
        first_approvals=sum(o.outcome == "first_approval" for o in outcomes),
        refused=sum(o.outcome == "refused" for o in outcomes),
        results=[OutcomeOut(**o.__dict__) for o in outcomes],
    )
