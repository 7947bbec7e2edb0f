"""Web pages for co-op funds: a partner's funds with their balances and expiry, the transaction history and
its downloads; for the vendor, the same across partners plus earnings imports, period close and adjustments.

Partners see their own locations' funds only (another partner's fund is 404); vendor staff see every fund.
Forms parse; the services decide and check rights. Nothing changes on GET.
"""

from dataclasses import replace
from datetime import date
from typing import Any, cast
from urllib.parse import urlencode
from uuid import uuid4

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from coopfunds.accounts.models import Role, User
from coopfunds.accounts.permissions import holds, is_vendor_staff
from coopfunds.accounts.selectors import locations_visible_to
from coopfunds.core.errors import Conflict
from coopfunds.core.i18n import day_lazy
from coopfunds.funds import exports, selectors, services
from coopfunds.funds.charts import expiry_charts
from coopfunds.funds.earnings import earnings_import, import_rejected_message
from coopfunds.funds.imports import COLUMNS
from coopfunds.funds.ledger import IdempotencyConflict
from coopfunds.funds.models import EarningImport, Entry, Fund
from coopfunds.funds.permissions import can_import_earnings
from coopfunds.web.views.common import AmountField, add_errors, not_found_as_404

PAGE_SIZE = 25
DATE_INPUT = forms.DateInput(attrs={"type": "date"})


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # every view is @login_required


def _page(request: HttpRequest, items: Any, size: int = PAGE_SIZE) -> Page:
    return Paginator(items, size).get_page(request.GET.get("page"))


def _prefix(params: dict[str, Any]) -> str:
    """The pager's query string before `page=`: the filters, so paging keeps them."""
    kept = {k: v for k, v in params.items() if v not in (None, "", False)}
    return urlencode(kept) + "&" if kept else ""


def _render_list(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """A list page; an htmx filter change gets only the results partial."""
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]
    return render(request, template + "#results" if partial else template, context, status=status)


# --- filters -------------------------------------------------------------------------------------------


class ScopeForm(forms.Form):
    """Where to look: a partner picks one of their locations; vendor staff search partners and locations."""

    def __init__(self, *args: Any, user: User, funds: QuerySet[Fund], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        own = list(self.fields)
        self.vendor = is_vendor_staff(user)
        if self.vendor:
            self.fields["q"] = forms.CharField(
                label=gettext("Partner or location"),
                required=False,
                max_length=100,
                help_text=gettext("Partner ID, location name or partner name."),
            )
            self.fields["location"] = forms.IntegerField(
                label=gettext("Location"), required=False, min_value=1, widget=forms.HiddenInput
            )
        else:
            self.fields["location"] = forms.ModelChoiceField(
                queryset=locations_visible_to(user),
                required=False,
                label=gettext("Location"),
                empty_label=gettext("All my locations"),
            )
        self.fields["program"] = forms.ModelChoiceField(
            queryset=selectors.programs_of(funds),
            required=False,
            label=gettext("Program"),
            empty_label=gettext("Any program"),
        )
        self.order_fields(["q", "location", "program", *own])

    def scope(self) -> dict[str, Any]:
        data = self.cleaned_data
        location, program = data.get("location"), data.get("program")
        return {
            "location_id": getattr(location, "pk", location),
            "program_id": program.pk if program else None,
            "query": data.get("q", ""),
        }

    def params(self) -> dict[str, Any]:
        """The filters as query parameters (for the pager and the download links)."""
        return {name: self.data.get(name, "") for name in self.fields}


class FundFilterForm(ScopeForm):
    period = forms.ChoiceField(label=gettext_lazy("Usage period"), required=False)
    expiring = forms.BooleanField(
        label=format_lazy(gettext_lazy("Only funds expiring within {days} days"), days=selectors.EXPIRY_WARNING_DAYS),
        required=False,
    )

    def __init__(self, *args: Any, user: User, funds: QuerySet[Fund], **kwargs: Any) -> None:
        super().__init__(*args, user=user, funds=funds, **kwargs)
        self.fields["period"].choices = [("", gettext("Any period"))] + [  # type: ignore[attr-defined]
            (label, label) for label in selectors.fund_labels(funds)
        ]


class TransactionFilterForm(ScopeForm):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        required=False,
        choices=[("", gettext_lazy("Any kind")), *((str(k), v) for k, v in selectors.MOVEMENT_LABELS.items())],
    )
    date_from = forms.DateField(label=gettext_lazy("From"), required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=DATE_INPUT)
    fund = forms.IntegerField(label=gettext_lazy("Fund"), required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", gettext("The end date is before the start date."))
        return data

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            **self.scope(),
            "fund_id": data.get("fund"),
            "kind": data.get("kind", ""),
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }


