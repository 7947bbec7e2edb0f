"""The review console for vendor staff: the queue of claims waiting for a decision, with each claim's age and
due date in business days and a breach flag, and the review page (documents inline, the checker's findings
as reviewers see them, the whole history, the fund's balances, the decision form and internal notes).

Partners never see these pages (404). Every vendor role reads; only reviewers of the program act (the
services check it). After a decision the reviewer is taken to the next claim due."""

from datetime import date
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from coopfunds.accounts.models import User
from coopfunds.accounts.permissions import is_vendor_staff
from coopfunds.claims import checks, permissions, selectors, services
from coopfunds.claims.models import Claim
from coopfunds.core.errors import Conflict
from coopfunds.core.i18n import day_lazy
from coopfunds.desk import selectors as desk
from coopfunds.desk import services as desk_services
from coopfunds.funds.selectors import balances
from coopfunds.programs.selectors import programs_visible_to
from coopfunds.review.workflow import AWAITING_REVIEW, Clock
from coopfunds.web.views.claim_forms import FIELD_LABELS, AssignForm, DecisionForm, NoteForm, QueueFilterForm
from coopfunds.web.views.claims import timeline_events
from coopfunds.web.views.common import CappedPaginator, add_errors, not_found_as_404

PAGE_SIZE = 30
TIMELINE_PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # every view is @login_required


def _staff(request: HttpRequest) -> User:
    """The console is for vendor staff; to anyone else it does not exist."""
    user = _user(request)
    if not is_vendor_staff(user):
        raise Http404("Not found")
    return user


def _claim(request: HttpRequest, pk: int) -> tuple[User, Claim]:
    user = _staff(request)
    return user, selectors.claim_for(user, pk)


def _prefix(params: dict[str, Any]) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "", False)}
    return urlencode(kept) + "&" if kept else ""


def _overdue(clock: Clock) -> int:
    """Business days past the due date (0 when not overdue)."""
    return -clock.days_left if clock.breached and clock.days_left is not None else 0


# --- the queue -----------------------------------------------------------------------------------------


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    """Claims and proofs of execution waiting for a decision, oldest due first; many can be approved at once."""
    user = _staff(request)
    today = timezone.localdate()
    form = QueueFilterForm(request.GET or None, programs=programs_visible_to(user))
    valid = not form.is_bound or form.is_valid()
    data = form.cleaned_data if form.is_bound and valid else {}
    queue = desk.queue(
        user,
        kind=data.get("kind") or None,
        mine=bool(data.get("mine")),
        program_id=data["program"].pk if data.get("program") else None,
        overdue=bool(data.get("overdue")),
        status=data.get("status") or "",
    )
    page = CappedPaginator(queue if valid else [], PAGE_SIZE).get_page(request.GET.get("page"))  # type: ignore[arg-type]
    rows = desk.items_of(user, list(page.object_list), today)
    context = {
        "form": form,
        "valid": valid,
        "page": page,
        "rows": rows,
        "can_approve_any": any(r.can_review for r in rows),
        "querystring_prefix": _prefix(form.params()) if form.is_bound else "",
        "today": today,
        "here": request.get_full_path(),
    }
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]
    template = "web/claims/review/queue.html"
    return render(request, template + "#results" if partial else template, context, status=200 if valid else 400)


