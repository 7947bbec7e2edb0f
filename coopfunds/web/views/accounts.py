"""Web pages for partners, locations, people, roles and API tokens. Forms parse input; services decide."""

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_countries import countries

from coopfunds.accounts import permissions, selectors, services, sso
from coopfunds.accounts.models import PARTNER_ROLES, VENDOR_ROLES, Location, Organisation, Role, User
from coopfunds.core.errors import Conflict, NotFound
from coopfunds.programs.models import Program
from coopfunds.programs.selectors import programs_visible_to
from coopfunds.web.views.common import add_errors, not_found_as_404

PAGE_SIZE = 25
NEW_TOKEN_KEY = "accounts.new_api_token"  # noqa: S105 (a session key, not a secret)


# ---------------------------------------------------------------------------------------------- helpers


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # every view is @login_required


def _paged(request: HttpRequest, qs: QuerySet[Any], **filters: str) -> dict[str, Any]:
    """A page of `qs` and the query string that keeps the filters on the pager's links."""
    kept = {k: v for k, v in filters.items() if v}
    return {
        "page": Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page")),
        "querystring_prefix": urlencode(kept) + "&" if kept else "",
        **filters,
    }


def _list_page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """A list page; an htmx search (the live search box) gets only the results partial."""
    if request.headers.get("HX-Request") == "true":
        template += "#results"
    return render(request, template, context)


def _partner(user: User, pk: int) -> Organisation:
    organisation = selectors.organisation_for(user, pk)
    if organisation.kind != Organisation.Kind.PARTNER:
        raise NotFound(_("No such partner."))
    return organisation


# ---------------------------------------------------------------------------------------------- forms


class NameForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), required=False)


