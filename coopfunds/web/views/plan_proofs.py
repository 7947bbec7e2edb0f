"""Proof of execution pages: a new proof for an activity of the plan in force, the proof (its form with the
checker live, documents, certification report, submission, withdrawal, dispute, history), and for reviewers
the review page (documents inline, findings as reviewers see them, the fund and the plan's limit, the decision
with reasons). Included in plans.py's URLs. Partners never see the review page (404)."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from coopfunds.accounts.models import User
from coopfunds.accounts.permissions import is_vendor_staff
from coopfunds.claims.services import invoice_key, reviewers_of
from coopfunds.core.errors import Conflict
from coopfunds.core.i18n import day_lazy
from coopfunds.funds.selectors import balances
from coopfunds.plans import deadlines, permissions, proof_checks, proofs, selectors
from coopfunds.plans import services as plan_services
from coopfunds.plans.models import Proof, ProofStatus
from coopfunds.review.workflow import AWAITING_REVIEW, EDITABLE
from coopfunds.web.views.common import act, add_errors, not_found_as_404
from coopfunds.web.views.plan_common import history, require, user_of
from coopfunds.web.views.plan_forms import (
    FIELD_LABELS,
    AssignForm,
    CertificationForm,
    CommentForm,
    NewProofForm,
    NoteForm,
    ProofDecisionForm,
    ProofForm,
    ReasonForm,
    UploadForm,
)

S = ProofStatus
FILERS_ONLY = gettext_lazy("Only the location's incentives admins and users can do this.")
WITHDRAWABLE = {S.EDITING, S.SUBMITTED, S.ACTION_REQUIRED}


def _history(request: HttpRequest, user: User, proof: Proof) -> dict[str, Any]:
    return history(request, selectors.proof_timeline(user, proof))


def _findings(proof: Proof, vendor: bool) -> dict[str, Any]:
    found = proof_checks.proof_findings(proof, timezone.localdate())
    by_field: dict[str, list[str]] = {}
    for f in found:
        by_field.setdefault(f.field, []).append(f.for_reviewer() if vendor else f.message)
    return {
        "findings": [(f, f.for_reviewer() if vendor else f.message, FIELD_LABELS.get(f.field, "")) for f in found],
        "blocking": len(proof_checks.blocking(found)),
        "by_field": by_field,
    }


def _money(proof: Proof) -> dict[str, Any]:
    fund = proof.fund or proof_checks.fund_for_proof(proof)
    plan = proof.plan
    paid = selectors.paid_against_limit(plan)
    return {
        "fund": fund,
        "b": balances(fund) if fund else None,
        "limit": plan.approved_amount,
        "paid": paid,
        "left": max(plan.approved_amount - paid, 0),
        "rules": selectors.plan_settings_of(plan.program),
    }


def _documents_asked(requirements: list[Any]) -> str:
    """The documents the activity type asks for besides the invoice, as the documents section lists them."""
    out = []
    for i, req in enumerate(requirements):
        if req.kind == "invoice":
            continue
        label = str(req.get_kind_display()).lower()
        out.append(label if req.required else gettext("%(document)s (optional)") % {"document": label})
        if i < len(requirements) - 1:
            out.append(", ")
    return "".join(out)


def _due(proof: Proof) -> Any:
    return deadlines.proof_due(selectors.plan_settings_of(proof.plan.program), proof.activity.campaign.start)


# --- partner ---------------------------------------------------------------------------------------------------


@login_required
@not_found_as_404
def proof_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Start proof of execution for an activity of the plan in force (GET: the form; POST: create it)."""
    user = user_of(request)
    activity = selectors.plan_activity_for(user, pk)
    plan = selectors.plan_for(user, activity.version.plan_id)
    require(permissions.can_file_proofs(user, plan), FILERS_ONLY)
    form = NewProofForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            proof = proofs.proof_create(activity=activity, actor=user, name=form.cleaned_data["name"])
        except ValidationError as error:
            add_errors(form, error)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect(reverse("plan_detail", args=[plan.pk]) + "#proofs")
        else:
            messages.success(
                request, gettext("Proof of execution started: fill it in, add its documents, then submit it.")
            )
            return redirect("proof_detail", proof.pk)
    rules = selectors.plan_settings_of(plan.program)
    context = {
        "plan": plan,
        "activity": activity,
        "form": form,
        "due": deadlines.proof_due(rules, activity.campaign.start),
    }
    return render(request, "web/plans/proof_new.html", context, status=400 if request.method == "POST" else 200)


