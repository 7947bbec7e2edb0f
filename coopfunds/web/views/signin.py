"""Pages of signing in: the sign-in page with its identity providers, an organisation's sign-in rules and its
identity providers. The second step (authenticators) is django-allauth's pages, in our frame (ADR 0014)."""

from typing import Any

from allauth.account.views import LoginView
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coopfunds.accounts import permissions, sso
from coopfunds.accounts.models import IdentityProvider, Organisation, Protocol
from coopfunds.web.signin import provider_links
from coopfunds.web.views.common import add_errors, not_found_as_404

PAGE_SIZE = 25


class SignInView(LoginView):  # type: ignore[misc]
    """Email and password, and the vendor's identity providers (a partner organisation's providers have a sign-in
    page of their own, `sso_start`, which the organisation gives its people)."""

    template_name = "account/login.html"

    def get_form(self, form_class: Any = None) -> Any:
        form = super().get_form(form_class)
        form.fields["password"].help_text = ""  # allauth's "Forgot your password?": the page has its own link
        return form

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        vendor = [p for p in sso.providers_active() if p.organisation.is_vendor]
        return context | {"providers": provider_links(vendor)}


@require_GET
def sso_start(request: HttpRequest, key: str) -> HttpResponse:
    provider = sso.provider_of(key)
    if provider is None:
        raise Http404("No such identity provider")
    return render(request, "account/sso_start.html", {"provider": provider, "providers": provider_links([provider])})


def not_offered(request: HttpRequest, key: str) -> HttpResponse:
    raise Http404("Not offered")


def no_signup(request: HttpRequest) -> HttpResponse:
    """Where allauth would ask a newcomer to fill in a form: nobody signs up here."""
    return render(
        request,
        "account/sign_in_refused.html",
        {
            "reason": _(
                "Your identity provider signed you in, but no account could be made for you. Ask an "
                "administrator of your organisation to invite you."
            )
        },
        status=403,
    )


# ---------------------------------------------------------------------------------------------- settings


class RulesForm(forms.Form):
    sso_required = forms.BooleanField(
        label=gettext_lazy("Require single sign-on"),
        required=False,
        help_text=gettext_lazy("People sign in only through one of the organisation's identity providers."),
    )
    mfa_required = forms.BooleanField(
        label=gettext_lazy("Require multi-factor sign-in"),
        required=False,
        help_text=gettext_lazy("People must add an authenticator app or a security key before they go on."),
    )


class ProviderForm(forms.Form):
    protocol = forms.ChoiceField(label=gettext_lazy("Protocol"), choices=Protocol.choices)
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=sso.NAME_MAX,
        help_text=IdentityProvider._meta.get_field("name").help_text,
    )
    key = forms.CharField(
        label=gettext_lazy("Key"), max_length=sso.KEY_MAX, help_text=IdentityProvider._meta.get_field("key").help_text
    )
    url = forms.CharField(label=gettext_lazy("Address"), help_text=IdentityProvider._meta.get_field("url").help_text)
    client_id = forms.CharField(
        label=gettext_lazy("Client ID or entity ID"),
        required=False,
        help_text=gettext_lazy("OpenID Connect: the client ID. SAML: the identity provider's entity ID."),
    )
    secret = forms.CharField(
        label=gettext_lazy("Client secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=gettext_lazy("OpenID Connect only. Left empty when changing a provider: the secret is kept."),
    )
    creates_accounts = forms.BooleanField(
        label=gettext_lazy("Create accounts on first sign-in"),
        required=False,
        help_text=IdentityProvider._meta.get_field("creates_accounts").help_text,
    )
    domains = forms.CharField(
        label=gettext_lazy("Email domains"),
        required=False,
        help_text=IdentityProvider._meta.get_field("domains").help_text,
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def organisation_sign_in(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    organisation = sso.organisation_ruled_by(user, pk)
    form = RulesForm(
        request.POST or None,
        initial={"sso_required": organisation.sso_required, "mfa_required": organisation.mfa_required},
    )
    if request.method == "POST" and form.is_valid():
        try:
            sso.sign_in_rules_set(organisation=organisation, actor=user, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The sign-in rules of %(name)s are saved.") % {"name": organisation.name})
            return redirect("organisation_sign_in", pk=organisation.pk)
    configured = [p for p in sso.providers_configured() if p.organisation_id == organisation.pk]
    kept = IdentityProvider.objects.filter(organisation=organisation)
    return render(
        request,
        "web/accounts/sign_in.html",
        {
            "organisation": organisation,
            "form": form,
            "providers": [
                {"provider": p, "sign_in_page": request.build_absolute_uri(reverse("sso_start", args=[p.key]))}
                for p in [*configured, *kept]
            ],
            "can_manage_providers": permissions.can_manage_partners(user),
        },
    )


@login_required
@require_GET
def provider_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if not permissions.can_manage_partners(user):
        raise PermissionDenied(_("Only a program manager can see every identity provider."))
    page = Paginator(IdentityProvider.objects.select_related("organisation"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    vendor = Organisation.objects.filter(kind=Organisation.Kind.VENDOR).order_by("id").first()
    return render(
        request,
        "web/accounts/provider_list.html",
        {"page": page, "configured": sso.providers_configured(), "vendor": vendor},
    )


def _provider_values(form: ProviderForm) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in form.fields if name in form.cleaned_data}


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def provider_create(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    organisation = sso.organisation_ruled_by(user, pk)
    if not permissions.can_manage_partners(user):
        raise PermissionDenied(_("Only a program manager can add identity providers."))
    form = ProviderForm(request.POST or None)
    del form.fields["is_active"]
    if request.method == "POST" and form.is_valid():
        try:
            provider = sso.identity_provider_create(organisation=organisation, actor=user, **_provider_values(form))
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("%(name)s is added.") % {"name": provider.name})
            return redirect("organisation_sign_in", pk=organisation.pk)
    return render(
        request,
        "web/accounts/provider_form.html",
        {"form": form, "organisation": organisation, "title": _("Add an identity provider"), "submit": _("Add")},
    )


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def provider_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    provider = sso.identity_provider_for(user, pk)
    initial = {name: getattr(provider, name) for name in ProviderForm.base_fields if name != "secret"}
    form = ProviderForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            sso.identity_provider_update(provider=provider, values=_provider_values(form), actor=user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": form.cleaned_data["name"]})
            return redirect("organisation_sign_in", pk=provider.organisation_id)
    return render(
        request,
        "web/accounts/provider_form.html",
        {
            "form": form,
            "organisation": provider.organisation,
            "provider": provider,
            "title": _("Change %(name)s") % {"name": provider.name},
            "submit": _("Save"),
        },
    )


@login_required
@require_POST
@not_found_as_404
def provider_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    provider = sso.identity_provider_for(user, pk)
    organisation_id = provider.organisation_id
    sso.identity_provider_delete(provider=provider, actor=user)
    messages.success(
        request, _("%(name)s is removed; the people it signed in keep their accounts.") % {"name": provider.name}
    )
    return redirect("organisation_sign_in", pk=organisation_id)


urlpatterns = [
    path("login/sso/<slug:key>/", sso_start, name="sso_start"),
    path("organisations/<int:pk>/sign-in/", organisation_sign_in, name="organisation_sign_in"),
    path("organisations/<int:pk>/identity-providers/new/", provider_create, name="provider_create"),
    path("identity-providers/", provider_list, name="provider_list"),
    path("identity-providers/<int:pk>/", provider_edit, name="provider_edit"),
    path("identity-providers/<int:pk>/delete/", provider_delete, name="provider_delete"),
]