# --- funds ---------------------------------------------------------------------------------------------


def _expiry_warnings(totals: list[selectors.ExpiryTotal], today: date) -> list[dict[str, Any]]:
    return [{"total": t, "days": (t.expires_on - today).days} for t in totals]


def _expiry_state(b: selectors.Balances, today: date) -> str:
    """ "expired", "expires soon" or "": the template shows it in the reader's language."""
    if b.expires_on < today:
        return "expired"
    return "expires soon" if b.expires_soon(today) else ""


@login_required
def fund_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    today = timezone.localdate()
    visible = selectors.funds_visible_to(user)
    form = FundFilterForm(request.GET or None, user=user, funds=visible)
    funds = visible
    valid = not form.is_bound or form.is_valid()
    if form.is_bound and valid:
        funds = selectors.funds_filter(
            visible,
            **form.scope(),
            label=form.cleaned_data["period"],
            expiring_within_days=selectors.EXPIRY_WARNING_DAYS if form.cleaned_data["expiring"] else None,
            today=today,
        )
    ordered = selectors.funds_with_balances(funds).order_by(
        "-usage_start", "location__partner_id", "program__name", "id"
    )
    page = _page(request, ordered if valid else Fund.objects.none())
    totals = selectors.remaining_by_expiry(funds, today=today) if valid else []
    context = {
        "form": form,
        "valid": valid,
        "page": page,
        "rows": [(f, b, _expiry_state(b, today)) for f in page.object_list for b in [selectors.balances_from(f)]],
        "today": today,
        "warnings": _expiry_warnings(
            selectors.remaining_by_expiry(visible, today=today, within_days=selectors.EXPIRY_WARNING_DAYS), today
        ),
        "warning_days": selectors.EXPIRY_WARNING_DAYS,
        "charts": expiry_charts(totals),
        "chart_totals": totals,
        "querystring_prefix": _prefix(form.params()) if form.is_bound else "",
        "vendor": is_vendor_staff(user),
        "sees_imports": selectors.can_see_imports(user),
    }
    return _render_list(request, "web/funds/list.html", context, status=200 if valid else 400)


class FundChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.label} ({day_lazy(obj.usage_start)} – {day_lazy(obj.usage_end)})"


class AdjustmentForm(forms.Form):
    amount = AmountField(
        label=gettext_lazy("Amount"),
        help_text=gettext_lazy(
            "Positive to credit the fund, negative to debit it, e.g. 500.00 or -200.00. "
            "A rollover moves a positive amount."
        ),
    )
    reason_code = forms.ChoiceField(
        label=gettext_lazy("Reason"),
        required=False,
        choices=[("", gettext_lazy("Choose a reason")), *services.AdjustmentReason.CHOICES],
    )
    memo = forms.CharField(
        label=gettext_lazy("Memo"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("The partner reads this."),
    )
    to_fund = FundChoiceField(
        label=gettext_lazy("Roll over to"),
        queryset=Fund.objects.none(),
        required=False,
        empty_label=gettext_lazy("No rollover"),
        help_text=gettext_lazy("Only for a rollover: the fund of the same location and program the money moves to."),
    )
    key = forms.CharField(max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args: Any, fund: Fund, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"key": uuid4().hex})  # one key per form shown: a double submit posts once
        super().__init__(*args, **kwargs)
        self.fields["to_fund"].queryset = selectors.rollover_targets(fund)  # type: ignore[attr-defined]
        self.fields["key"].error_messages["required"] = gettext(
            "This form is incomplete; reload the page and try again."
        )


def _can_adjust(user: User, fund: Fund) -> bool:
    return holds(user, Role.PROGRAM_MANAGER, program=fund.program_id)


def _fund_page(request: HttpRequest, fund: Fund, form: AdjustmentForm | None = None, status: int = 200) -> HttpResponse:
    user = _user(request)
    today = timezone.localdate()
    balances = selectors.balances(fund)
    history = selectors.entries_filter(selectors.entries_visible_to(user), fund_id=fund.pk)
    can_adjust = _can_adjust(user, fund)
    page = _page(request, history)
    context = {
        "fund": fund,
        "b": balances,
        "today": today,
        "expires_soon": balances.expires_soon(today),
        "days_left": (fund.usage_end - today).days,
        "page": page,
        "rows": _history_rows(page),
        "export_query": urlencode({"fund": fund.pk}),
        "can_adjust": can_adjust,
        "form": (form or AdjustmentForm(fund=fund)) if can_adjust else None,
    }
    return render(request, "web/funds/detail.html", context, status=status)