def _proof_page(request: HttpRequest, proof: Proof, status: int = 200, **forms_: Any) -> HttpResponse:
    user = user_of(request)
    can_file = permissions.can_file_proof(user, proof)
    editable = can_file and proof.is_editable
    deadline = proofs.dispute_deadline(proof)
    today = timezone.localdate()
    can_dispute = permissions.can_dispute_proof(user, proof) and deadline is not None and today <= deadline
    requirements = list(proof.activity.activity_type.document_requirements.all())
    context = {
        "proof": proof,
        "plan": proof.plan,
        "activity": proof.activity,
        "due": _due(proof),
        "editable": editable,
        "can_file": can_file,
        "vendor": is_vendor_staff(user),
        "form": forms_.get("form") or (ProofForm(initial=ProofForm.initial_of(proof)) if editable else None),
        "attachments": list(selectors.proof_attachments(proof)),
        "requirements": requirements,
        "documents_asked": _documents_asked(requirements),
        "upload_form": forms_.get("upload_form") or UploadForm(),
        "cert_form": forms_.get("cert_form") or CertificationForm(),
        "comment_form": forms_.get("comment_form") or CommentForm(),
        "withdraw_form": (forms_.get("withdraw_form") or ReasonForm())
        if can_file and proof.status in WITHDRAWABLE
        else None,
        "dispute_form": (forms_.get("dispute_form") or ReasonForm()) if can_dispute else None,
        "dispute_deadline": deadline if can_dispute else None,
        "can_comment": permissions.can_comment_plan(user, proof.plan),
        **(_findings(proof, is_vendor_staff(user)) if proof.status in EDITABLE else {"findings": [], "by_field": {}}),
        **_money(proof),
        **_history(request, user, proof),
    }
    return render(request, "web/plans/proof_detail.html", context, status=status)


def _back(proof: Proof, anchor: str = "") -> str:
    return reverse("proof_detail", args=[proof.pk]) + (f"#{anchor}" if anchor else "")


def _act(
    request: HttpRequest,
    proof: Proof,
    form_name: str,
    form: forms.Form,
    action: Callable[[dict[str, Any]], str],
    anchor: str = "",
) -> HttpResponse:
    def page(form: forms.Form) -> HttpResponse:
        fresh = selectors.proof_for(user_of(request), proof.pk)
        return _proof_page(request, fresh, status=400, **{form_name: form})

    return act(request, form, action, done_at=_back(proof, anchor), page=page)


