"""Co-op plans and proof of execution over HTTP (DOMAIN.md, Flow A): plans and their builder (campaigns,
activities), the checker and running totals, submission, review (assign, approve, request changes, reject,
with reasons per plan, campaign or activity), reopening and amendments, what changed between versions, the
history; proofs of execution (fields, documents, certification report, submit, withdraw, dispute, review);
the reviewers' queues; a program's plan rules.

A partner sees the plans of the locations their roles cover (another partner's is 404); vendor staff see all.
Workflow verbs are their own POST endpoints; the services check every right and rule. Every state-changing
POST accepts an `Idempotency-Key` header (docs/adr/0004-api-idempotency.md)."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.decorators import decorate_view
from ninja.pagination import paginate

from coopfunds.accounts.models import User
from coopfunds.accounts.selectors import location_for
from coopfunds.api import plan_proofs
from coopfunds.api.common import ERRORS, Id, Keyset
from coopfunds.api.idempotency import IdempotencyKey, idempotent
from coopfunds.api.plan_schemas import (
    PlanActivityIn,
    PlanActivityOut,
    PlanActivityPatchIn,
    PlanApproveIn,
    PlanAssignIn,
    PlanCampaignIn,
    PlanCampaignOut,
    PlanCampaignPatchIn,
    PlanChangesOut,
    PlanChangesQuery,
    PlanCommentIn,
    PlanDecisionIn,
    PlanDetailOut,
    PlanEventOut,
    PlanIn,
    PlanListQuery,
    PlanOut,
    PlanPatchIn,
    PlanQueueQuery,
    PlanReasonIn,
    PlanRulesIn,
    PlanRulesOut,
    PlanVersionOut,
    request_user,
    reviewer_by_id,
    staff_only,
)
from coopfunds.core.errors import NotFound
from coopfunds.plans import selectors, services
from coopfunds.plans.models import (
    Campaign,
    Plan,
    PlanActivity,
    PlanEvent,
    PlanSettings,
    PlanVersion,
)
from coopfunds.plans.versions import version_changes
from coopfunds.programs.models import ActivityType
from coopfunds.programs.selectors import program_for

router = Router(tags=["plans"])


# --- helpers -----------------------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    return request_user(request)


def _plan(request: HttpRequest, plan_id: Id) -> Plan:
    return selectors.plan_for(_user(request), plan_id)


def _activity_type(plan: Plan, type_id: Id) -> ActivityType | None:
    """The catalogue entry (of the plan's program; the service says if its year is wrong); None if unknown."""
    return ActivityType.objects.filter(pk=type_id, program_id=plan.program_id).first()


def _reasons(items: list[PlanReasonIn]) -> list[services.Reason]:
    return [
        services.Reason(code=r.code, note=r.note, campaign_id=r.campaign_id, activity_id=r.activity_id) for r in items
    ]


# --- plans -------------------------------------------------------------------------------------------------


@router.get("/plans", response={200: list[PlanOut], **ERRORS})
@paginate(Keyset)
def plan_list(request: HttpRequest, filters: Query[PlanListQuery]) -> QuerySet[Plan]:
    """Plans you can see: your locations' for partners, every plan for vendor staff."""
    plans = selectors.plans_visible_to(_user(request))
    if filters.status:
        plans = plans.filter(status=filters.status)
    if filters.program_id:
        plans = plans.filter(program_id=filters.program_id)
    if filters.fiscal_year:
        plans = plans.filter(fiscal_year=filters.fiscal_year)
    return plans


@router.post("/plans", response={201: PlanDetailOut, **ERRORS})
@decorate_view(idempotent)
def plan_create(request: HttpRequest, payload: PlanIn, idempotency_key: IdempotencyKey = None) -> Status[Plan]:
    """Start a plan (Editing, version 1): one per location, program, fund type and program year."""
    user = _user(request)
    plan = services.plan_create(
        location=location_for(user, payload.location_id),
        program=program_for(user, payload.program_id),
        fiscal_year=payload.fiscal_year,
        name=payload.name,
        reviewer=reviewer_by_id(payload.reviewer_id),
        fund_type=payload.fund_type,
        actor=user,
    )
    return Status(201, _plan(request, plan.pk))


@router.get("/plans/{plan_id}", response={200: PlanDetailOut, **ERRORS})
def plan_detail(request: HttpRequest, plan_id: Id) -> Plan:
    """The plan with its current version's campaigns and activities, the limit, deadlines, checker and totals."""
    return _plan(request, plan_id)


@router.patch("/plans/{plan_id}", response={200: PlanDetailOut, **ERRORS})
def plan_update(request: HttpRequest, plan_id: Id, payload: PlanPatchIn) -> Plan:
    """Rename the plan or name its reviewer (while it is being edited)."""
    user = _user(request)
    fields: dict[str, Any] = {}
    given = payload.model_dump(exclude_unset=True)
    if "name" in given:
        fields["name"] = given["name"] or ""
    if "reviewer_id" in given:
        fields["reviewer"] = reviewer_by_id(given["reviewer_id"])
    services.plan_update(plan=_plan(request, plan_id), actor=user, **fields)
    return _plan(request, plan_id)


@router.get("/plans/{plan_id}/versions", response={200: list[PlanVersionOut], **ERRORS})
def plan_versions(request: HttpRequest, plan_id: Id) -> list[PlanVersion]:
    return list(selectors.versions_of(_plan(request, plan_id)).select_related("plan"))


@router.get("/plans/{plan_id}/changes", response={200: PlanChangesOut, **ERRORS})
def plan_changes(request: HttpRequest, plan_id: Id, query: Query[PlanChangesQuery]) -> dict[str, Any]:
    """What changed in the current version since an earlier one (by default the last one a reviewer decided)."""
    plan = _plan(request, plan_id)
    assert plan.current is not None
    if query.since is None:
        since = selectors.last_reviewed_version(plan)
    else:
        since = PlanVersion.objects.filter(plan=plan, number=query.since).first()
        if since is None:
            raise NotFound(_("No such version of this plan."))
    changes = version_changes(since, plan.current) if since else []
    return {
        "since": since.number if since else None,
        "version": plan.current.number,
        "changes": [
            {
                "kind": c.kind,
                "what": c.what,
                "label": c.label,
                "text": str(c),
                "fields": [{"field": f.label, "old": f.old, "new": f.new} for f in c.fields],
            }
            for c in changes
        ],
    }


@router.get("/plans/{plan_id}/history", response={200: list[PlanEventOut], **ERRORS})
@paginate(Keyset)
def plan_history(request: HttpRequest, plan_id: Id) -> QuerySet[PlanEvent]:
    """Everything done to the plan and its proofs; internal notes only for vendor staff."""
    user = _user(request)
    return selectors.plan_timeline(user, _plan(request, plan_id))


# the builder


@router.post("/plans/{plan_id}/campaigns", response={201: PlanCampaignOut, **ERRORS})
@decorate_view(idempotent)
def campaign_add(
    request: HttpRequest, plan_id: Id, payload: PlanCampaignIn, idempotency_key: IdempotencyKey = None
) -> Status[Campaign]:
    campaign = services.campaign_add(plan=_plan(request, plan_id), actor=_user(request), **payload.model_dump())
    return Status(201, campaign)


@router.patch("/campaigns/{campaign_id}", response={200: PlanCampaignOut, **ERRORS})
def campaign_update(request: HttpRequest, campaign_id: Id, payload: PlanCampaignPatchIn) -> Campaign:
    user = _user(request)
    campaign = selectors.campaign_for(user, campaign_id)
    return services.campaign_update(campaign=campaign, actor=user, **payload.model_dump(exclude_unset=True))


@router.delete("/campaigns/{campaign_id}", response={204: None, **ERRORS})
def campaign_remove(request: HttpRequest, campaign_id: Id) -> Status[None]:
    user = _user(request)
    services.campaign_remove(campaign=selectors.campaign_for(user, campaign_id), actor=user)
    return Status(204, None)


@router.post("/campaigns/{campaign_id}/activities", response={201: PlanActivityOut, **ERRORS})
@decorate_view(idempotent)
def activity_add(
    request: HttpRequest, campaign_id: Id, payload: PlanActivityIn, idempotency_key: IdempotencyKey = None
) -> Status[PlanActivity]:
    user = _user(request)
    campaign = selectors.campaign_for(user, campaign_id)
    plan = selectors.plan_for(user, campaign.version.plan_id)
    values = payload.model_dump(exclude={"activity_type_id"})
    activity = services.activity_add(
        campaign=campaign, actor=user, activity_type=_activity_type(plan, payload.activity_type_id), **values
    )
    return Status(201, activity)


@router.patch("/plan-activities/{activity_id}", response={200: PlanActivityOut, **ERRORS})
def activity_update(request: HttpRequest, activity_id: Id, payload: PlanActivityPatchIn) -> PlanActivity:
    user = _user(request)
    activity = selectors.plan_activity_for(user, activity_id)
    plan = selectors.plan_for(user, activity.version.plan_id)
    fields = payload.model_dump(exclude_unset=True)
    if "activity_type_id" in fields:
        fields["activity_type"] = _activity_type(plan, fields.pop("activity_type_id") or 0)
    return services.activity_update(activity=activity, actor=user, **fields)


@router.delete("/plan-activities/{activity_id}", response={204: None, **ERRORS})
def activity_remove(request: HttpRequest, activity_id: Id) -> Status[None]:
    user = _user(request)
    services.activity_remove(activity=selectors.plan_activity_for(user, activity_id), actor=user)
    return Status(204, None)


# workflow


@router.post("/plans/{plan_id}/submit", response={200: PlanDetailOut, **ERRORS})
@decorate_view(idempotent)
def plan_submit(request: HttpRequest, plan_id: Id, idempotency_key: IdempotencyKey = None) -> Plan:
    """Submit the current version; a 422 lists the checker's blocking findings by field."""
    services.plan_submit(plan=_plan(request, plan_id), actor=_user(request))
    return _plan(request, plan_id)


@router.post("/plans/{plan_id}/reopen", response={200: PlanDetailOut, **ERRORS})
@decorate_view(idempotent)
def plan_reopen(request: HttpRequest, plan_id: Id, idempotency_key: IdempotencyKey = None) -> Plan:
    """After a request for changes: a new version to change and resubmit."""
    services.plan_reopen(plan=_plan(request, plan_id), actor=_user(request))
    return _plan(request, plan_id)


@router.post("/plans/{plan_id}/amend", response={200: PlanDetailOut, **ERRORS})
@decorate_view(idempotent)
def plan_amend(request: HttpRequest, plan_id: Id, idempotency_key: IdempotencyKey = None) -> Plan:
    """Start an amendment; the approved version stays in force until the amendment is approved."""
    services.plan_amend(plan=_plan(request, plan_id), actor=_user(request))
    return _plan(request, plan_id)


@router.post("/plans/{plan_id}/assign", response={200: PlanDetailOut, **ERRORS})
@decorate_view(idempotent)
def plan_assign(
    request: HttpRequest, plan_id: Id, payload: PlanAssignIn, idempotency_key: IdempotencyKey = None
) -> Plan:
    user = _user(request)
    reviewer = reviewer_by_id(payload.reviewer_id) or user
    services.plan_assign(plan=_plan(request, plan_id), reviewer=reviewer, actor=user)
    return _plan(request, plan_id)


@router.post("/plans/{plan_id}/approve", response={200: PlanDetailOut, **ERRORS})
@decorate_view(idempotent)
def plan_approve(
    request: HttpRequest, plan_id: Id, payload: PlanApproveIn, idempotency_key: IdempotencyKey = None
) -> Plan:
    """The named reviewer approves: the version comes into force and its total becomes the limit."""
    services.plan_approve(
        plan=_plan(request, plan_id), actor=_user(request), note=payload.note, reasons=_reasons(payload.reasons) or None
    )
    return _plan(request, plan_id)


@router.post("/plans/{plan_id}/request-changes", response={200: PlanDetailOut, **ERRORS})
@decorate_view(idempotent)
def plan_request_changes(
    request: HttpRequest, plan_id: Id, payload: PlanDecisionIn, idempotency_key: IdempotencyKey = None
) -> Plan:
    services.plan_request_changes(
        plan=_plan(request, plan_id), actor=_user(request), reasons=_reasons(payload.reasons), message=payload.message
    )
    return _plan(request, plan_id)


@router.post("/plans/{plan_id}/reject", response={200: PlanDetailOut, **ERRORS})
@decorate_view(idempotent)
def plan_reject(
    request: HttpRequest, plan_id: Id, payload: PlanDecisionIn, idempotency_key: IdempotencyKey = None
) -> Plan:
    services.plan_reject(
        plan=_plan(request, plan_id), actor=_user(request), reasons=_reasons(payload.reasons), message=payload.message
    )
    return _plan(request, plan_id)


@router.post("/plans/{plan_id}/comments", response={201: PlanEventOut, **ERRORS})
@decorate_view(idempotent)
def plan_comment(
    request: HttpRequest, plan_id: Id, payload: PlanCommentIn, idempotency_key: IdempotencyKey = None
) -> Status[PlanEvent]:
    user = _user(request)
    plan = _plan(request, plan_id)
    proof = None
    if payload.proof_id is not None:
        proof = selectors.proof_for(user, payload.proof_id)
    done = services.plan_comment(plan=plan, actor=user, message=payload.message, internal=payload.internal, proof=proof)
    return Status(201, done)


@router.get("/review/plans", response={200: list[PlanOut], **ERRORS})
@paginate(Keyset, ordering=("due_on", "id"))
def plan_review_queue(request: HttpRequest, filters: Query[PlanQueueQuery]) -> QuerySet[Plan]:
    """Plans waiting for a decision, the earliest due first (vendor staff)."""
    user = _user(request)
    staff_only(user)
    return selectors.plan_review_queue(user, mine=filters.mine, program_id=filters.program_id)


@router.get("/programs/{program_id}/plan-rules", response={200: PlanRulesOut, **ERRORS})
def plan_rules(request: HttpRequest, program_id: Id) -> PlanSettings:
    return selectors.plan_settings_of(program_for(_user(request), program_id))


@router.patch("/programs/{program_id}/plan-rules", response={200: PlanRulesOut, **ERRORS})
def plan_rules_update(request: HttpRequest, program_id: Id, payload: PlanRulesIn) -> PlanSettings:
    """Program managers of the program set how long plans may be resubmitted, when proof is due and warned,
    and what happens to approved proof above a plan's limit."""
    user = _user(request)
    program = program_for(user, program_id)
    return services.plan_settings_update(
        program=program, actor=user, **payload.model_dump(exclude_unset=True, exclude_none=True)
    )


router.add_router("", plan_proofs.router)
