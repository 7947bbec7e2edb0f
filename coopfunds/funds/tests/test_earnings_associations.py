"""A program that counts earnings only for associated customers: the import checks every line's customer."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from coopfunds.associations import services as associations
from coopfunds.associations.configuration import association_defaults_load
from coopfunds.associations.tests.helpers import DOMAIN, TENANT, approved
from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.models import EarningLine
from coopfunds.funds.tests.conftest import csv_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def associated(enrolled, settings, tmp_path, time_machine):
    """Fabrikam Berlin's association with Contoso is in force from 20 Nov 2026; the program requires one."""
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(datetime(2026, 11, 20, 12, tzinfo=UTC), tick=False)
    association_defaults_load(program=enrolled.program)
    approved(enrolled)
    time_machine.move_to(datetime(2026, 11, 28, 12, tzinfo=UTC), tick=False)
    associations.consent_windows_close()
    enrolled.program.earnings_require_association = True
    enrolled.program.save(update_fields=["earnings_require_association"])
    return enrolled


def test_lines_for_associated_customers_count(associated):
    batch = earnings_import(
        stream=csv_file(
            f"2026-11-20,FAB-001,coop,100.00,USD,,,{DOMAIN.upper()},L-1",
            f"2026-11-21,FAB-001,coop,50.00,USD,,,{TENANT},L-2",
        ),
        file_name="e.csv",
        actor=associated.finance,
    )
    assert (batch.status, batch.applied, batch.total) == ("applied", 2, Decimal("150.00"))


def test_lines_without_an_association_in_force_are_reported(associated):
    batch = earnings_import(
        stream=csv_file(
            f"2026-11-19,FAB-001,coop,100.00,USD,,,{DOMAIN},L-1",  # the day before it came into force
            "2026-11-20,FAB-001,coop,100.00,USD,,,fabrikam.com,L-2",
            f"2026-11-20,FAB-002,coop,100.00,USD,,,{DOMAIN},L-3",  # another location's customer
            "2026-11-20,FAB-001,coop,100.00,USD,,,,L-4",
        ),
        file_name="e.csv",
        actor=associated.finance,
    )
    assert batch.status == "rejected"
    assert [(e["row"], e["column"], e["message"]) for e in batch.errors] == [
        (2, "customer reference", f"FAB-001 has no customer association in force for “{DOMAIN}” on 2026-11-19."),
        (3, "customer reference", "FAB-001 has no customer association in force for “fabrikam.com” on 2026-11-20."),
        (4, "customer reference", f"FAB-002 has no customer association in force for “{DOMAIN}” on 2026-11-20."),
        (
            5,
            "customer reference",
            "Cloud Co-op counts earnings only for associated customers: give the customer's tenant ID or domain.",
        ),
    ]
    assert EarningLine.objects.count() == 0
