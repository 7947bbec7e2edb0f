from datetime import date
from decimal import Decimal

import pytest

from coopfunds.funds import budgets
from coopfunds.mdf import services
from coopfunds.mdf.services import Line
from coopfunds.programs.models import ActivityType
from coopfunds.programs.preset import preset_load

TODAY = date(2026, 11, 20)
D = Decimal


@pytest.fixture
def mdf_world(enrolled, time_machine):
    """Today is 20 Nov 2026. A budget "FY27 H2 MDF" of 50,000.00 USD for activities from 1 Jan to 30 Jun 2027;
    Berlin (FAB-001) has an allocation of 10,000.00, the rest is in the pool."""
    time_machine.move_to(TODAY)
    preset_load(
        vendor=enrolled.vendor, code=enrolled.program.code, name="x", currency="USD", fiscal_year=2027, big=True
    )
    enrolled.budget = budgets.budget_create(
        program=enrolled.program,
        name="FY27 H2 MDF",
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 6, 30),
        total=D("50000.00"),
        actor=enrolled.program_manager,
    )
    enrolled.allocation = budgets.allocation_set(
        budget=enrolled.budget, location=enrolled.location, amount=D("10000.00"), actor=enrolled.program_manager
    )
    enrolled.activity = lambda code="seminars-bootcamps": ActivityType.objects.get(
        program=enrolled.program, fiscal_year=2027, code=code
    )
    return enrolled


def draft(world, *, lines=None, location=None, actor=None, code="seminars-bootcamps", **fields):  # type: ignore[no-untyped-def]
    """A draft request for a seminar on 1–2 Feb 2027 costing 2,000.00 (vendor's share at 50%: 1,000.00)."""
    values = {
        "name": "Cloud security seminar",
        "starts_on": date(2027, 2, 1),
        "ends_on": date(2027, 2, 2),
        "expected_leads": 40,
        "expected_pipeline": D("150000.00"),
        **fields,
    }
    return services.request_create(
        budget=world.budget,
        location=location or world.location,
        activity_type=world.activity(code),
        lines=lines
        if lines is not None
        else [Line("event", "Venue, two days", D("1500.00")), Line("catering", "Lunch for 40", D("500.00"))],
        actor=actor or world.partner_admin,
        **values,
    )


def submitted(world, **kwargs):  # type: ignore[no-untyped-def]
    request = draft(world, **kwargs)
    return services.request_submit(request=request, actor=kwargs.get("actor") or world.partner_admin)


def approved(world, **kwargs):  # type: ignore[no-untyped-def]
    request = submitted(world, **kwargs)
    return services.request_approve(request=request, actor=world.reviewer)
