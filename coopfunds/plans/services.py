"""Plans: making one, the builder (campaigns and activities), submission, review, changes and amendments,
and the program's plan rules. One durable transaction per use case: each re-reads the plan under lock, checks
the transition table, the actor's right, the deadlines and the business rules, writes the history event and the
audit row, and schedules notifications. Plan decisions move no money (docs/adr/0006-plan-limits.md)."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from coopfunds.accounts.models import Location, Role, RoleAssignment, User
from coopfunds.audit.services import audit_record
from coopfunds.claims.checks import money
from coopfunds.claims.services import reviewers_of
from coopfunds.core.errors import Conflict
from coopfunds.core.i18n import Amount, Said, day_lazy, money_lazy, said_of
from coopfunds.enrollments.models import Enrollment, EnrollmentStatus
from coopfunds.notifications import escalation
from coopfunds.notifications.models import NotificationKind
from coopfunds.notifications.services import notify
from coopfunds.plans import checks, deadlines, permissions, selectors
from coopfunds.plans.builder import clean_activity, clean_campaign
from coopfunds.plans.models import (
    PLAN_AWAITING_REVIEW,
    PLAN_TRANSITIONS,
    Campaign,
    ExcessPolicy,
    FundType,
    Plan,
    PlanActivity,
    PlanEvent,
    PlanReason,
    PlanSettings,
    PlanStatus,
    PlanVersion,
    Proof,
    VersionOutcome,
)
from coopfunds.plans.versions import version_copy
from coopfunds.programs import periods
from coopfunds.programs.models import ActivityType, Program
from coopfunds.review import workflow

S = PlanStatus


@dataclass(frozen=True)
class Reason:
    """A reviewer's structured reason: a code of the reason catalogue, a note, and optionally what it is about
    (a campaign or activity of the version decided; for a proof, one of its documents or fields)."""

    code: str
    note: str = ""
    campaign_id: int | None = None
    activity_id: int | None = None
    document_id: int | None = None
    field: str = ""


# --- helpers -----------------------------------------------------------------------------------------------


def lock_plan(plan_id: int) -> Plan:
    return (
        Plan.objects.select_for_update(of=("self",))
        .select_related("location__organisation", "program", "current", "in_force", "reviewer")
        .get(pk=plan_id)
    )


def event(
    plan: Plan,
    actor: User | None,
    kind: str,
    message: str = "",
    *,
    proof: Proof | None = None,
    internal: bool = False,
    old: str = "",
    new: str = "",
) -> PlanEvent:
    return PlanEvent.objects.create(
        plan=plan,
        proof=proof,
        version=plan.current,
        actor=actor,
        kind=kind,
        message=message,
        said=said_of(message),
        internal=internal,
        old_status=old,
        new_status=new,
    )


def _audit(plan: Plan, actor: User | None, verb: str, target: Any = None, **kwargs: Any) -> None:
    audit_record(actor=actor, verb=verb, target=target or plan, organisation_id=plan.location.organisation_id, **kwargs)


def _move(plan: Plan, to: str, actor: User, message: str = "", changes: dict[str, Any] | None = None) -> PlanEvent:
    """Check the transition table, change the status, write the history event and the audit row."""
    if to not in PLAN_TRANSITIONS[plan.status]:
        raise Conflict(
            _("A plan that is %(status)s cannot become %(to)s.")
            % {"status": S(plan.status).label.lower(), "to": S(to).label.lower()},
            code="invalid_transition",
        )
    old, plan.status = plan.status, to
    done = event(plan, actor, PlanEvent.Kind.STATUS, message, old=old, new=to)
    _audit(plan, actor, f"plan.{to}", changes={"status": (old, to), **(changes or {})}, reason=message)
    return done


def partners_of(plan: Plan) -> list[User]:
    """Who filed it and the location's incentives admins."""
    ids = {plan.created_by_id, plan.submitted_by_id} | set(
        RoleAssignment.objects.filter(role=Role.INCENTIVES_ADMIN, location=plan.location_id)
        .filter(Q(program__isnull=True) | Q(program=plan.program_id))
        .values_list("user_id", flat=True)
    )
    return list(User.objects.filter(pk__in=[i for i in ids if i], is_active=True))


def plan_link(plan: Plan) -> str:
    return f"/plans/{plan.pk}/"