@login_required
@not_found_as_404
def fund_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _fund_page(request, selectors.fund_for(_user(request), pk))


@login_required
@require_POST
@not_found_as_404
def fund_adjust(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    fund = selectors.fund_for(user, pk)
    if not _can_adjust(user, fund):
        raise PermissionDenied(gettext("Only a program manager of this program can adjust funds."))
    form = AdjustmentForm(request.POST, fund=fund)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.fund_adjust(
                fund=fund,
                amount=data["amount"],
                reason_code=data["reason_code"],
                memo=data["memo"],
                to_fund=data["to_fund"],
                key=f"adjust:{user.pk}:{data['key']}",
                actor=user,
            )
        except ValidationError as error:
            add_errors(form, error)
        except IdempotencyConflict:
            form.add_error(
                None, gettext("This form was already sent with other values; reload the page to make a new adjustment.")
            )
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                gettext("Adjusted by %(amount)s %(currency)s: %(memo)s")
                % {"amount": number_format(data["amount"]), "currency": fund.currency, "memo": data["memo"].strip()},
            )
            return redirect("fund_detail", fund.pk)
    return _fund_page(request, fund, form, status=400)


# --- transactions and downloads ------------------------------------------------------------------------


def _history_rows(page: Page) -> list[tuple[Entry, exports.TransactionRow]]:
    """The page's entries as the download writes them, with the kind and bucket in the reader's language."""
    return [
        (
            e,
            replace(
                exports.row_of(e),
                kind=selectors.movement_label(e.transfer.kind),
                bucket=selectors.bucket_label(e.account.bucket),
            ),
        )
        for e in page.object_list
    ]


def _transactions(request: HttpRequest) -> tuple[TransactionFilterForm, QuerySet[Entry] | None]:
    """The filter form and the entries it selects (None when the filters are not valid)."""
    user = _user(request)
    form = TransactionFilterForm(request.GET or None, user=user, funds=selectors.funds_visible_to(user))
    entries = selectors.entries_visible_to(user)
    if not form.is_bound:
        return form, entries
    if not form.is_valid():
        return form, None
    return form, selectors.entries_filter(entries, **form.filters())


def _transactions_page(
    request: HttpRequest, form: TransactionFilterForm, entries: QuerySet[Entry] | None
) -> HttpResponse:
    params = form.params() if form.is_bound else {}
    page = _page(request, entries if entries is not None else Entry.objects.none())
    context = {
        "form": form,
        "valid": entries is not None,
        "page": page,
        "rows": _history_rows(page),
        "querystring_prefix": _prefix(params),
        "export_query": urlencode({k: v for k, v in params.items() if v}),
    }
    return _render_list(request, "web/funds/transactions.html", context, status=200 if entries is not None else 400)


@login_required
def transaction_list(request: HttpRequest) -> HttpResponse:
    return _transactions_page(request, *_transactions(request))


def _download_name(extension: str) -> str:
    return f"coopfunds-transactions-{timezone.localdate():%Y-%m-%d}.{extension}"


