import pytest

from coopfunds.programs.models import Program
from coopfunds.programs.preset import preset_load


@pytest.fixture
def enrolled(world):  # type: ignore[no-untyped-def]
    """The partner's first location is enrolled (invited) in the world's program; the other partner is not."""
    world.program.enrollments.create(location=world.location)
    return world


@pytest.fixture
def catalogued(enrolled) -> Program:  # type: ignore[no-untyped-def]
    """The world's program with the preset FY27 catalogue."""
    world = enrolled
    return preset_load(vendor=world.vendor, code="coop", name="Cloud Co-op", currency="USD", fiscal_year=2027, big=True)
