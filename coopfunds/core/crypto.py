"""Encryption at rest for secrets such as bank details (Fernet; the first configured key encrypts, every
configured key decrypts, so keys can be rotated)."""

from functools import cache
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.db import models


@cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.FIELD_ENCRYPTION_KEYS])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def mask(value: str, visible: int = 4) -> str:
    """'DE89370400440532013000' -> '•••• 3000'. Empty stays empty."""
    if not value:
        return ""
    return "•••• " + value[-visible:] if len(value) > visible else "••••"


class Secret(str):
    """A decrypted value whose repr never shows it (so it stays out of logs and tracebacks)."""

    def __repr__(self) -> str:
        return "Secret('••••')"


class EncryptedTextField(models.TextField):
    """Stores a Fernet token; the Python value is the plain text (a `Secret`). Not searchable."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Secret | None:
        if value is None or value == "":
            return Secret("") if value == "" else None
        return Secret(decrypt(value))

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        value = str(value)
        return encrypt(value) if value else ""
