"""Partner pages for claims against earned co-op (DOMAIN.md, Flow B): my claims, a new claim, and the claim
itself: its form with the checker shown live, documents, certification report, colleagues, comments,
withdrawal, dispute and history.

A partner sees the claims of the locations their roles cover (another partner's claim is 404). Vendor staff
opening a claim go to the review console. Forms parse; the services decide and check rights; nothing
changes on GET (the live checker is a POST that changes nothing)."""

import copy
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from coopfunds.accounts.models import Location, User
from coopfunds.accounts.permissions import is_partner_user, is_vendor_staff
from coopfunds.claims import certification, checks, permissions, selectors, services
from coopfunds.claims.models import Claim, ClaimStatus
from coopfunds.core.errors import Conflict
from coopfunds.core.i18n import day_lazy
from coopfunds.core.money import money
from coopfunds.funds.models import Fund
from coopfunds.funds.selectors import balances, funds_visible_to, funds_with_balances
from coopfunds.programs import periods
from coopfunds.programs.models import ActivityType
from coopfunds.programs.selectors import activity_types_for, programs_visible_to
from coopfunds.web.views.claim_forms import (
    FIELD_LABELS,
    CertificationForm,
    ClaimFilterForm,
    ClaimForm,
    CommentForm,
    DisputeForm,
    NewClaimForm,
    RequestDocumentsForm,
    UploadForm,
    WithdrawForm,
)
from coopfunds.web.views.common import act, add_errors, not_found_as_404

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as StrPromise

PAGE_SIZE = 25
TIMELINE_PAGE_SIZE = 50
S = ClaimStatus
WITHDRAWABLE = {S.EDITING, S.SUBMITTED, S.ACTION_REQUIRED}
# The checker's findings are shown next to these parts of the claim form (a finding's `field`).
FIELD_SLOTS = {
    "name": "name",
    "execution_start": "execution_start",
    "amount": "amount",
    "invoice_vendor": "invoice_vendor",
    "invoice_number": "invoice_number",
    "invoice_amount": "invoice_amount",
    "attendees": "attendees",
}


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # every view is @login_required


def _page(request: HttpRequest, items: Any, size: int = PAGE_SIZE) -> Page:
    return Paginator(items, size).get_page(request.GET.get("page"))


def _prefix(params: dict[str, Any]) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "", False)}
    return urlencode(kept) + "&" if kept else ""


def _is_htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]


def next_step(claim: Claim, today: date) -> str:
    """What happens next, or what the partner must do, in a few words."""
    match claim.status:
        case S.EDITING:
            if claim.expires_on:
                return _("Draft: submit by %(day)s") % {"day": day_lazy(claim.expires_on)}
            return _("Draft")
        case S.ACTION_REQUIRED:
            return _("Your action: change what the reviewer asked, then resubmit")
        case S.SUBMITTED | S.UNDER_REVIEW | S.DISPUTED:
            if claim.due_on:
                return _("Review due %(day)s") % {"day": day_lazy(claim.due_on)}
            return _("Waiting for review")
        case S.REJECTED:
            deadline = services.dispute_deadline(claim)
            if deadline and today <= deadline:
                return _("Rejected: you may dispute until %(day)s") % {"day": day_lazy(deadline)}
            return _("Rejected")
        case S.APPROVED:
            if claim.approved_amount:
                return _("Approved: %(amount)s") % {"amount": money(claim.approved_amount, claim.currency)}
            return _("Approved")
    return ""


def timeline_events(page: Page) -> list[tuple[Any, str, str, list[tuple[Any, str]]]]:
    """(event, old status, new status, [(reason, what it is about)]) for the timeline template."""
    labels = {status: str(label) for status, label in S.choices}
    return [
        (
            event,
            labels.get(event.old_status, ""),
            labels.get(event.new_status, ""),
            [
                (r, _("field: %(field)s") % {"field": FIELD_LABELS.get(r.field, r.field)} if r.field else "")
                for r in event.reasons.all()
            ],
        )
        for event in page.object_list
    ]


