"""Reads of fund requests, scoped to what the user may see."""

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from coopfunds.accounts.models import User
from coopfunds.accounts.selectors import visible_to
from coopfunds.core.errors import NotFound
from coopfunds.funds.models import Account, Bucket
from coopfunds.mdf import permissions
from coopfunds.mdf.models import ExpenseLine, FundRequest, RequestEvent
from coopfunds.review.workflow import AWAITING_REVIEW, ReviewStatus


def requests_visible_to(user: User) -> QuerySet[FundRequest]:
    """Partners: their locations' requests. Vendor staff: every request but the partners' drafts."""
    qs = visible_to(
        user, FundRequest.objects.select_related("location__organisation", "program", "budget", "activity_type")
    )
    if permissions.can_see_internal_notes(user):
        qs = qs.exclude(status=ReviewStatus.EDITING)
    return qs


def request_for(user: User, pk: Any) -> FundRequest:
    try:
        return requests_visible_to(user).get(pk=pk)
    except (FundRequest.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such fund request.")) from None


def review_queue(user: User) -> QuerySet[FundRequest]:
    """Requests waiting for a decision, the one due first on top."""
    return requests_visible_to(user).filter(status__in=AWAITING_REVIEW).order_by("due_on", "id")


def lines_of(request: FundRequest) -> QuerySet[ExpenseLine]:
    return ExpenseLine.objects.filter(request=request).order_by("id")


def history_of(request: FundRequest, user: User) -> QuerySet[RequestEvent]:
    events = RequestEvent.objects.filter(request=request).select_related("actor").order_by("id")
    return events if permissions.can_see_internal_notes(user) else events.filter(internal=False)


def money_left(request: FundRequest) -> tuple[str, Decimal]:
    """Where approving the request would take its money from, and what is left there now: ("allocation", what the
    location's allocation of the budget holds unused) or, for a location without one, ("pool", the budget's)."""
    allocation = Account.objects.filter(
        allocation__budget_id=request.budget_id, allocation__location_id=request.location_id, bucket=Bucket.ALLOCATED
    )
    held = allocation.values_list("balance", flat=True).first()
    if held is not None or request.allocation_id is not None:
        return "allocation", held or Decimal("0.00")
    pool = Account.objects.filter(budget_id=request.budget_id, bucket=Bucket.UNALLOCATED)
    return "pool", pool.values_list("balance", flat=True).first() or Decimal("0.00")