def review_link(plan: Plan) -> str:
    return f"/plans/{plan.pk}/review/"


def window_of(plan: Plan) -> deadlines.PlanWindow:
    return deadlines.plan_window(plan.program, selectors.plan_settings_of(plan.program), plan.fiscal_year)


def _check_window(plan: Plan, today: date) -> None:
    """Refuse changes once the plan can no longer be (re)submitted, saying until when it could."""
    window = window_of(plan)
    if window.may_change(today, submitted_before=plan.submissions > 0):
        return
    if plan.submissions:
        raise Conflict(
            _("Plans for %(year)s could be changed and resubmitted until %(day)s.")
            % {"year": window.label, "day": day_lazy(window.resubmit_by)},
            code="deadline_passed",
        )
    raise Conflict(
        _("Plans for %(year)s had to be first submitted by %(day)s.")
        % {"year": window.label, "day": day_lazy(window.first_submit_by)},
        code="deadline_passed",
    )


def _editable(plan: Plan, actor: User) -> None:
    if not permissions.can_edit_plan(actor, plan):
        raise PermissionDenied(_("Only the location's incentives admins can change its plans."))
    if plan.status != S.EDITING:
        words = (
            _("A plan that is %(status)s cannot be changed: the reviewer asked for changes; reopen it first.")
            if plan.status == S.ACTION_REQUIRED
            else _("A plan that is %(status)s cannot be changed.")
        )
        raise Conflict(words % {"status": plan.get_status_display().lower()}, code="not_editable")
    _check_window(plan, timezone.localdate())


def _check_reviewer(program: Program, reviewer: User | None, errors: dict[str, str]) -> None:
    if reviewer is not None and reviewer.pk not in {u.pk for u in reviewers_of(program)}:
        errors["reviewer"] = _("Choose a reviewer of %(program)s.") % {"program": program.name}


def _keys_with_proofs(plan: Plan) -> set[Any]:
    return set(Proof.objects.filter(plan=plan).values_list("activity__key", flat=True))


# --- the plan ----------------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def plan_create(
    *,
    location: Location,
    program: Program,
    fiscal_year: int,
    actor: User,
    name: str = "",
    reviewer: User | None = None,
    fund_type: str = FundType.COOP,
) -> Plan:
    """Start a plan (Editing, version 1) for one location, program, fund type and program year."""
    if not permissions.can_create_plan(actor, location, program):
        raise PermissionDenied(_("Only the location's incentives admins can make its plans."))
    errors: dict[str, str] = {}
    today = timezone.localdate()
    if not Enrollment.objects.filter(location=location, program=program, status=EnrollmentStatus.ENROLLED).exists():
        errors["program"] = _("%(location)s is not enrolled in %(program)s.") % {
            "location": location.name,
            "program": program.name,
        }
    years = deadlines.plannable_years(program, today)
    if fiscal_year not in years:
        labels = [periods.fiscal_year_label(y) for y in years]
        either = labels[0]
        for label in labels[1:]:
            either = _("%(one)s or %(other)s") % {"one": either, "other": label}
        errors["fiscal_year"] = _("Plans can be made for %(years)s.") % {"years": either}
    elif not ActivityType.objects.filter(program=program, fiscal_year=fiscal_year, is_active=True).exists():
        errors["fiscal_year"] = _("%(program)s has no activity catalogue for %(year)s yet.") % {
            "program": program.name,
            "year": periods.fiscal_year_label(fiscal_year),
        }
    if fund_type not in FundType.values:
        errors["fund_type"] = _("Choose a fund type: %(types)s.") % {
            "types": ", ".join(str(label) for label in FundType.labels)
        }
    name = (name or "").strip() or _("%(location)s %(year)s co-op plan") % {
        "location": location.name,
        "year": periods.fiscal_year_label(fiscal_year),
    }
    if len(name) > 200:
        errors["name"] = _("Keep the name to 200 characters or fewer.")
    _check_reviewer(program, reviewer, errors)
    duplicate = Plan.objects.filter(location=location, program=program, fund_type=fund_type, fiscal_year=fiscal_year)
    if "fiscal_year" not in errors and duplicate.exists():
        errors["fiscal_year"] = _("%(location)s already has a %(fund_type)s plan for %(year)s in %(program)s.") % {
            "location": location.name,
            "fund_type": FundType(fund_type).label.lower(),
            "year": periods.fiscal_year_label(fiscal_year),
            "program": program.name,
        }
    if errors:
        raise ValidationError(errors)
    plan = Plan(
        location=location,
        program=program,
        fund_type=fund_type,
        fiscal_year=fiscal_year,
        name=name,
        currency=program.currency,
        reviewer=reviewer,
        created_by=actor,
    )
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:
        raise ValidationError(
            {
                "fiscal_year": _("%(location)s already has a plan for %(year)s.")
                % {"location": location.name, "year": periods.fiscal_year_label(fiscal_year)}
            }
        ) from None
    plan.current = PlanVersion.objects.create(plan=plan, number=1)
    plan.save(update_fields=["current"])
    event(
        plan,
        actor,
        PlanEvent.Kind.CREATED,
        Said(gettext_noop("Plan started for %(year)s."), year=periods.fiscal_year_label(fiscal_year)),
    )
    _audit(plan, actor, "plan.create", changes={"fiscal_year": (None, fiscal_year), "program": (None, program.pk)})
    return plan


