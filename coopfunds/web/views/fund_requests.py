"""Fund requests: a partner's list, a new request with its expense lines, its page (the money, the lines, the
history and what the viewer may do next: change, submit, withdraw, give back; a reviewer's take, approve, ask for
changes, reject), and the reviewers' queue."""

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from coopfunds.accounts.models import PARTNER_ROLES, Location, User
from coopfunds.accounts.permissions import is_vendor_staff
from coopfunds.core.money import money
from coopfunds.enrollments.models import EnrollmentStatus
from coopfunds.funds.models import Budget
from coopfunds.mdf import permissions, selectors, services
from coopfunds.mdf.models import FundRequest
from coopfunds.programs import periods
from coopfunds.programs.models import ActivityType, ExpenseCategory
from coopfunds.review.workflow import ReviewStatus
from coopfunds.web.views.common import AmountField, act, add_errors, not_found_as_404

PAGE_SIZE = 50
LINE_ROWS = 8
DATE_INPUT = forms.DateInput(attrs={"type": "date"})
S = ReviewStatus


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]  # @login_required
    return user


def _locations(user: User) -> QuerySet[Location]:
    """The locations the person may request funds for (one query, however many roles they hold)."""
    if is_vendor_staff(user):
        return Location.objects.none()
    ids = [g.location_id for g in user.grants if g.role in PARTNER_ROLES and g.location_id is not None]
    return Location.objects.filter(pk__in=ids, organisation_id=user.organisation_id)


def _open_budgets(locations: QuerySet[Location]) -> QuerySet[Budget]:
    """Budgets whose activities have not all ended, of the programs the locations are enrolled in."""
    return (
        Budget.objects.filter(
            ends_on__gte=timezone.localdate(),
            program__enrollments__location__in=locations,
            program__enrollments__status=EnrollmentStatus.ENROLLED,
        )
        .select_related("program")
        .distinct()
        .order_by("starts_on", "name")
    )


