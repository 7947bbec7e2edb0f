from coopfunds.claims.tests.conftest import claims_world  # noqa: F401  (the funded world, shared)
from coopfunds.plans.tests.conftest import plans_world  # noqa: F401
