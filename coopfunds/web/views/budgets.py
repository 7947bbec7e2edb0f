"""Market development budgets: the vendor's list and pages of budgets (their money, allocations and moves), a new
budget, and the allocations a partner's locations have."""

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from coopfunds.accounts.models import Location, User
from coopfunds.accounts.permissions import is_vendor_staff
from coopfunds.core.money import money
from coopfunds.funds import budgets, permissions
from coopfunds.funds.models import Allocation, Budget
from coopfunds.programs.models import Program
from coopfunds.programs.selectors import programs_visible_to
from coopfunds.web.views.common import AmountField, act, add_errors, not_found_as_404

PAGE_SIZE = 50
DATE_INPUT = forms.DateInput(attrs={"type": "date"})


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]  # @login_required
    return user


def _staff(request: HttpRequest) -> User:
    user = _user(request)
    if not is_vendor_staff(user):
        raise Http404("Not found")
    return user


def _managed_programs(user: User) -> QuerySet[Program]:
    ids = [p.pk for p in programs_visible_to(user) if permissions.can_manage_budgets(user, p.pk)]
    return Program.objects.filter(pk__in=ids).order_by("name")


class BudgetForm(forms.Form):
    program = forms.ModelChoiceField(label=gettext_lazy("Program"), queryset=Program.objects.none())
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    starts_on = forms.DateField(label=gettext_lazy("Activities from"), widget=DATE_INPUT)
    ends_on = forms.DateField(label=gettext_lazy("Activities until"), widget=DATE_INPUT)
    total = AmountField(label=gettext_lazy("Total"))
    countries = forms.CharField(
        label=gettext_lazy("Countries"),
        required=False,
        help_text=gettext_lazy("Only for the locations of these countries, e.g. DE, AT, CH. Empty: every country."),
    )

    def __init__(self, *args: Any, programs: QuerySet[Program], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]


class TotalForm(forms.Form):
    total = AmountField(label=gettext_lazy("New total"))
    reason = forms.CharField(label=gettext_lazy("Why"), required=False, max_length=2000)


class AllocateForm(forms.Form):
    partner_id = forms.CharField(
        label=gettext_lazy("Partner ID"), max_length=64, help_text=gettext_lazy("The location's partner ID.")
    )
    amount = AmountField(label=gettext_lazy("Amount it has from now on"))


class MoveForm(forms.Form):
    source = forms.CharField(label=gettext_lazy("From (partner ID)"), max_length=64)
    target = forms.CharField(label=gettext_lazy("To (partner ID)"), max_length=64)
    amount = AmountField(label=gettext_lazy("Amount"))
    reason = forms.CharField(label=gettext_lazy("Why"), required=False, max_length=2000)


def _location(partner_id: str, field: str) -> Location:
    try:
        return Location.objects.get(partner_id=partner_id.strip())
    except Location.DoesNotExist:
        raise ValidationError({field: _("No location has the partner ID “%(id)s”.") % {"id": partner_id}}) from None


def _allocation(budget: Budget, partner_id: str, field: str) -> Allocation:
    try:
        return Allocation.objects.get(budget=budget, location__partner_id=partner_id.strip())
    except Allocation.DoesNotExist:
        raise ValidationError({field: _("“%(id)s” has no allocation of this budget.") % {"id": partner_id}}) from None


