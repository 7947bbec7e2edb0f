from coopfunds.plans.tests.conftest import api_as, plans_world  # noqa: F401  (the fixtures, shared)