# --- my claims -----------------------------------------------------------------------------------------


@login_required
def claim_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    today = timezone.localdate()
    visible = selectors.claims_visible_to(user)
    form = ClaimFilterForm(
        request.GET or None,
        locations=Location.objects.filter(pk__in=visible.values("location_id")).order_by("name"),
        programs=programs_visible_to(user),
        periods=sorted(set(visible.values_list("fund__label", flat=True))),
    )
    claims: QuerySet[Claim] = visible
    valid = not form.is_bound or form.is_valid()
    if form.is_bound and valid:
        data = form.cleaned_data
        if data["status"]:
            claims = claims.filter(status=data["status"])
        if data["location"]:
            claims = claims.filter(location=data["location"])
        if data["program"]:
            claims = claims.filter(program=data["program"])
        if data["period"]:
            claims = claims.filter(fund__label=data["period"])
    page = _page(request, claims.order_by("-id") if valid else Claim.objects.none())
    context = {
        "form": form,
        "valid": valid,
        "page": page,
        "rows": [(c, next_step(c, today)) for c in page.object_list],
        "querystring_prefix": _prefix(form.params()) if form.is_bound else "",
        "vendor": is_vendor_staff(user),
        "can_start": is_partner_user(user),
    }
    template = "web/claims/list.html"
    status = 200 if valid else 400
    return render(request, template + "#results" if _is_htmx(request) else template, context, status=status)


# --- new claim -----------------------------------------------------------------------------------------


def _claimable_funds(user: User, today: date) -> QuerySet[Fund]:
    """The user's funds whose claiming window has not closed, with their balances."""
    funds = funds_visible_to(user).filter(claim_closes__gte=today, converted_to_rebate=False, forfeited_at=None)
    return funds_with_balances(funds).select_related("location", "program").order_by("usage_start", "location__name")


def _activities(fund: Fund | None) -> QuerySet[ActivityType]:
    if fund is None:
        return ActivityType.objects.none()
    fiscal_year = periods.fiscal_year_of(fund.program, fund.usage_start)
    return activity_types_for(fund.program, fiscal_year).filter(is_active=True)


@login_required
def claim_new(request: HttpRequest) -> HttpResponse:
    """Step 1: choose the fund (GET ?fund=); step 2: the activity of that year's catalogue and a name (POST)."""
    user = _user(request)
    if not is_partner_user(user):
        raise PermissionDenied(_("Claims are filed by the partner's incentives admins and users."))
    today = timezone.localdate()
    funds = _claimable_funds(user, today)
    chosen = (request.POST if request.method == "POST" else request.GET).get("fund", "")
    fund = funds.filter(pk=int(chosen)).first() if chosen.isdigit() else None
    activities = _activities(fund)
    if request.method == "POST":
        form = NewClaimForm(request.POST, funds=funds, activities=activities)
        if form.is_valid():
            data = form.cleaned_data
            if data["activity_type"] is None:
                form.add_error("activity_type", _("Choose the activity you claim for."))
            else:
                try:
                    claim = services.claim_create(
                        fund=data["fund"], activity_type=data["activity_type"], name=data["name"], actor=user
                    )
                except ValidationError as error:
                    add_errors(form, error)
                else:
                    messages.success(
                        request,
                        _("Claim %(pk)s started. Fill it in, add its documents, then submit.") % {"pk": claim.pk},
                    )
                    return redirect("claim_detail", claim.pk)
        status = 400
    else:
        form = NewClaimForm(initial={"fund": fund}, funds=funds, activities=activities)
        status = 200
    context = {"form": form, "fund": fund, "activities": activities, "has_funds": funds.exists(), "today": today}
    template = "web/claims/new.html"
    return render(request, template + "#step" if _is_htmx(request) else template, context, status=status)


# --- the claim -----------------------------------------------------------------------------------------


