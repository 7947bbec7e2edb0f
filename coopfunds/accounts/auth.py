"""Sign-in by email, whatever its capitals: accounts store emails in lower case, and so do the lockout counters
(otherwise an attacker could dodge the lockout by varying capitals)."""

from typing import Any

from django.http import HttpRequest

CREDENTIAL_NAMES = ("email", "login", "username")  # django-allauth's, its form's, Django's


def normalise_email(value: Any) -> str:
    return str(value or "").strip().lower()


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The name django-axes counts failures under."""
    for name in CREDENTIAL_NAMES:
        if credentials and credentials.get(name):
            return normalise_email(credentials[name])
    posted = getattr(request, "POST", {})
    return normalise_email(next((posted.get(name) for name in CREDENTIAL_NAMES if posted.get(name)), ""))