class RequestForm(forms.Form):
    location = forms.ModelChoiceField(label=gettext_lazy("Location"), queryset=Location.objects.none())
    budget = forms.ModelChoiceField(label=gettext_lazy("Budget"), queryset=Budget.objects.none())
    activity_type = forms.ModelChoiceField(label=gettext_lazy("Activity type"), queryset=ActivityType.objects.none())
    name = forms.CharField(label=gettext_lazy("Activity"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("What you will do"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    starts_on = forms.DateField(label=gettext_lazy("Starts on"), widget=DATE_INPUT)
    ends_on = forms.DateField(label=gettext_lazy("Ends on"), widget=DATE_INPUT)
    expected_leads = forms.IntegerField(label=gettext_lazy("Expected leads"), required=False, min_value=0)
    expected_pipeline = AmountField(label=gettext_lazy("Expected pipeline"), required=False)

    def __init__(self, *args: Any, user: User, request: FundRequest | None = None, **kwargs: Any) -> None:
        if request is not None:
            kwargs.setdefault(
                "initial",
                {
                    "activity_type": request.activity_type_id,
                    **{
                        f: getattr(request, f)
                        for f in ("name", "description", "starts_on", "ends_on", "expected_leads", "expected_pipeline")
                    },
                },
            )
        super().__init__(*args, **kwargs)
        if request is not None:
            del self.fields["location"], self.fields["budget"]
            budgets = [request.budget]
        else:
            locations = _locations(user)
            open_budgets = _open_budgets(locations)
            self.fields["location"].queryset = locations  # type: ignore[attr-defined]
            self.fields["budget"].queryset = open_budgets  # type: ignore[attr-defined]
            budgets = list(open_budgets)
        # the catalogues of the fiscal years the budgets' periods fall in: an activity's type is of its year
        years = Q(pk__in=[])
        for budget in budgets:
            first, last = (periods.fiscal_year_of(budget.program, day) for day in (budget.starts_on, budget.ends_on))
            years |= Q(program_id=budget.program_id, fiscal_year__gte=first, fiscal_year__lte=last)
        self.fields["activity_type"].queryset = (  # type: ignore[attr-defined]
            ActivityType.objects.filter(years, is_active=True).order_by("-fiscal_year", "name")
        )


class LineForm(forms.Form):
    category = forms.ChoiceField(
        label=gettext_lazy("Category"), choices=[("", "—"), *ExpenseCategory.choices], required=False
    )
    description = forms.CharField(label=gettext_lazy("What it is"), max_length=200, required=False)
    amount = AmountField(label=gettext_lazy("Amount"), required=False)


LineFormSet = forms.formset_factory(LineForm, extra=0, max_num=200, absolute_max=200)


def _line_formset(data: Any = None, request: FundRequest | None = None) -> Any:
    initial = []
    if request is not None:
        initial = [
            {"category": line.category, "description": line.description, "amount": line.amount}
            for line in selectors.lines_of(request)
        ]
    return LineFormSet(data, initial=initial + [{}] * max(0, LINE_ROWS - len(initial)), prefix="lines")


def _lines(rows: Any) -> list[services.Line]:
    """The filled rows (a row left empty is no line); a half-filled row goes to the service, which names it."""
    lines = []
    for row in rows.forms:
        data = row.cleaned_data
        if not any(data.get(k) for k in ("category", "description", "amount")):
            continue
        lines.append(
            services.Line(data.get("category") or "", data.get("description") or "", data.get("amount") or Decimal(0))
        )
    return lines


def _values(data: dict[str, Any], lines: list[services.Line]) -> dict[str, Any]:
    return {
        "activity_type": data["activity_type"],
        "name": data["name"],
        "description": data["description"],
        "starts_on": data["starts_on"],
        "ends_on": data["ends_on"],
        "expected_leads": data["expected_leads"],
        "expected_pipeline": data["expected_pipeline"],
        "lines": lines,
    }


def _line_errors(rows: Any, error: ValidationError) -> None:
    """The service names lines by their number; the page shows that under the table."""
    if hasattr(error, "error_dict") and "lines" in error.error_dict:
        rows.line_errors = [m for e in error.error_dict.pop("lines") for m in e.messages]


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    qs = selectors.requests_visible_to(user).order_by("-pk")
    status = request.GET.get("status", "")
    if status in S.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "statuses": [(s.value, s.label) for s in S if s not in (S.DISPUTED, S.EXPIRED)],
        "can_create": _locations(user).exists(),
    }
    return render(request, "web/fund_requests/list.html", context)


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not is_vendor_staff(user):
        raise Http404("Not found")
    page = Paginator(selectors.review_queue(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/fund_requests/queue.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not _locations(user).exists():
        raise Http404("Not found")
    form = RequestForm(request.POST or None, user=user)
    rows = _line_formset(request.POST or None)
    if request.method == "POST" and form.is_valid() and rows.is_valid():
        data = form.cleaned_data
        try:
            created = services.request_create(
                budget=data["budget"], location=data["location"], actor=user, **_values(data, _lines(rows))
            )
        except ValidationError as error:
            _line_errors(rows, error)
            add_errors(form, error)
        else:
            return redirect("fund_request_detail", created.pk)
    status = 400 if form.is_bound else 200
    return render(request, "web/fund_requests/form.html", {"form": form, "rows": rows}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def request_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    found = selectors.request_for(user, pk)
    if not permissions.can_file(user, found) or not found.is_editable:
        return redirect("fund_request_detail", pk)
    form = RequestForm(request.POST or None, user=user, request=found)
    rows = _line_formset(request.POST or None, found)
    if request.method == "POST" and form.is_valid() and rows.is_valid():
        try:
            services.request_update(request=found, actor=user, **_values(form.cleaned_data, _lines(rows)))
        except ValidationError as error:
            _line_errors(rows, error)
            add_errors(form, error)
        else:
            return redirect("fund_request_detail", pk)
    status = 400 if form.is_bound else 200
    context: dict[str, Any] = {"form": form, "rows": rows, "request_": found}
    return render(request, "web/fund_requests/form.html", context, status=status)


class ApproveForm(forms.Form):
    amount = AmountField(
        label=gettext_lazy("Amount"), required=False, help_text=gettext_lazy("Empty: all that is requested.")
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MessageForm(forms.Form):
    message = forms.CharField(
        label=gettext_lazy("Message to the partner"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class GiveBackForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why"), required=False, max_length=2000)


class ResultsForm(forms.Form):
    leads = forms.IntegerField(label=gettext_lazy("Leads"), required=False, min_value=0, max_value=2_000_000_000)
    opportunities = forms.IntegerField(
        label=gettext_lazy("Opportunities"), required=False, min_value=0, max_value=2_000_000_000
    )
    revenue = AmountField(label=gettext_lazy("Revenue won"), required=False)


def _detail(request: HttpRequest, found: FundRequest, status: int = 200, **forms_: Any) -> HttpResponse:
    user = _user(request)
    files, reviews = permissions.can_file(user, found), permissions.can_review(user, found)
    awaiting = found.status in (S.SUBMITTED, S.UNDER_REVIEW)
    decides = reviews and awaiting and found.reviewer_id in (None, user.pk)
    labels = dict(S.choices)
    history = Paginator(selectors.history_of(found, user), PAGE_SIZE).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "request_": found,
        "lines": selectors.lines_of(found),
        "events": [(e, labels.get(e.old_status, ""), labels.get(e.new_status, ""), []) for e in history],
        "page": history,
        "can_edit": files and found.is_editable,
        "can_withdraw": files and found.status in (S.EDITING, S.SUBMITTED, S.ACTION_REQUIRED),
        "can_take": reviews and awaiting and found.reviewer_id != user.pk,
        "left": selectors.money_left(found) if is_vendor_staff(user) and awaiting else None,
        "approve_form": (forms_.get("approve_form") or ApproveForm()) if decides else None,
        "changes_form": (forms_.get("changes_form") or MessageForm()) if decides else None,
        "reject_form": (forms_.get("reject_form") or MessageForm()) if decides else None,
        "results_form": (
            forms_.get("results_form")
            or ResultsForm(
                initial={
                    "leads": found.reported_leads,
                    "opportunities": found.reported_opportunities,
                    "revenue": found.reported_revenue,
                }
            )
        )
        if files and found.status == S.APPROVED and found.starts_on <= timezone.localdate()
        else None,
        "give_back_form": (forms_.get("give_back_form") or GiveBackForm())
        if permissions.can_give_back(user, found) and found.status == S.APPROVED and found.reserved > 0
        else None,
    }
    return render(request, "web/fund_requests/detail.html", context, status=status)


@login_required
@not_found_as_404
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.request_for(_user(request), pk))


def _post(request: HttpRequest, pk: int, form_name: str, form: forms.Form, run: Any) -> HttpResponse:
    user = _user(request)
    found = selectors.request_for(user, pk)

    def page(form: forms.Form) -> HttpResponse:
        return _detail(request, selectors.request_for(user, pk), status=400, **{form_name: form})

    return act(
        request, form, lambda data: run(user, found, data), done_at=reverse("fund_request_detail", args=[pk]), page=page
    )


class _Nothing(forms.Form):
    pass


@login_required
@require_POST
@not_found_as_404
def request_submit(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, found: FundRequest, data: dict[str, Any]) -> str:
        done = services.request_submit(request=found, actor=user)
        return _("Submitted: %(amount)s requested.") % {"amount": money(done.requested, done.currency)}

    return _post(request, pk, "submit_form", _Nothing(request.POST), run)


@login_required
@require_POST
@not_found_as_404
def request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, found: FundRequest, data: dict[str, Any]) -> str:
        services.request_withdraw(request=found, actor=user)
        return _("The request is withdrawn.")

    return _post(request, pk, "withdraw_form", _Nothing(request.POST), run)


@login_required
@require_POST
@not_found_as_404
def request_take(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, found: FundRequest, data: dict[str, Any]) -> str:
        services.request_assign(request=found, reviewer=user, actor=user)
        return _("The request is yours to review.")

    return _post(request, pk, "take_form", _Nothing(request.POST), run)


@login_required
@require_POST
@not_found_as_404
def request_approve(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, found: FundRequest, data: dict[str, Any]) -> str:
        done = services.request_approve(request=found, actor=user, amount=data["amount"], note=data["note"])
        return _("Approved: %(amount)s is reserved.") % {"amount": money(done.reserved, done.currency)}

    return _post(request, pk, "approve_form", ApproveForm(request.POST), run)


@login_required
@require_POST
@not_found_as_404
def request_changes(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, found: FundRequest, data: dict[str, Any]) -> str:
        services.request_changes(request=found, actor=user, message=data["message"])
        return _("The request went back to the partner for changes.")

    return _post(request, pk, "changes_form", MessageForm(request.POST), run)


@login_required
@require_POST
@not_found_as_404
def request_reject(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, found: FundRequest, data: dict[str, Any]) -> str:
        services.request_reject(request=found, actor=user, message=data["message"])
        return _("The request is rejected.")

    return _post(request, pk, "reject_form", MessageForm(request.POST), run)


@login_required
@require_POST
@not_found_as_404
def request_give_back(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, found: FundRequest, data: dict[str, Any]) -> str:
        held = found.reserved
        services.request_give_back(request=found, actor=user, reason=data["reason"])
        return _("%(amount)s went back to the allocation.") % {"amount": money(held, found.currency)}

    return _post(request, pk, "give_back_form", GiveBackForm(request.POST), run)


@login_required
@require_POST
@not_found_as_404
def request_results(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, found: FundRequest, data: dict[str, Any]) -> str:
        services.results_report(
            request=found,
            leads=data["leads"],
            opportunities=data["opportunities"],
            revenue=data["revenue"],
            actor=user,
        )
        return _("The results are saved.")

    return _post(request, pk, "results_form", ResultsForm(request.POST), run)


urlpatterns = [
    path("requests/", request_list, name="fund_request_list"),
    path("requests/new/", request_new, name="fund_request_new"),
    path("requests/review/", review_queue, name="fund_request_queue"),
    path("requests/<int:pk>/", request_detail, name="fund_request_detail"),
    path("requests/<int:pk>/edit/", request_edit, name="fund_request_edit"),
    path("requests/<int:pk>/submit/", request_submit, name="fund_request_submit"),
    path("requests/<int:pk>/withdraw/", request_withdraw, name="fund_request_withdraw"),
    path("requests/<int:pk>/take/", request_take, name="fund_request_take"),
    path("requests/<int:pk>/approve/", request_approve, name="fund_request_approve"),
    path("requests/<int:pk>/request-changes/", request_changes, name="fund_request_changes"),
    path("requests/<int:pk>/reject/", request_reject, name="fund_request_reject"),
    path("requests/<int:pk>/give-back/", request_give_back, name="fund_request_give_back"),
    path("requests/<int:pk>/results/", request_results, name="fund_request_results"),
]
