from datetime import UTC, datetime

import pytest

from coopfunds.associations import consent
from coopfunds.associations.configuration import association_defaults_load
from coopfunds.associations.tests.helpers import TODAY, approved


@pytest.fixture
def world_a(enrolled, settings, tmp_path, time_machine):  # type: ignore[no-untyped-def]
    """The enrolled world on Friday 20 Nov 2026 (weekends are the only non-business days), with the preset's
    solution areas, partner roles and workloads, and files kept under a temporary directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC), tick=False)
    association_defaults_load(program=enrolled.program)
    return enrolled


@pytest.fixture
def at(time_machine):  # type: ignore[no-untyped-def]
    """at(date(2026, 11, 27)) moves the clock to noon UTC of that day."""

    def move(day):  # type: ignore[no-untyped-def]
        time_machine.move_to(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), tick=False)

    return move


@pytest.fixture
def link(world_a, monkeypatch):  # type: ignore[no-untyped-def]
    """An approved association (with an internal comment) and the token of its consent link, as emailed."""
    made: list[tuple[str, str]] = []
    original = consent.make_token

    def keep():  # type: ignore[no-untyped-def]
        made.append(original())
        return made[-1]

    monkeypatch.setattr(consent, "make_token", keep)
    association = approved(world_a, comments="Internal: big deal.")
    return association, made[-1][0]