class LocationForm(forms.Form):
    partner_id = forms.CharField(
        label=gettext_lazy("Partner ID"), required=False, help_text=gettext_lazy("Letters, digits and hyphens.")
    )
    name = forms.CharField(label=gettext_lazy("Name"), required=False)
    country = forms.ChoiceField(label=gettext_lazy("Country"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        country: Any = self.fields["country"]
        country.choices = [("", _("Choose a country")), *countries]


class RoleForm(forms.Form):
    """A role for a person of `organisation`, among those `actor` may give."""

    role = forms.ChoiceField(label=gettext_lazy("Role"))
    location = forms.ModelChoiceField(label=gettext_lazy("Location"), queryset=Location.objects.none(), required=False)
    program = forms.ModelChoiceField(
        label=gettext_lazy("Program"),
        queryset=Program.objects.none(),
        required=False,
        empty_label=gettext_lazy("All programs"),
    )

    def __init__(self, *args: Any, actor: User, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fitting = VENDOR_ROLES if organisation.is_vendor else PARTNER_ROLES
        role: Any = self.fields["role"]
        role.choices = [(r.value, r.label) for r in permissions.grantable_roles(actor) if r in fitting]
        if organisation.is_vendor:
            del self.fields["location"]
        else:
            location: Any = self.fields["location"]
            location.queryset = selectors.locations_administered_by(actor, organisation)
            location.empty_label = _("Choose a location")
        program: Any = self.fields["program"]
        program.queryset = programs_visible_to(actor).order_by("name", "id")

    @property
    def has_roles(self) -> bool:
        return bool(self.fields["role"].widget.choices)

    def grant_args(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"role": Role(data["role"]), "location": data.get("location"), "program": data.get("program")}


class InviteForm(RoleForm):
    email = forms.CharField(label=gettext_lazy("Email"), required=False, widget=forms.EmailInput)
    full_name = forms.CharField(label=gettext_lazy("Full name"), required=False)
    field_order = ["email", "full_name", "role", "location", "program"]


# ---------------------------------------------------------------------------------------------- partners


@login_required
@require_GET
def partner_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    query = request.GET.get("q", "").strip()
    qs = selectors.partners_visible_to(user, query).annotate(location_count=Count("locations")).order_by("name", "id")
    context = _paged(request, qs, q=query) | {"can_create": permissions.can_manage_partners(user)}
    return _list_page(request, "web/accounts/partner_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def partner_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not permissions.can_manage_partners(user):
        raise PermissionDenied(_("Only a program manager can register partner organisations."))
    form = NameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.organisation_create(name=form.cleaned_data["name"], actor=user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request, _("%(name)s is registered. Add its first location.") % {"name": organisation.name}
            )
            return redirect("partner_detail", pk=organisation.pk)
    return render(
        request,
        "web/accounts/form.html",
        {
            "form": form,
            "title": _("Register a partner organisation"),
            "submit": _("Register"),
            "cancel": reverse("partner_list"),
        },
    )


@login_required
@require_GET
@not_found_as_404
def partner_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    organisation = _partner(user, pk)
    locations = selectors.locations_visible_to(user).filter(organisation=organisation)
    return render(
        request,
        "web/accounts/partner_detail.html",
        _paged(request, locations)
        | {
            "organisation": organisation,
            "can_add_location": permissions.can_manage_partners(user),
            "can_invite": permissions.can_invite_to(user, organisation),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def location_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    organisation = _partner(user, pk)
    if not permissions.can_manage_partners(user):
        raise PermissionDenied(_("Only a program manager can add locations."))
    form = LocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            location = services.location_create(organisation=organisation, actor=user, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Location %(location)s added.") % {"location": location})
            return redirect("partner_detail", pk=organisation.pk)
    return render(
        request,
        "web/accounts/form.html",
        {
            "form": form,
            "title": _("Add a location to %(organisation)s") % {"organisation": organisation},
            "submit": _("Add location"),
            "cancel": reverse("partner_detail", args=[organisation.pk]),
        },
    )


def _invite(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    user = _user(request)
    if not permissions.can_invite_to(user, organisation):
        raise PermissionDenied(_("You cannot invite people to this organisation."))
    form = InviteForm(request.POST or None, actor=user, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        try:
            invited = services.user_invite(
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                organisation=organisation,
                actor=user,
                **form.grant_args(),
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invited.email})
            return redirect("user_detail", pk=invited.pk)
    return render(
        request,
        "web/accounts/form.html",
        {
            "form": form,
            "title": _("Invite someone to %(organisation)s") % {"organisation": organisation},
            "submit": _("Send invitation"),
            "cancel": reverse("partner_detail", args=[organisation.pk])
            if organisation.kind == Organisation.Kind.PARTNER and organisation.pk != user.organisation_id
            else reverse("user_list"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def partner_invite(request: HttpRequest, pk: int) -> HttpResponse:
    return _invite(request, _partner(_user(request), pk))


# ---------------------------------------------------------------------------------------------- locations


@login_required
@require_GET
def location_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    qs = selectors.locations_search(selectors.locations_visible_to(_user(request)), query)
    return _list_page(request, "web/accounts/location_list.html", _paged(request, qs, q=query))


@login_required
@require_GET
@not_found_as_404
def location_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    location = selectors.location_for(user, pk)
    people = selectors.users_visible_to(user).filter(role_assignments__location=location).distinct()
    return render(
        request, "web/accounts/location_detail.html", _paged(request, people) | {"location": location, "viewer": user}
    )


# ---------------------------------------------------------------------------------------------- people


@login_required
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    query = request.GET.get("q", "").strip()
    organisation = request.GET.get("organisation", "").strip()
    qs = selectors.users_search(selectors.users_visible_to(user), query)
    if organisation.isdigit():
        qs = qs.filter(organisation_id=int(organisation))
    context = _paged(request, qs, q=query, organisation=organisation)
    context |= {
        "can_invite": permissions.can_invite_to(user, user.organisation),
        "keep": {"organisation": organisation},
    }
    return _list_page(request, "web/accounts/user_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def user_invite(request: HttpRequest) -> HttpResponse:
    return _invite(request, _user(request).organisation)


def _user_page(request: HttpRequest, target: User, grant_form: RoleForm | None = None) -> HttpResponse:
    actor = _user(request)
    may_manage = target.pk != actor.pk and permissions.can_manage_users_of(actor, target.organisation)
    if grant_form is None and may_manage:
        grant_form = RoleForm(actor=actor, organisation=target.organisation)
    if grant_form is not None and not grant_form.has_roles:
        grant_form = None
    grants = [(g, permissions.can_revoke(actor, g)) for g in selectors.role_assignments_of(target)]
    authenticators = sso.authenticators_of(target) if may_manage or target.pk == actor.pk else []
    providers = sso.providers_linked_to(target)
    return render(
        request,
        "web/accounts/user_detail.html",
        {
            "person": target,
            "grants": grants,
            "grant_form": grant_form,
            "can_set_active": permissions.can_set_active(actor, target),
            "can_reinvite": may_manage and target.is_active and target.invitation_pending,
            "authenticators": authenticators,
            "providers": providers,
            "can_reset_mfa": may_manage and bool(authenticators),
        },
    )


@login_required
@require_GET
@not_found_as_404
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _user_page(request, selectors.user_for(_user(request), pk))


@login_required
@require_POST
@not_found_as_404
def user_grant(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _user(request)
    target = selectors.user_for(actor, pk)
    if target.pk == actor.pk or not permissions.can_manage_users_of(actor, target.organisation):
        raise PermissionDenied(_("You cannot manage this person's roles."))
    form = RoleForm(request.POST, actor=actor, organisation=target.organisation)
    if form.is_valid():
        try:
            assignment = services.role_grant(user=target, actor=actor, **form.grant_args())
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("%(email)s is now %(role)s.") % {"email": target.email, "role": assignment})
            return redirect("user_detail", pk=target.pk)
    return _user_page(request, target, form)


@login_required
@require_POST
@not_found_as_404
def user_mfa_reset(request: HttpRequest, pk: int) -> HttpResponse:
    target = selectors.user_for(_user(request), pk)
    try:
        removed = sso.mfa_reset(user=target, actor=_user(request))
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            ngettext(
                "%(count)s authenticator of %(email)s is removed; they add a new one when they next sign in.",
                "%(count)s authenticators of %(email)s are removed; they add a new one when they next sign in.",
                removed,
            )
            % {"count": removed, "email": target.email},
        )
    return redirect("user_detail", pk=target.pk)


@login_required
@require_POST
@not_found_as_404
def role_remove(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = selectors.role_assignment_for(_user(request), pk)
    label = str(assignment)
    target = services.role_revoke(assignment=assignment, actor=_user(request))
    messages.success(request, _("%(email)s no longer holds %(role)s.") % {"email": target.email, "role": label})
    return redirect("user_detail", pk=target.pk)


def _set_active(request: HttpRequest, pk: int, active: bool) -> HttpResponse:
    actor = _user(request)
    target = selectors.user_for(actor, pk)
    try:
        services.user_set_active(user=target, active=active, actor=actor)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            (_("%(email)s is active again.") if active else _("%(email)s is deactivated.")) % {"email": target.email},
        )
    return redirect("user_detail", pk=target.pk)


@login_required
@require_POST
@not_found_as_404
def user_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, active=False)


@login_required
@require_POST
@not_found_as_404
def user_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_active(request, pk, active=True)


@login_required
@require_POST
@not_found_as_404
def user_reinvite(request: HttpRequest, pk: int) -> HttpResponse:
    target = selectors.user_for(_user(request), pk)
    try:
        services.user_resend_invitation(user=target, actor=_user(request))
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("A new invitation is on its way to %(email)s.") % {"email": target.email})
    return redirect("user_detail", pk=target.pk)


# ---------------------------------------------------------------------------------------------- API tokens


@login_required
@never_cache  # the page may show a new token once; no cache may keep it
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = NameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, plain = services.api_token_create(name=form.cleaned_data["name"], actor=user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            request.session[NEW_TOKEN_KEY] = {"name": token.name, "token": plain}
            return redirect("token_list")
    new_token = request.session.pop(NEW_TOKEN_KEY, None) if request.method == "GET" else None
    context = _paged(request, selectors.api_tokens_of(user)) | {"form": form, "new_token": new_token}
    return render(request, "web/accounts/token_list.html", context)


@login_required
@require_POST
@not_found_as_404
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = selectors.api_token_for(_user(request), pk)
    try:
        services.api_token_revoke(token=token, actor=_user(request))
    except Conflict as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("Token %(name)s is revoked; programs using it can no longer sign in.") % {"name": token.name}
        )
    return redirect("token_list")


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The language chooser of every page: remembered in a cookie, and on the person once signed in (their emails
    follow it too); back to the page it was chosen on."""
    language = request.POST.get("language", "")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("home")
    if language not in dict(settings.LANGUAGES):
        messages.error(request, _("Choose one of the languages offered."))
        return redirect(back)
    if request.user.is_authenticated:
        services.user_language_set(user=_user(request), language=language)
    translation.activate(language)
    response = redirect(back)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
    return response


urlpatterns = [
    path("language/", language_set, name="language_set"),
    path("partners/", partner_list, name="partner_list"),
    path("partners/new/", partner_create, name="partner_create"),
    path("partners/<int:pk>/", partner_detail, name="partner_detail"),
    path("partners/<int:pk>/locations/new/", location_create, name="location_create"),
    path("partners/<int:pk>/invite/", partner_invite, name="partner_invite"),
    path("locations/", location_list, name="location_list"),
    path("locations/<int:pk>/", location_detail, name="location_detail"),
    path("users/", user_list, name="user_list"),
    path("users/invite/", user_invite, name="user_invite"),
    path("users/<int:pk>/", user_detail, name="user_detail"),
    path("users/<int:pk>/roles/", user_grant, name="user_grant"),
    path("users/<int:pk>/deactivate/", user_deactivate, name="user_deactivate"),
    path("users/<int:pk>/reactivate/", user_reactivate, name="user_reactivate"),
    path("users/<int:pk>/reinvite/", user_reinvite, name="user_reinvite"),
    path("users/<int:pk>/mfa-reset/", user_mfa_reset, name="user_mfa_reset"),
    path("role-assignments/<int:pk>/remove/", role_remove, name="role_remove"),
    path("tokens/", token_list, name="token_list"),
    path("tokens/<int:pk>/revoke/", token_revoke, name="token_revoke"),
]
