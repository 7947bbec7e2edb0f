from coopfunds.claims.tests.conftest import claims_world  # noqa: F401  # the claims tests' world, for events
