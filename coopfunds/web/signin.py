"""Signing in through django-allauth, by our rules (`accounts.sso`, ADR 0014): the adapters allauth asks. What is
recorded and told of each sign-in is `notifications.signin`."""

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.stagekit import clear_login
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy

from coopfunds.accounts import sso
from coopfunds.accounts.auth import normalise_email
from coopfunds.accounts.models import IdentityProvider, Protocol, User
from coopfunds.accounts.services import partner_org_id
from coopfunds.audit.services import audit_record


def social_app(provider: IdentityProvider) -> SocialApp:
    """The allauth app of one of our providers (never saved: our table is the one record of providers)."""
    if provider.protocol == Protocol.OIDC:
        return SocialApp(
            provider="openid_connect",
            provider_id=provider.key,
            name=provider.name,
            client_id=provider.client_id,
            secret=provider.secret,
            settings={"server_url": provider.url, "oauth_pkce_enabled": True},
        )
    return SocialApp(
        provider="saml",
        provider_id=provider.key,
        name=provider.name,
        client_id=provider.key,
        settings={
            "idp": {"entity_id": provider.client_id, "metadata_url": provider.url},
            "attribute_mapping": SAML_ATTRIBUTES,
            # only an answer whose assertion the provider signed is the provider's
            "advanced": {"want_assertion_signed": True},
        },
    )


# What a SAML provider's attributes are called: the plain names, then those of Entra ID (ADFS) and of the
# standard (urn:oid) schemas. An email counts as verified only where the provider says so (email_verified).
SAML_ATTRIBUTES = {
    "uid": ["urn:oasis:names:tc:SAML:attribute:subject-id"],
    "email": [
        "email",
        "urn:oid:0.9.2342.19200300.100.1.3",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    ],
    "email_verified": ["email_verified", "http://schemas.auth0.com/email_verified"],
    "name": ["name", "displayName", "http://schemas.microsoft.com/identity/claims/displayname"],
    "first_name": ["given_name", "urn:oid:2.5.4.42", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"],
    "last_name": ["family_name", "urn:oid:2.5.4.4", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"],
}


def provider_links(providers: list[IdentityProvider]) -> list[dict[str, str]]:
    """Each provider's name and the address a sign-in through it starts at (a POST)."""
    return [
        {
            "name": p.name,
            "key": p.key,
            "sign_in_url": reverse("saml_login", kwargs={"organization_slug": p.key})
            if p.protocol == Protocol.SAML
            else reverse("openid_connect_login", kwargs={"provider_id": p.key}),
        }
        for p in providers
    ]


def _refuse(request: HttpRequest, reason: str, providers: list[IdentityProvider] | None = None) -> HttpResponse:
    context = {"reason": reason, "providers": provider_links(providers or [])}
    return render(request, "account/sign_in_refused.html", context, status=403)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False  # people are invited (or created by their organisation's provider, below)

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        pass  # django-axes counts wrong passwords (settings.AXES_*); allauth still counts wrong second steps

    def _rollback_login_failed_rl_usage(self) -> None:
        pass

    def pre_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> HttpResponse | None:
        response = super().pre_login(request, user, **kwargs)
        if response is not None:
            return response
        by_provider = (kwargs.get("signal_kwargs") or {}).get("sociallogin") is not None
        if user.organisation.sso_required and not by_provider:
            sso.sign_in_audit(verb=sso.SIGN_IN_FAILED, user=user, reason=sso.REFUSALS["sso_required"])
            clear_login(request)
            own = [p for p in sso.providers_active() if p.organisation_id == user.organisation_id]
            return _refuse(
                request,
                str(gettext_lazy("%(organisation)s signs its people in through its identity provider only."))
                % {"organisation": user.organisation.name},
                own,
            )
        return None


class ProviderAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request: HttpRequest | None, provider: Any = None, client_id: Any = None) -> list[SocialApp]:
        """allauth asks for a provider by its key (OpenID Connect's addresses), or by protocol and client ID
        (SAML's addresses name the key as client ID); a key is never a protocol's name (`sso.RESERVED_KEYS`)."""
        apps = [social_app(p) for p in sso.providers_active()]
        if client_id:
            return [a for a in apps if a.client_id == client_id and provider in (None, a.provider, a.provider_id)]
        return [a for a in apps if provider is None or a.provider_id == provider]

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        key = sociallogin.account.provider
        if sociallogin.state.get("process") != "login":  # "connect" (to the signed-in account) is not offered
            raise ImmediateHttpResponse(_refuse(request, str(gettext_lazy("Sign out first, then sign in here."))))
        provider = sso.provider_of(key)
        email_addresses = [(a.email, bool(a.verified)) for a in sociallogin.email_addresses]
        linked = sociallogin.user if sociallogin.is_existing else None
        if provider is None:
            raise ImmediateHttpResponse(_refuse(request, str(gettext_lazy("This identity provider is not in use."))))
        try:
            match = sso.sso_match(provider=provider, linked=linked, emails=email_addresses)
        except sso.Refused as refused:
            typed = next((email for email, _ in email_addresses), "")
            who = linked or User.objects.filter(email=normalise_email(typed)).first()
            sso.sign_in_audit(
                verb=sso.SIGN_IN_FAILED,
                user=who,
                email=typed,
                changes={"provider": (None, key)},
                reason=refused.code,
            )
            raise ImmediateHttpResponse(_refuse(request, refused.reason)) from None
        if match.user is not None and linked is None:
            with transaction.atomic():
                sociallogin.connect(request, match.user)
                sso.sign_in_audit(
                    verb=sso.SSO_LINKED, user=match.user, actor=match.user, changes={"provider": (None, key)}
                )
        request.coopfunds_sso = (provider, match)  # type: ignore[attr-defined]

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        found = getattr(request, "coopfunds_sso", None)
        return bool(found and found[1].user is None and found[0].creates_accounts)

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: dict[str, Any]) -> Any:
        """The account a first sign-in would make (before it is matched, which may refuse it or find one)."""
        user = super().populate_user(request, sociallogin, data)
        provider = sso.provider_of(sociallogin.account.provider)
        if provider is not None:
            user.organisation = provider.organisation
        user.email = normalise_email(user.email)
        name = data.get("name") or " ".join(filter(None, [data.get("first_name"), data.get("last_name")]))
        user.full_name = str(name or "")[:200]
        return user

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> Any:
        provider, match = request.coopfunds_sso  # type: ignore[attr-defined]
        sociallogin.user.email = match.email  # the verified one
        with transaction.atomic():
            user = super().save_user(request, sociallogin, form)
            audit_record(
                actor=user,
                verb=sso.SSO_CREATED,
                target=user,
                changes={"email": (None, user.email), "provider": (None, provider.key)},
                organisation_id=partner_org_id(user.organisation),
            )
        return user

    def on_authentication_error(
        self, request: HttpRequest, provider: Any, error: Any = None, exception: Any = None, extra_context: Any = None
    ) -> None:
        sso.sign_in_audit(
            verb=sso.SIGN_IN_FAILED,
            user=None,
            changes={"provider": (None, getattr(getattr(provider, "app", None), "provider_id", "") or provider.id)},
            reason=str(error or "error"),
        )
