from datetime import date

import pytest

from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.models import Fund
from coopfunds.funds.services import period_close
from coopfunds.funds.tests.conftest import csv_file
from coopfunds.programs.models import ActivityType
from coopfunds.programs.preset import preset_load

TODAY = date(2026, 11, 20)  # a Friday in FY27 H1 (1 Jul – 31 Dec 2026)


@pytest.fixture
def plans_world(enrolled, time_machine, settings, tmp_path):
    """The preset's FY27 catalogue; Berlin and Northwind each have 12,000.00 USD of FY27 H1 co-op available
    (usage 1 Jul – 31 Dec 2026); today is 20 Nov 2026."""
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(TODAY)
    preset_load(
        vendor=enrolled.vendor, code=enrolled.program.code, name="x", currency="USD", fiscal_year=2027, big=True
    )
    earnings_import(
        stream=csv_file("2026-03-15,FAB-001,coop,30000.00,USD,,,,A-1", "2026-03-15,NW-001,coop,30000.00,USD,,,,B-1"),
        file_name="e.csv",
        actor=enrolled.finance,
    )
    period_close(program=enrolled.program, today=TODAY)
    enrolled.fund = Fund.objects.get(location=enrolled.location)
    enrolled.other_fund = Fund.objects.get(location=enrolled.other_location)
    enrolled.activity = lambda code: ActivityType.objects.get(program=enrolled.program, fiscal_year=2027, code=code)
    return enrolled


@pytest.fixture
def api_as(world):
    """api_as("reviewer") -> a Client whose requests carry the persona's own API token (anonymous: none)."""
    from django.test import Client

    from coopfunds.accounts.models import ApiToken
    from coopfunds.accounts.selectors import token_digest

    def make(name: str) -> Client:
        user = world.persona(name)
        if user is None:
            return Client()
        plain = f"cf_test-token-of-{name}"
        ApiToken.objects.get_or_create(
            digest=token_digest(plain), defaults={"user": user, "name": "tests", "prefix": plain[:10]}
        )
        return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")

    return make
