import pytest

from coopfunds.claims.tests.conftest import TODAY, claims_world  # noqa: F401  (the funded world, shared)

__all__ = ["TODAY", "plans_world"]


@pytest.fixture
def plans_world(claims_world):  # type: ignore[no-untyped-def]  # noqa: F811
    """The claims tests' world: the preset's FY27 catalogue; Berlin and Northwind each have 12,000.00 USD of
    FY27 H1 co-op available (usage 1 Jul – 31 Dec 2026); today is Friday 20 Nov 2026."""
    return claims_world
