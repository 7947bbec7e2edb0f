"""Web pages for customer associations: the partner's list, new association, detail with history and actions;
the reviewers' queue with its service-level clock and the side-by-side view of competing claims; the program
manager's settings page; and the customer's consent page (no account: a signed single-use link).

Forms only parse; the services decide (and check rights again). Rows the viewer may not see are 404; actions
the viewer may not take on rows they see are 403."""

from collections.abc import Callable
from datetime import date
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from coopfunds.accounts.models import Location, User
from coopfunds.accounts.permissions import is_vendor_staff
from coopfunds.associations import configuration, permissions, selectors, services
from coopfunds.associations.models import (
    AWAITING_REVIEW,
    EDITABLE,
    HOLDING,
    LIVE,
    REVIEWER_REASONS,
    Association,
    AssociationStatus,
    ItemKind,
    OptionKind,
)
from coopfunds.core.errors import Conflict, NotFound
from coopfunds.programs.models import Program
from coopfunds.programs.selectors import program_for, programs_visible_to
from coopfunds.web.views.common import act, add_errors, not_found_as_404

PAGE_SIZE = 25
TIMELINE_PAGE_SIZE = 30
TEXTAREA = forms.Textarea(attrs={"rows": 3})
LIST_NAMES = {
    OptionKind.SOLUTION_AREA: gettext_lazy("Solution areas"),
    OptionKind.PARTNER_ROLE: gettext_lazy("Partner roles"),
    OptionKind.WORKLOAD: gettext_lazy("Workloads"),
}


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # every view but the consent pages is @login_required


def _page(request: HttpRequest, items: Any, size: int = PAGE_SIZE) -> Page:
    return Paginator(items, size).get_page(request.GET.get("page"))


def _prefix(**params: Any) -> str:
    kept = {k: v for k, v in params.items() if v not in (None, "", False)}
    return urlencode(kept) + "&" if kept else ""


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _day(day: date | None) -> str:
    return date_format(day, "DATE_FORMAT") if day else ""


def _staff(request: HttpRequest) -> User:
    """Reviewer pages are for vendor staff; to anyone else they do not exist."""
    user = _user(request)
    if not is_vendor_staff(user):
        raise Http404("Not found")
    return user


# --------------------------------------------------------------------------------------------- forms


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any status")), *AssociationStatus.choices],
    )
    program = forms.ModelChoiceField(label=gettext_lazy("Program"), queryset=Program.objects.none(), required=False)
    q = forms.CharField(
        label=gettext_lazy("Customer"),
        required=False,
        max_length=100,
        help_text=gettext_lazy("Name, domain or tenant ID."),
    )

    def __init__(self, *args: Any, programs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]
        self.fields["program"].empty_label = gettext_lazy("Any program")  # type: ignore[attr-defined]


