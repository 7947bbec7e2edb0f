"""Reads of plans and proofs of execution, scoped to what the user may see (outsiders get NotFound, never
403), and the reviewers' queues."""

from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from coopfunds.accounts.models import User
from coopfunds.accounts.selectors import visible_to
from coopfunds.claims.models import ReasonCode
from coopfunds.core.errors import NotFound
from coopfunds.funds.spending import approved_within
from coopfunds.plans import permissions
from coopfunds.plans.models import (
    PLAN_AWAITING_REVIEW,
    Campaign,
    Plan,
    PlanActivity,
    PlanEvent,
    PlanSettings,
    PlanVersion,
    Proof,
    ProofDocument,
)
from coopfunds.programs.models import Program
from coopfunds.review.workflow import AWAITING_REVIEW as PROOF_AWAITING_REVIEW


def plans_visible_to(user: User) -> QuerySet[Plan]:
    return visible_to(
        user, Plan.objects.select_related("location__organisation", "program", "reviewer", "in_force", "current")
    )


def plan_for(user: User, pk: Any) -> Plan:
    try:
        return plans_visible_to(user).get(pk=pk)
    except (Plan.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such plan.")) from None


def campaign_for(user: User, pk: Any) -> Campaign:
    try:
        return Campaign.objects.select_related("version").get(pk=pk, version__plan__in=plans_visible_to(user))
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such campaign.")) from None


def plan_activity_for(user: User, pk: Any) -> PlanActivity:
    try:
        return PlanActivity.objects.select_related("campaign", "version", "activity_type").get(
            pk=pk, version__plan__in=plans_visible_to(user)
        )
    except (PlanActivity.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such activity.")) from None


def proofs_visible_to(user: User) -> QuerySet[Proof]:
    return visible_to(
        user,
        Proof.objects.select_related(
            "plan__location__organisation", "plan__program", "activity__campaign", "activity__activity_type", "fund"
        ),
    )


def proof_for(user: User, pk: Any) -> Proof:
    try:
        return proofs_visible_to(user).get(pk=pk)
    except (Proof.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such proof of execution.")) from None


def plan_settings_of(program: Program) -> PlanSettings:
    """The program's plan rules; the defaults (unsaved) when it has none of its own."""
    found = PlanSettings.objects.filter(program=program).first()
    return found if found is not None else PlanSettings(program=program)


def campaigns_of(version: PlanVersion | None) -> list[Campaign]:
    """A version's campaigns with their activities (and each activity's type), in date order."""
    if version is None:
        return []
    activities = (
        PlanActivity.objects.select_related("activity_type").prefetch_related("activity_type__caps").order_by("id")
    )
    return list(Campaign.objects.filter(version=version).prefetch_related(Prefetch("activities", queryset=activities)))


def version_total(version: PlanVersion | None) -> Decimal:
    if version is None:
        return Decimal(0)
    total = PlanActivity.objects.filter(version=version).aggregate(total=Sum("planned_amount"))["total"]
    return total or Decimal("0.00")


def paid_against_limit(plan: Plan) -> Decimal:
    """What approved proofs have made payable so far: it counts against the plan's limit."""
    return approved_within(plan.reference)


def limit_left(plan: Plan) -> Decimal:
    return max(plan.approved_amount - paid_against_limit(plan), Decimal("0.00"))


def proofs_of(plan: Plan) -> QuerySet[Proof]:
    return Proof.objects.filter(plan=plan).select_related("activity__campaign", "activity__activity_type")


def plan_review_queue(user: User, *, mine: bool = False, program_id: int | None = None) -> QuerySet[Plan]:
    """Plans waiting for a decision, the earliest due first."""
    qs = plans_visible_to(user).filter(status__in=PLAN_AWAITING_REVIEW)
    if mine:
        qs = qs.filter(reviewer=user)
    if program_id:
        qs = qs.filter(program_id=program_id)
    return qs.order_by("due_on", "id")


def proof_review_queue(user: User, *, mine: bool = False, program_id: int | None = None) -> QuerySet[Proof]:
    """Proofs of execution waiting for a decision (submitted, under review, disputed), the earliest due first."""
    qs = proofs_visible_to(user).filter(status__in=PROOF_AWAITING_REVIEW)
    if mine:
        qs = qs.filter(reviewer=user)
    if program_id:
        qs = qs.filter(program_id=program_id)
    return qs.order_by("due_on", "id")


def plan_timeline(user: User, plan: Plan) -> QuerySet[PlanEvent]:
    """The plan's history with its proofs' events; internal notes only for vendor staff."""
    qs = (
        PlanEvent.objects.filter(plan=plan)
        .select_related("actor", "proof", "version")
        .prefetch_related("reasons__code", "reasons__document", "reasons__campaign", "reasons__activity__activity_type")
    )
    return qs if permissions.can_see_internal_notes(user) else qs.filter(internal=False)


def proof_timeline(user: User, proof: Proof) -> QuerySet[PlanEvent]:
    return plan_timeline(user, proof.plan).filter(proof=proof)


def proof_attachments(proof: Proof) -> QuerySet[ProofDocument]:
    return ProofDocument.objects.filter(proof=proof, removed_at__isnull=True).select_related("document").order_by("id")


def reason_codes_for(program: Program) -> QuerySet[ReasonCode]:
    """The active reasons of every program plus the program's own (the claims' catalogue)."""
    return ReasonCode.objects.filter(Q(program=program) | Q(program__isnull=True), is_active=True).order_by("label")


def versions_of(plan: Plan) -> QuerySet[PlanVersion]:
    return PlanVersion.objects.filter(plan=plan).select_related("submitted_by", "decided_by").order_by("number")


def last_reviewed_version(plan: Plan) -> PlanVersion | None:
    """The latest version before the current one that a reviewer decided: what they saw last."""
    if plan.current is None:
        return None
    return (
        PlanVersion.objects.filter(plan=plan, number__lt=plan.current.number)
        .exclude(outcome="")
        .order_by("-number")
        .first()
    )


def overdue(qs: QuerySet[Plan]) -> QuerySet[Plan]:
    return qs.filter(due_on__lt=timezone.localdate())
