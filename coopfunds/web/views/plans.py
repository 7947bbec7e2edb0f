"""Co-op plan pages (DOMAIN.md, Flow A): my plans, a new plan, the plan builder (campaigns and activities added
in place, running totals against the funds and the catalogue's caps, the checker live), submission, changes
and amendments. The review pages and the program's plan rules are in plan_review.py, proof of execution in
plan_proofs.py; their URLs are included below (web/urls.py includes only this module's).

Partners see the plans of the locations their roles cover (another partner's plan is 404); vendor staff read
every plan; the review pages do not exist for partners (404). Forms parse; services decide and check rights;
nothing changes on GET (the live check is a POST that changes nothing)."""

from collections.abc import Callable
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from coopfunds.accounts.models import Location, Role, User
from coopfunds.accounts.permissions import is_partner_user, is_vendor_staff
from coopfunds.claims.services import reviewers_of
from coopfunds.core.errors import Conflict
from coopfunds.core.i18n import day_lazy
from coopfunds.core.money import money
from coopfunds.enrollments.models import Enrollment, EnrollmentStatus
from coopfunds.plans import checks, deadlines, permissions, selectors, services
from coopfunds.plans.builder import clean_activity, clean_campaign
from coopfunds.plans.models import Campaign, Plan, PlanActivity, PlanStatus, Proof
from coopfunds.programs import periods
from coopfunds.programs.models import ActivityType, Program
from coopfunds.programs.selectors import activity_types_for
from coopfunds.web.views import plan_proofs, plan_review
from coopfunds.web.views.common import act, add_errors, not_found_as_404
from coopfunds.web.views.plan_common import checker_context, history, is_htmx, require, user_of
from coopfunds.web.views.plan_forms import (
    ActivityForm,
    CampaignForm,
    CommentForm,
    NewPlanForm,
    PlanForm,
)

PAGE_SIZE = 25
S = PlanStatus
EDITORS_ONLY = gettext_lazy("Only the location's incentives admins can change its plans.")


def next_step(plan: Plan, window: deadlines.PlanWindow) -> str:
    """What happens next, or what the partner must do, in a few words."""
    match plan.status:
        case S.EDITING if plan.submissions:
            return _("Being changed: resubmit by %(day)s") % {"day": day_lazy(window.resubmit_by)}
        case S.EDITING:
            return _("Draft: submit by %(day)s") % {"day": day_lazy(window.first_submit_by)}
        case S.SUBMITTED | S.UNDER_REVIEW:
            return _("Review due %(day)s") % {"day": day_lazy(plan.due_on)} if plan.due_on else _("Waiting for review")
        case S.ACTION_REQUIRED:
            return _("Your action: reopen, change what the reviewer asked and resubmit by %(day)s") % {
                "day": day_lazy(window.resubmit_by)
            }
        case S.APPROVED:
            return _("Approved: limit %(amount)s; file proof of execution per activity") % {
                "amount": money(plan.approved_amount, plan.currency)
            }
        case S.REJECTED if plan.in_force_id:
            return _("Amendment rejected: the approved version stays in force")
    return _("Rejected")