class StartForm(forms.Form):
    """Step one of a new association: which location, in which program (their lists depend on the program)."""

    location = forms.ModelChoiceField(
        label=gettext_lazy("Location"), queryset=Location.objects.none(), empty_label=gettext_lazy("Choose")
    )
    program = forms.ModelChoiceField(
        label=gettext_lazy("Program"), queryset=Program.objects.none(), empty_label=gettext_lazy("Choose")
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = selectors.filing_locations(user)  # type: ignore[attr-defined]
        self.fields["program"].queryset = selectors.filing_programs(user)  # type: ignore[attr-defined]


def _choices(program: Program, kind: str, current: str = "") -> list[tuple[str, str]]:
    options = [(o.code, o.label) for o in selectors.options_of(program, kind) if o.is_active or o.code == current]
    return options


class AssociationForm(forms.Form):
    customer_name = forms.CharField(label=gettext_lazy("Customer name"), max_length=200, required=False)
    customer_tenant_id = forms.CharField(
        label=gettext_lazy("Customer tenant ID"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("A GUID, from the customer's admin centre."),
    )
    customer_domain = forms.CharField(
        label=gettext_lazy("Customer domain"),
        max_length=253,
        required=False,
        help_text=gettext_lazy("A domain of that tenant, e.g. contoso.com."),
    )
    solution_area = forms.ChoiceField(label=gettext_lazy("Solution area"), required=False)
    partner_role = forms.ChoiceField(label=gettext_lazy("Your role"), required=False)
    workloads = forms.MultipleChoiceField(
        label=gettext_lazy("Workloads"), required=False, widget=forms.CheckboxSelectMultiple
    )
    subscription_ids = forms.CharField(
        label=gettext_lazy("Subscription IDs"),
        required=False,
        widget=TEXTAREA,
        help_text=gettext_lazy("One per line (GUIDs)."),
    )
    customer_contact_name = forms.CharField(label=gettext_lazy("Customer contact"), max_length=200, required=False)
    customer_contact_email = forms.CharField(
        label=gettext_lazy("Customer contact's email"),
        max_length=254,
        required=False,
        help_text=gettext_lazy("Receives the consent link."),
    )
    partner_contact_name = forms.CharField(label=gettext_lazy("Your contact"), max_length=200, required=False)
    partner_contact_email = forms.CharField(label=gettext_lazy("Your contact's email"), max_length=254, required=False)
    comments = forms.CharField(label=gettext_lazy("Comments"), required=False, widget=TEXTAREA)
    proof = forms.FileField(
        label=gettext_lazy("Proof"),
        required=False,
        help_text=gettext_lazy("E.g. a statement of work signed by the customer (PDF, image, Office)."),
    )
    proof_note = forms.CharField(label=gettext_lazy("What the proof shows"), required=False, max_length=2000)

    def __init__(self, *args: Any, program: Program, association: Association | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        blank = [("", gettext("Choose"))]
        area, role = (association.solution_area, association.partner_role) if association else ("", "")
        self.fields["solution_area"].choices = blank + _choices(program, OptionKind.SOLUTION_AREA, area)  # type: ignore[attr-defined]
        self.fields["partner_role"].choices = blank + _choices(program, OptionKind.PARTNER_ROLE, role)  # type: ignore[attr-defined]
        self.fields["workloads"].choices = _choices(program, OptionKind.WORKLOAD)  # type: ignore[attr-defined]
        if association is not None:
            self.fields["proof"].help_text = gettext("Optional: a new file replaces the current proof.")

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("proof", None)
        data.pop("proof_note", None)
        data["subscription_ids"] = data.get("subscription_ids") or ""
        return data


def association_initial(association: Association) -> dict[str, Any]:
    items = selectors.items_of(association)
    fields = ["customer_name", "customer_tenant_id", "customer_domain", "solution_area", "partner_role"]
    fields += ["customer_contact_name", "customer_contact_email", "partner_contact_name", "partner_contact_email"]
    return {
        **{name: getattr(association, name) for name in [*fields, "comments"]},
        "workloads": [i.value for i in items if i.kind == ItemKind.WORKLOAD],
        "subscription_ids": "\n".join(i.value for i in items if i.kind == ItemKind.SUBSCRIPTION),
    }


class NoteForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Note"), required=False, widget=TEXTAREA)


class WithdrawForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Why end it?"),
        required=False,
        widget=TEXTAREA,
        help_text=gettext_lazy("The association is rejected at your request."),
    )


class DisputeForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why is the rejection wrong?"), required=False, widget=TEXTAREA)


class RequestActionForm(forms.Form):
    message = forms.CharField(
        label=gettext_lazy("What must the partner correct or add?"), required=False, widget=TEXTAREA
    )


class RejectForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=[(r.value, r.label) for r in REVIEWER_REASONS])
    note = forms.CharField(label=gettext_lazy("Explanation for the partner"), required=False, widget=TEXTAREA)


class CommentForm(forms.Form):
    message = forms.CharField(label=gettext_lazy("Comment"), required=False, widget=TEXTAREA)
    internal = forms.BooleanField(label=gettext_lazy("Internal note (vendor staff only)"), required=False)


class QueueFilterForm(forms.Form):
    program = forms.ModelChoiceField(label=gettext_lazy("Program"), queryset=Program.objects.none(), required=False)
    mine = forms.BooleanField(label=gettext_lazy("Taken by me"), required=False)
    overdue = forms.BooleanField(label=gettext_lazy("Overdue only"), required=False)

    def __init__(self, *args: Any, programs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]
        self.fields["program"].empty_label = gettext_lazy("Any program")  # type: ignore[attr-defined]


class PolicyForm(forms.Form):
    partner_action_business_days = forms.IntegerField(label=gettext_lazy("Partner's answer due within (business days)"))
    consent_days = forms.IntegerField(label=gettext_lazy("Customer may decline within (days after approval)"))
    dispute_days = forms.IntegerField(label=gettext_lazy("A rejection can be disputed within (days)"))
    earnings_require_association = forms.BooleanField(
        label=gettext_lazy("Earnings on a customer count only with an association in force"), required=False
    )


class OptionForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("List"), choices=OptionKind.choices)
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=64,
        required=False,
        help_text=gettext_lazy("Lowercase, e.g. exchange-online."),
    )
    label = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False)


