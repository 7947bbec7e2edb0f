"""The baseline: the same project and database, no middleware, no authentication, a bare URLconf."""

from coopfunds.settings import *  # noqa: F403

MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.bare_urls"
