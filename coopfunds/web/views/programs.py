"""Web pages for programs: their rules and periods, holiday calendar and activity catalogue. Forms parse
input; services decide."""

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coopfunds.accounts.models import User
from coopfunds.accounts.permissions import is_vendor_staff
from coopfunds.core.errors import NotFound
from coopfunds.core.i18n import day_lazy
from coopfunds.programs import periods, permissions, selectors, services
from coopfunds.programs.catalogue import FISCAL_YEARS, CapSpec, DocumentSpec
from coopfunds.programs.models import (
    ActivityCategory,
    ActivityType,
    CapKind,
    DocumentKind,
    ExpenseCategory,
    LateEarnings,
    Program,
)
from coopfunds.programs.wording import MONTHS, rules_in_words
from coopfunds.web.views.common import AmountField, add_errors, not_found_as_404

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

PAGE_SIZE = 25
CATALOGUE_PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # every view is @login_required


def _page(request: HttpRequest, qs: QuerySet[Any], size: int = PAGE_SIZE, param: str = "page") -> Any:
    return Paginator(qs, size).get_page(request.GET.get(param))


def _check_year(fiscal_year: int) -> None:
    if fiscal_year not in FISCAL_YEARS:
        raise NotFound(_("No such fiscal year."))


def _require_configure(user: User, program: Program) -> None:
    if not permissions.can_configure_program(user, program):
        raise PermissionDenied(_("Only a program manager of this program can change it."))


# ---------------------------------------------------------------------------------------------- forms


def _whole(label: "_StrPromise", help_text: "_StrPromise | str" = "") -> forms.IntegerField:
    return forms.IntegerField(label=label, required=False, help_text=help_text)


class ProgramForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        required=False,
        help_text=gettext_lazy("Short, lowercase, e.g. coop. It never changes."),
    )
    name = forms.CharField(label=gettext_lazy("Name"), required=False)
    currency = forms.CharField(
        label=gettext_lazy("Currency"),
        required=False,
        help_text=gettext_lazy("ISO 4217 code, e.g. USD. It never changes."),
    )
    fiscal_year_start_month = forms.TypedChoiceField(
        label=gettext_lazy("Fiscal year starts in"), coerce=int, choices=[(i, m) for i, m in enumerate(MONTHS, start=1)]
    )
    period_months = forms.TypedChoiceField(
        label=gettext_lazy("Period length (months)"), coerce=int, choices=[(n, n) for n in services.PERIOD_MONTHS]
    )
    claim_opens_month = _whole(
        gettext_lazy("Claims open in month"), gettext_lazy("Of the usage period: 1 is its first month.")
    )
    claim_opens_day = _whole(gettext_lazy("Claims open on day"), gettext_lazy("Of that month, 1 to 28."))
    claim_closes_days_after_usage = _whole(gettext_lazy("Claims close (days after the usage period)"))
    rebate_percent = AmountField(
        label=gettext_lazy("Rebate share (%)"), required=False, help_text=gettext_lazy("The rest is co-op.")
    )
    coop_threshold = AmountField(
        label=gettext_lazy("Co-op threshold"),
        required=False,
        help_text=gettext_lazy("Co-op below this per earning period becomes rebate."),
    )
    review_sla_business_days = _whole(gettext_lazy("Claim review within (business days)"))
    dispute_sla_business_days = _whole(gettext_lazy("Dispute answer within (business days)"))
    payment_sla_business_days = _whole(gettext_lazy("Payment within (business days of approval)"))
    payment_day = _whole(gettext_lazy("Payment day of the month"), gettext_lazy("1 to 28."))
    holiday_country = forms.CharField(
        label=gettext_lazy("Public holidays of"),
        required=False,
        help_text=gettext_lazy("ISO country code, e.g. US; empty for none."),
    )
    dispute_window_days = _whole(gettext_lazy("A rejection can be disputed for (days)"))
    late_earnings = forms.ChoiceField(
        label=gettext_lazy("Earnings that arrive after a period closed"), choices=LateEarnings.choices
    )
    expiry_reminder_days = _whole(
        gettext_lazy("Remind before co-op is forfeited (days)"), gettext_lazy("0 for no reminder.")
    )
    window_reminder_days = _whole(
        gettext_lazy("Remind before a claiming window closes (days)"), gettext_lazy("0 for no reminder.")
    )
    request_cost_share_percent = AmountField(
        label=gettext_lazy("Vendor's share of a fund request (%)"),
        required=False,
        help_text=gettext_lazy("Of its activity's costs, unless the activity type says otherwise."),
    )
    request_lead_days = _whole(gettext_lazy("Fund requests submitted before the activity (days)"))
    request_claim_days = _whole(
        gettext_lazy("Approved requests claimed within (days after the activity)"),
        gettext_lazy("What is not claimed by then returns to the allocation."),
    )
    is_active = forms.BooleanField(label=pgettext_lazy("program", "Active"), required=False)
    reason = forms.CharField(
        label=gettext_lazy("Why the rules change"),
        required=False,
        help_text=gettext_lazy("Kept with the new rules version and in the audit log."),
    )
    # shown only once the service asked for it (a change that decides the running period's close)
    confirm = forms.BooleanField(
        label=gettext_lazy("Yes, the running earning period closes under the new rules"),
        required=False,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args: Any, program: Program | None = None, **kwargs: Any) -> None:
        source = program or Program(is_active=True)  # a new program starts from the model's (preset) defaults
        kwargs.setdefault(
            "initial",
            {name: getattr(source, name) for name in self.base_fields if name not in ("code", "reason", "confirm")},
        )
        super().__init__(*args, **kwargs)
        if program is None:
            del self.fields["is_active"], self.fields["reason"], self.fields["confirm"]
        else:
            del self.fields["code"], self.fields["currency"]

    def rules(self) -> dict[str, Any]:
        return {
            k: v for k, v in self.cleaned_data.items() if k not in ("code", "currency", "name", "reason", "confirm")
        }


