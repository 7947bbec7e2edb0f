"""Sign-in by email, whatever its capitals: accounts store emails in lower case, and so do the lockout counters
(otherwise an attacker could dodge the lockout by varying capitals)."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest


def normalise_email(value: Any) -> str:
    return str(value or "").strip().lower()


class EmailBackend(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        return super().authenticate(request, username=normalise_email(username), password=password, **kwargs)


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The name django-axes counts failures under."""
    if credentials and credentials.get("username"):
        return normalise_email(credentials["username"])
    return normalise_email(getattr(request, "POST", {}).get("username"))