@login_required
@not_found_as_404
def proof_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the proof. POST: save its form (`action=submit`: then submit it for review)."""
    user = user_of(request)
    proof = selectors.proof_for(user, pk)
    if request.method != "POST":
        return _proof_page(request, proof)
    require(permissions.can_file_proof(user, proof), FILERS_ONLY)
    form = ProofForm(request.POST)
    submit = request.POST.get("action") == "submit"

    def save(data: dict[str, Any]) -> str:
        proofs.proof_update(proof=proof, actor=user, **form.values())
        if not submit:
            return gettext("Saved.")
        try:
            done = proofs.proof_submit(proof=proof, actor=user)
        except ValidationError:
            messages.warning(request, gettext("Saved, but not submitted: the checker still finds what is listed."))
            raise
        assert done.due_on is not None
        return gettext("Submitted for review. The review is due by %(day)s.") % {"day": day_lazy(done.due_on)}

    return _act(request, proof, "form", form, save)


@login_required
@require_POST
@not_found_as_404
def proof_check(request: HttpRequest, pk: int) -> HttpResponse:
    """The checker on the form as typed, not saved (htmx)."""
    user = user_of(request)
    proof = selectors.proof_for(user, pk)
    require(permissions.can_file_proof(user, proof), FILERS_ONLY)
    form = ProofForm(request.POST)
    form.is_valid()
    draft = Proof.objects.get(pk=proof.pk)
    draft.plan, draft.activity = proof.plan, proof.activity
    try:
        values = proofs.clean_fields(dict(form.cleaned_data))
    except ValidationError as error:
        context = {"proof": proof, "findings": [], "errors": error.message_dict}
        return render(request, "web/plans/proof_detail.html#checker", context)
    for name, value in values.items():
        setattr(draft, name, value)
    draft.invoice_key = invoice_key(draft.invoice_vendor, draft.invoice_number)
    context = {"proof": draft, **_findings(draft, vendor=False)}
    return render(request, "web/plans/proof_detail.html#checker", context)


@login_required
@require_POST
@not_found_as_404
def proof_documents_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    proof = selectors.proof_for(user, pk)
    require(permissions.can_file_proof(user, proof), FILERS_ONLY)
    form = UploadForm(request.POST, request.FILES)

    def add(data: dict[str, Any]) -> str:
        try:
            stored = proofs.proof_add_documents(
                proof=proof, uploads=data["files"], kind=data["kind"], note=data["note"], actor=user
            )
        except ValidationError as error:
            if hasattr(error, "error_dict") and "file" in error.error_dict:
                error.error_dict["files"] = error.error_dict.pop("file")
            raise
        return ngettext("Added %(n)s document.", "Added %(n)s documents.", len(stored)) % {"n": len(stored)}

    return _act(request, proof, "upload_form", form, add, anchor="documents")


@login_required
@require_POST
@not_found_as_404
def proof_document_remove(request: HttpRequest, pk: int, document_id: int) -> HttpResponse:
    user = user_of(request)
    proof = selectors.proof_for(user, pk)
    require(permissions.can_file_proof(user, proof), FILERS_ONLY)
    attached = selectors.proof_attachments(proof).filter(document_id=document_id).first()
    if attached is None:
        raise Http404("Not found")
    try:
        proofs.proof_remove_document(proof=proof, document=attached.document, actor=user)
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            gettext("Removed “%(name)s” (kept in the history).") % {"name": attached.document.original_name},
        )
    return redirect(_back(proof, "documents"))


@login_required
@require_POST
@not_found_as_404
def proof_certification(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    proof = selectors.proof_for(user, pk)
    require(permissions.can_file_proof(user, proof), FILERS_ONLY)
    form = CertificationForm(request.POST)

    def certify(data: dict[str, Any]) -> str:
        proofs.proof_add_certification(proof=proof, actor=user, description=data["description"], lines=form.lines())
        return gettext("Certification report added.")

    return _act(request, proof, "cert_form", form, certify, anchor="documents")


@login_required
@require_POST
@not_found_as_404
def proof_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    proof = selectors.proof_for(user, pk)
    require(permissions.can_file_proof(user, proof), FILERS_ONLY)

    def withdraw(data: dict[str, Any]) -> str:
        proofs.proof_withdraw(proof=proof, actor=user, reason=data["reason"])
        return gettext("Withdrawn; any money it held is back in the fund.")

    return _act(request, proof, "withdraw_form", ReasonForm(request.POST), withdraw)


@login_required
@require_POST
@not_found_as_404
def proof_dispute(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    proof = selectors.proof_for(user, pk)
    require(
        permissions.can_dispute_proof(user, proof),
        gettext("Only the location's incentives admins can dispute a rejection."),
    )

    def dispute(data: dict[str, Any]) -> str:
        done = proofs.proof_dispute(proof=proof, actor=user, reason=data["reason"])
        assert done.due_on is not None
        return gettext("Disputed. A reviewer will decide by %(day)s.") % {"day": day_lazy(done.due_on)}

    return _act(request, proof, "dispute_form", ReasonForm(request.POST), dispute)


# --- review ---------------------------------------------------------------------------------------------------


def _staff_proof(request: HttpRequest, pk: int) -> tuple[User, Proof]:
    user = user_of(request)
    if not is_vendor_staff(user):
        raise Http404("Not found")
    return user, selectors.proof_for(user, pk)


def _decision_form(proof: Proof, data: Any = None) -> ProofDecisionForm:
    return ProofDecisionForm(
        data,
        codes=selectors.reason_codes_for(proof.plan.program),
        documents=[a.document for a in selectors.proof_attachments(proof)],
        partial=proof.plan.program.partial_approval,
    )


def _review_page(request: HttpRequest, proof: Proof, status: int = 200, **forms_: Any) -> HttpResponse:
    user = user_of(request)
    can_decide = permissions.can_review_proof(user, proof) and proof.status in AWAITING_REVIEW
    context = {
        "proof": proof,
        "plan": proof.plan,
        "activity": proof.activity,
        "due": _due(proof),
        "attachments": list(selectors.proof_attachments(proof)),
        "can_decide": can_decide,
        "decision_form": (forms_.get("decision_form") or _decision_form(proof)) if can_decide else None,
        "assign_form": AssignForm(initial={"reviewer": proof.reviewer}, reviewers=reviewers_of(proof.plan.program)),
        "note_form": forms_.get("note_form") or NoteForm(),
        **(_findings(proof, vendor=True) if proof.status in AWAITING_REVIEW else {"findings": [], "by_field": {}}),
        **_money(proof),
        **_history(request, user, proof),
    }
    return render(request, "web/plans/proof_review.html", context, status=status)


@login_required
@not_found_as_404
def proof_review(request: HttpRequest, pk: int) -> HttpResponse:
    _, proof = _staff_proof(request, pk)
    return _review_page(request, proof)


@login_required
@require_POST
@not_found_as_404
def proof_assign(request: HttpRequest, pk: int) -> HttpResponse:
    user, proof = _staff_proof(request, pk)
    require(permissions.can_review_proof(user, proof), gettext("Only reviewers of this program can take proofs."))
    form = AssignForm(request.POST, reviewers=reviewers_of(proof.plan.program))
    if form.is_valid():
        reviewer = form.cleaned_data["reviewer"] or user
        try:
            proofs.proof_assign(proof=proof, reviewer=reviewer, actor=user)
        except Conflict as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                gettext("Proof %(pk)s is assigned to you.") % {"pk": proof.pk}
                if reviewer.pk == user.pk
                else gettext("Proof %(pk)s is assigned to %(name)s.")
                % {"pk": proof.pk, "name": reviewer.get_full_name()},
            )
    else:
        messages.error(request, gettext("Choose a reviewer of this program."))
    return redirect("proof_review", proof.pk)


@login_required
@require_POST
@not_found_as_404
def proof_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user, proof = _staff_proof(request, pk)
    require(
        permissions.can_review_proof(user, proof),
        gettext("Only reviewers of this program who did not file it can decide it."),
    )
    form = _decision_form(proof, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        decision, reasons, message = data["decision"], form.reasons(), data["message"]
        try:
            if decision == "approve":
                done = proofs.proof_approve(
                    proof=proof, actor=user, amount=data.get("amount"), note=message, reasons=reasons or None
                )
            elif decision == "request_action":
                done = proofs.proof_request_action(proof=proof, actor=user, reasons=reasons, message=message)
            else:
                done = proofs.proof_reject(proof=proof, actor=user, reasons=reasons, message=message)
        except ValidationError as error:
            add_errors(form, error)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("proof_review", proof.pk)
        else:
            if decision == "approve" and done.status != "approved":
                messages.success(
                    request,
                    gettext("First approval of proof of execution %(pk)s recorded; a second reviewer must approve.")
                    % {"pk": done.pk},
                )
            else:
                messages.success(
                    request,
                    gettext("Proof of execution %(pk)s: %(status)s.")
                    % {"pk": done.pk, "status": done.get_status_display().lower()},
                )
            return redirect("plan_review_queue")
    return _review_page(request, selectors.proof_for(user, pk), status=400, decision_form=form)


@login_required
@require_POST
@not_found_as_404
def proof_note(request: HttpRequest, pk: int) -> HttpResponse:
    user, proof = _staff_proof(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        plan_services.plan_comment(
            plan=proof.plan, actor=user, message=form.cleaned_data["message"], internal=True, proof=proof
        )
        messages.success(request, gettext("Internal note added."))
        return redirect(reverse("proof_review", args=[proof.pk]) + "#history")
    return _review_page(request, proof, status=400, note_form=form)


@login_required
@require_POST
@not_found_as_404
def proof_comment(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    proof = selectors.proof_for(user, pk)
    require(permissions.can_comment_plan(user, proof.plan), gettext("You cannot comment on this proof."))

    def comment(data: dict[str, Any]) -> str:
        plan_services.plan_comment(plan=proof.plan, actor=user, message=data["message"], proof=proof)
        return gettext("Comment added.")

    return _act(request, proof, "comment_form", CommentForm(request.POST), comment, anchor="history")


urlpatterns = [
    path("plans/activities/<int:pk>/proofs/new/", proof_new, name="proof_new"),
    path("plans/proofs/<int:pk>/", proof_detail, name="proof_detail"),
    path("plans/proofs/<int:pk>/check/", proof_check, name="proof_check"),
    path("plans/proofs/<int:pk>/documents/", proof_documents_add, name="proof_documents_add"),
    path(
        "plans/proofs/<int:pk>/documents/<int:document_id>/remove/", proof_document_remove, name="proof_document_remove"
    ),
    path("plans/proofs/<int:pk>/certification/", proof_certification, name="proof_certification"),
    path("plans/proofs/<int:pk>/withdraw/", proof_withdraw, name="proof_withdraw"),
    path("plans/proofs/<int:pk>/dispute/", proof_dispute, name="proof_dispute"),
    path("plans/proofs/<int:pk>/comment/", proof_comment, name="proof_comment"),
    path("plans/proofs/<int:pk>/review/", proof_review, name="proof_review"),
    path("plans/proofs/<int:pk>/assign/", proof_assign, name="proof_assign"),
    path("plans/proofs/<int:pk>/decide/", proof_decide, name="proof_decide"),
    path("plans/proofs/<int:pk>/note/", proof_note, name="proof_note"),
]
