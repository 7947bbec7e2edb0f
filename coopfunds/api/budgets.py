"""Market development budgets over HTTP: a program's budgets with their money (total, allocated, the pool), the
allocations of a budget to partner locations, and moves between allocations.

Program managers of the program set budgets and allocations; vendor staff read them. A partner reads the
allocations of its own locations (`GET /allocations`); another partner's is 404. An amount is set, not added:
`PUT /budgets/{id}/allocations/{location_id}` with `{"amount": "5000.00"}` gives that location 5,000.00 of the
budget whatever it had before (more comes from the pool, less goes back to it).
"""

import datetime as dt
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
from coopfunds.api.common import ERRORS, Amount, AmountOrZero, Country, Id, Keyset, Text
from coopfunds.api.idempotency import IdempotencyKey, idempotent
from coopfunds.core.errors import NotFound, ValidationError
from coopfunds.core.money import quantize
from coopfunds.funds import budgets
from coopfunds.funds.models import Allocation, Budget, Entry, Transfer
from coopfunds.programs.selectors import program_for

router = Router(tags=["budgets"])


def _actor(request: HttpRequest) -> User:
    return cast(User, request.auth)  # type: ignore[attr-defined]


class BudgetOut(Schema):
    id: int
    program_id: Id
    program_code: str = Field(..., alias="program.code")
    name: str
    currency: str
    starts_on: date
    ends_on: date
    countries: list[str] = Field(..., description="The region: the countries of the locations it is for (none: all).")
    total: Decimal = Field(
        ..., description="What the vendor has put into the budget: allocated + reserved + unallocated."
    )
    allocated: Decimal = Field(..., description="Given to locations and not used.")
    reserved: Decimal = Field(..., description="Held by approved fund requests.")
    unallocated: Decimal = Field(..., description="The pool: not allocated to any location.")
    created_at: datetime

    @staticmethod
    def resolve_total(obj: Budget) -> Decimal:
        return quantize(obj.total)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_allocated(obj: Budget) -> Decimal:
        return quantize(obj.allocated)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_reserved(obj: Budget) -> Decimal:
        return quantize(obj.reserved)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_unallocated(obj: Budget) -> Decimal:
        return quantize(obj.unallocated)  # type: ignore[attr-defined]


class AllocationOut(Schema):
    id: int
    budget_id: Id
    budget_name: str = Field(..., alias="budget.name")
    program_id: Id
    location_id: Id
    partner_id: str = Field(..., alias="location.partner_id")
    location_name: str = Field(..., alias="location.name")
    currency: str = Field(..., alias="budget.currency")
    allocated: Decimal = Field(..., description="What the location has of the budget now, not used.")
    reserved: Decimal = Field(..., description="What its approved fund requests hold.")

    @staticmethod
    def resolve_allocated(obj: Allocation) -> Decimal:
        return quantize(obj.allocated)  # type: ignore[attr-defined]

    @staticmethod
    def resolve_reserved(obj: Allocation) -> Decimal:
        return quantize(obj.reserved)  # type: ignore[attr-defined]


class TransferOut(Schema):
    id: int
    kind: str
    reference: str
    memo: str
    effective_on: date
    created_at: datetime


class BudgetEntryOut(Schema):
    """One movement of a budget's money on one of its accounts: the pool, or a location's allocation."""

    id: int
    transfer_id: Id
    date: dt.date = Field(..., alias="transfer.effective_on", description="The business date of the movement.")
    recorded_at: datetime = Field(..., alias="transfer.created_at")
    kind: str = Field(..., alias="transfer.kind")
    account: str = Field(..., description="`pool`, or the partner ID of the allocation's location.")
    allocation_id: Id | None = Field(..., alias="account.allocation_id")
    amount: Decimal = Field(..., description="Signed: positive into the account, negative out of it.")
    memo: str = Field(..., alias="transfer.memo")
    actor_id: Id | None = Field(..., alias="transfer.actor_id")

    @staticmethod
    def resolve_account(obj: Entry) -> str:
        allocation = obj.account.allocation
        return "pool" if allocation is None else allocation.location.partner_id


class BudgetCreateIn(Schema):
    program_id: Id
    name: Text = Field(..., max_length=200)
    starts_on: date
    ends_on: date
    total: AmountOrZero = Field(..., description="What the vendor puts in; all of it is the pool until allocated.")
    countries: list[Country] = Field(
        default_factory=list, max_length=300, description="Only the locations of these countries (none: all)."
    )


class BudgetTotalIn(Schema):
    total: AmountOrZero = Field(..., description="The new total; it cannot go below what is allocated.")
    reason: Text = Field(..., max_length=2000)


class AllocationIn(Schema):
    amount: AmountOrZero = Field(..., description="What the location has of the budget from now on.")


class AllocationMoveIn(Schema):
    to_allocation_id: Id
    amount: Amount
    reason: Text = Field(..., max_length=2000)


class BudgetQuery(Schema):
    program_id: Id | None = None


