"""Reads of claims, scoped to what the user may see, and the reviewers' queue."""

from collections.abc import Iterable
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from coopfunds.accounts.models import User
from coopfunds.accounts.selectors import visible_to
from coopfunds.claims import permissions
from coopfunds.claims.models import Claim, ClaimDocument, ClaimEvent, ReasonCode
from coopfunds.core.db import Prepared
from coopfunds.core.errors import NotFound
from coopfunds.programs import periods
from coopfunds.programs.models import Program
from coopfunds.review import workflow
from coopfunds.review.workflow import AWAITING_REVIEW, Clock


def claims_visible_to(user: User) -> QuerySet[Claim]:
    return visible_to(user, Claim.objects.select_related("location__organisation", "program", "fund", "activity_type"))


def claim_for(user: User, pk: int) -> Claim:
    try:
        return claims_visible_to(user).get(pk=pk)
    except (Claim.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such claim.")) from None


# What a claim's own page of data names of the rows it joins (the API's claim): the claim's columns and these.
# Reading only them halves the cost of the read (the program's and the activity type's rows are wide).
_SHOWN_OF_JOINS = (
    "location__partner_id",
    "location__organisation_id",
    "program__code",
    "fund__label",
    "activity_type__code",
)

_claim_shown = Prepared(
    lambda pk: (
        Claim.objects.select_related("location", "program", "fund", "activity_type")
        .only(*(f.attname for f in Claim._meta.concrete_fields), *_SHOWN_OF_JOINS)
        .filter(pk=pk)
    )
)


def claim_shown_to(user: User, pk: int) -> Claim:
    """The claim as `claim_for`, with only the joined columns that its representation shows (any other is read
    when first used): the API's read of one claim, compiled once."""
    try:
        found = _claim_shown(int(pk))
    except (ValueError, TypeError, OverflowError):
        found = []
    if not found or not permissions.can_view(user, found[0]):
        raise NotFound(_("No such claim."))
    return found[0]


def review_queue(
    user: User, *, mine: bool = False, program_id: int | None = None, overdue: bool = False
) -> QuerySet[Claim]:
    """Claims waiting for a decision, oldest due first. Keyset-friendly: ordered by (due_on, id)."""
    qs = claims_visible_to(user).filter(status__in=AWAITING_REVIEW)
    if mine:
        qs = qs.filter(reviewer=user)
    if program_id:
        qs = qs.filter(program_id=program_id)
    if overdue:
        qs = qs.filter(due_on__lt=timezone.localdate())
    return qs.order_by("due_on", "id")


def clock(claim: Claim, today: date | None = None, calendar: periods.BusinessCalendar | None = None) -> Clock:
    return workflow.clock(claim, today, calendar)


def clocks(claims: Iterable[Claim], today: date | None = None) -> dict[int, Clock]:
    """The clocks of many claims (a queue page): one calendar query per program, not per claim."""
    claims = list(claims)
    return {c.pk: t for c, t in zip(claims, workflow.clocks(claims, today), strict=True)}


def timeline(user: User, claim: Claim) -> QuerySet[ClaimEvent]:
    """The claim's history; internal notes only for vendor staff."""
    qs = (
        ClaimEvent.objects.filter(claim=claim)
        .select_related("actor")
        .prefetch_related("reasons__code", "reasons__document")
    )
    return qs if permissions.can_see_internal_notes(user) else qs.filter(internal=False)


def attachments(claim: Claim) -> QuerySet[ClaimDocument]:
    return ClaimDocument.objects.filter(claim=claim, removed_at__isnull=True).select_related("document").order_by("id")


_attached = Prepared(
    lambda claim_id: (
        ClaimDocument.objects.filter(claim_id=claim_id, removed_at__isnull=True)
        .select_related("document")
        .order_by("id")
    )
)


def attached_documents(claim: Claim) -> list[ClaimDocument]:
    """`attachments`, compiled once: the documents of the API's claim."""
    return _attached(claim.pk)


def reason_codes(claim: Claim) -> QuerySet[ReasonCode]:
    return reason_codes_of(claim.program)


def reason_codes_of(program: Program | None) -> QuerySet[ReasonCode]:
    """The active reasons of every program, plus the program's own (None: only those of every program)."""
    own = Q(program=program) if program is not None else Q(pk__in=[])
    return ReasonCode.objects.filter(own | Q(program__isnull=True), is_active=True).order_by("label")


def colleagues_of(user: User, claim: Claim) -> QuerySet[User]:
    """The people `user` may ask to add documents to `claim`: others of the organisation who can file it."""
    people = (
        User.objects.filter(organisation_id=claim.location.organisation_id, is_active=True)
        .exclude(pk=user.pk)
        .prefetch_related("role_assignments")
    )
    return User.objects.filter(pk__in=[p.pk for p in people if permissions.can_file(p, claim)]).order_by("full_name")
