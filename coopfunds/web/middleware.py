"""A signed-in person's chosen language (`PreferredLanguage`) and their organisation's sign-in rules
(`SignInRules`)."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _


class PreferredLanguage:
    """A signed-in person's chosen language (User.language) wins over what LocaleMiddleware took from the language
    cookie or the browser's Accept-Language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = getattr(request.user, "language", "") if request.user.is_authenticated else ""
        if chosen:
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        return self.get_response(request)


def has_authenticator(user: Any) -> bool:
    """An authenticator app or security key (recovery codes alone are no second step)."""
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user).exclude(type=Authenticator.Type.RECOVERY_CODES).exists()


class SignInRules:
    """An organisation's sign-in rules (`accounts.sso`) hold for sessions already open too: a session signed in
    with a password ends once single sign-on is required, and someone who signed in with a password whose
    organisation requires multi-factor sign-in is sent to add an authenticator before anything else. API tokens
    are not sessions: they keep working."""

    OPEN = frozenset({"logout", "account_logout", "account_reauthenticate", "language_set"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> HttpResponse | None:
        name = (request.resolver_match.url_name if request.resolver_match else "") or ""
        if name in self.OPEN or not request.user.is_authenticated:
            return None
        user: Any = request.user
        organisation = user.organisation
        used = request.session.get("account_authentication_methods", [])
        by_provider = any(m.get("method") == "socialaccount" for m in used)
        if organisation.sso_required and not by_provider:
            logout(request)
            messages.info(
                request,
                _("%(organisation)s now signs you in through its identity provider.")
                % {"organisation": organisation.name},
            )
            return redirect("login")
        # A sign-in through an identity provider took the provider's own second step (its policy, e.g. Entra ID's
        # conditional access); a password sign-in takes ours.
        if (
            organisation.mfa_required
            and not by_provider
            and not name.startswith("mfa_")
            and not has_authenticator(user)
        ):
            messages.info(
                request,
                _(
                    "%(organisation)s asks everyone to sign in with a second step. Add an authenticator app or a "
                    "security key to go on."
                )
                % {"organisation": organisation.name},
            )
            return redirect("mfa_index")
        return None
