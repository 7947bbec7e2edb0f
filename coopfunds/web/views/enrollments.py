"""Web pages for enrollments, payout and tax profiles, and the vendor's validation queues.

Forms only parse; the services decide (and check rights). Rows the viewer may not see are 404; actions the
viewer may not take on rows they see are 403. Bank details appear unmasked only for the location's own
incentives admins.
"""

from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_countries import countries

from coopfunds.accounts.models import Location, User
from coopfunds.accounts.permissions import is_vendor_staff
from coopfunds.accounts.selectors import location_for, locations_visible_to
from coopfunds.core.errors import Conflict, NotFound
from coopfunds.enrollments import permissions, selectors, services
from coopfunds.enrollments.models import ENDED, Enrollment, EnrollmentStatus, PayoutMethod, PayoutProfile, TaxProfile
from coopfunds.enrollments.requirements import current_payout_profile, current_tax_profile
from coopfunds.programs.models import Program
from coopfunds.web.views.common import add_errors, not_found_as_404

PAGE_SIZE = 25


def country_choices() -> list[tuple[str, str]]:
    """The countries by name in the active language (a form field calls it each time it is shown)."""
    return [("", gettext("Choose a country")), *((code, name) for code, name in countries)]


def _user(request: HttpRequest) -> User:
    """The signed-in user (every view here is behind login_required)."""
    return cast(User, request.user)


def _page(request: HttpRequest, items: QuerySet[Any], size: int = PAGE_SIZE) -> Page:
    return Paginator(items, size).get_page(request.GET.get("page"))