class OptionEditForm(forms.Form):
    label = forms.CharField(label=gettext_lazy("Name"), max_length=200, required=False)
    is_active = forms.BooleanField(label=gettext_lazy("Can be chosen"), required=False)


# --------------------------------------------------------------------------------------------- list and filing


@login_required
@require_GET
def association_list(request: HttpRequest) -> HttpResponse:
    """Partners: the associations of their locations. Vendor staff: every association."""
    user = _user(request)
    form = FilterForm(request.GET or None, programs=programs_visible_to(user))
    items = selectors.associations_visible_to(user).order_by("-id")
    params: dict[str, Any] = {}
    if form.is_valid():
        params = {k: v for k, v in form.cleaned_data.items() if v}
        if params.get("status"):
            items = items.filter(status=params["status"])
        if params.get("program"):
            items = items.filter(program=params["program"])
            params["program"] = params["program"].pk
        if params.get("q"):
            q = params["q"].strip().lower()
            items = items.filter(
                Q(customer_name__icontains=q) | Q(customer_domain__contains=q) | Q(customer_tenant_id__contains=q)
            )
    page = _page(request, items)
    context = {
        "form": form,
        "page": page,
        "querystring_prefix": _prefix(**params),
        "can_file": selectors.filing_locations(user).exists(),
        "can_review": permissions.can_review_somewhere(user),
    }
    template = "web/associations/list.html"
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]
    return render(request, template + "#results" if partial else template, context)