@login_required
@require_POST
def review_approve_many(request: HttpRequest) -> HttpResponse:
    """Approve the chosen claims and proofs in one step; each is still checked and audited on its own."""
    user = _staff(request)
    back = _safe_next(request, reverse("review_queue"))
    try:
        outcomes = desk_services.review_approve_many(
            items=desk_services.parse_keys(request.POST.getlist("items")),
            actor=user,
            note=request.POST.get("note", "").strip(),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    name = {"claim": gettext("claim %(id)s"), "proof": gettext("proof %(id)s")}
    approved = [name[o.kind] % {"id": o.id} for o in outcomes if o.outcome == "approved"]
    first = [name[o.kind] % {"id": o.id} for o in outcomes if o.outcome == "first_approval"]
    refused = [o for o in outcomes if o.outcome == "refused"]
    if approved:
        said = gettext("Approved %(n)s: %(items)s.")
        messages.success(request, said % {"n": len(approved), "items": ", ".join(approved)})
    if first:
        said = gettext("First approval recorded for %(n)s (a second reviewer must approve): %(items)s.")
        messages.info(request, said % {"n": len(first), "items": ", ".join(first)})
    for o in refused:
        said = gettext("Not approved: %(item)s. %(message)s")
        messages.error(request, said % {"item": name[o.kind] % {"id": o.id}, "message": o.message})
    return redirect(back)


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


@login_required
@require_POST
@not_found_as_404
def review_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Assign to me (no reviewer chosen) or to another reviewer of the program."""
    user, claim = _claim(request, pk)
    if not permissions.can_review(user, claim):
        raise PermissionDenied(gettext("Only reviewers of this program can assign claims."))
    form = AssignForm(request.POST, reviewers=services.reviewers_of(claim.program))
    back = _safe_next(request, reverse("review_detail", args=[claim.pk]))
    if not form.is_valid():
        messages.error(request, gettext("Choose a reviewer of this program."))
        return redirect(back)
    reviewer = form.cleaned_data["reviewer"] or user
    try:
        services.claim_assign(claim=claim, reviewer=reviewer, actor=user)
    except Conflict as error:
        messages.error(request, error.message)
    else:
        assigned = (
            gettext("Claim %(pk)s is assigned to you.")
            if reviewer.pk == user.pk
            else gettext("Claim %(pk)s is assigned to %(name)s.")
        )
        messages.success(request, assigned % {"pk": claim.pk, "name": reviewer.get_full_name()})
    return redirect(back)


# --- the review page -----------------------------------------------------------------------------------


def _decision_form(claim: Claim, data: Any = None) -> DecisionForm:
    return DecisionForm(
        data,
        codes=selectors.reason_codes(claim),
        documents=[a.document for a in selectors.attachments(claim)],
        partial=claim.program.partial_approval,
    )


def _review_page(request: HttpRequest, claim: Claim, status: int = 200, **forms_: Any) -> HttpResponse:
    user = _user(request)
    today = timezone.localdate()
    can_decide = permissions.can_review(user, claim) and claim.status in AWAITING_REVIEW
    found = checks.findings(claim, today)
    reviewers = services.reviewers_of(claim.program)
    attachments = list(selectors.attachments(claim))
    page = Paginator(selectors.timeline(user, claim), TIMELINE_PAGE_SIZE).get_page(request.GET.get("page"))
    activity = claim.activity_type
    clock = selectors.clock(claim, today)
    context = {
        "claim": claim,
        "clock": clock,
        "overdue": _overdue(clock),
        "findings": [(f, f.for_reviewer(), FIELD_LABELS.get(f.field, "")) for f in found],
        "blocking": len(checks.blocking(found)),
        "attachments": attachments,
        "b": balances(claim.fund),
        "activity": activity,
        "requirements": list(activity.document_requirements.all()),
        "caps": list(activity.caps.all()),
        "page": page,
        "events": timeline_events(page),
        "querystring_prefix": "",
        "can_decide": can_decide,
        "can_assign": permissions.can_review(user, claim) and claim.status in AWAITING_REVIEW,
        "decision_form": (forms_.get("decision_form") or _decision_form(claim)) if can_decide else None,
        "note_form": forms_.get("note_form") or NoteForm(),
        "assign_form": AssignForm(initial={"reviewer": claim.reviewer}, reviewers=reviewers),
        "approval_limit": services.approval_limit(user, claim.program),
    }
    return render(request, "web/claims/review/detail.html", context, status=status)


@login_required
@not_found_as_404
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _, claim = _claim(request, pk)
    return _review_page(request, claim)


def _next_due(user: User, after: Claim) -> Claim | None:
    """The next claim of the queue for this reviewer: theirs or nobody's, the earliest due first."""
    return (
        selectors.review_queue(user)
        .exclude(pk=after.pk)
        .filter(Q(reviewer=user) | Q(reviewer__isnull=True))
        .exclude(location__organisation_id=user.organisation_id)
        .first()
    )


def _decided(request: HttpRequest, user: User, claim: Claim, message: str) -> HttpResponse:
    following = _next_due(user, claim)
    if following is None:
        messages.success(request, gettext("%(message)s The queue has no other claim for you.") % {"message": message})
        return redirect("review_queue")
    said = gettext("%(message)s Next: claim %(pk)s, due %(day)s.")
    messages.success(request, said % {"message": message, "pk": following.pk, "day": _due(following.due_on)})
    return redirect("review_detail", following.pk)


def _due(day: date | None) -> str:
    return str(day_lazy(day)) if day else "—"


@login_required
@require_POST
@not_found_as_404
def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve (in full, or in part where the program allows), request action, or reject, with reasons."""
    user, claim = _claim(request, pk)
    if not permissions.can_review(user, claim):
        raise PermissionDenied(gettext("Only reviewers of this program who did not file the claim can decide it."))
    form = _decision_form(claim, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        decision, reasons, message = data["decision"], form.reasons(), data["message"]
        try:
            if decision == "approve":
                done = services.claim_approve(
                    claim=claim, actor=user, amount=data.get("amount"), note=message, reasons=reasons or None
                )
            elif decision == "request_action":
                done = services.claim_request_action(claim=claim, actor=user, reasons=reasons, message=message)
            else:
                done = services.claim_reject(claim=claim, actor=user, reasons=reasons, message=message)
        except ValidationError as error:
            add_errors(form, error)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("review_detail", claim.pk)
        else:
            if done.status != "approved" and decision == "approve":
                said = gettext("First approval of claim %(pk)s recorded; a second reviewer must approve.")
                return _decided(request, user, done, said % {"pk": done.pk})
            said = gettext("Claim %(pk)s: %(status)s.")
            return _decided(request, user, done, said % {"pk": done.pk, "status": done.get_status_display().lower()})
    return _review_page(request, selectors.claim_for(user, claim.pk), status=400, decision_form=form)


@login_required
@require_POST
@not_found_as_404
def review_note(request: HttpRequest, pk: int) -> HttpResponse:
    user, claim = _claim(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.claim_comment(claim=claim, actor=user, message=form.cleaned_data["message"], internal=True)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, gettext("Internal note added."))
            return redirect(reverse("review_detail", args=[claim.pk]) + "#history")
    return _review_page(request, claim, status=400, note_form=form)


urlpatterns = [
    path("review/", review_queue, name="review_queue"),
    path("review/approve/", review_approve_many, name="review_approve_many"),
    path("review/<int:pk>/", review_detail, name="review_detail"),
    path("review/<int:pk>/assign/", review_assign, name="review_assign"),
    path("review/<int:pk>/decide/", review_decide, name="review_decide"),
    path("review/<int:pk>/note/", review_note, name="review_note"),
]