def _prefix(**params: Any) -> str:
    """The pager's query string before `page=`: the filters, so paging keeps them."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return urlencode(kept) + "&" if kept else ""


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(default)


def _attempt(request: HttpRequest, action: Callable[[], object], success: str) -> bool:
    """Run a service for a button: success or the reason it could not, as a message. PermissionDenied
    propagates (403)."""
    try:
        action()
    except (ValidationError, Conflict) as error:
        text = error.message if isinstance(error, Conflict) else " ".join(error.messages)
        messages.error(request, text)
        return False
    messages.success(request, success)
    return True


# --- forms ---------------------------------------------------------------------------------------------


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        choices=[("", gettext_lazy("Any status")), *EnrollmentStatus.choices],
        required=False,
    )
    program = forms.ModelChoiceField(
        label=gettext_lazy("Program"),
        queryset=Program.objects.none(),
        required=False,
        empty_label=gettext_lazy("Any program"),
    )

    def __init__(self, *args: Any, programs: QuerySet[Program], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]


class InviteForm(forms.Form):
    location = forms.ModelChoiceField(
        label=gettext_lazy("Location"),
        queryset=Location.objects.none(),
        help_text=gettext_lazy("The partner location to invite."),
    )
    program = forms.ModelChoiceField(label=gettext_lazy("Program"), queryset=Program.objects.all())

    def __init__(self, *args: Any, locations: QuerySet[Location], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations  # type: ignore[attr-defined]


class SetStatusForm(forms.Form):
    status = forms.CharField(
        label=gettext_lazy("New status"),
        widget=forms.Select(choices=[(s.value, s.label) for s in EnrollmentStatus if s in ENDED]),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("The partner sees this reason."),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("What must the partner fix?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("The partner sees this, word for word."),
    )


class PayoutProfileForm(forms.Form):
    method = forms.ChoiceField(label=gettext_lazy("Payout method"), choices=PayoutMethod.choices)
    currency = forms.CharField(
        label=gettext_lazy("Currency"),
        max_length=3,
        help_text=gettext_lazy("ISO 4217 code of the account's currency, e.g. EUR, USD, GBP (SEPA: EUR)."),
    )
    beneficiary_name = forms.CharField(label=gettext_lazy("Account holder"), required=False, max_length=200)
    bank_name = forms.CharField(label=gettext_lazy("Bank name"), required=False, max_length=200)
    bank_country = forms.ChoiceField(label=gettext_lazy("Bank country"), choices=country_choices, required=False)
    iban = forms.CharField(
        label=gettext_lazy("IBAN"), required=False, max_length=60, help_text=gettext_lazy("Required for SEPA.")
    )
    bic = forms.CharField(
        label=gettext_lazy("BIC (SWIFT code)"),
        required=False,
        max_length=20,
        help_text=gettext_lazy("Required for wires."),
    )
    account_number = forms.CharField(
        label=gettext_lazy("Account number"),
        required=False,
        max_length=60,
        help_text=gettext_lazy("For local transfers, or wires where banks use no IBAN."),
    )
    routing_code = forms.CharField(label=gettext_lazy("Routing, sort or bank code"), required=False, max_length=30)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("iban", "bic", "account_number", "routing_code"):
            self.fields[name].widget.attrs.update(autocomplete="off", spellcheck="false")


class TaxProfileForm(forms.Form):
    country = forms.ChoiceField(label=gettext_lazy("Country"), choices=country_choices, required=False)
    tax_id = forms.CharField(label=gettext_lazy("Tax ID"), required=False, max_length=60)
    legal_name = forms.CharField(label=gettext_lazy("Legal name"), required=False, max_length=250)
    expires_on = forms.DateField(
        label=gettext_lazy("Registration expires on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    document = forms.FileField(
        label=gettext_lazy("Registration certificate"),
        required=False,
        help_text=gettext_lazy("Optional: PDF, PNG or JPEG, at most 10 MB."),
    )


# --- enrollments ---------------------------------------------------------------------------------------


@login_required
def enrollment_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = FilterForm(request.GET or None, programs=selectors.programs_for_filter(user))
    items = selectors.enrollments_visible_to(user).order_by("program__name", "location__name", "id")
    status, program = "", None
    if form.is_valid():
        status, program = form.cleaned_data["status"], form.cleaned_data["program"]
        if status:
            items = items.filter(status=status)
        if program:
            items = items.filter(program=program)
    context = {
        "form": form,
        "page": _page(request, items),
        "querystring_prefix": _prefix(status=status, program=program.pk if program else ""),
        "can_invite": permissions.can_invite_somewhere(user),
    }
    template = "web/enrollments/list.html"
    htmx = getattr(request, "htmx", None)
    partial = bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]
    return render(request, template + "#results" if partial else template, context)


HISTORY_WORDS = {
    "enrollment.invite": gettext_lazy("Invited"),
    "enrollment.accept": gettext_lazy("Invitation accepted"),
    "enrollment.reevaluate": gettext_lazy("Requirements checked again"),
    "enrollment.approve": gettext_lazy("Approved: enrolled"),
    "enrollment.set_status": gettext_lazy("Status changed"),
    "enrollment.reactivate": gettext_lazy("Reactivated"),
}


def _detail(request: HttpRequest, enrollment: Enrollment, set_status_form: SetStatusForm | None = None) -> HttpResponse:
    user = _user(request)
    payout, tax = current_payout_profile(enrollment.location), current_tax_profile(enrollment.location)
    actions = permissions.enrollment_actions(user, enrollment)
    history = _page(request, selectors.enrollment_history(enrollment), size=20)
    for event in history.object_list:
        event.what = HISTORY_WORDS.get(event.verb, event.verb)
    return render(
        request,
        "web/enrollments/detail.html",
        {
            "enrollment": enrollment,
            "actions": actions,
            "payout": payout,
            "tax": tax,
            "history": history,
            "set_status_form": set_status_form or SetStatusForm(),
            "is_partner_admin": permissions.can_manage_profiles(user, enrollment.location),
        },
    )


@login_required
@not_found_as_404
def enrollment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, selectors.enrollment_for(_user(request), pk))


@login_required
def enrollment_invite(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not permissions.can_invite_somewhere(user):
        raise PermissionDenied(gettext("Only program managers invite locations."))
    form = InviteForm(request.POST or None, initial=request.GET.dict(), locations=locations_visible_to(user))
    if request.method == "POST" and form.is_valid():
        try:
            enrollment = services.enrollment_invite(
                location=form.cleaned_data["location"], program=form.cleaned_data["program"], actor=user
            )
        except ValidationError as error:
            add_errors(form, error)
        except PermissionDenied as error:
            form.add_error("program", str(error))
        else:
            messages.success(
                request,
                gettext("Invited %(location)s to %(program)s.")
                % {"location": enrollment.location, "program": enrollment.program.name},
            )
            return redirect("enrollment_detail", pk=enrollment.pk)
    return render(request, "web/enrollments/invite.html", {"form": form})


def _enrollment_action(verb: str, success: str | Promise) -> Callable[[HttpRequest, int], HttpResponse]:
    service = getattr(services, f"enrollment_{verb}")

    @login_required
    @require_POST
    @not_found_as_404
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        enrollment = selectors.enrollment_for(_user(request), pk)
        _attempt(request, lambda: service(enrollment=enrollment, actor=_user(request)), str(success))
        return redirect("enrollment_detail", pk=pk)

    view.__name__ = f"enrollment_{verb}"
    return view


enrollment_accept = _enrollment_action("accept", gettext_lazy("Invitation accepted."))
enrollment_approve = _enrollment_action("approve", gettext_lazy("Enrollment approved: the location is enrolled."))
enrollment_reactivate = _enrollment_action(
    "reactivate", gettext_lazy("Enrollment reactivated: it goes through review again.")
)


@login_required
@require_POST
@not_found_as_404
def enrollment_set_status(request: HttpRequest, pk: int) -> HttpResponse:
    enrollment = selectors.enrollment_for(_user(request), pk)
    form = SetStatusForm(request.POST)
    if form.is_valid():
        try:
            services.enrollment_set_status(
                enrollment=enrollment,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
                actor=_user(request),
            )
        except ValidationError as error:
            add_errors(form, error)
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("enrollment_detail", pk=pk)
        else:
            messages.success(request, gettext("Status changed."))
            return redirect("enrollment_detail", pk=pk)
    return _detail(request, enrollment, form)


# --- payout and tax profiles ---------------------------------------------------------------------------


def _profile_page(
    request: HttpRequest,
    location: Location,
    *,
    kind: str,
    form: forms.Form | None,
    profiles: QuerySet[Any],
) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        f"web/enrollments/{kind}_profile.html",
        {
            "location": location,
            "form": form,
            "page": _page(request, profiles, size=10),
            "show_secrets": permissions.can_see_bank_details(user, location),
            "can_validate": permissions.can_validate_profiles(user),
            "enrollments": selectors.enrollments_visible_to(user).filter(location=location),
        },
    )


def _payout_initial(location: Location) -> dict[str, Any]:
    current = current_payout_profile(location)
    if current is None:
        return {"bank_country": str(location.country), "method": PayoutMethod.SEPA, "currency": "EUR"}
    fields = ["method", "currency", "beneficiary_name", "bank_name", "iban", "bic", "account_number", "routing_code"]
    return {"bank_country": str(current.bank_country), **{name: str(getattr(current, name)) for name in fields}}


@login_required
@never_cache  # it may carry bank details: no browser or proxy keeps a copy
@not_found_as_404
def payout_profile(request: HttpRequest, pk: int) -> HttpResponse:
    """The location's payout profile: current and past ones (masked unless the viewer is its admin), and for
    its incentives admins the form to submit a new one."""
    user = _user(request)
    location = location_for(user, pk)
    form = None
    if permissions.can_manage_profiles(user, location):
        form = PayoutProfileForm(request.POST or None, initial=_payout_initial(location))
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(gettext("Only an incentives admin of this location can change its payout profile."))
        if form.is_valid():
            try:
                services.payout_profile_submit(location=location, actor=user, **form.cleaned_data)
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, gettext("Payout profile submitted; the vendor validates it next."))
                return redirect("payout_profile", pk=location.pk)
    return _profile_page(request, location, kind="payout", form=form, profiles=selectors.payout_profiles_of(location))


@login_required
@not_found_as_404
def tax_profile(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    location = location_for(user, pk)
    form = None
    if permissions.can_manage_profiles(user, location):
        form = TaxProfileForm(request.POST or None, request.FILES or None, initial={"country": str(location.country)})
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(gettext("Only an incentives admin of this location can change its tax profile."))
        if form.is_valid():
            try:
                services.tax_profile_submit(location=location, actor=user, **form.cleaned_data)
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, gettext("Tax profile submitted; the vendor validates it next."))
                return redirect("tax_profile", pk=location.pk)
    return _profile_page(request, location, kind="tax", form=form, profiles=selectors.tax_profiles_of(location))


@login_required
def tax_profile_document(request: HttpRequest, pk: int) -> HttpResponseBase:
    try:
        profile = selectors.tax_profile_for(_user(request), pk)
    except NotFound:
        raise Http404("Not found") from None
    if not profile.document:
        raise Http404(gettext("This tax profile has no document."))
    name = (profile.document.name or "certificate").rsplit("/", 1)[-1]
    return FileResponse(profile.document.open("rb"), as_attachment=True, filename=name)


def _profile_for(request: HttpRequest, kind: str, pk: int) -> PayoutProfile | TaxProfile:
    if kind == "payout":
        return selectors.payout_profile_for(_user(request), pk)
    return selectors.tax_profile_for(_user(request), pk)


@login_required
@require_POST
@not_found_as_404
def profile_approve(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    profile = _profile_for(request, kind, pk)
    approved = (
        gettext("Payout profile approved.") if isinstance(profile, PayoutProfile) else gettext("Tax profile approved.")
    )
    _attempt(request, lambda: services.profile_approve(profile=profile, actor=_user(request)), approved)
    return _back(request, reverse(f"{kind}_profile", args=[profile.location_id]))


@login_required
@not_found_as_404
def profile_request_action(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    profile = _profile_for(request, kind, pk)
    if not permissions.can_validate_profiles(_user(request)):
        raise PermissionDenied(gettext("Only a reviewer or program manager validates profiles."))
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_request_action(profile=profile, reason=form.cleaned_data["reason"], actor=_user(request))
        except ValidationError as error:
            add_errors(form, error)
        except Conflict as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                gettext("Payout profile: the partner was asked to act.")
                if isinstance(profile, PayoutProfile)
                else gettext("Tax profile: the partner was asked to act."),
            )
            return _back(request, reverse("validation_queue") + f"?queue={kind}")
    return render(
        request,
        "web/enrollments/request_action.html",
        {"profile": profile, "kind": kind, "form": form, "next": request.GET.get("next", "")},
    )


# --- the vendor's validation queues --------------------------------------------------------------------

QUEUES = {
    "enrollments": (gettext_lazy("Enrollments to review"), selectors.enrollments_reviewing),
    "payout": (gettext_lazy("Payout profiles to validate"), lambda user: selectors.payout_profiles_pending()),
    "tax": (gettext_lazy("Tax profiles to validate"), lambda user: selectors.tax_profiles_pending()),
}


@login_required
def validation_queue(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not is_vendor_staff(user):
        raise Http404("Not found")
    queue = request.GET.get("queue", "enrollments")
    if queue not in QUEUES:
        queue = "enrollments"
    title, items = QUEUES[queue]
    return render(
        request,
        "web/enrollments/validation.html",
        {
            "queue": queue,
            "title": title,
            "queues": [(key, label) for key, (label, _) in QUEUES.items()],
            "page": _page(request, items(user)),
            "querystring_prefix": _prefix(queue=queue),
            "can_validate": permissions.can_validate_profiles(user),
            "here": request.get_full_path(),
        },
    )


urlpatterns = [
    path("enrollments/", enrollment_list, name="enrollment_list"),
    path("enrollments/invite/", enrollment_invite, name="enrollment_invite"),
    path("enrollments/<int:pk>/", enrollment_detail, name="enrollment_detail"),
    path("enrollments/<int:pk>/accept/", enrollment_accept, name="enrollment_accept"),
    path("enrollments/<int:pk>/approve/", enrollment_approve, name="enrollment_approve"),
    path("enrollments/<int:pk>/status/", enrollment_set_status, name="enrollment_set_status"),
    path("enrollments/<int:pk>/reactivate/", enrollment_reactivate, name="enrollment_reactivate"),
    path("locations/<int:pk>/payout-profile/", payout_profile, name="payout_profile"),
    path("locations/<int:pk>/tax-profile/", tax_profile, name="tax_profile"),
    path("tax-profiles/<int:pk>/document/", tax_profile_document, name="tax_profile_document"),
    path("payout-profiles/<int:pk>/approve/", profile_approve, {"kind": "payout"}, name="payout_profile_approve"),
    path(
        "payout-profiles/<int:pk>/request-action/",
        profile_request_action,
        {"kind": "payout"},
        name="payout_profile_request_action",
    ),
    path("tax-profiles/<int:pk>/approve/", profile_approve, {"kind": "tax"}, name="tax_profile_approve"),
    path(
        "tax-profiles/<int:pk>/request-action/",
        profile_request_action,
        {"kind": "tax"},
        name="tax_profile_request_action",
    ),
    path("validation/", validation_queue, name="validation_queue"),
]