def _slots(form: ClaimForm | None, found: list[checks.Finding], vendor: bool) -> dict[str, list[str]]:
    """Each finding's message under the part of the form it is about; the rest under "" (the panel only)."""
    present = {"documents", "metrics"} | (set(FIELD_SLOTS) & set(form.fields) if form else set())
    out: dict[str, list[str]] = {slot: [] for slot in present}
    for f in found:
        slot = FIELD_SLOTS.get(f.field, f.field)
        if slot in out:
            out[slot].append(f.for_reviewer() if vendor else f.message)
    return out


def _field_rows(form: ClaimForm, slots: dict[str, list[str]]) -> list[tuple[forms.BoundField, str, list[str]]]:
    rows = []
    for name in form.fields:
        if name.startswith("metric_"):
            continue
        slot = FIELD_SLOTS.get(name, "")
        rows.append((form[name], slot, slots.get(slot, []) if slot else []))
    return rows


def _checker_context(claim: Claim, form: ClaimForm | None, found: list[checks.Finding], vendor: bool) -> dict[str, Any]:
    slots = _slots(form, found, vendor)
    return {
        "claim": claim,
        "findings": [(f, f.for_reviewer() if vendor else f.message, FIELD_LABELS.get(f.field, "")) for f in found],
        "blocking": len(checks.blocking(found)),
        "slots": slots,
    }


def _colleagues(user: User, claim: Claim) -> QuerySet[User]:
    return selectors.colleagues_of(user, claim)


def _claim_page(request: HttpRequest, claim: Claim, status: int = 200, **forms_: Any) -> HttpResponse:
    user = _user(request)
    today = timezone.localdate()
    can_file = permissions.can_file(user, claim)
    editable = can_file and claim.is_editable
    form = forms_.get("form") or (ClaimForm(claim=claim) if editable else None)
    found = checks.findings(claim, today) if editable else []
    deadline = services.dispute_deadline(claim)
    can_dispute = permissions.can_dispute(user, claim) and deadline is not None and today <= deadline
    page = Paginator(selectors.timeline(user, claim), TIMELINE_PAGE_SIZE).get_page(request.GET.get("page"))
    activity = claim.activity_type
    context = {
        **_checker_context(claim, form, found, vendor=False),
        "form": form,
        "field_rows": _field_rows(form, _slots(form, found, False)) if form else [],
        "editable": editable,
        "can_file": can_file,
        "can_comment": permissions.can_comment(user, claim),
        "activity": activity,
        "requirements": list(activity.document_requirements.all()),
        "caps": list(activity.caps.all()),
        "attachments": list(selectors.attachments(claim)),
        "b": balances(claim.fund),
        "next_step": next_step(claim, today),
        "dispute_deadline": deadline if can_dispute else None,
        "page": page,
        "events": timeline_events(page),
        "querystring_prefix": "",
        "upload_form": forms_.get("upload_form") or UploadForm(activity=activity),
        "cert_form": forms_.get("cert_form") or CertificationForm(),
        "request_form": forms_.get("request_form") or RequestDocumentsForm(colleagues=_colleagues(user, claim)),
        "comment_form": forms_.get("comment_form") or CommentForm(),
        "withdraw_form": (forms_.get("withdraw_form") or WithdrawForm())
        if can_file and claim.status in WITHDRAWABLE
        else None,
        "dispute_form": (forms_.get("dispute_form") or DisputeForm()) if can_dispute else None,
    }
    return render(request, "web/claims/detail.html", context, status=status)


def _require(allowed: bool, message: "str | StrPromise") -> None:
    if not allowed:
        raise PermissionDenied(str(message))


FILERS_ONLY = gettext_lazy("Only the location's incentives admins and users can do this.")


def _back(claim: Claim, anchor: str = "") -> str:
    return reverse("claim_detail", args=[claim.pk]) + (f"#{anchor}" if anchor else "")


def _act(
    request: HttpRequest,
    claim: Claim,
    form_name: str,
    form: forms.Form,
    action: Callable[[dict[str, Any]], str],
    anchor: str = "",
) -> HttpResponse:
    def page(form: forms.Form) -> HttpResponse:
        fresh = selectors.claim_for(_user(request), claim.pk)
        return _claim_page(request, fresh, status=400, **{form_name: form})

    return act(request, form, action, done_at=_back(claim, anchor), page=page)


