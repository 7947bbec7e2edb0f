from coopfunds.claims.tests.conftest import claims_world  # noqa: F401  (the funded world, shared)
