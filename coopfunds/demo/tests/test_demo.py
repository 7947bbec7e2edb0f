from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from coopfunds.accounts.models import User
from coopfunds.claims.models import Claim
from coopfunds.funds import budgets
from coopfunds.funds.models import Budget
from coopfunds.funds.selectors import ledger_drift


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
    (budget,) = Budget.objects.all()
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
    assert ledger_drift() == []