@transaction.atomic(durable=True)
def plan_update(*, plan: Plan, actor: User, **fields: Any) -> Plan:
    """Change the plan's name or named reviewer while it is being edited."""
    plan = lock_plan(plan.pk)
    _editable(plan, actor)
    unknown = set(fields) - {"name", "reviewer"}
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    errors: dict[str, str] = {}
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
        if not fields["name"]:
            errors["name"] = _("Give the plan a name.")
        elif len(fields["name"]) > 200:
            errors["name"] = _("Keep the name to 200 characters or fewer.")
    if "reviewer" in fields:
        _check_reviewer(plan.program, fields["reviewer"], errors)
    if errors:
        raise ValidationError(errors)
    changes = {k: (getattr(plan, k), v) for k, v in fields.items() if getattr(plan, k) != v}
    if not changes:
        return plan
    for key, value in fields.items():
        setattr(plan, key, value)
    plan.save()
    event(
        plan,
        actor,
        PlanEvent.Kind.UPDATED,
        Said(gettext_noop("Changed %(fields)s."), fields=" and ".join(sorted(changes))),
    )
    _audit(plan, actor, "plan.update", changes=changes)
    return plan


# --- the builder -------------------------------------------------------------------------------------------


def _own_row(plan: Plan, version_id: int, what: str) -> None:
    if version_id != plan.current_id:
        raise Conflict(
            _("This campaign belongs to an earlier version of the plan; change the current one.")
            if what == "campaign"
            else _("This activity belongs to an earlier version of the plan; change the current one."),
            code="old_version",
        )


@transaction.atomic(durable=True)
def campaign_add(
    *, plan: Plan, actor: User, name: str, start: date | None, end: date | None, budget: Any, description: str = ""
) -> Campaign:
    plan = lock_plan(plan.pk)
    _editable(plan, actor)
    values = clean_campaign(
        window_of(plan), {"name": name, "start": start, "end": end, "budget": budget, "description": description}
    )
    assert plan.current is not None
    campaign = Campaign.objects.create(version=plan.current, **values)
    event(
        plan,
        actor,
        PlanEvent.Kind.UPDATED,
        Said(gettext_noop("Added the campaign “%(campaign)s”."), campaign=campaign.name),
    )
    _audit(plan, actor, "plan.campaign_add", target=campaign, changes={"budget": (None, str(campaign.budget))})
    return campaign


@transaction.atomic(durable=True)
def campaign_update(*, campaign: Campaign, actor: User, **fields: Any) -> Campaign:
    plan = lock_plan(campaign.version.plan_id)
    _editable(plan, actor)
    campaign = Campaign.objects.get(pk=campaign.pk)
    _own_row(plan, campaign.version_id, "campaign")
    unknown = set(fields) - {"name", "start", "end", "budget", "description"}
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    current = {k: getattr(campaign, k) for k in ("name", "start", "end", "budget", "description")}
    values = clean_campaign(window_of(plan), current | fields)
    changes = {k: (current[k], v) for k, v in values.items() if current[k] != v}
    if not changes:
        return campaign
    for key, value in values.items():
        setattr(campaign, key, value)
    campaign.save()
    event(
        plan,
        actor,
        PlanEvent.Kind.UPDATED,
        Said(
            gettext_noop("Changed the campaign “%(campaign)s”: %(fields)s."),
            campaign=campaign.name,
            fields=", ".join(changes),
        ),
    )
    _audit(plan, actor, "plan.campaign_update", target=campaign, changes=changes)
    return campaign


