"""Shared set-up for the enrollments tests: fast password hashing and media in a temporary folder."""

import pytest


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
