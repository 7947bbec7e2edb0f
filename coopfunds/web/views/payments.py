"""Web pages for payments: partners see their payments, download remittance advice and their reconciliation
statement, send tax invoices and dispute payments; vendor staff see runs and payments, and finance prepares,
approves (four eyes), exports runs and records what the bank did, keeps exchange rates and paying entities.

Partners never see runs, rates or entities (404), nor another partner's payment (404). Bank details appear
masked; the bank files are the only place they leave encryption and only finance downloads them.
"""

from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from coopfunds.accounts.models import User
from coopfunds.accounts.permissions import is_vendor_staff
from coopfunds.accounts.selectors import location_for, locations_visible_to
from coopfunds.core.errors import Conflict, NotFound
from coopfunds.enrollments.selectors import programs_for_filter
from coopfunds.payments import permissions, rates, remittance, runs, selectors, services, statement
from coopfunds.payments.models import TRANSITIONS, BankFile, Payment, PaymentDispute, PaymentRun, PaymentStatus
from coopfunds.programs.models import Program
from coopfunds.web.views.common import add_errors, not_found_as_404

PAGE_SIZE = 25
P = PaymentStatus
DATE_INPUT = forms.DateInput(attrs={"type": "date"})

# What finance may record, by the button's action name: (service, target status, button, what the message says).
BANK_ACTIONS: dict[str, tuple[Any, str, Promise, Promise]] = {
    "sent": (
        services.payment_mark_sent,
        P.SENT,
        pgettext_lazy("payment", "Sent"),
        gettext_lazy("Payment %(payment)s: sent."),
    ),
    "failed": (
        services.payment_mark_failed,
        P.FAILED,
        pgettext_lazy("payment", "Failed"),
        gettext_lazy("Payment %(payment)s: failed."),
    ),
    "reprocess": (
        services.payment_reprocess,
        P.REPROCESSING,
        gettext_lazy("Reprocess with the next run"),
        gettext_lazy("Payment %(payment)s: reprocess with the next run."),
    ),
    "reversed": (
        services.payment_mark_reversed,
        P.REVERSED,
        gettext_lazy("Reversed by the bank"),
        gettext_lazy("Payment %(payment)s: reversed by the bank."),
    ),
    "rejected": (
        services.payment_mark_rejected,
        P.REJECTED,
        gettext_lazy("Rejected by the bank"),
        gettext_lazy("Payment %(payment)s: rejected by the bank."),
    ),
    "incorrect": (
        services.payment_mark_incorrect,
        P.INCORRECT,
        gettext_lazy("Incorrect payment"),
        gettext_lazy("Payment %(payment)s: incorrect payment."),
    ),
    "recouped": (
        services.payment_recoup,
        P.RECOUPED,
        pgettext_lazy("payment", "Recouped"),
        gettext_lazy("Payment %(payment)s: recouped."),
    ),
}


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _page(request: HttpRequest, items: Any) -> Page:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def _vendor_only(user: User) -> None:
    if not permissions.can_see_runs(user):
        raise Http404("Not found")


# --- forms ---------------------------------------------------------------------------------------------


class PaymentFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), required=False, choices=[("", gettext_lazy("Any status")), *P.choices]
    )
    q = forms.CharField(label=gettext_lazy("Partner, location or payment ID"), required=False, max_length=100)