@transaction.atomic(durable=True)
def campaign_remove(*, campaign: Campaign, actor: User) -> Plan:
    plan = lock_plan(campaign.version.plan_id)
    _editable(plan, actor)
    campaign = Campaign.objects.get(pk=campaign.pk)
    _own_row(plan, campaign.version_id, "campaign")
    activities = PlanActivity.objects.filter(campaign=campaign)
    if set(activities.values_list("key", flat=True)) & _keys_with_proofs(plan):
        raise Conflict(
            _("“%(campaign)s” has activities with proof of execution; it stays in the plan.")
            % {"campaign": campaign.name},
            code="has_proofs",
        )
    _audit(plan, actor, "plan.campaign_remove", changes={"campaign": (campaign.name, None)})
    activities.delete()
    campaign.delete()
    event(
        plan,
        actor,
        PlanEvent.Kind.UPDATED,
        Said(gettext_noop("Removed the campaign “%(campaign)s”."), campaign=campaign.name),
    )
    return plan


@transaction.atomic(durable=True)
def activity_add(
    *,
    campaign: Campaign,
    actor: User,
    activity_type: ActivityType | None,
    countries: list[str],
    planned_amount: Any,
    description: str = "",
    expected_reach: int | None = None,
) -> PlanActivity:
    plan = lock_plan(campaign.version.plan_id)
    _editable(plan, actor)
    campaign = Campaign.objects.get(pk=campaign.pk)
    _own_row(plan, campaign.version_id, "campaign")
    values = clean_activity(
        plan,
        {
            "activity_type": activity_type,
            "countries": countries,
            "planned_amount": planned_amount,
            "description": description,
            "expected_reach": expected_reach,
        },
    )
    activity = PlanActivity.objects.create(version_id=campaign.version_id, campaign=campaign, **values)
    event(
        plan,
        actor,
        PlanEvent.Kind.UPDATED,
        Said(
            gettext_noop("Added “%(activity)s” (%(amount)s) to “%(campaign)s”."),
            activity=activity.activity_type.name,
            amount=Amount(activity.planned_amount, plan.currency),
            campaign=campaign.name,
        ),
    )
    _audit(
        plan,
        actor,
        "plan.activity_add",
        target=activity,
        changes={"planned_amount": (None, str(activity.planned_amount))},
    )
    return activity


@transaction.atomic(durable=True)
def activity_update(*, activity: PlanActivity, actor: User, **fields: Any) -> PlanActivity:
    plan = lock_plan(activity.version.plan_id)
    _editable(plan, actor)
    activity = PlanActivity.objects.select_related("campaign", "activity_type").get(pk=activity.pk)
    _own_row(plan, activity.version_id, "activity")
    names = ("activity_type", "countries", "planned_amount", "description", "expected_reach")
    unknown = set(fields) - set(names)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    current = {k: getattr(activity, k) for k in names}
    values = clean_activity(plan, current | fields)
    if values["activity_type"].pk != activity.activity_type_id and activity.key in _keys_with_proofs(plan):
        raise ValidationError({"activity_type": _("Proof of execution has been filed for it: its activity stays.")})
    changes = {k: (current[k], v) for k, v in values.items() if current[k] != v}
    if not changes:
        return activity
    for key, value in values.items():
        setattr(activity, key, value)
    activity.save()
    event(
        plan,
        actor,
        PlanEvent.Kind.UPDATED,
        Said(
            gettext_noop("Changed “%(activity)s”: %(fields)s."),
            activity=activity.activity_type.name,
            fields=", ".join(changes),
        ),
    )
    _audit(plan, actor, "plan.activity_update", target=activity, changes=changes)
    return activity