class AllocationQuery(Schema):
    budget_id: Id | None = None
    location_id: Id | None = None


@router.get("/budgets", response={200: list[BudgetOut], **ERRORS})
@paginate(Keyset)
def budget_list(request: HttpRequest, filters: Query[BudgetQuery]) -> Any:
    """The program's (or every program's) budgets, with their money now."""
    qs = budgets.budgets_visible_to(_actor(request))
    return qs.filter(program_id=filters.program_id) if filters.program_id else qs


@router.post("/budgets", response={201: BudgetOut, **ERRORS})
@decorate_view(idempotent)
def budget_create(request: HttpRequest, data: BudgetCreateIn, idempotency_key: IdempotencyKey = None) -> Status[Budget]:
    """A budget for the program's activities in a period; its whole total is the pool until allocated."""
    user = _actor(request)
    try:
        program = program_for(user, data.program_id)
    except NotFound:
        raise ValidationError({"program_id": gettext("No program with this id.")}) from None
    budget = budgets.budget_create(
        program=program,
        name=data.name,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        total=data.total,
        countries=data.countries,
        actor=user,
    )
    return Status(201, budgets.budget_for(user, budget.pk))


@router.get("/budgets/{budget_id}", response={200: BudgetOut, **ERRORS})
def budget_get(request: HttpRequest, budget_id: Id) -> Budget:
    return budgets.budget_for(_actor(request), budget_id)


@router.put("/budgets/{budget_id}/total", response={200: BudgetOut, **ERRORS})
def budget_total(request: HttpRequest, budget_id: Id, data: BudgetTotalIn) -> Budget:
    """Raise or lower the budget's total. Lowering takes money back from the pool only (422 below what is
    allocated). Sending the same total again changes nothing."""
    user = _actor(request)
    budget = budgets.budget_for(user, budget_id)
    budgets.budget_set_total(budget=budget, total=data.total, reason=data.reason, actor=user)
    return budgets.budget_for(user, budget_id)


@router.get("/budgets/{budget_id}/allocations", response={200: list[AllocationOut], **ERRORS})
@paginate(Keyset)
def budget_allocations(request: HttpRequest, budget_id: Id) -> Any:
    return budgets.allocations_of(budgets.budget_for(_actor(request), budget_id))


@router.get("/budgets/{budget_id}/transactions", response={200: list[BudgetEntryOut], **ERRORS})
@paginate(Keyset)
def budget_transactions(request: HttpRequest, budget_id: Id) -> Any:
    """Every movement of the budget's money, on its pool and on each allocation, oldest first: new movements
    appear at the end, so following `next` later picks up what was added."""
    return budgets.history_of(budgets.budget_for(_actor(request), budget_id))


@router.put("/budgets/{budget_id}/allocations/{location_id}", response={200: AllocationOut, **ERRORS})
def allocation_set(request: HttpRequest, budget_id: Id, location_id: Id, data: AllocationIn) -> Allocation:
    """Set what the location has of the budget (more comes from the pool, less goes back to it): 422 when the
    pool has too little, or the location is not enrolled in the program or outside the budget's countries.
    Sending the same amount again changes nothing."""
    user = _actor(request)
    budget = budgets.budget_for(user, budget_id)
    location = location_for(user, location_id)
    allocation = budgets.allocation_set(budget=budget, location=location, amount=data.amount, actor=user)
    return budgets.allocation_for(user, allocation.pk)


@router.get("/allocations", response={200: list[AllocationOut], **ERRORS})
@paginate(Keyset)
def allocation_list(request: HttpRequest, filters: Query[AllocationQuery]) -> Any:
    """The allocations the caller may see: all for vendor staff, their own locations' for partners."""
    qs = budgets.allocations_visible_to(_actor(request))
    if filters.budget_id:
        qs = qs.filter(budget_id=filters.budget_id)
    if filters.location_id:
        qs = qs.filter(location_id=filters.location_id)
    return qs


@router.get("/allocations/{allocation_id}", response={200: AllocationOut, **ERRORS})
def allocation_get(request: HttpRequest, allocation_id: Id) -> Allocation:
    return budgets.allocation_for(_actor(request), allocation_id)


@router.post("/allocations/{allocation_id}/move", response={201: TransferOut, **ERRORS})
@decorate_view(idempotent)
def allocation_move(
    request: HttpRequest, allocation_id: Id, data: AllocationMoveIn, idempotency_key: IdempotencyKey = None
) -> Status[Transfer]:
    """Move money from this allocation to another of the same budget (a REALLOCATE transfer of the ledger)."""
    user = _actor(request)
    source = budgets.allocation_for(user, allocation_id)
    try:
        target = budgets.allocation_for(user, data.to_allocation_id)
    except NotFound:
        raise ValidationError({"to_allocation_id": gettext("No allocation with this id.")}) from None
    transfer = budgets.allocation_move(source=source, target=target, amount=data.amount, reason=data.reason, actor=user)
    return Status(201, transfer)