@login_required
def budget_list(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    page = Paginator(budgets.budgets_visible_to(user).order_by("-starts_on", "name", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "can_create": _managed_programs(user).exists()}
    return render(request, "web/budgets/list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def budget_new(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    programs = _managed_programs(user)
    if not programs.exists():
        raise PermissionDenied(_("Only a program manager can set budgets."))
    form = BudgetForm(request.POST or None, programs=programs)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            budget = budgets.budget_create(
                program=data["program"],
                name=data["name"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                total=data["total"],
                countries=data["countries"],
                actor=user,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            return redirect("budget_detail", budget.pk)
    status = 400 if form.is_bound else 200
    return render(request, "web/budgets/new.html", {"form": form}, status=status)


def _detail(request: HttpRequest, budget: Budget, status: int = 200, **forms_: Any) -> HttpResponse:
    user = _user(request)
    manage = permissions.can_manage_budgets(user, budget.program_id)
    allocations = budgets.allocations_of(budget)
    page = Paginator(allocations, PAGE_SIZE).get_page(request.GET.get("page"))
    history = Paginator(budgets.history_of(budget), PAGE_SIZE).get_page(request.GET.get("history"))
    context = {
        "budget": budget,
        "history": history,
        "page": page,
        "total_form": (forms_.get("total_form") or TotalForm()) if manage else None,
        "allocate_form": (forms_.get("allocate_form") or AllocateForm()) if manage else None,
        "move_form": (forms_.get("move_form") or MoveForm()) if manage and page.paginator.count > 1 else None,
    }
    return render(request, "web/budgets/detail.html", context, status=status)


@login_required
@not_found_as_404
def budget_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    return _detail(request, budgets.budget_for(user, pk))


def _post(request: HttpRequest, pk: int, form_name: str, form: forms.Form, run: Any) -> HttpResponse:
    user = _staff(request)
    budget = budgets.budget_for(user, pk)

    def page(form: forms.Form) -> HttpResponse:
        return _detail(request, budgets.budget_for(user, pk), status=400, **{form_name: form})

    return act(
        request, form, lambda data: run(user, budget, data), done_at=reverse("budget_detail", args=[pk]), page=page
    )


@login_required
@require_POST
@not_found_as_404
def budget_total(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, budget: Budget, data: dict[str, Any]) -> str:
        budgets.budget_set_total(budget=budget, total=data["total"], reason=data["reason"], actor=user)
        return _("The budget's total is now %(total)s.") % {
            "total": money(budgets.figures(budget).total, budget.currency)
        }

    return _post(request, pk, "total_form", TotalForm(request.POST), run)


@login_required
@require_POST
@not_found_as_404
def budget_allocate(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, budget: Budget, data: dict[str, Any]) -> str:
        location = _location(data["partner_id"], "partner_id")
        try:
            budgets.allocation_set(budget=budget, location=location, amount=data["amount"], actor=user)
        except ValidationError as error:  # the service's `location` is the form's partner ID
            if hasattr(error, "error_dict") and "location" in error.error_dict:
                error.error_dict["partner_id"] = error.error_dict.pop("location")
            raise
        return _("%(location)s has %(amount)s of the budget.") % {
            "location": location.partner_id,
            "amount": money(data["amount"], budget.currency),
        }

    return _post(request, pk, "allocate_form", AllocateForm(request.POST), run)


@login_required
@require_POST
@not_found_as_404
def budget_move(request: HttpRequest, pk: int) -> HttpResponse:
    def run(user: User, budget: Budget, data: dict[str, Any]) -> str:
        source = _allocation(budget, data["source"], "source")
        target = _allocation(budget, data["target"], "target")
        try:
            budgets.allocation_move(
                source=source, target=target, amount=data["amount"], reason=data["reason"], actor=user
            )
        except ValidationError as error:  # the service's `to` is the form's target
            if hasattr(error, "error_dict") and "to" in error.error_dict:
                error.error_dict["target"] = error.error_dict.pop("to")
            raise
        return _("Moved %(amount)s from %(source)s to %(target)s.") % {
            "amount": money(data["amount"], budget.currency),
            "source": source.location.partner_id,
            "target": target.location.partner_id,
        }

    return _post(request, pk, "move_form", MoveForm(request.POST), run)


@login_required
def allocation_list(request: HttpRequest) -> HttpResponse:
    """The allocations the viewer may see: a partner's own locations', every one for vendor staff."""
    qs = budgets.allocations_visible_to(_user(request)).order_by("-budget__starts_on", "location__partner_id", "pk")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/budgets/allocations.html", {"page": page})


urlpatterns = [
    path("budgets/", budget_list, name="budget_list"),
    path("budgets/new/", budget_new, name="budget_new"),
    path("budgets/<int:pk>/", budget_detail, name="budget_detail"),
    path("budgets/<int:pk>/total/", budget_total, name="budget_total"),
    path("budgets/<int:pk>/allocate/", budget_allocate, name="budget_allocate"),
    path("budgets/<int:pk>/move/", budget_move, name="budget_move"),
    path("allocations/", allocation_list, name="allocation_list"),
]