@transaction.atomic(durable=True)
def activity_remove(*, activity: PlanActivity, actor: User) -> Plan:
    plan = lock_plan(activity.version.plan_id)
    _editable(plan, actor)
    activity = PlanActivity.objects.select_related("activity_type", "campaign").get(pk=activity.pk)
    _own_row(plan, activity.version_id, "activity")
    if activity.key in _keys_with_proofs(plan):
        raise Conflict(
            _("Proof of execution has been filed for “%(activity)s”; it stays in the plan.")
            % {"activity": activity.activity_type.name},
            code="has_proofs",
        )
    _audit(plan, actor, "plan.activity_remove", changes={"activity": (str(activity), None)})
    said = Said(
        gettext_noop("Removed “%(activity)s” from “%(campaign)s”."),
        activity=activity.activity_type.name,
        campaign=activity.campaign.name,
    )
    activity.delete()
    event(plan, actor, PlanEvent.Kind.UPDATED, said)
    return plan


# --- submission and review ---------------------------------------------------------------------------------


def _errors_of(found: list[checks.Finding]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for f in found:
        errors.setdefault(f.field or "__all__", []).append(f.message)
    return errors


@transaction.atomic(durable=True)
def plan_submit(*, plan: Plan, actor: User) -> Plan:
    plan = lock_plan(plan.pk)
    if not permissions.can_edit_plan(actor, plan):
        raise PermissionDenied(_("Only the location's incentives admins can submit its plans."))
    if plan.status != S.EDITING:
        raise Conflict(
            _("A plan that is %(status)s cannot be submitted.") % {"status": plan.get_status_display().lower()},
            code="invalid_transition",
        )
    today = timezone.localdate()
    _check_window(plan, today)
    found = checks.blocking(checks.plan_findings(plan, plan.current, today))
    if found:
        raise ValidationError(_errors_of(found))
    version = plan.current
    assert version is not None
    total = selectors.version_total(version)
    resubmitted = plan.submissions > 0
    _move(
        plan,
        S.SUBMITTED,
        actor,
        Said(
            gettext_noop("Version %(number)s resubmitted for review: %(amount)s.")
            if resubmitted
            else gettext_noop("Version %(number)s submitted for review: %(amount)s."),
            number=version.number,
            amount=Amount(total, plan.currency),
        ),
        changes={"version": (None, version.number), "total": (None, str(total))},
    )
    now = timezone.now()
    PlanVersion.objects.filter(pk=version.pk).update(submitted_at=now, submitted_by=actor, total=total)
    plan.submissions += 1
    plan.first_submitted_at = plan.first_submitted_at or now
    plan.submitted_at, plan.submitted_by = now, actor
    plan.due_on = periods.add_business_days(plan.program, today, plan.program.review_sla_business_days)
    plan.save()
    notify(
        users=[plan.reviewer] if plan.reviewer else reviewers_of(plan.program),
        subject=format_lazy(gettext_lazy("Plan {pk} to review: {name}"), pk=plan.pk, name=plan.name),
        kind=NotificationKind.REVIEW,
        body=format_lazy(
            gettext_lazy("{location} resubmits version {number} ({amount}). Review due {day}.")
            if resubmitted
            else gettext_lazy("{location} submits version {number} ({amount}). Review due {day}."),
            location=str(plan.location),
            number=version.number,
            amount=money_lazy(total, plan.currency),
            day=day_lazy(plan.due_on),
        ),
        link=review_link(plan),
    )
    return plan


@transaction.atomic(durable=True)
def plan_assign(*, plan: Plan, reviewer: User, actor: User) -> Plan:
    """Name another reviewer (or oneself: “assign to me”); a submitted plan goes under review."""
    plan = lock_plan(plan.pk)
    changes = {"reviewer": (plan.reviewer_id, reviewer.pk)}

    def note(said: Said) -> None:
        event(plan, actor, PlanEvent.Kind.NOTE, said, internal=True)
        _audit(plan, actor, "plan.assign", changes=changes)

    workflow.assign(
        plan,
        reviewer=reviewer,
        actor=actor,
        may_review=lambda user: permissions.can_review_plan(user, plan),
        awaiting=PLAN_AWAITING_REVIEW,
        noun="plan",
        start=lambda said: _move(plan, S.UNDER_REVIEW, actor, said, changes),
        note=note,
    )
    plan.save()
    if reviewer.pk != actor.pk:
        notify(
            users=[reviewer],
            subject=format_lazy(gettext_lazy("Plan {pk} is yours to review"), pk=plan.pk),
            body=plan.name,
            link=review_link(plan),
            kind=NotificationKind.REVIEW,
        )
    return plan


def _decidable(plan: Plan, actor: User) -> None:
    if not permissions.can_decide_plan(actor, plan):
        raise PermissionDenied(_("Only the plan's named reviewer can decide it; assign it to yourself first."))
    if plan.status not in PLAN_AWAITING_REVIEW:
        raise Conflict(
            _("A plan that is %(status)s is not waiting for a decision.")
            % {"status": plan.get_status_display().lower()},
            code="invalid_transition",
        )
    if plan.status == S.SUBMITTED:  # deciding straight from the queue starts the review
        _move(
            plan,
            S.UNDER_REVIEW,
            actor,
            Said(gettext_noop("Review started by %(person)s."), person=actor.get_full_name()),
        )
        plan.review_started_at = timezone.now()


def reasons_record(plan: Plan, done: PlanEvent, reasons: list[Reason], *, proof: Proof | None = None) -> None:
    codes = {r.code: r for r in selectors.reason_codes_for(plan.program)}
    campaigns = set(Campaign.objects.filter(version=plan.current).values_list("pk", flat=True))
    activities = set(PlanActivity.objects.filter(version=plan.current).values_list("pk", flat=True))
    documents: set[int] = set()
    if proof is not None:
        documents = set(proof.attachments.values_list("document_id", flat=True))
    rows = []
    for r in reasons:
        if r.code not in codes:
            raise ValidationError(
                {"reasons": _("“%(code)s” is not a reason of this program's catalogue.") % {"code": r.code}}
            )
        if r.campaign_id is not None and (proof is not None or r.campaign_id not in campaigns):
            raise ValidationError({"reasons": _("A reason can only point at a campaign of the version reviewed.")})
        if r.activity_id is not None and (proof is not None or r.activity_id not in activities):
            raise ValidationError({"reasons": _("A reason can only point at an activity of the version reviewed.")})
        if r.document_id is not None and r.document_id not in documents:
            raise ValidationError({"reasons": _("A reason can only point at a document of this proof.")})
        rows.append(
            PlanReason(
                event=done,
                code=codes[r.code],
                note=r.note.strip(),
                campaign_id=r.campaign_id,
                activity_id=r.activity_id,
                document_id=r.document_id,
                field=r.field.strip()[:64],
            )
        )
    PlanReason.objects.bulk_create(rows)


def _decide_version(plan: Plan, actor: User, outcome: str) -> None:
    assert plan.current_id is not None
    PlanVersion.objects.filter(pk=plan.current_id).update(decided_at=timezone.now(), decided_by=actor, outcome=outcome)


@transaction.atomic(durable=True)
def plan_approve(*, plan: Plan, actor: User, note: str = "", reasons: list[Reason] | None = None) -> Plan:
    """Approve the version under review: it comes into force and its total becomes the plan's limit. Proofs
    already filed follow their activities into it. No money moves (proofs move it)."""
    plan = lock_plan(plan.pk)
    _decidable(plan, actor)
    version = plan.current
    assert version is not None
    total = selectors.version_total(version)
    paid = selectors.paid_against_limit(plan)
    if total < paid:
        raise ValidationError(
            {
                "__all__": _("Proofs have already been paid %(paid)s; the plan cannot total less.")
                % {"paid": money(paid, plan.currency)}
            }
        )
    rows = {a.key: a for a in PlanActivity.objects.filter(version=version).select_related("campaign")}
    proofs = list(Proof.objects.filter(plan=plan).select_related("activity__campaign", "activity__activity_type"))
    lost = sorted({p.activity.activity_type.name for p in proofs if p.activity.key not in rows})
    if lost:
        raise Conflict(
            _("This version leaves out activities that have proof of execution: %(activities)s. Ask for changes.")
            % {"activities": ", ".join(lost)},
            code="drops_proofs",
        )
    old_limit = plan.approved_amount
    done = _move(
        plan,
        S.APPROVED,
        actor,
        note.strip()
        or Said(
            gettext_noop("Version %(number)s approved: the plan's limit is %(amount)s."),
            number=version.number,
            amount=Amount(total, plan.currency),
        ),
        {"approved_amount": (str(old_limit), str(total)), "in_force": (plan.in_force_id, version.pk)},
    )
    if reasons:
        reasons_record(plan, done, reasons)
    _decide_version(plan, actor, VersionOutcome.APPROVED)
    for proof in proofs:  # proofs follow their activity (same key) into the version now in force
        new = rows[proof.activity.key]
        if new.pk != proof.activity_id:
            if proof.activity.campaign.proof_warned_at and not new.campaign.proof_warned_at:
                Campaign.objects.filter(pk=new.campaign_id).update(
                    proof_warned_at=proof.activity.campaign.proof_warned_at
                )
            Proof.objects.filter(pk=proof.pk).update(activity=new)
    plan.in_force, plan.approved_amount = version, total
    plan.approved_at = plan.decided_at = timezone.now()
    plan.save()
    notify(
        users=partners_of(plan),
        subject=format_lazy(gettext_lazy("Plan {pk} approved: {name}"), pk=plan.pk, name=plan.name),
        body=format_lazy(
            gettext_lazy(
                "Version {number} is in force. The plan's limit is {amount}: file proof of execution for each activity."
            ),
            number=version.number,
            amount=money_lazy(total, plan.currency),
        ),
        link=plan_link(plan),
    )
    return plan


@transaction.atomic(durable=True)
def plan_request_changes(*, plan: Plan, actor: User, reasons: list[Reason], message: str = "") -> Plan:
    plan = lock_plan(plan.pk)
    _decidable(plan, actor)
    if not reasons:
        raise ValidationError({"reasons": _("Give at least one reason, so the partner knows what to change.")})
    done = _move(plan, S.ACTION_REQUIRED, actor, message.strip())
    done.kind = PlanEvent.Kind.FEEDBACK
    done.save(update_fields=["kind"])
    reasons_record(plan, done, reasons)
    _decide_version(plan, actor, VersionOutcome.ACTION_REQUIRED)
    plan.decided_at = timezone.now()
    plan.save()
    window = window_of(plan)
    notify(
        users=partners_of(plan),
        subject=format_lazy(gettext_lazy("Plan {pk} needs changes: {name}"), pk=plan.pk, name=plan.name),
        body=format_lazy(
            gettext_lazy("{note} Change and resubmit it by {day}."),
            note=message.strip() or gettext_lazy("The reviewer asks for changes."),
            day=day_lazy(window.resubmit_by),
        ),
        link=plan_link(plan),
    )
    return plan


@transaction.atomic(durable=True)
def plan_reject(*, plan: Plan, actor: User, reasons: list[Reason], message: str = "") -> Plan:
    """Reject the version under review. An earlier approved version stays in force (an amendment rejected)."""
    plan = lock_plan(plan.pk)
    _decidable(plan, actor)
    if not reasons:
        raise ValidationError({"reasons": _("Give at least one reason, so the partner knows why.")})
    done = _move(plan, S.REJECTED, actor, message.strip())
    done.kind = PlanEvent.Kind.FEEDBACK
    done.save(update_fields=["kind"])
    reasons_record(plan, done, reasons)
    _decide_version(plan, actor, VersionOutcome.REJECTED)
    plan.decided_at = timezone.now()
    plan.save()
    note = message.strip() or gettext_lazy("The reviewer rejected the plan.")
    notify(
        users=partners_of(plan),
        subject=format_lazy(gettext_lazy("Plan {pk} rejected: {name}"), pk=plan.pk, name=plan.name),
        body=format_lazy(
            gettext_lazy("{note} Version {number} stays in force."), note=note, number=plan.in_force.number
        )
        if plan.in_force
        else note,
        link=plan_link(plan),
    )
    return plan


def _new_version(plan: Plan, actor: User, source: PlanVersion, message: str) -> Plan:
    _check_window(plan, timezone.localdate())
    version = version_copy(plan=plan, source=source)
    plan.current = version
    _move(plan, S.EDITING, actor, message, {"version": (source.number, version.number)})
    plan.due_on = None
    plan.save()
    return plan


@transaction.atomic(durable=True)
def plan_reopen(*, plan: Plan, actor: User) -> Plan:
    """After a request for changes: a new version (a copy of the one reviewed) to change and resubmit."""
    plan = lock_plan(plan.pk)
    if not permissions.can_edit_plan(actor, plan):
        raise PermissionDenied(_("Only the location's incentives admins can change its plans."))
    if plan.status != S.ACTION_REQUIRED:
        raise Conflict(_("Only a plan the reviewer asked to change can be reopened."), code="invalid_transition")
    assert plan.current is not None
    return _new_version(
        plan,
        actor,
        plan.current,
        Said(
            gettext_noop("Reopened to make the changes asked for (version %(number)s)."),
            number=plan.current.number + 1,
        ),
    )


@transaction.atomic(durable=True)
def plan_amend(*, plan: Plan, actor: User) -> Plan:
    """Start an amendment of the plan in force: a new version to change and submit; the version in force
    stays in force (and its limit applies) until the amendment is approved."""
    plan = lock_plan(plan.pk)
    if not permissions.can_edit_plan(actor, plan):
        raise PermissionDenied(_("Only the location's incentives admins can amend its plans."))
    if plan.in_force is None or plan.status not in (S.APPROVED, S.REJECTED):
        raise Conflict(_("Only an approved plan can be amended."), code="invalid_transition")
    source = plan.in_force
    return _new_version(
        plan,
        actor,
        source,
        Said(
            gettext_noop("Amendment started; version %(number)s stays in force until it is approved."),
            number=source.number,
        ),
    )


@transaction.atomic(durable=True)
def plan_comment(
    *, plan: Plan, actor: User, message: str, internal: bool = False, proof: Proof | None = None
) -> PlanEvent:
    plan = lock_plan(plan.pk)
    allowed = permissions.can_see_internal_notes(actor) if internal else permissions.can_comment_plan(actor, plan)
    if not allowed:
        raise PermissionDenied(
            _("Only vendor staff write internal notes.") if internal else _("You cannot comment on this plan.")
        )
    if not message.strip():
        raise ValidationError({"message": _("Write a comment.")})
    if proof is not None and proof.plan_id != plan.pk:
        raise ValidationError({"proof": _("That proof is not of this plan.")})
    return event(
        plan,
        actor,
        PlanEvent.Kind.NOTE if internal else PlanEvent.Kind.COMMENT,
        message.strip(),
        proof=proof,
        internal=internal,
    )


# --- the program's plan rules ------------------------------------------------------------------------------

RULE_LIMITS = {
    "resubmit_days": (
        0,
        365,
        gettext_lazy("Give the days plans may be resubmitted after the program year, from 0 to 365."),
    ),
    "proof_due_days": (1, 730, gettext_lazy("Give the days proof is due after a campaign starts, from 1 to 730.")),
    "proof_warning_days": (0, 729, gettext_lazy("Give the days of warning before proof is due, from 0 to 729.")),
}


@transaction.atomic(durable=True)
def plan_settings_update(*, program: Program, actor: User, **values: Any) -> PlanSettings:
    if not permissions.can_set_plan_rules(actor, program):
        raise PermissionDenied(_("Only a program manager of this program can change its plan rules."))
    unknown = set(values) - set(RULE_LIMITS) - {"excess"}
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    rules = PlanSettings.objects.select_for_update().filter(program=program).first() or PlanSettings(program=program)
    errors: dict[str, str] = {}
    for name, (low, high, words) in RULE_LIMITS.items():
        value = values.get(name)
        if name in values and not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
            errors[name] = str(words)
    if "excess" in values and values["excess"] not in ExcessPolicy.values:
        errors["excess"] = _("Choose what happens to approved proof above the limit: carry or drop.")
    due = values.get("proof_due_days", rules.proof_due_days)
    warning = values.get("proof_warning_days", rules.proof_warning_days)
    if not errors and warning >= due:
        errors["proof_warning_days"] = _(
            "Warn fewer days before the due date than the %(days)s days proof is due in."
        ) % {"days": due}
    if errors:
        raise ValidationError(errors)
    changes = {k: (getattr(rules, k), v) for k, v in values.items() if getattr(rules, k) != v}
    for key, value in values.items():
        setattr(rules, key, value)
    rules.save()
    if changes:
        audit_record(actor=actor, verb="plan_settings.update", target=rules, changes=changes)
    return rules


def plans_escalate(*, today: date | None = None) -> int:
    """Tell program managers about plan reviews past their due date (once per due date), as for claims."""
    return escalation.escalate_overdue(
        Plan.objects.all(),
        today or timezone.localdate(),
        lock=lock_plan,
        note=lambda plan, text: event(plan, None, PlanEvent.Kind.NOTE, text, internal=True),
        noun="plan",
        link=review_link,
        awaiting=frozenset({S.SUBMITTED, S.UNDER_REVIEW}),
    )