@login_required
@not_found_as_404
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the claim. POST: save the form (`action=submit`: then submit it for review)."""
    user = _user(request)
    claim = selectors.claim_for(user, pk)
    if request.method != "POST":
        if is_vendor_staff(user):
            return redirect("review_detail", claim.pk)
        return _claim_page(request, claim)
    _require(permissions.can_file(user, claim), FILERS_ONLY)
    form = ClaimForm(request.POST, claim=claim)
    submit = request.POST.get("action") == "submit"

    def save(data: dict[str, Any]) -> str:
        services.claim_update(claim=claim, actor=user, **form.values())
        if not submit:
            return _("Saved.")
        try:
            done = services.claim_submit(claim=claim, actor=user)
        except ValidationError:
            messages.warning(request, _("Saved, but not submitted: the checker still finds what is listed below."))
            raise
        assert done.due_on is not None
        return _("Submitted for review. The review is due by %(day)s.") % {"day": day_lazy(done.due_on)}

    return _act(request, claim, "form", form, save)


@login_required
@require_POST
@not_found_as_404
def claim_check(request: HttpRequest, pk: int) -> HttpResponse:
    """The checker on the form as typed, not saved (htmx): the findings panel and each field's findings."""
    user = _user(request)
    claim = selectors.claim_for(user, pk)
    _require(permissions.can_file(user, claim), FILERS_ONLY)
    form = ClaimForm(request.POST, claim=claim)
    form.is_valid()
    draft = copy.copy(claim)
    for name, value in form.values().items():
        setattr(draft, name, value)
    draft.invoice_key = services.invoice_key(draft.invoice_vendor, draft.invoice_number)
    found = checks.findings(draft, timezone.localdate())
    context = {**_checker_context(draft, form, found, vendor=False), "oob": True, "editable": claim.is_editable}
    return render(request, "web/claims/_checker.html", context)


@login_required
@require_POST
@not_found_as_404
def claim_documents_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    claim = selectors.claim_for(user, pk)
    _require(permissions.can_file(user, claim), FILERS_ONLY)
    form = UploadForm(request.POST, request.FILES, activity=claim.activity_type)

    def add(data: dict[str, Any]) -> str:
        try:
            stored = services.claim_add_documents(
                claim=claim, uploads=data["files"], kind=data["kind"], note=data["note"], actor=user
            )
        except ValidationError as error:  # the service's `file` is the form's `files`
            if hasattr(error, "error_dict") and "file" in error.error_dict:
                error.error_dict["files"] = error.error_dict.pop("file")
            raise
        names = ", ".join(_("“%(name)s”") % {"name": d.original_name} for d in stored)
        return ngettext("Added %(n)s document: %(names)s", "Added %(n)s documents: %(names)s", len(stored)) % {
            "n": len(stored),
            "names": names,
        }

    return _act(request, claim, "upload_form", form, add, anchor="documents")


@login_required
@require_POST
@not_found_as_404
def claim_document_remove(request: HttpRequest, pk: int, document_id: int) -> HttpResponse:
    user = _user(request)
    claim = selectors.claim_for(user, pk)
    _require(permissions.can_file(user, claim), FILERS_ONLY)
    attached = selectors.attachments(claim).filter(document_id=document_id).first()
    if attached is None:
        raise Http404("Not found")
    try:
        services.claim_remove_document(claim=claim, document=attached.document, actor=user)
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("Removed “%(name)s” (kept in the history).") % {"name": attached.document.original_name}
        )
    return redirect(_back(claim, "documents"))


