"""Helpers of the web pages' authorisation tests."""

from collections.abc import Callable
from typing import Any

from django.test import Client


def post_as(client: Client, url: str, data: dict[str, Any], persona: str, code: int, state: Callable[[], Any]) -> None:
    """POST as `persona` and expect `code`: the anonymous are sent to sign in, and whatever is not a success
    (a redirect after the change) leaves `state()` exactly as it was."""
    before = state()
    response = client.post(url, data)
    assert response.status_code == code
    if persona == "anonymous":
        assert response["Location"].startswith("/login/?next=")
    if code != 302 or persona == "anonymous":
        assert state() == before