# --- my plans ----------------------------------------------------------------------------------------------


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    plans = selectors.plans_visible_to(user).order_by("-fiscal_year", "-id")
    status = request.GET.get("status", "")
    if status in S.values:
        plans = plans.filter(status=status)
    page = Paginator(plans, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for plan in page.object_list:
        rows.append((plan, next_step(plan, services.window_of(plan))))
    context = {
        "page": page,
        "rows": rows,
        "status": status,
        "statuses": S.choices,
        "querystring_prefix": f"status={status}&" if status in S.values else "",
        "can_start": _is_partner_admin(user),
        "vendor": is_vendor_staff(user),
    }
    return render(request, "web/plans/list.html", context)


def _is_partner_admin(user: User) -> bool:
    return is_partner_user(user) and any(g.role == Role.INCENTIVES_ADMIN for g in user.grants)


def _new_plan_choices(user: User, today: date) -> dict[str, Any]:
    """The locations this admin plans for, their enrolled programs, the years open and the reviewers."""
    admin_of = [g.location_id for g in user.grants if g.role == Role.INCENTIVES_ADMIN and g.location_id]
    locations = Location.objects.filter(pk__in=admin_of, organisation_id=user.organisation_id).order_by("name")
    enrolled = Enrollment.objects.filter(location__in=locations, status=EnrollmentStatus.ENROLLED)
    programs = Program.objects.filter(pk__in=enrolled.values("program_id"), is_active=True).order_by("name")
    years: dict[int, str] = {}
    reviewer_ids: set[int] = set()
    for program in programs:
        for year in deadlines.plannable_years(program, today):
            years[year] = periods.fiscal_year_label(year)
        reviewer_ids |= {u.pk for u in reviewers_of(program)}
    return {
        "locations": locations,
        "programs": programs,
        "years": sorted(years.items()),
        "reviewers": User.objects.filter(pk__in=reviewer_ids).order_by("full_name"),
    }


@login_required
def plan_new(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    require(_is_partner_admin(user), _("Plans are made by the partner's incentives admins."))
    choices = _new_plan_choices(user, timezone.localdate())
    if request.method == "POST":
        form = NewPlanForm(request.POST, **choices)
        if form.is_valid():
            data = form.cleaned_data
            try:
                plan = services.plan_create(
                    location=data["location"],
                    program=data["program"],
                    fiscal_year=data["fiscal_year"],
                    name=data["name"],
                    reviewer=data["reviewer"],
                    actor=user,
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Plan %(pk)s started. Add its campaigns and activities, then submit it.") % {"pk": plan.pk},
                )
                return redirect("plan_detail", plan.pk)
        return render(request, "web/plans/new.html", {"form": form}, status=400)
    return render(request, "web/plans/new.html", {"form": NewPlanForm(**choices)})


# --- the plan (builder) -------------------------------------------------------------------------------------


def _reviewers(plan: Plan) -> QuerySet[User]:
    return User.objects.filter(pk__in=[u.pk for u in reviewers_of(plan.program)]).order_by("full_name")


def _activity_types(plan: Plan) -> QuerySet[ActivityType]:
    return activity_types_for(plan.program, plan.fiscal_year).filter(is_active=True)


def _campaign_rows(campaigns: list[Campaign], by_place: dict[str, list[str]]) -> list[tuple[Any, ...]]:
    """(campaign, its findings, planned total, [(activity, its findings)]) for the builder."""
    rows = []
    for c in campaigns:
        activities = list(c.activities.all())
        rows.append(
            (
                c,
                by_place.get(f"campaign-{c.pk}", []),
                sum((a.planned_amount for a in activities), 0),
                [(a, by_place.get(f"activity-{a.pk}", [])) for a in activities],
            )
        )
    return rows


def _in_force_rows(plan: Plan) -> list[tuple[Any, list[Proof], date]]:
    """The activities of the version in force with their proofs and due dates (proof of execution is filed
    for these)."""
    if plan.in_force is None:
        return []
    rules = selectors.plan_settings_of(plan.program)
    by_activity: dict[int, list[Proof]] = {}
    for proof in selectors.proofs_of(plan).order_by("id"):
        by_activity.setdefault(proof.activity_id, []).append(proof)
    rows = []
    for campaign in selectors.campaigns_of(plan.in_force):
        for activity in campaign.activities.all():
            rows.append((activity, by_activity.get(activity.pk, []), deadlines.proof_due(rules, campaign.start)))
    return rows


def _plan_page(request: HttpRequest, plan: Plan, status: int = 200, **forms_: Any) -> HttpResponse:
    user = user_of(request)
    can_edit = permissions.can_edit_plan(user, plan)
    editable = can_edit and plan.is_editable
    window = services.window_of(plan)
    campaigns = selectors.campaigns_of(plan.current)
    paid = selectors.paid_against_limit(plan)
    checker = checker_context(plan, campaigns, vendor=is_vendor_staff(user))
    context = {
        "plan": plan,
        "window": window,
        "campaign_rows": _campaign_rows(campaigns, checker["by_place"]),
        "next_step": next_step(plan, window),
        "campaigns": campaigns,
        "editable": editable,
        "can_edit": can_edit,
        "can_amend": can_edit and plan.in_force_id is not None and plan.status in (S.APPROVED, S.REJECTED),
        "can_reopen": can_edit and plan.status == S.ACTION_REQUIRED,
        "can_file_proofs": permissions.can_file_proofs(user, plan),
        "can_comment": permissions.can_comment_plan(user, plan),
        "can_review": is_vendor_staff(user),
        "plan_form": forms_.get("plan_form")
        or PlanForm(initial={"name": plan.name, "reviewer": plan.reviewer}, reviewers=_reviewers(plan)),
        "comment_form": forms_.get("comment_form") or CommentForm(),
        "paid": paid,
        "left": max(plan.approved_amount - paid, 0),
        "in_force_rows": _in_force_rows(plan),
        "versions": list(selectors.versions_of(plan)),
        **checker,
        **history(request, selectors.plan_timeline(user, plan)),
    }
    return render(request, "web/plans/detail.html", context, status=status)


@login_required
@not_found_as_404
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the plan and its builder. POST: save the plan's name and reviewer."""
    user = user_of(request)
    plan = selectors.plan_for(user, pk)
    if request.method != "POST":
        return _plan_page(request, plan)
    require(permissions.can_edit_plan(user, plan), EDITORS_ONLY)
    form = PlanForm(request.POST, reviewers=_reviewers(plan))

    def save(data: dict[str, Any]) -> str:
        services.plan_update(plan=plan, actor=user, name=data["name"], reviewer=data["reviewer"])
        return _("Saved.")

    return _act(request, plan, form, save, form_name="plan_form")


def _back(plan: Plan, anchor: str = "") -> HttpResponse:
    return redirect(_at(plan, anchor))


def _at(plan: Plan, anchor: str = "") -> str:
    return reverse("plan_detail", args=[plan.pk]) + (f"#{anchor}" if anchor else "")


def _act(
    request: HttpRequest,
    plan: Plan,
    form: forms.Form,
    action: Callable[[dict[str, Any]], str],
    *,
    form_name: str = "",
    anchor: str = "",
    page: Callable[[forms.Form], HttpResponse] | None = None,
) -> HttpResponse:
    def plan_page(form: forms.Form) -> HttpResponse:
        fresh = selectors.plan_for(user_of(request), plan.pk)
        return _plan_page(request, fresh, status=400, **{form_name: form})

    return act(request, form, action, done_at=_at(plan, anchor), page=page or plan_page)


@login_required
@require_POST
@not_found_as_404
def plan_check(request: HttpRequest, pk: int) -> HttpResponse:
    """The builder's live check (htmx) of the campaign or activity form as typed; it saves nothing. An activity
    form (`campaign` given) also shows the room its caps, its campaign's budget and its period's co-op leave."""
    user = user_of(request)
    plan = selectors.plan_for(user, pk)
    require(permissions.can_edit_plan(user, plan), EDITORS_ONLY)
    errors: dict[str, list[str]] = {}
    found: list[checks.Finding] = []
    campaign = Campaign.objects.filter(pk=_int(request.POST.get("campaign")), version_id=plan.current_id).first()
    if campaign is None:
        form: forms.Form = CampaignForm(request.POST)
        form.is_valid()
        try:
            clean_campaign(services.window_of(plan), {k: form.cleaned_data.get(k) for k in form.fields})
        except ValidationError as error:
            errors = error.message_dict
    else:
        form = ActivityForm(request.POST, activity_types=_activity_types(plan))
        form.is_valid()
        replacing = PlanActivity.objects.filter(
            pk=_int(request.POST.get("activity")), version_id=plan.current_id
        ).first()
        try:
            values = clean_activity(plan, {k: form.cleaned_data.get(k) for k in form.fields})
        except ValidationError as error:
            errors = error.message_dict
        else:
            found = checks.draft_activity_findings(
                plan, campaign, values["activity_type"], values["planned_amount"], replacing
            )
    return render(request, "web/plans/_live.html", {"errors": errors, "found": found})


def _int(value: str | None) -> int:
    """A posted id, or 0 (which no row has)."""
    return int(value) if value and value.isdigit() else 0


# campaigns


def _campaign_page(
    request: HttpRequest, plan: Plan, form: forms.Form, campaign: Campaign | None, status: int = 200
) -> HttpResponse:
    context = {"plan": plan, "form": form, "campaign": campaign, "window": services.window_of(plan)}
    template = "web/plans/campaign_form.html"
    return render(request, template + "#form" if is_htmx(request) else template, context, status=status)


@login_required
@not_found_as_404
def plan_campaign_add(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the form (in place with htmx). POST: add the campaign to the version being edited."""
    user = user_of(request)
    plan = selectors.plan_for(user, pk)
    require(permissions.can_edit_plan(user, plan), EDITORS_ONLY)
    if request.method != "POST":
        return _campaign_page(request, plan, CampaignForm(), None)
    form = CampaignForm(request.POST)

    def add(data: dict[str, Any]) -> str:
        campaign = services.campaign_add(plan=plan, actor=user, **data)
        return _("Campaign “%(name)s” added. Add its activities.") % {"name": campaign.name}

    return _act(
        request, plan, form, add, anchor="campaigns", page=lambda f: _campaign_page(request, plan, f, None, 400)
    )


@login_required
@not_found_as_404
def plan_campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    campaign = selectors.campaign_for(user, pk)
    plan = selectors.plan_for(user, campaign.version.plan_id)
    require(permissions.can_edit_plan(user, plan), EDITORS_ONLY)
    if request.method != "POST":
        return _campaign_page(request, plan, CampaignForm.of(campaign), campaign)
    form = CampaignForm(request.POST)

    def save(data: dict[str, Any]) -> str:
        services.campaign_update(campaign=campaign, actor=user, **data)
        return _("Campaign “%(name)s” saved.") % {"name": data["name"] or campaign.name}

    return _act(
        request,
        plan,
        form,
        save,
        anchor=f"campaign-{campaign.pk}",
        page=lambda f: _campaign_page(request, plan, f, campaign, 400),
    )


@login_required
@require_POST
@not_found_as_404
def plan_campaign_remove(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    campaign = selectors.campaign_for(user, pk)
    plan = selectors.plan_for(user, campaign.version.plan_id)
    require(permissions.can_edit_plan(user, plan), EDITORS_ONLY)

    def remove(data: dict[str, Any]) -> str:
        services.campaign_remove(campaign=campaign, actor=user)
        return _("Campaign “%(name)s” removed.") % {"name": campaign.name}

    return _act(request, plan, forms.Form(request.POST), remove, anchor="campaigns")


# activities


def _activity_page(
    request: HttpRequest,
    plan: Plan,
    campaign: Campaign,
    form: forms.Form,
    activity: PlanActivity | None,
    status: int = 200,
) -> HttpResponse:
    context = {"plan": plan, "campaign": campaign, "form": form, "activity": activity}
    template = "web/plans/activity_form.html"
    return render(request, template + "#form" if is_htmx(request) else template, context, status=status)


@login_required
@not_found_as_404
def plan_activity_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    campaign = selectors.campaign_for(user, pk)
    plan = selectors.plan_for(user, campaign.version.plan_id)
    require(permissions.can_edit_plan(user, plan), EDITORS_ONLY)
    types = _activity_types(plan)
    if request.method != "POST":
        return _activity_page(request, plan, campaign, ActivityForm(activity_types=types), None)
    form = ActivityForm(request.POST, activity_types=types)

    def add(data: dict[str, Any]) -> str:
        activity = services.activity_add(campaign=campaign, actor=user, **data)
        return _("“%(activity)s” added to “%(campaign)s”.") % {
            "activity": activity.activity_type.name,
            "campaign": campaign.name,
        }

    return _act(
        request,
        plan,
        form,
        add,
        anchor=f"campaign-{campaign.pk}",
        page=lambda f: _activity_page(request, plan, campaign, f, None, 400),
    )


@login_required
@not_found_as_404
def plan_activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    activity = selectors.plan_activity_for(user, pk)
    plan = selectors.plan_for(user, activity.version.plan_id)
    require(permissions.can_edit_plan(user, plan), EDITORS_ONLY)
    types = _activity_types(plan)
    if request.method != "POST":
        form = ActivityForm(initial=ActivityForm.initial_of(activity), activity_types=types)
        return _activity_page(request, plan, activity.campaign, form, activity)
    form = ActivityForm(request.POST, activity_types=types)

    def save(data: dict[str, Any]) -> str:
        done = services.activity_update(activity=activity, actor=user, **data)
        return _("“%(activity)s” saved.") % {"activity": done.activity_type.name}

    return _act(
        request,
        plan,
        form,
        save,
        anchor=f"campaign-{activity.campaign_id}",
        page=lambda f: _activity_page(request, plan, activity.campaign, f, activity, 400),
    )


@login_required
@require_POST
@not_found_as_404
def plan_activity_remove(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    activity = selectors.plan_activity_for(user, pk)
    plan = selectors.plan_for(user, activity.version.plan_id)
    require(permissions.can_edit_plan(user, plan), EDITORS_ONLY)

    def remove(data: dict[str, Any]) -> str:
        services.activity_remove(activity=activity, actor=user)
        return _("“%(activity)s” removed from “%(campaign)s”.") % {
            "activity": activity.activity_type.name,
            "campaign": activity.campaign.name,
        }

    return _act(request, plan, forms.Form(request.POST), remove, anchor=f"campaign-{activity.campaign_id}")


# workflow


def _workflow(request: HttpRequest, pk: int, call: Callable[[Plan, User], str]) -> HttpResponse:
    user = user_of(request)
    plan = selectors.plan_for(user, pk)
    require(permissions.can_edit_plan(user, plan), EDITORS_ONLY)
    try:
        done = call(plan, user)
    except ValidationError as error:
        for field, errors in error.message_dict.items():
            for message in errors:
                messages.error(request, message if field == "__all__" else f"{message}")
        messages.warning(request, _("Not submitted: the checker still finds what is listed."))
        return _back(plan, "checker")
    except Conflict as error:
        messages.error(request, error.message)
        return _back(plan)
    messages.success(request, done)
    return _back(plan)


@login_required
@require_POST
@not_found_as_404
def plan_submit(request: HttpRequest, pk: int) -> HttpResponse:
    def submit(plan: Plan, user: User) -> str:
        done = services.plan_submit(plan=plan, actor=user)
        assert done.due_on is not None
        return _("Submitted for review. The review is due by %(day)s.") % {"day": day_lazy(done.due_on)}

    return _workflow(request, pk, submit)


@login_required
@require_POST
@not_found_as_404
def plan_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    def reopen(plan: Plan, user: User) -> str:
        done = services.plan_reopen(plan=plan, actor=user)
        assert done.current is not None
        return _("Version %(number)s is open: make the changes asked for, then resubmit.") % {
            "number": done.current.number
        }

    return _workflow(request, pk, reopen)


@login_required
@require_POST
@not_found_as_404
def plan_amend(request: HttpRequest, pk: int) -> HttpResponse:
    def amend(plan: Plan, user: User) -> str:
        done = services.plan_amend(plan=plan, actor=user)
        assert done.current is not None
        assert done.in_force is not None
        return _(
            "Amendment started as version %(number)s; version %(in_force)s stays in force until it is approved."
        ) % {"number": done.current.number, "in_force": done.in_force.number}

    return _workflow(request, pk, amend)


@login_required
@require_POST
@not_found_as_404
def plan_comment(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    plan = selectors.plan_for(user, pk)
    require(permissions.can_comment_plan(user, plan), _("You cannot comment on this plan."))

    def comment(data: dict[str, Any]) -> str:
        services.plan_comment(plan=plan, actor=user, message=data["message"])
        return _("Comment added.")

    return _act(request, plan, CommentForm(request.POST), comment, form_name="comment_form", anchor="history")


urlpatterns = [
    path("plans/", plan_list, name="plan_list"),
    path("plans/new/", plan_new, name="plan_new"),
    path("plans/<int:pk>/", plan_detail, name="plan_detail"),
    path("plans/<int:pk>/check/", plan_check, name="plan_check"),
    path("plans/<int:pk>/campaigns/", plan_campaign_add, name="plan_campaign_add"),
    path("plans/<int:pk>/submit/", plan_submit, name="plan_submit"),
    path("plans/<int:pk>/reopen/", plan_reopen, name="plan_reopen"),
    path("plans/<int:pk>/amend/", plan_amend, name="plan_amend"),
    path("plans/<int:pk>/comment/", plan_comment, name="plan_comment"),
    path("plans/campaigns/<int:pk>/", plan_campaign_edit, name="plan_campaign_edit"),
    path("plans/campaigns/<int:pk>/remove/", plan_campaign_remove, name="plan_campaign_remove"),
    path("plans/campaigns/<int:pk>/activities/", plan_activity_add, name="plan_activity_add"),
    path("plans/activities/<int:pk>/", plan_activity_edit, name="plan_activity_edit"),
    path("plans/activities/<int:pk>/remove/", plan_activity_remove, name="plan_activity_remove"),
    *plan_review.urlpatterns,
    *plan_proofs.urlpatterns,
]
