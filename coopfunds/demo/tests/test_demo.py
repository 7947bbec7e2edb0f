from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from coopfunds.accounts.models import User
from coopfunds.claims.models import Claim
from coopfunds.funds import budgets
from coopfunds.funds.models import Budget
from coopfunds.funds.selectors import ledger_drift
from coopfunds.mdf.models import FundRequest


@pytest.mark.django_db
def test_demo_data_loads_once_and_prints_the_logins(settings, tmp_path, time_machine, capsys):
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(datetime(2026, 11, 26, 12, tzinfo=UTC), tick=False)
    call_command("demo_data")
    first = capsys.readouterr().out
    call_command("demo_data")
    assert capsys.readouterr().out == first
    assert "Every demo login has the password: coopfunds-demo" in first
    assert User.objects.count() == 8  # four vendor staff, four partner people
    assert sorted(Claim.objects.values_list("status", flat=True)) == ["approved", "editing", "submitted"]
    budget, upcoming = Budget.objects.order_by("starts_on")
    f = budgets.figures(budget)
    assert (budget.name, f.total, f.allocated, f.unallocated) == (
        "MDF FY27 H1",
        Decimal("50000.00"),
        Decimal("20000.00"),
        Decimal("30000.00"),
    )
    assert [(a.location.partner_id, a.allocated) for a in budgets.allocations_of(budget)] == [
        ("FAB-DE-001", Decimal("12000.00")),
        ("NW-US-001", Decimal("8000.00")),
    ]
    assert upcoming.name == "MDF FY27 H2"
    assert sorted(FundRequest.objects.values_list("name", "status", "reserved", "returned")) == [
        ("AI readiness seminar", "approved", Decimal("2800.00"), Decimal("0.00")),
        ("Cloud migration workshop", "approved", Decimal("0.00"), Decimal("1950.00")),
        ("Customer roadshow", "action_required", Decimal("0.00"), Decimal("0.00")),
        ("Data platform bootcamp", "under_review", Decimal("0.00"), Decimal("0.00")),
        ("Golf day", "rejected", Decimal("0.00"), Decimal("0.00")),
        ("Partner summit booth", "editing", Decimal("0.00"), Decimal("0.00")),
        ("Seattle launch event", "approved", Decimal("4200.00"), Decimal("0.00")),
        ("Security webinar series", "submitted", Decimal("0.00"), Decimal("0.00")),
        ("Spring newsletter", "withdrawn", Decimal("0.00"), Decimal("0.00")),
    ]
    f = budgets.figures(upcoming)
    assert (f.total, f.unallocated, f.allocated, f.reserved) == (
        Decimal("40000.00"),
        Decimal("20800.00"),  # 25,000.00 less Seattle's 4,200.00, taken from the pool
        Decimal("12200.00"),
        Decimal("7000.00"),
    )
    assert ledger_drift() == []