class StatementForm(forms.Form):
    location: forms.ModelChoiceField = forms.ModelChoiceField(label=gettext_lazy("Location"), queryset=None)  # type: ignore[arg-type]
    program: forms.ModelChoiceField = forms.ModelChoiceField(  # type: ignore[arg-type]
        label=gettext_lazy("Program"), queryset=None, required=False, empty_label=gettext_lazy("Every program")
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations_visible_to(user)  # type: ignore[attr-defined]
        self.fields["program"].queryset = programs_for_filter(user)  # type: ignore[attr-defined]


class NoteForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    bank_reference = forms.CharField(label=gettext_lazy("Bank reference"), required=False, max_length=100)


class TaxInvoiceForm(forms.Form):
    number = forms.CharField(
        label=gettext_lazy("Tax invoice number"), max_length=32, help_text=gettext_lazy("Digits only, at most 16.")
    )
    invoice_date = forms.DateField(
        label=gettext_lazy("Invoice date"), widget=DATE_INPUT, help_text=gettext_lazy("Within the last 180 days.")
    )
    file = forms.FileField(label=gettext_lazy("Tax invoice (PDF or image)"))


class TaxInvoiceReviewForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (when rejecting)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class DisputeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("What is wrong"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    file = forms.FileField(label=gettext_lazy("Evidence (PDF or image, optional)"), required=False)


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=gettext_lazy("Resolution"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class PrepareForm(forms.Form):
    entity: forms.ModelChoiceField = forms.ModelChoiceField(label=gettext_lazy("Paying entity"), queryset=None)  # type: ignore[arg-type]
    run_date = forms.DateField(
        label=gettext_lazy("Run date"), widget=DATE_INPUT, help_text=gettext_lazy("The transfers' execution date.")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["entity"].queryset = selectors.entities()  # type: ignore[attr-defined]


class RatesUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Rates file (CSV)"),
        help_text=gettext_lazy("Columns month,source,target,rate, e.g. 2026-11,USD,EUR,0.9215."),
    )


class EntityForm(forms.Form):
    code = forms.CharField(label=gettext_lazy("Code"), max_length=32)
    name = forms.CharField(label=gettext_lazy("Account holder name"), max_length=70)
    country = forms.CharField(label=gettext_lazy("Country (ISO code)"), max_length=2)
    iban = forms.CharField(label=gettext_lazy("IBAN of the paying account"), max_length=42)
    bic = forms.CharField(label="BIC", max_length=11, required=False)
    run_day = forms.IntegerField(label=gettext_lazy("Run day of the month"), min_value=1, max_value=28, initial=15)
    tax_invoice_countries = forms.CharField(
        label=gettext_lazy("Countries that send tax invoices"),
        required=False,
        initial="CN, IN, IT, KR, MX, TW",
        help_text=gettext_lazy("Two-letter codes separated by commas."),
    )


class AssignForm(forms.Form):
    program = forms.ModelChoiceField(label=gettext_lazy("Program"), queryset=Program.objects.all())


# --- payments ------------------------------------------------------------------------------------------


@login_required
def payment_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = PaymentFilterForm(request.GET or None)
    payments = selectors.payments_visible_to(user).order_by("-id")
    if form.is_bound and form.is_valid():
        payments = selectors.payments_filter(payments, status=form.cleaned_data["status"], query=form.cleaned_data["q"])
    params = {k: v for k, v in request.GET.items() if k != "page" and v}
    context = {
        "form": form,
        "page": _page(request, payments),
        "querystring_prefix": urlencode(params) + "&" if params else "",
        "statement_form": StatementForm(user=user),
        "vendor": is_vendor_staff(user),
    }
    return render(request, "web/payments/list.html", context)


def _detail(request: HttpRequest, payment: Payment, status: int = 200, **forms_: Any) -> HttpResponse:
    user = _user(request)
    finance = permissions.can_run_payments(user)
    partner_admin = permissions.can_act_for_partner(user, payment)
    open_dispute = payment.disputes.filter(status=PaymentDispute.Status.OPEN).first()
    context = {
        "payment": payment,
        "lines": selectors.lines_of(payment),
        "history": selectors.payment_history(payment),
        "disputes": payment.disputes.select_related("raised_by", "resolved_by", "evidence").order_by("id"),
        "bank_actions": [
            (name, label) for name, (_, to, label, _) in BANK_ACTIONS.items() if to in TRANSITIONS[payment.status]
        ]
        if finance
        else [],
        "note_form": forms_.get("note_form") or NoteForm(),
        "tax_form": (forms_.get("tax_form") or TaxInvoiceForm())
        if partner_admin and payment.status in (P.PENDING_TAX_INVOICE, P.TAX_INVOICE_REJECTED)
        else None,
        "review_form": (forms_.get("review_form") or TaxInvoiceReviewForm())
        if finance and payment.status == P.TAX_INVOICE_REVIEW
        else None,
        "dispute_form": (forms_.get("dispute_form") or DisputeForm()) if partner_admin and not open_dispute else None,
        "resolve_form": (forms_.get("resolve_form") or ResolveForm()) if finance and open_dispute else None,
        "open_dispute": open_dispute,
    }
    return render(request, "web/payments/detail.html", context, status=status)


@login_required
@not_found_as_404
def payment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.payment_for(_user(request), pk))


@login_required
@require_POST
@not_found_as_404
def payment_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """A finance user's record of what the bank did, or the tax invoice decision."""
    user = _user(request)
    payment = selectors.payment_for(user, pk)
    if not permissions.can_run_payments(user):
        raise PermissionDenied(gettext("Only finance records payment statuses."))
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _detail(request, payment, status=400, note_form=form)
    note = form.cleaned_data["note"]
    try:
        if action in BANK_ACTIONS:
            service, _, _, done = BANK_ACTIONS[action]
            extra = {"bank_reference": form.cleaned_data["bank_reference"]} if action == "sent" else {}
            service(payment=payment, actor=user, note=note, **extra)
            messages.success(request, str(done) % {"payment": payment.end_to_end_id})
        elif action == "tax-invoice-approve":
            services.payment_tax_invoice_approve(payment=payment, actor=user)
            messages.success(request, gettext("Tax invoice accepted: the next run pays it."))
        elif action == "tax-invoice-reject":
            services.payment_tax_invoice_reject(payment=payment, actor=user, reason=request.POST.get("reason", ""))
            messages.success(request, gettext("Tax invoice rejected; the partner is told why."))
        else:
            raise Http404("Not found")
    except ValidationError as error:
        add_errors(form, error)
        return _detail(request, payment, status=400, note_form=form)
    except Conflict as error:
        messages.error(request, error.message)
    return redirect("payment_detail", payment.pk)


@login_required
@require_POST
@not_found_as_404
def payment_tax_invoice(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    payment = selectors.payment_for(user, pk)
    if not permissions.can_act_for_partner(user, payment):
        raise PermissionDenied(gettext("Only the location's incentives admins send tax invoices."))
    form = TaxInvoiceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.payment_tax_invoice_submit(
                payment=payment,
                number=form.cleaned_data["number"],
                invoice_date=form.cleaned_data["invoice_date"],
                upload=form.cleaned_data["file"],
                actor=user,
            )
        except ValidationError as error:
            add_errors(form, error)
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, gettext("Tax invoice sent: finance reviews it."))
            return redirect("payment_detail", payment.pk)
    return _detail(request, payment, status=400, tax_form=form)


@login_required
@require_POST
@not_found_as_404
def payment_dispute(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    payment = selectors.payment_for(user, pk)
    if not permissions.can_act_for_partner(user, payment):
        raise PermissionDenied(gettext("Only the location's incentives admins dispute payments."))
    form = DisputeForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.payment_dispute_open(
                payment=payment, reason=form.cleaned_data["reason"], upload=form.cleaned_data["file"], actor=user
            )
        except ValidationError as error:
            add_errors(form, error)
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, gettext("Dispute sent: finance answers it."))
            return redirect("payment_detail", payment.pk)
    return _detail(request, payment, status=400, dispute_form=form)


@login_required
@require_POST
@not_found_as_404
def payment_dispute_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    dispute = selectors.dispute_for(user, pk)
    if not permissions.can_run_payments(user):
        raise PermissionDenied(gettext("Only finance resolves payment disputes."))
    form = ResolveForm(request.POST)
    if form.is_valid():
        try:
            services.payment_dispute_resolve(dispute=dispute, resolution=form.cleaned_data["resolution"], actor=user)
        except ValidationError as error:
            add_errors(form, error)
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, gettext("Dispute resolved; the partner is told."))
            return redirect("payment_detail", dispute.payment_id)
    return _detail(request, dispute.payment, status=400, resolve_form=form)


@login_required
@not_found_as_404
def payment_remittance(request: HttpRequest, pk: int) -> HttpResponse:
    payment = selectors.payment_for(_user(request), pk)
    pdf = remittance.remittance_pdf(payment, list(selectors.lines_of(payment)))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="remittance-{payment.end_to_end_id}.pdf"'
    return response


@login_required
@not_found_as_404
def payment_statement_csv(request: HttpRequest) -> StreamingHttpResponse:
    """A location's transaction history whose bucket columns sum to its ledger balances. A location the user
    may not see is 404, like a missing one."""
    user = _user(request)
    location = location_for(user, request.GET.get("location", ""))  # type: ignore[arg-type]
    program = request.GET.get("program", "")
    program_id = int(program) if program.isdigit() else None
    rows = statement.rows(statement.entries_of(location, program_id))
    response = StreamingHttpResponse(statement.csv_lines(rows), content_type="text/csv; charset=utf-8")
    name = f"statement-{location.partner_id}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- runs (vendor) -------------------------------------------------------------------------------------


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _vendor_only(user)
    form = None
    if request.method == "POST":
        if not permissions.can_run_payments(user):
            raise PermissionDenied(gettext("Only finance prepares payment runs."))
        form = PrepareForm(request.POST)
        if form.is_valid():
            try:
                run = runs.payment_run_prepare(
                    entity=form.cleaned_data["entity"], run_date=form.cleaned_data["run_date"], actor=user
                )
            except ValidationError as error:
                add_errors(form, error)
            except Conflict as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request, gettext("Run %(run)s prepared: another finance user approves it.") % {"run": run.pk}
                )
                return redirect("payment_run_detail", run.pk)
    finance = permissions.can_run_payments(user)
    context = {
        "page": _page(request, selectors.runs_visible_to(user)),
        "form": form or (PrepareForm() if finance else None),
    }
    return render(request, "web/payments/run_list.html", context, status=400 if form is not None else 200)