@login_required
def association_new(request: HttpRequest) -> HttpResponse:
    """Step one (GET ?location=&program=) picks where; step two (POST) is the association itself."""
    user = _user(request)
    _require(
        selectors.filing_locations(user).exists(),
        gettext("Only partners' incentives admins and users file associations."),
    )
    source = request.POST if request.method == "POST" else request.GET
    start = StartForm(
        {"location": source.get("location", ""), "program": source.get("program", "")}
        if source.get("location") or source.get("program")
        else None,
        user=user,
    )
    if not start.is_bound:
        only_locations, only_programs = start.fields["location"].queryset, start.fields["program"].queryset  # type: ignore[attr-defined]
        start.initial = {
            "location": only_locations.first() if only_locations.count() == 1 else None,
            "program": only_programs.first() if only_programs.count() == 1 else None,
        }
    if not start.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "web/associations/new.html", {"start": start, "form": None}, status=status)
    location, program = start.cleaned_data["location"], start.cleaned_data["program"]
    initial = {"partner_contact_name": user.get_full_name(), "partner_contact_email": user.email}
    form = AssociationForm(request.POST or None, request.FILES or None, program=program, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            association = services.association_create(
                location=location,
                program=program,
                actor=user,
                proof=form.cleaned_data["proof"],
                proof_note=form.cleaned_data["proof_note"],
                **form.values(),
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, gettext("Association saved. Check it, then submit it for review."))
            return redirect("association_detail", pk=association.pk)
    status = 400 if form.is_bound else 200
    context = {"start": start, "form": form, "location": location, "program": program}
    return render(request, "web/associations/new.html", context, status=status)


# --------------------------------------------------------------------------------------------- detail


def _items(association: Association) -> list[tuple[str, str]]:
    labels = selectors.option_labels(association.program_id)
    return [(i.get_kind_display(), selectors.item_label(i, labels)) for i in selectors.items_of(association)]


def _comment_form(user: User, association: Association) -> CommentForm | None:
    """Partners and the reviewer comment; other vendor staff write internal notes only; partners never see the
    internal-note switch."""
    public, internal = permissions.can_comment(user, association), permissions.can_see_internal(user)
    if not (public or internal):
        return None
    form = CommentForm(initial={"internal": not public})
    if not internal:
        del form.fields["internal"]
    elif not public:
        form.fields["internal"].widget = forms.HiddenInput()
        form.fields["message"].label = gettext("Internal note (vendor staff only)")
    return form


def _detail(request: HttpRequest, association: Association, status: int = 200, **bound: forms.Form) -> HttpResponse:
    user = _user(request)
    can_file = permissions.can_file(user, association)
    can_review = permissions.can_review(user, association)
    deadline = services.dispute_deadline(association)
    today = timezone.localdate()
    labels = selectors.option_labels(association.program_id)
    rivals = selectors.competitors(association) if permissions.can_see_internal(user) else []
    page = Paginator(selectors.timeline(user, association), TIMELINE_PAGE_SIZE).get_page(request.GET.get("page"))

    def form(name: str, cls: type[forms.Form], show: bool) -> forms.Form | None:
        return (bound.get(name) or cls()) if show else None

    context = {
        "association": association,
        "items": _items(association),
        "solution_area": labels.get((OptionKind.SOLUTION_AREA, association.solution_area), association.solution_area),
        "partner_role": labels.get((OptionKind.PARTNER_ROLE, association.partner_role), association.partner_role),
        "flags": selectors.flags_for(user, association),
        "rivals": rivals,
        "clock": selectors.clock(association, today) if permissions.can_see_internal(user) else None,
        "page": page,
        "editable": can_file and association.status in EDITABLE,
        "can_take": can_review and association.status in AWAITING_REVIEW and association.reviewer_id != user.pk,
        "decide": can_review and association.status in AWAITING_REVIEW,
        "dispute_deadline": deadline,
        "withdraw_form": form("withdraw_form", WithdrawForm, can_file and association.status in LIVE),
        "dispute_form": form(
            "dispute_form",
            DisputeForm,
            permissions.can_dispute(user, association) and deadline is not None and today <= deadline,
        ),
        "approve_form": form("approve_form", NoteForm, can_review and association.status in AWAITING_REVIEW),
        "action_form": form("action_form", RequestActionForm, can_review and association.status in AWAITING_REVIEW),
        "reject_form": form("reject_form", RejectForm, can_review and association.status in AWAITING_REVIEW | HOLDING),
        "comment_form": bound.get("comment_form") or _comment_form(user, association),
        "vendor": permissions.can_see_internal(user),
        "submit_form": bound.get("submit_form"),
    }
    return render(request, "web/associations/detail.html", context, status=status)


@login_required
@require_GET
@not_found_as_404
def association_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.association_for(_user(request), pk))


