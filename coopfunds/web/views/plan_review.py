"""The plans' review pages for vendor staff: the queue of plans and proofs of execution waiting for a decision,
and a plan's review page (what changed since the version last decided, the checker and totals, the decision
with reasons per plan, campaign or activity, assignment, internal notes); and a program's plan rules (read by
everyone who sees the program, changed by its program managers). Partners never see the review pages (404)."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from coopfunds.claims.services import reviewers_of
from coopfunds.core.errors import Conflict
from coopfunds.plans import permissions, selectors, services
from coopfunds.plans.models import PLAN_AWAITING_REVIEW, Campaign, Plan
from coopfunds.plans.versions import version_changes
from coopfunds.programs.selectors import program_for
from coopfunds.web.views.common import add_errors, not_found_as_404
from coopfunds.web.views.plan_common import checker_context, history, require, staff, user_of
from coopfunds.web.views.plan_forms import AssignForm, NoteForm, PlanDecisionForm, RulesForm

PAGE_SIZE = 25


# --- review --------------------------------------------------------------------------------------------------


@login_required
def plan_review_queue(request: HttpRequest) -> HttpResponse:
    """Plans and proofs of execution waiting for a decision, the earliest due first."""
    user = staff(request)
    mine = request.GET.get("mine") == "1"
    plans = Paginator(selectors.plan_review_queue(user, mine=mine), PAGE_SIZE).get_page(request.GET.get("page"))
    proofs = Paginator(selectors.proof_review_queue(user, mine=mine), PAGE_SIZE).get_page(request.GET.get("ppage"))
    context = {
        "plans": plans,
        "proofs": proofs,
        "mine": mine,
        "today": timezone.localdate(),
        "page": plans,
        "querystring_prefix": "mine=1&" if mine else "",
    }
    return render(request, "web/plans/queue.html", context)


def _decision_form(plan: Plan, campaigns: list[Campaign], data: Any = None) -> PlanDecisionForm:
    return PlanDecisionForm(data, codes=selectors.reason_codes_for(plan.program), campaigns=campaigns)


def _review_page(request: HttpRequest, plan: Plan, status: int = 200, **forms_: Any) -> HttpResponse:
    user = user_of(request)
    campaigns = selectors.campaigns_of(plan.current)
    seen = selectors.last_reviewed_version(plan)
    can_decide = permissions.can_decide_plan(user, plan) and plan.status in PLAN_AWAITING_REVIEW
    can_assign = permissions.can_review_plan(user, plan) and plan.status in PLAN_AWAITING_REVIEW
    paid = selectors.paid_against_limit(plan)
    context = {
        "plan": plan,
        "campaigns": campaigns,
        "seen": seen,
        "changes": version_changes(seen, plan.current) if seen and plan.current else [],
        "window": services.window_of(plan),
        "paid": paid,
        "can_decide": can_decide,
        "can_assign": can_assign,
        "decision_form": (forms_.get("decision_form") or _decision_form(plan, campaigns)) if can_decide else None,
        "assign_form": AssignForm(initial={"reviewer": plan.reviewer}, reviewers=reviewers_of(plan.program)),
        "note_form": forms_.get("note_form") or NoteForm(),
        "total": selectors.version_total(plan.current),
        **checker_context(plan, campaigns, vendor=True),
        **history(request, selectors.plan_timeline(user, plan)),
    }
    return render(request, "web/plans/review.html", context, status=status)


@login_required
@not_found_as_404
def plan_review(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff(request)
    return _review_page(request, selectors.plan_for(user, pk))


def _to_review(plan: Plan) -> HttpResponse:
    return redirect("plan_review", plan.pk)


@login_required
@require_POST
@not_found_as_404
def plan_assign(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff(request)
    plan = selectors.plan_for(user, pk)
    require(permissions.can_review_plan(user, plan), _("Only reviewers of this program can take plans."))
    form = AssignForm(request.POST, reviewers=reviewers_of(plan.program))
    if not form.is_valid():
        messages.error(request, _("Choose a reviewer of this program."))
        return _to_review(plan)
    reviewer = form.cleaned_data["reviewer"] or user
    try:
        services.plan_assign(plan=plan, reviewer=reviewer, actor=user)
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Plan %(pk)s is assigned to you.") % {"pk": plan.pk}
            if reviewer.pk == user.pk
            else _("Plan %(pk)s is assigned to %(name)s.") % {"pk": plan.pk, "name": reviewer.get_full_name()},
        )
    return _to_review(plan)


@login_required
@require_POST
@not_found_as_404
def plan_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff(request)
    plan = selectors.plan_for(user, pk)
    require(
        permissions.can_decide_plan(user, plan),
        _("Only the plan's named reviewer can decide it; assign it to yourself first."),
    )
    campaigns = selectors.campaigns_of(plan.current)
    form = _decision_form(plan, campaigns, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        decision, reasons, message = data["decision"], form.reasons(), data["message"]
        try:
            if decision == "approve":
                done = services.plan_approve(plan=plan, actor=user, note=message, reasons=reasons or None)
            elif decision == "request_changes":
                done = services.plan_request_changes(plan=plan, actor=user, reasons=reasons, message=message)
            else:
                done = services.plan_reject(plan=plan, actor=user, reasons=reasons, message=message)
        except ValidationError as error:
            add_errors(form, error)
        except Conflict as error:
            messages.error(request, error.message)
            return _to_review(plan)
        else:
            messages.success(
                request, _("Plan %(pk)s: %(status)s.") % {"pk": done.pk, "status": done.get_status_display().lower()}
            )
            return redirect("plan_review_queue")
    return _review_page(request, selectors.plan_for(user, pk), status=400, decision_form=form)


@login_required
@require_POST
@not_found_as_404
def plan_note(request: HttpRequest, pk: int) -> HttpResponse:
    user = staff(request)
    plan = selectors.plan_for(user, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.plan_comment(plan=plan, actor=user, message=form.cleaned_data["message"], internal=True)
        messages.success(request, _("Internal note added."))
        return redirect(reverse("plan_review", args=[plan.pk]) + "#history")
    return _review_page(request, plan, status=400, note_form=form)


# --- the program's plan rules --------------------------------------------------------------------------------


@login_required
@not_found_as_404
def plan_rules(request: HttpRequest, program_id: int) -> HttpResponse:
    """Everyone who sees the program reads its plan rules; its program managers change them."""
    user = user_of(request)
    program = program_for(user, program_id)
    rules = selectors.plan_settings_of(program)
    can_set = permissions.can_set_plan_rules(user, program)
    initial = {k: getattr(rules, k) for k in ("resubmit_days", "proof_due_days", "proof_warning_days", "excess")}
    status = 200
    if request.method == "POST":
        require(can_set, _("Only a program manager of this program can change its plan rules."))
        form = RulesForm(request.POST)
        if form.is_valid():
            try:
                services.plan_settings_update(program=program, actor=user, **form.values())
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, _("Plan rules saved."))
                return redirect("plan_rules", program.pk)
        status = 400
    else:
        form = RulesForm(initial=initial)
    context = {"program": program, "rules": rules, "form": form if can_set else None}
    return render(request, "web/plans/rules.html", context, status=status)


urlpatterns = [
    path("plans/review/", plan_review_queue, name="plan_review_queue"),
    path("plans/rules/<int:program_id>/", plan_rules, name="plan_rules"),
    path("plans/<int:pk>/review/", plan_review, name="plan_review"),
    path("plans/<int:pk>/assign/", plan_assign, name="plan_assign"),
    path("plans/<int:pk>/decide/", plan_decide, name="plan_decide"),
    path("plans/<int:pk>/note/", plan_note, name="plan_note"),
]
