"""API clients per persona: each signs requests with that persona's own personal API token."""

import pytest
from django.test import Client

from coopfunds.accounts.models import ApiToken
from coopfunds.accounts.selectors import token_digest


@pytest.fixture
def api_as(world):  # type: ignore[no-untyped-def]
    """api_as("reviewer") -> a Client whose requests carry the reviewer's token (anonymous: none)."""

    def make(name: str) -> Client:
        user = world.persona(name)
        if user is None:
            return Client()
        plain = f"cf_test-token-of-{name}"
        # Made directly (not through the service) so that tests start without audit rows.
        ApiToken.objects.get_or_create(
            digest=token_digest(plain), defaults={"user": user, "name": "tests", "prefix": plain[:10]}
        )
        return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")

    return make