@login_required
@require_POST
@not_found_as_404
def claim_certification(request: HttpRequest, pk: int) -> HttpResponse:
    """The certification report for in-house work: the form becomes a PDF attached to the claim."""
    user = _user(request)
    claim = selectors.claim_for(user, pk)
    _require(permissions.can_file(user, claim), FILERS_ONLY)
    form = CertificationForm(request.POST)

    def certify(data: dict[str, Any]) -> str:
        report = certification.report_clean(
            description=data["description"], lines=form.lines(), currency=claim.currency
        )
        pdf = certification.report_pdf(
            report,
            claim_label=_("Claim %(pk)s: %(name)s (%(activity)s, %(period)s)")
            % {"pk": claim.pk, "name": claim.name, "activity": claim.activity_type.name, "period": claim.fund.label},
            location=f"{claim.location.name} ({claim.location.partner_id})",
            certified_by=user.get_full_name(),
            on=timezone.localdate(),
        )
        upload = SimpleUploadedFile(f"certification-report-claim-{claim.pk}.pdf", pdf, "application/pdf")
        services.claim_add_documents(
            claim=claim, uploads=[upload], kind="certification_report", note=report.summary(), actor=user
        )
        return _("Certification report added: %(total)s for %(hours)s hours.") % {
            "total": money(report.total, claim.currency),
            "hours": certification.figures(report.hours),
        }

    return _act(request, claim, "cert_form", form, certify, anchor="documents")


@login_required
@require_POST
@not_found_as_404
def claim_request_documents(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    claim = selectors.claim_for(user, pk)
    _require(permissions.can_file(user, claim), FILERS_ONLY)
    form = RequestDocumentsForm(request.POST, colleagues=_colleagues(user, claim))

    def ask(data: dict[str, Any]) -> str:
        services.claim_request_documents(claim=claim, colleague=data["colleague"], message=data["message"], actor=user)
        return _("%(name)s has been asked to add documents.") % {"name": data["colleague"].get_full_name()}

    return _act(request, claim, "request_form", form, ask, anchor="colleagues")


@login_required
@require_POST
@not_found_as_404
def claim_comment(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    claim = selectors.claim_for(user, pk)
    _require(permissions.can_comment(user, claim), _("You cannot comment on this claim."))

    def comment(data: dict[str, Any]) -> str:
        services.claim_comment(claim=claim, actor=user, message=data["message"])
        return _("Comment added.")

    return _act(request, claim, "comment_form", CommentForm(request.POST), comment, anchor="history")


@login_required
@require_POST
@not_found_as_404
def claim_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    claim = selectors.claim_for(user, pk)
    _require(permissions.can_file(user, claim), FILERS_ONLY)

    def withdraw(data: dict[str, Any]) -> str:
        services.claim_withdraw(claim=claim, actor=user, reason=data["reason"])
        return _("Claim withdrawn; any money it held is back in the fund.")

    return _act(request, claim, "withdraw_form", WithdrawForm(request.POST), withdraw)


@login_required
@require_POST
@not_found_as_404
def claim_dispute(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    claim = selectors.claim_for(user, pk)
    _require(permissions.can_dispute(user, claim), _("Only the location's incentives admins can dispute a rejection."))

    def dispute(data: dict[str, Any]) -> str:
        done = services.claim_dispute(claim=claim, actor=user, reason=data["reason"])
        assert done.due_on is not None
        return _("Disputed. A reviewer will decide by %(day)s.") % {"day": day_lazy(done.due_on)}

    return _act(request, claim, "dispute_form", DisputeForm(request.POST), dispute)


urlpatterns = [
    path("claims/", claim_list, name="claim_list"),
    path("claims/new/", claim_new, name="claim_new"),
    path("claims/<int:pk>/", claim_detail, name="claim_detail"),
    path("claims/<int:pk>/check/", claim_check, name="claim_check"),
    path("claims/<int:pk>/documents/", claim_documents_add, name="claim_documents_add"),
    path("claims/<int:pk>/documents/<int:document_id>/remove/", claim_document_remove, name="claim_document_remove"),
    path("claims/<int:pk>/certification/", claim_certification, name="claim_certification"),
    path("claims/<int:pk>/request-documents/", claim_request_documents, name="claim_request_documents"),
    path("claims/<int:pk>/comment/", claim_comment, name="claim_comment"),
    path("claims/<int:pk>/withdraw/", claim_withdraw, name="claim_withdraw"),
    path("claims/<int:pk>/dispute/", claim_dispute, name="claim_dispute"),
]