@login_required
@not_found_as_404
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    run = selectors.run_for(user, pk)
    finance = permissions.can_run_payments(user)
    context = {
        "run": run,
        "totals": selectors.run_totals(run),
        "page": _page(request, run.payments.select_related("location__organisation").order_by("id")),
        "files": selectors.bank_files_of(run) if finance else [],
        "can_approve": permissions.can_approve_run(user, run) and run.status == PaymentRun.Status.PREPARED,
        "can_export": finance and run.status == PaymentRun.Status.APPROVED,
        "can_cancel": finance and run.status == PaymentRun.Status.PREPARED,
    }
    return render(request, "web/payments/run_detail.html", context)


@login_required
@require_POST
@not_found_as_404
def run_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = _user(request)
    run = selectors.run_for(user, pk)
    steps = {"approve": runs.payment_run_approve, "export": runs.payment_run_export, "cancel": runs.payment_run_cancel}
    if action not in steps:
        raise Http404("Not found")
    try:
        steps[action](run=run, actor=user)
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            {
                "approve": gettext("Run approved: the money is paid in the ledger."),
                "export": gettext("Bank files written: download them below."),
                "cancel": gettext("Run cancelled: its payments wait for the next run."),
            }[action],
        )
    return redirect("payment_run_detail", run.pk)