@login_required
def transactions_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Every filtered row, streamed as it is read."""
    form, entries = _transactions(request)
    if entries is None:
        return _transactions_page(request, form, entries)
    response = StreamingHttpResponse(
        exports.csv_lines(exports.transaction_rows(entries)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_download_name("csv")}"'
    return response


@login_required
def transactions_xlsx(request: HttpRequest) -> HttpResponse | FileResponse:
    form, entries = _transactions(request)
    if entries is None:
        return _transactions_page(request, form, entries)
    return FileResponse(
        exports.xlsx_file(exports.transaction_rows(entries)),
        as_attachment=True,
        filename=_download_name("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# --- earnings imports (vendor) -------------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Earnings file"),
        help_text=gettext_lazy(
            "CSV (UTF-8) or Excel .xlsx with the columns of the template; the first row names them."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )


def _imports_page(request: HttpRequest, form: UploadForm | None, status: int = 200) -> HttpResponse:
    user = _user(request)
    context = {
        "form": form if can_import_earnings(user) else None,
        "page": _page(request, selectors.imports_visible_to(user)),
        "columns": list(COLUMNS.values()),
    }
    return render(request, "web/funds/imports.html", context, status=status)


def _require_imports_visible(user: User) -> None:
    """Imports are vendor pages: a partner gets 404; vendor staff without the right, 403."""
    if selectors.can_see_imports(user):
        return
    if is_vendor_staff(user):
        raise PermissionDenied(gettext("Only program managers, finance and auditors see earnings imports."))
    raise Http404("Not found")


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    """The past imports and (program managers, finance) the upload form; a file is checked whole and applied
    all or nothing, then its report is shown."""
    user = _user(request)
    _require_imports_visible(user)
    if request.method != "POST":
        return _imports_page(request, UploadForm())
    if not can_import_earnings(user):
        raise PermissionDenied(gettext("Only program managers and finance can import earnings."))
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = earnings_import(stream=upload, file_name=upload.name or "upload", actor=user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            if batch.status == EarningImport.Status.APPLIED:
                messages.success(
                    request,
                    gettext(
                        "%(file)s: %(applied)s line(s) applied, %(skipped)s already imported line(s) skipped; "
                        "total %(total)s."
                    )
                    % {
                        "file": batch.file_name,
                        "applied": batch.applied,
                        "skipped": batch.skipped,
                        "total": number_format(batch.total, 2, force_grouping=True),
                    },
                )
            else:
                messages.error(request, import_rejected_message(batch))
            return redirect("earnings_import_detail", batch.pk)
    return _imports_page(request, form, status=400)


@login_required
@not_found_as_404
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.import_for(_user(request), pk)
    context = {"batch": batch, "page": _page(request, batch.errors, size=100), "problems": len(batch.errors)}
    return render(request, "web/funds/import_detail.html", context)


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    """An empty earnings file: the header row only."""
    _require_imports_visible(_user(request))
    response = HttpResponse(",".join(COLUMNS.values()) + "\r\n", content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="earnings-template.csv"'
    return response


# --- period close (vendor) -----------------------------------------------------------------------------


def _period_status(row: dict[str, Any], today: date) -> str:
    if row["closed"] == row["funds"]:
        return pgettext("earning period", "Closed")
    if row["closed"]:
        return gettext("%(closed)s of %(funds)s closed") % {"closed": row["closed"], "funds": row["funds"]}
    return gettext("Ended, not closed yet") if row["earning_end"] < today else gettext("Open (earning)")


@login_required
def period_list(request: HttpRequest) -> HttpResponse:
    """Per program and earning period: how many funds, whether closed, co-op, conversions, forfeitures."""
    user = _user(request)
    if not is_vendor_staff(user):
        raise Http404("Not found")
    today = timezone.localdate()
    page = _page(request, selectors.earning_periods_summary(selectors.funds_visible_to(user)))
    rows = list(page.object_list)
    forfeited = selectors.forfeited_totals(
        sorted({r["program_id"] for r in rows}), sorted({r["earning_start"] for r in rows})
    )
    for row in rows:
        row["status"] = _period_status(row, today)
        row["forfeited"] = forfeited.get((row["program_id"], row["earning_start"]), 0)
    context = {"page": page, "rows": rows, "can_run": selectors.can_run_period_jobs(user)}
    return render(request, "web/funds/periods.html", context)


@login_required
@require_POST
def period_jobs_run(request: HttpRequest) -> HttpResponse:
    """Close ended earning periods and forfeit expired funds now, instead of waiting for the scheduled job."""
    user = _user(request)
    if not is_vendor_staff(user):
        raise Http404("Not found")
    if not selectors.can_run_period_jobs(user):
        raise PermissionDenied(gettext("Only a program manager of every program can run the period jobs."))
    counts = services.period_jobs_run(actor=user)
    messages.success(
        request,
        gettext(
            "Period jobs done: %(closed)s fund(s) closed, %(reevaluated)s re-evaluated after late earnings, "
            "%(forfeited)s fund(s) with money forfeited."
        )
        % counts,
    )
    return redirect("fund_periods")


urlpatterns = [
    path("funds/", fund_list, name="fund_list"),
    path("funds/<int:pk>/", fund_detail, name="fund_detail"),
    path("funds/<int:pk>/adjust/", fund_adjust, name="fund_adjust"),
    path("funds/transactions/", transaction_list, name="fund_transactions"),
    path("funds/transactions.csv", transactions_csv, name="fund_transactions_csv"),
    path("funds/transactions.xlsx", transactions_xlsx, name="fund_transactions_xlsx"),
    path("funds/imports/", import_list, name="earnings_import_list"),
    path("funds/imports/template.csv", import_template, name="earnings_import_template"),
    path("funds/imports/<int:pk>/", import_detail, name="earnings_import_detail"),
    path("funds/periods/", period_list, name="fund_periods"),
    path("funds/periods/run/", period_jobs_run, name="fund_period_jobs_run"),
]