class HolidayForm(forms.Form):
    date = forms.DateField(label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(label=gettext_lazy("Name"), required=False)


DOCUMENT_CHOICES = [
    ("", gettext_lazy("Not needed")),
    ("required", pgettext_lazy("document", "Required")),
    ("optional", pgettext_lazy("document", "Optional")),
]


class ActivityTypeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        required=False,
        help_text=gettext_lazy("Short, lowercase, e.g. digital-advertising."),
    )
    name = forms.CharField(label=gettext_lazy("Name"), required=False)
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=ActivityCategory.choices)
    core_requirements = forms.CharField(
        label=gettext_lazy("Core requirements"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    metrics = forms.CharField(
        label=gettext_lazy("Metrics"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One per line."),
    )
    eligible_expenses = forms.CharField(
        label=gettext_lazy("Eligible expenses"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    ineligible_expenses = forms.CharField(
        label=gettext_lazy("Ineligible expenses"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    expense_categories = forms.MultipleChoiceField(
        label=gettext_lazy("Expense categories it funds"),
        required=False,
        choices=ExpenseCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every category."),
    )
    cost_share_percent = AmountField(
        label=gettext_lazy("Vendor's share of a fund request (%)"),
        required=False,
        help_text=gettext_lazy("Empty: the program's share."),
    )
    is_active = forms.BooleanField(label=pgettext_lazy("program", "Active"), required=False)

    def __init__(self, *args: Any, activity_type: ActivityType | None = None, **kwargs: Any) -> None:
        initial: dict[str, Any] = {"is_active": True}
        if activity_type is not None:
            initial = {name: getattr(activity_type, name) for name in self.base_fields}
            initial["metrics"] = "\n".join(activity_type.metrics)
            for doc in activity_type.document_requirements.all():
                initial[f"doc_{doc.kind}"] = "required" if doc.required else "optional"
                initial[f"note_{doc.kind}"] = doc.note
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        if activity_type is not None:
            del self.fields["code"]
        else:
            del self.fields["is_active"]
        for kind in DocumentKind:
            self.fields[f"doc_{kind.value}"] = forms.ChoiceField(
                label=kind.label, choices=DOCUMENT_CHOICES, required=False
            )
            self.fields[f"note_{kind.value}"] = forms.CharField(label=gettext_lazy("What it must show"), required=False)

    def main_fields(self) -> list[forms.BoundField]:
        return [f for f in self.visible_fields() if not f.name.startswith(("doc_", "note_"))]

    def document_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"doc_{kind.value}"], self[f"note_{kind.value}"]) for kind in DocumentKind]

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values: dict[str, Any] = {
            k: data[k]
            for k in (
                "name",
                "category",
                "core_requirements",
                "eligible_expenses",
                "ineligible_expenses",
                "expense_categories",
                "cost_share_percent",
                "is_active",
            )
            if k in data
        }
        values["metrics"] = data["metrics"].splitlines()
        values["documents"] = [
            DocumentSpec(
                kind=kind.value, required=data[f"doc_{kind.value}"] == "required", note=data[f"note_{kind.value}"]
            )
            for kind in DocumentKind
            if data[f"doc_{kind.value}"]
        ]
        return values


class CapForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Limit"), required=False, choices=[("", gettext_lazy("No cap (remove)")), *CapKind.choices]
    )
    amount = AmountField(
        label=gettext_lazy("Amount"),
        required=False,
        help_text=gettext_lazy("With a percentage: the floor (“the greater of”)."),
    )
    percent = AmountField(label=gettext_lazy("Percent of earned co-op"), required=False)
    count = forms.IntegerField(label=gettext_lazy("Number of attendees"), required=False)
    expense = forms.CharField(
        label=gettext_lazy("Expense it limits"), required=False, help_text=gettext_lazy("For example travel.")
    )
    exempt = forms.BooleanField(label=gettext_lazy("Exempt (the program waives it)"), required=False)

    def spec(self) -> CapSpec | None:
        data = self.cleaned_data
        if not data.get("kind"):
            return None
        return CapSpec(
            kind=data["kind"],
            amount=data["amount"],
            percent=data["percent"],
            count=data["count"],
            expense=data["expense"],
            exempt=data["exempt"],
        )


CapFormSet = forms.formset_factory(CapForm, extra=2)


# ---------------------------------------------------------------------------------------------- programs


@login_required
@require_GET
def program_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    qs = selectors.programs_visible_to(user).order_by("name", "id")
    return render(
        request,
        "web/programs/program_list.html",
        {"page": _page(request, qs), "can_create": permissions.can_create_program(user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def program_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not permissions.can_create_program(user):
        raise PermissionDenied(_("Only a program manager for every program can create programs."))
    form = ProgramForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            program = services.program_create(
                code=data["code"], name=data["name"], currency=data["currency"], actor=user, **form.rules()
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request, _("Program %(name)s created. Add its activity catalogue next.") % {"name": program.name}
            )
            return redirect("program_detail", pk=program.pk)
    return render(
        request,
        "web/programs/form.html",
        {
            "form": form,
            "title": _("Create a program"),
            "submit": _("Create program"),
            "cancel": reverse("program_list"),
        },
    )


@login_required
@require_GET
@not_found_as_404
def program_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    program = selectors.program_for(user, pk)
    today = timezone.localdate()
    fiscal_year = periods.fiscal_year_of(program, today)
    holidays = selectors.holidays_of(program)
    can_configure = permissions.can_configure_program(user, program)
    return render(
        request,
        "web/programs/program_detail.html",
        {
            "program": program,
            "rules": rules_in_words(program, today, holidays.count()),
            "years": [
                (periods.fiscal_year_label(fy), periods.periods_of_fiscal_year(program, fy))
                for fy in (fiscal_year, fiscal_year + 1)
            ],
            "current": periods.period_containing(program, today),
            "fiscal_year": fiscal_year,
            "page": _page(request, holidays),
            "can_configure": can_configure,
            "holiday_form": HolidayForm() if can_configure else None,
            "versions": _page(request, selectors.rule_versions_of(program), param="versions")
            if is_vendor_staff(user)
            else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def program_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    program = selectors.program_for(user, pk)
    _require_configure(user, program)
    form = ProgramForm(request.POST or None, program=program)
    if request.method == "POST" and form.is_valid():
        try:
            services.program_update(
                program=program,
                actor=user,
                name=form.cleaned_data["name"],
                confirm=form.cleaned_data["confirm"],
                reason=form.cleaned_data["reason"],
                **form.rules(),
            )
        except ValidationError as error:
            add_errors(form, error)
            if "confirm" in form.errors:
                form.fields["confirm"].widget = forms.CheckboxInput()
        else:
            messages.success(request, _("The program's rules are saved as a new version, in force from now."))
            return redirect("program_detail", pk=program.pk)
    return render(
        request,
        "web/programs/form.html",
        {
            "form": form,
            "title": _("Edit %(name)s") % {"name": program.name},
            "submit": _("Save"),
            "cancel": reverse("program_detail", args=[program.pk]),
        },
    )


# ---------------------------------------------------------------------------------------------- holidays


@login_required
@require_POST
@not_found_as_404
def holiday_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    program = selectors.program_for(user, pk)
    _require_configure(user, program)
    form = HolidayForm(request.POST)
    if form.is_valid():
        try:
            holiday = services.holiday_add(
                program=program, day=form.cleaned_data["date"], name=form.cleaned_data["name"], actor=user
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s (%(day)s) is now a holiday.") % {"name": holiday.name, "day": day_lazy(holiday.date)},
            )
            return redirect("program_detail", pk=program.pk)
    return render(
        request,
        "web/programs/form.html",
        {
            "form": form,
            "title": _("Add a holiday to %(name)s") % {"name": program.name},
            "submit": _("Add holiday"),
            "cancel": reverse("program_detail", args=[program.pk]),
            "action": reverse("holiday_add", args=[program.pk]),
        },
        status=400,
    )


@login_required
@require_POST
@not_found_as_404
def holiday_remove(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    holiday = selectors.holiday_for(user, pk)
    services.holiday_remove(holiday=holiday, actor=user)
    messages.success(
        request, _("%(name)s (%(day)s) is no longer a holiday.") % {"name": holiday.name, "day": day_lazy(holiday.date)}
    )
    return redirect("program_detail", pk=holiday.program_id)


# ---------------------------------------------------------------------------------------------- catalogue


@login_required
@require_GET
@not_found_as_404
def catalogue_current(request: HttpRequest, pk: int) -> HttpResponse:
    program = selectors.program_for(_user(request), pk)
    return redirect("catalogue", pk=program.pk, fiscal_year=periods.fiscal_year_of(program, timezone.localdate()))


@login_required
@require_GET
@not_found_as_404
def catalogue(request: HttpRequest, pk: int, fiscal_year: int) -> HttpResponse:
    _check_year(fiscal_year)
    user = _user(request)
    program = selectors.program_for(user, pk)
    entries = selectors.activity_types_for(program, fiscal_year).order_by("category", "name", "id")
    years = sorted({*selectors.catalogue_years(program), fiscal_year})
    return render(
        request,
        "web/programs/catalogue.html",
        {
            "program": program,
            "fiscal_year": fiscal_year,
            "label": periods.fiscal_year_label(fiscal_year),
            "next_label": periods.fiscal_year_label(fiscal_year + 1),
            "years": [(fy, periods.fiscal_year_label(fy)) for fy in years],
            "page": _page(request, entries, CATALOGUE_PAGE_SIZE),
            "can_configure": permissions.can_configure_program(user, program),
        },
    )


@login_required
@require_POST
@not_found_as_404
def catalogue_copy(request: HttpRequest, pk: int, fiscal_year: int) -> HttpResponse:
    _check_year(fiscal_year)
    user = _user(request)
    program = selectors.program_for(user, pk)
    try:
        created = services.catalogue_copy_to_fiscal_year(program=program, fiscal_year=fiscal_year, actor=user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("catalogue", pk=program.pk, fiscal_year=fiscal_year)
    target = periods.fiscal_year_label(fiscal_year + 1)
    if created:
        messages.success(
            request,
            ngettext(
                "Copied %(count)s activity types to %(year)s.",
                "Copied %(count)s activity types to %(year)s.",
                len(created),
            )
            % {"count": len(created), "year": target},
        )
    else:
        messages.info(request, _("%(year)s already has every activity type; nothing was copied.") % {"year": target})
    return redirect("catalogue", pk=program.pk, fiscal_year=fiscal_year + 1)


def _activity_type_page(
    request: HttpRequest, form: ActivityTypeForm, caps: Any, title: str, cancel: str, status: int = 200
) -> HttpResponse:
    context = {"form": form, "caps": caps, "title": title, "cancel": cancel}
    return render(request, "web/programs/activity_type_form.html", context, status=status)


def _cap_specs(caps: Any) -> list[CapSpec]:
    return [spec for f in caps.forms if (spec := f.spec()) is not None]


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def activity_type_create(request: HttpRequest, pk: int, fiscal_year: int) -> HttpResponse:
    _check_year(fiscal_year)
    user = _user(request)
    program = selectors.program_for(user, pk)
    _require_configure(user, program)
    form = ActivityTypeForm(request.POST or None)
    caps = CapFormSet(request.POST or None, prefix="caps")
    if request.method == "POST" and form.is_valid() and caps.is_valid():
        values = form.values()
        try:
            activity_type = services.activity_type_create(
                program=program,
                fiscal_year=fiscal_year,
                code=form.cleaned_data["code"],
                caps=_cap_specs(caps),
                actor=user,
                **values,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s added to the %(entry)s catalogue.") % {"name": activity_type.name, "entry": activity_type},
            )
            return redirect("catalogue", pk=program.pk, fiscal_year=fiscal_year)
    title = _("Add an activity type to the %(year)s catalogue of %(name)s") % {
        "year": periods.fiscal_year_label(fiscal_year),
        "name": program.name,
    }
    return _activity_type_page(request, form, caps, title, reverse("catalogue", args=[program.pk, fiscal_year]))


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def activity_type_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    activity_type = selectors.activity_type_for(user, pk)
    _require_configure(user, activity_type.program)
    form = ActivityTypeForm(request.POST or None, activity_type=activity_type)
    initial_caps = [
        {
            "kind": c.kind,
            "amount": c.amount,
            "percent": c.percent,
            "count": c.count,
            "expense": c.expense,
            "exempt": c.exempt,
        }
        for c in activity_type.caps.all()
    ]
    caps = CapFormSet(request.POST or None, prefix="caps", initial=initial_caps)
    if request.method == "POST" and form.is_valid() and caps.is_valid():
        try:
            services.activity_type_update(
                activity_type=activity_type, caps=_cap_specs(caps), actor=user, **form.values()
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("%(entry)s is saved.") % {"entry": activity_type})
            return redirect("catalogue", pk=activity_type.program_id, fiscal_year=activity_type.fiscal_year)
    cancel = reverse("catalogue", args=[activity_type.program_id, activity_type.fiscal_year])
    return _activity_type_page(request, form, caps, _("Edit %(name)s") % {"name": activity_type}, cancel)


@login_required
@require_POST
@not_found_as_404
def cap_exempt(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    cap = selectors.cap_for(user, pk)
    exempt = request.POST.get("exempt") == "1"
    services.cap_set_exempt(cap=cap, exempt=exempt, actor=user, reason=request.POST.get("reason", ""))
    messages.success(
        request,
        (_("The cap “%(cap)s” is waived.") if exempt else _("The cap “%(cap)s” is applied again.")) % {"cap": cap},
    )
    activity_type = cap.activity_type
    return redirect("catalogue", pk=activity_type.program_id, fiscal_year=activity_type.fiscal_year)


urlpatterns = [
    path("programs/", program_list, name="program_list"),
    path("programs/new/", program_create, name="program_create"),
    path("programs/<int:pk>/", program_detail, name="program_detail"),
    path("programs/<int:pk>/edit/", program_edit, name="program_edit"),
    path("programs/<int:pk>/holidays/", holiday_add, name="holiday_add"),
    path("holidays/<int:pk>/remove/", holiday_remove, name="holiday_remove"),
    path("programs/<int:pk>/catalogue/", catalogue_current, name="catalogue_current"),
    path("programs/<int:pk>/catalogue/<int:fiscal_year>/", catalogue, name="catalogue"),
    path("programs/<int:pk>/catalogue/<int:fiscal_year>/copy/", catalogue_copy, name="catalogue_copy"),
    path("programs/<int:pk>/catalogue/<int:fiscal_year>/new/", activity_type_create, name="activity_type_create"),
    path("activity-types/<int:pk>/edit/", activity_type_edit, name="activity_type_edit"),
    path("caps/<int:pk>/exempt/", cap_exempt, name="cap_exempt"),
]