@login_required
@not_found_as_404
def association_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    association = selectors.association_for(user, pk)
    _require(
        permissions.can_file(user, association),
        gettext("Only the location's incentives admins and users can change it."),
    )
    if association.status not in EDITABLE:
        messages.error(
            request,
            gettext("An association that is %(status)s cannot be changed.")
            % {"status": association.get_status_display().lower()},
        )
        return redirect("association_detail", pk=pk)
    form = AssociationForm(
        request.POST or None,
        request.FILES or None,
        program=association.program,
        association=association,
        initial=association_initial(association),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.association_update(association=association, actor=user, **form.values())
            if form.cleaned_data["proof"]:
                services.association_attach_proof(
                    association=association,
                    upload=form.cleaned_data["proof"],
                    note=form.cleaned_data["proof_note"],
                    actor=user,
                )
        except ValidationError as error:
            add_errors(form, error)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("association_detail", pk=pk)
        else:
            messages.success(request, gettext("Association saved."))
            return redirect("association_detail", pk=pk)
    status = 400 if form.is_bound else 200
    return render(request, "web/associations/edit.html", {"association": association, "form": form}, status=status)


def _action(
    form_name: str,
    form_class: type[forms.Form],
    allowed: Callable[[User, Association], bool],
    run: Callable[[Association, User, dict[str, Any]], str],
) -> Callable[[HttpRequest, int], HttpResponse]:
    """A POST button on the detail page: the service's message on success (redirect), its field errors on the
    re-rendered page (400), a conflict as a message (redirect); 403 if the viewer may not act at all."""

    @login_required
    @require_POST
    @not_found_as_404
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        user = _user(request)
        association = selectors.association_for(user, pk)
        _require(allowed(user, association), gettext("You cannot do this with this association."))
        return act(
            request,
            form_class(request.POST),
            lambda data: run(association, user, data),
            done_at=reverse("association_detail", args=[pk]),
            page=lambda form: _detail(request, selectors.association_for(user, pk), status=400, **{form_name: form}),
        )

    return view


def _submit(a: Association, u: User, d: dict[str, Any]) -> str:
    services.association_submit(association=a, actor=u)
    return gettext("Submitted: a reviewer decides next.")


def _withdraw(a: Association, u: User, d: dict[str, Any]) -> str:
    services.association_withdraw(association=a, actor=u, note=d["note"])
    return gettext("Association withdrawn (rejected at your request).")


def _dispute(a: Association, u: User, d: dict[str, Any]) -> str:
    services.association_dispute(association=a, actor=u, reason=d["reason"])
    return gettext("Dispute sent: a reviewer decides again.")


def _take(a: Association, u: User, d: dict[str, Any]) -> str:
    services.association_take(association=a, actor=u)
    return gettext("You review this association.")


def _approve(a: Association, u: User, d: dict[str, Any]) -> str:
    done = services.association_approve(association=a, actor=u, note=d["note"])
    return gettext("Approved: the customer contact may decline until %(day)s.") % {"day": _day(done.consent_closes_on)}


def _request_action(a: Association, u: User, d: dict[str, Any]) -> str:
    done = services.association_request_action(association=a, actor=u, message=d["message"])
    return gettext("Sent back to the partner, who must answer by %(day)s.") % {"day": _day(done.action_due_on)}


def _reject(a: Association, u: User, d: dict[str, Any]) -> str:
    services.association_reject(association=a, actor=u, reason=d["reason"], note=d["note"])
    return gettext("Association rejected.")


def _comment(a: Association, u: User, d: dict[str, Any]) -> str:
    internal = bool(d.get("internal"))
    services.association_comment(association=a, actor=u, message=d["message"], internal=internal)
    return gettext("Note added.") if internal else gettext("Comment added.")


def _commenter(u: User, a: Association) -> bool:
    return permissions.can_comment(u, a) or permissions.can_see_internal(u)


association_submit = _action("submit_form", forms.Form, permissions.can_file, _submit)
association_withdraw = _action("withdraw_form", WithdrawForm, permissions.can_file, _withdraw)
association_dispute = _action("dispute_form", DisputeForm, permissions.can_dispute, _dispute)
association_take = _action("approve_form", forms.Form, permissions.can_review, _take)
association_approve = _action("approve_form", NoteForm, permissions.can_review, _approve)
association_request_action = _action("action_form", RequestActionForm, permissions.can_review, _request_action)
association_reject = _action("reject_form", RejectForm, permissions.can_review, _reject)
association_comment = _action("comment_form", CommentForm, _commenter, _comment)


# --------------------------------------------------------------------------------------------- reviewers


@login_required
@require_GET
def association_queue(request: HttpRequest) -> HttpResponse:
    """Associations waiting for a decision, the earliest due first, with the clock and competing claims."""
    user = _staff(request)
    today = timezone.localdate()
    form = QueueFilterForm(request.GET or None, programs=programs_visible_to(user))
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    queue = selectors.review_queue(
        user,
        mine=bool(data.get("mine")),
        program_id=data["program"].pk if data.get("program") else None,
        overdue=bool(data.get("overdue")),
    )
    page = _page(request, queue)
    counts = selectors.competition_counts(page.object_list)
    rows = [(a, selectors.clock(a, today), counts.get(a.pk, 0)) for a in page.object_list]
    params = {
        "program": data["program"].pk if data.get("program") else "",
        "mine": "on" if data.get("mine") else "",
        "overdue": "on" if data.get("overdue") else "",
    }
    context = {"form": form, "page": page, "rows": rows, "querystring_prefix": _prefix(**params)}
    return render(request, "web/associations/queue.html", context)


@login_required
@require_GET
@not_found_as_404
def association_compare(request: HttpRequest, pk: int, other: int) -> HttpResponse:
    """Two competing associations side by side: facts, what each claims, proofs and dates."""
    user = _staff(request)
    left, right = selectors.association_for(user, pk), selectors.association_for(user, other)
    sides = []
    for a in (left, right):
        labels = selectors.option_labels(a.program_id)
        sides.append(
            {
                "association": a,
                "items": _items(a),
                "clock": selectors.clock(a),
                "solution_area": labels.get((OptionKind.SOLUTION_AREA, a.solution_area), a.solution_area),
                "partner_role": labels.get((OptionKind.PARTNER_ROLE, a.partner_role), a.partner_role),
            }
        )
    return render(request, "web/associations/compare.html", {"sides": sides})


# --------------------------------------------------------------------------------------------- program settings


def _settings_page(request: HttpRequest, program: Program, status: int = 200, **bound: forms.Form) -> HttpResponse:
    user = _user(request)
    policy = selectors.policy_for(program)
    can_configure = permissions.can_configure(user, program)
    initial = {
        "partner_action_business_days": policy.partner_action_business_days,
        "consent_days": policy.consent_days,
        "dispute_days": policy.dispute_days,
        "earnings_require_association": program.earnings_require_association,
    }
    options = list(selectors.options_of(program))
    context = {
        "program": program,
        "policy": policy,
        "can_configure": can_configure,
        "lists": [(LIST_NAMES[kind], [o for o in options if o.kind == kind]) for kind in OptionKind],
        "policy_form": (bound.get("policy_form") or PolicyForm(initial=initial)) if can_configure else None,
        "option_form": (bound.get("option_form") or OptionForm()) if can_configure else None,
    }
    return render(request, "web/associations/settings.html", context, status=status)


@login_required
@not_found_as_404
def association_settings(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the program's association settings (anyone who sees the program). POST: change the deadlines."""
    user = _user(request)
    program = program_for(user, pk)
    if request.method != "POST":
        return _settings_page(request, program)
    _require(
        permissions.can_configure(user, program), gettext("Only a program manager of this program can change this.")
    )
    form = PolicyForm(request.POST)
    if form.is_valid():
        try:
            configuration.association_policy_update(program=program, actor=user, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, gettext("Association settings saved."))
            return redirect("association_settings", pk=pk)
    return _settings_page(request, program, status=400, policy_form=form)


@login_required
@require_POST
@not_found_as_404
def association_option_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    program = program_for(user, pk)
    _require(
        permissions.can_configure(user, program), gettext("Only a program manager of this program can change this.")
    )
    form = OptionForm(request.POST)
    if form.is_valid():
        try:
            option = configuration.association_option_add(program=program, actor=user, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                gettext("%(kind)s “%(name)s” added.") % {"kind": option.get_kind_display(), "name": option.label},
            )
            return redirect("association_settings", pk=pk)
    return _settings_page(request, program, status=400, option_form=form)


@login_required
@require_POST
@not_found_as_404
def association_option_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    option = selectors.option_for(user, pk)
    _require(
        permissions.can_configure(user, option.program),
        gettext("Only a program manager of this program can change this."),
    )
    form = OptionEditForm(request.POST)
    if form.is_valid():
        try:
            configuration.association_option_update(
                option=option,
                actor=user,
                label=form.cleaned_data["label"] or None,
                is_active=form.cleaned_data["is_active"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, gettext("Option saved."))
    return redirect("association_settings", pk=option.program_id)


# --------------------------------------------------------------------------------------------- the customer


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "web/associations/consent_invalid.html", status=404)


@never_cache
def association_consent(request: HttpRequest, token: str) -> HttpResponse:
    """The customer contact's page (no account): who claims what; confirm or decline by POST. It shows the
    partner's name, the customer and what is claimed, nothing else."""
    try:
        association = services.association_for_consent(token)
    except NotFound:
        return _invalid_link(request)
    if request.method == "POST":
        answer = request.POST.get("answer")
        if answer in ("confirm", "decline"):
            try:
                services.association_consent_answer(token=token, confirm=answer == "confirm")
            except NotFound:
                return _invalid_link(request)
            return redirect(reverse("association_consent_done") + f"?answer={answer}")
    context = {
        "partner": association.location.organisation.name,
        "customer_name": association.customer_name,
        "customer_domain": association.customer_domain,
        "program": f"{association.program.vendor.name} {association.program.name}",
        "items": [label for _, label in _items(association)],
        "closes_on": association.consent_closes_on,
    }
    return render(request, "web/associations/consent.html", context)


@require_GET
def association_consent_done(request: HttpRequest) -> HttpResponse:
    answer = request.GET.get("answer")
    return render(request, "web/associations/consent_done.html", {"answer": answer})


urlpatterns = [
    path("associations/", association_list, name="association_list"),
    path("associations/new/", association_new, name="association_new"),
    path("associations/review/", association_queue, name="association_queue"),
    path("associations/<int:pk>/", association_detail, name="association_detail"),
    path("associations/<int:pk>/edit/", association_edit, name="association_edit"),
    path("associations/<int:pk>/submit/", association_submit, name="association_submit"),
    path("associations/<int:pk>/withdraw/", association_withdraw, name="association_withdraw"),
    path("associations/<int:pk>/dispute/", association_dispute, name="association_dispute"),
    path("associations/<int:pk>/take/", association_take, name="association_take"),
    path("associations/<int:pk>/approve/", association_approve, name="association_approve"),
    path("associations/<int:pk>/request-action/", association_request_action, name="association_request_action"),
    path("associations/<int:pk>/reject/", association_reject, name="association_reject"),
    path("associations/<int:pk>/comment/", association_comment, name="association_comment"),
    path("associations/<int:pk>/compare/<int:other>/", association_compare, name="association_compare"),
    path("programs/<int:pk>/associations/", association_settings, name="association_settings"),
    path("programs/<int:pk>/associations/options/", association_option_add, name="association_option_add"),
    path("association-options/<int:pk>/", association_option_edit, name="association_option_edit"),
    path("consent/done/", association_consent_done, name="association_consent_done"),
    path("consent/<str:token>/", association_consent, name="association_consent"),
]