@login_required
@not_found_as_404
def run_file(request: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    user = _user(request)
    run = selectors.run_for(user, pk)
    if not permissions.can_run_payments(user):
        raise PermissionDenied(gettext("Only finance downloads bank files."))
    bank_file = selectors.bank_file_for(user, run, file_pk)
    content_type = "application/xml" if bank_file.kind == BankFile.Kind.PAIN001 else "text/csv; charset=utf-8"
    response = HttpResponse(str(bank_file.content).encode(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{bank_file.file_name}"'
    response["Cache-Control"] = "no-store"
    return response


# --- exchange rates and entities (vendor) --------------------------------------------------------------


@login_required
def rate_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _vendor_only(user)
    form = None
    if request.method == "POST":
        if not permissions.can_run_payments(user):
            raise PermissionDenied(gettext("Only finance keeps the exchange-rate table."))
        form = RatesUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                saved = services.exchange_rates_import(stream=form.cleaned_data["file"], actor=user)
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, gettext("%(n)s rate(s) saved.") % {"n": len(saved)})
                return redirect("exchange_rate_list")
    context = {
        "page": _page(request, selectors.rates()),
        "form": form or (RatesUploadForm() if permissions.can_run_payments(user) else None),
        "header": ",".join(rates.HEADER),
    }
    return render(request, "web/payments/rates.html", context, status=400 if form is not None else 200)


def _entities_page(request: HttpRequest, form: EntityForm | None = None, status: int = 200) -> HttpResponse:
    finance = permissions.can_run_payments(_user(request))
    context = {
        "page": _page(request, selectors.entities()),
        "form": form or (EntityForm() if finance else None),
        "assign_form": AssignForm() if finance else None,
    }
    return render(request, "web/payments/entities.html", context, status=status)


@login_required
def entity_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _vendor_only(user)
    if request.method != "POST":
        return _entities_page(request)
    if not permissions.can_run_payments(user):
        raise PermissionDenied(gettext("Only finance sets up paying entities."))
    form = EntityForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            entity = services.paying_entity_create(
                vendor=user.organisation,
                code=data["code"],
                name=data["name"],
                country=data["country"],
                iban=data["iban"],
                bic=data["bic"],
                run_day=data["run_day"],
                tax_invoice_countries=[c for c in data["tax_invoice_countries"].replace(" ", "").split(",") if c],
                actor=user,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request, gettext("%(entity)s can now pay programs: assign them below.") % {"entity": entity.name}
            )
            return redirect("paying_entity_list")
    return _entities_page(request, form, status=400)


@login_required
@require_POST
@not_found_as_404
def entity_assign(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    _vendor_only(user)
    entity = selectors.entity_by_id(pk)
    if not permissions.can_run_payments(user):
        raise PermissionDenied(gettext("Only finance assigns programs to paying entities."))
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose a program."))
        return redirect("paying_entity_list")
    try:
        services.paying_entity_assign(entity=entity, program=form.cleaned_data["program"], actor=user)
    except (Conflict, NotFound) as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            gettext("%(entity)s pays %(program)s.")
            % {"entity": entity.name, "program": form.cleaned_data["program"].name},
        )
    return redirect("paying_entity_list")


urlpatterns = [
    path("payments/", payment_list, name="payment_list"),
    path("payments/statement.csv", payment_statement_csv, name="payment_statement_csv"),
    path("payments/<int:pk>/", payment_detail, name="payment_detail"),
    path("payments/<int:pk>/remittance.pdf", payment_remittance, name="payment_remittance"),
    path("payments/<int:pk>/tax-invoice/", payment_tax_invoice, name="payment_tax_invoice"),
    path("payments/<int:pk>/dispute/", payment_dispute, name="payment_dispute"),
    path("payments/<int:pk>/<slug:action>/", payment_action, name="payment_action"),
    path("payments/disputes/<int:pk>/resolve/", payment_dispute_resolve, name="payment_dispute_resolve"),
    path("payments/runs/", run_list, name="payment_run_list"),
    path("payments/runs/<int:pk>/", run_detail, name="payment_run_detail"),
    path("payments/runs/<int:pk>/files/<int:file_pk>/", run_file, name="payment_run_file"),
    path("payments/runs/<int:pk>/<slug:action>/", run_action, name="payment_run_action"),
    path("payments/rates/", rate_list, name="exchange_rate_list"),
    path("payments/entities/", entity_list, name="paying_entity_list"),
    path("payments/entities/<int:pk>/programs/", entity_assign, name="paying_entity_assign"),
]
