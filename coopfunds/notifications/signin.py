"""What is recorded and told when someone signs in, fails to, is locked out, or changes their authenticators
(django-allauth's, django-axes' and Django's signals): a row of the audit log each time (`accounts.sso`), and a
notice to the person, always emailed, when an authenticator is added to or removed from their account."""

from typing import Any

from allauth.account.signals import user_logged_in
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authentication_failed, authenticator_added, authenticator_removed
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy, pgettext_lazy

from coopfunds.accounts import sso
from coopfunds.accounts.auth import normalise_email
from coopfunds.accounts.models import User
from coopfunds.core.i18n import moment_lazy
from coopfunds.notifications.services import notify_security

AUTHENTICATOR_NAMES = {
    Authenticator.Type.TOTP: pgettext_lazy("sign-in method", "an authenticator app"),
    Authenticator.Type.WEBAUTHN: pgettext_lazy("sign-in method", "a security key or passkey"),
    Authenticator.Type.RECOVERY_CODES: pgettext_lazy("sign-in method", "recovery codes"),
}


def _methods(request: HttpRequest) -> dict[str, tuple[Any, Any]]:
    used = request.session.get("account_authentication_methods", []) if hasattr(request, "session") else []
    changes: dict[str, tuple[Any, Any]] = {}
    for method in used:
        if method.get("method") == "password":
            changes["method"] = (None, "password")
        elif method.get("method") == "socialaccount":
            changes["method"] = (None, "sso")
            changes["provider"] = (None, method.get("provider", ""))
        elif method.get("method") == "mfa":
            changes["mfa"] = (None, method.get("type", ""))
    return changes


@receiver(user_logged_in, dispatch_uid="coopfunds.signed_in")
def signed_in(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    sso.sign_in_audit(verb=sso.SIGNED_IN, user=user, actor=user, changes=_methods(request))


@receiver(user_login_failed, dispatch_uid="coopfunds.sign_in_failed")
def sign_in_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    email = normalise_email(credentials.get("email") or credentials.get("username") or credentials.get("login"))
    user = User.objects.filter(email=email).select_related("organisation").first() if email else None
    locked = getattr(request, "axes_locked_out", False)  # this attempt locked the pair, or found it locked
    reason = sso.REFUSALS["locked_out" if locked else "password"]
    sso.sign_in_audit(verb=sso.SIGN_IN_FAILED, user=user, email=email, reason=reason)


@receiver(user_locked_out, dispatch_uid="coopfunds.locked_out")
def locked_out(sender: Any, request: HttpRequest, username: str, ip_address: str, **kwargs: Any) -> None:
    email = normalise_email(username)
    user = User.objects.filter(email=email).select_related("organisation").first() if email else None
    sso.sign_in_audit(verb=sso.LOCKED_OUT, user=user, email=email, changes={"address": (None, ip_address)})


@receiver(authentication_failed, dispatch_uid="coopfunds.mfa_failed")
def mfa_failed(sender: Any, request: HttpRequest, user: User, authenticator: Any = None, **kwargs: Any) -> None:
    kind = authenticator.type if authenticator is not None else ""
    sso.sign_in_audit(verb=sso.MFA_FAILED, user=user, changes={"type": (None, kind)})


# What the person is told of a change of their authenticators: (audit verb, subject, body).
CHANGES = {
    "added": (
        sso.MFA_ADDED,
        gettext_lazy("A sign-in method was added to your account"),
        gettext_lazy(
            "{method} was added to your Coopfunds account on {when}. If you did not add it, remove it on your "
            "sign-in security page and change your password at once."
        ),
    ),
    "removed": (
        sso.MFA_REMOVED,
        gettext_lazy("A sign-in method was removed from your account"),
        gettext_lazy(
            "{method} was removed from your Coopfunds account on {when}. If you did not expect this, tell your "
            "administrator at once."
        ),
    ),
}


def _changed(change: str, user: User, authenticator: Authenticator, actor: User) -> None:
    verb, subject, body = CHANGES[change]
    kind = authenticator.type
    with transaction.atomic():
        changes = {"type": (None, kind) if change == "added" else (kind, None)}
        sso.sign_in_audit(verb=verb, user=user, actor=actor, changes=changes)
        if kind == Authenticator.Type.RECOVERY_CODES:
            return  # they come and go with the first and last authenticator, which have their own notice
        notify_security(
            user=user,
            subject=subject,
            body=format_lazy(
                body,
                method=AUTHENTICATOR_NAMES.get(kind, kind),
                when=moment_lazy(timezone.localtime()),
            ),
            link=reverse("mfa_index"),
        )


@receiver(authenticator_added, dispatch_uid="coopfunds.mfa_added")
def mfa_added(sender: Any, request: HttpRequest, user: User, authenticator: Authenticator, **kwargs: Any) -> None:
    _changed("added", user, authenticator, user)


@receiver(authenticator_removed, dispatch_uid="coopfunds.mfa_removed")
def mfa_removed(
    sender: Any, request: HttpRequest | None, user: User, authenticator: Authenticator, **kwargs: Any
) -> None:
    """Removed by the person (their sign-in security page), or by an administrator (`sso.mfa_reset`: `actor`)."""
    _changed("removed", user, authenticator, kwargs.get("actor") or user)
