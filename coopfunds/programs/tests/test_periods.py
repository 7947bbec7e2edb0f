"""Fiscal years, periods and claiming windows: exact edges and properties over every allowed rule."""

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coopfunds.programs import periods
from coopfunds.programs.models import Program
from coopfunds.programs.periods import Period


def rules(**values: int) -> Program:
    """An unsaved program: periods need only its rules (the preset's unless given)."""
    return Program(code="t", name="T", currency="USD", **values)


PRESET = rules()


def test_preset_fiscal_year_27_is_july_2026_to_june_2027_in_two_halves():
    h1, h2 = periods.periods_of_fiscal_year(PRESET, 2027)
    assert h1 == Period(
        program_id=None,
        fiscal_year=2027,
        index=1,
        label="FY27 H1",
        start=date(2026, 7, 1),
        end=date(2026, 12, 31),
        usage_start=date(2027, 1, 1),
        usage_end=date(2027, 6, 30),
        claim_opens=date(2027, 2, 16),
        claim_closes=date(2027, 8, 15),
        forfeit_on=date(2027, 7, 1),
    )
    assert h2 == Period(
        program_id=None,
        fiscal_year=2027,
        index=2,
        label="FY27 H2",
        start=date(2027, 1, 1),
        end=date(2027, 6, 30),
        usage_start=date(2027, 7, 1),
        usage_end=date(2027, 12, 31),
        claim_opens=date(2027, 8, 16),
        claim_closes=date(2028, 2, 15),
        forfeit_on=date(2028, 1, 1),
    )
    assert periods.fiscal_year_bounds(PRESET, 2027) == (date(2026, 7, 1), date(2027, 6, 30))


def test_domain_example_usage_january_to_june_claims_16_february_to_15_august():
    usage = periods.period_containing(PRESET, date(2027, 3, 10))
    assert (usage.label, usage.start, usage.end) == ("FY27 H2", date(2027, 1, 1), date(2027, 6, 30))
    assert periods.claim_window(PRESET, usage) == (date(2027, 2, 16), date(2027, 8, 15))
    assert periods.claims_open_on(PRESET, usage, date(2027, 2, 15)) is False
    assert periods.claims_open_on(PRESET, usage, date(2027, 2, 16)) is True
    assert periods.claims_open_on(PRESET, usage, date(2027, 8, 15)) is True
    assert periods.claims_open_on(PRESET, usage, date(2027, 8, 16)) is False


@pytest.mark.parametrize(
    ("day", "fiscal_year", "label"),
    [
        (date(2026, 6, 30), 2026, "FY26 H2"),
        (date(2026, 7, 1), 2027, "FY27 H1"),
        (date(2026, 12, 31), 2027, "FY27 H1"),
        (date(2027, 1, 1), 2027, "FY27 H2"),
        (date(2027, 6, 30), 2027, "FY27 H2"),
        (date(2099, 12, 31), 2100, "FY00 H1"),
    ],
)
def test_fiscal_year_boundaries_with_the_july_preset(day, fiscal_year, label):
    assert periods.fiscal_year_of(PRESET, day) == fiscal_year
    assert periods.period_containing(PRESET, day).label == label


def test_next_and_previous_cross_the_fiscal_year():
    h2_fy27 = periods.period_at(PRESET, 2027, 2)
    assert periods.next_period(PRESET, h2_fy27).label == "FY28 H1"
    assert periods.usage_period_for_earning(PRESET, h2_fy27) == periods.period_at(PRESET, 2028, 1)
    assert periods.previous_period(PRESET, periods.period_at(PRESET, 2028, 1)) == h2_fy27
    assert periods.earning_period_for_usage(PRESET, periods.period_at(PRESET, 2028, 1)) == h2_fy27


def test_fiscal_year_starting_in_january_is_the_calendar_year():
    program = rules(fiscal_year_start_month=1)
    assert periods.fiscal_year_of(program, date(2027, 1, 1)) == 2027
    assert periods.fiscal_year_of(program, date(2027, 12, 31)) == 2027
    assert periods.fiscal_year_bounds(program, 2027) == (date(2027, 1, 1), date(2027, 12, 31))
    h1, h2 = periods.periods_of_fiscal_year(program, 2027)
    assert (h1.label, h1.start, h1.end) == ("FY27 H1", date(2027, 1, 1), date(2027, 6, 30))
    assert (h2.label, h2.start, h2.end) == ("FY27 H2", date(2027, 7, 1), date(2027, 12, 31))
    assert (h2.usage_start, h2.usage_end, h2.claim_opens, h2.claim_closes) == (
        date(2028, 1, 1),
        date(2028, 6, 30),
        date(2028, 2, 16),
        date(2028, 8, 15),
    )


def test_quarters():
    program = rules(period_months=3)
    quarters = periods.periods_of_fiscal_year(program, 2027)
    assert [(q.label, q.start, q.end) for q in quarters] == [
        ("FY27 Q1", date(2026, 7, 1), date(2026, 9, 30)),
        ("FY27 Q2", date(2026, 10, 1), date(2026, 12, 31)),
        ("FY27 Q3", date(2027, 1, 1), date(2027, 3, 31)),
        ("FY27 Q4", date(2027, 4, 1), date(2027, 6, 30)),
    ]
    q4 = quarters[3]
    assert (q4.usage_start, q4.usage_end, q4.claim_opens, q4.claim_closes) == (
        date(2027, 7, 1),
        date(2027, 9, 30),
        date(2027, 8, 16),
        date(2027, 11, 15),
    )


def test_whole_year_periods():
    program = rules(period_months=12, claim_opens_month=2)
    (only,) = periods.periods_of_fiscal_year(program, 2027)
    assert only == Period(
        program_id=None,
        fiscal_year=2027,
        index=1,
        label="FY27",
        start=date(2026, 7, 1),
        end=date(2027, 6, 30),
        usage_start=date(2027, 7, 1),
        usage_end=date(2028, 6, 30),
        claim_opens=date(2027, 8, 16),
        claim_closes=date(2028, 8, 15),
        forfeit_on=date(2028, 7, 1),
    )
    assert periods.next_period(program, only).label == "FY28"


def test_monthly_periods_end_on_february_28_or_29():
    program = rules(period_months=1, claim_opens_month=1, claim_opens_day=1, claim_closes_days_after_usage=0)
    feb_2027 = periods.period_containing(program, date(2027, 2, 14))
    feb_2028 = periods.period_containing(program, date(2028, 2, 29))
    assert (feb_2027.label, feb_2027.start, feb_2027.end, feb_2027.days) == (
        "FY27 P8",
        date(2027, 2, 1),
        date(2027, 2, 28),
        28,
    )
    assert (feb_2028.label, feb_2028.end, feb_2028.days) == ("FY28 P8", date(2028, 2, 29), 29)
    # January 2028's co-op is used in February 2028 and claimed from 1 Feb until the day after it ends (+0 days).
    jan_2028 = periods.previous_period(program, feb_2028)
    assert (jan_2028.usage_end, jan_2028.claim_opens, jan_2028.claim_closes) == (
        date(2028, 2, 29),
        date(2028, 2, 1),
        date(2028, 3, 1),
    )


def test_claims_closing_across_the_end_of_february():
    program = rules(fiscal_year_start_month=1, period_months=6, claim_closes_days_after_usage=59)
    h2_fy27 = periods.period_at(program, 2027, 1)  # usage Jul–Dec 2027
    assert h2_fy27.claim_closes == date(2028, 2, 29)  # 31 Dec + 60 days in a leap year
    h1_fy26 = periods.period_at(program, 2026, 1)
    assert h1_fy26.claim_closes == date(2027, 3, 1)


def test_claims_may_open_in_the_last_month_of_the_usage_period():
    program = rules(claim_opens_month=6, claim_opens_day=28)
    h1 = periods.period_at(program, 2027, 1)  # usage Jan–Jun 2027
    assert h1.claim_opens == date(2027, 6, 28)
    h2 = periods.period_at(program, 2027, 2)  # usage Jul–Dec 2027
    assert h2.claim_opens == date(2027, 12, 28)


def test_a_period_index_outside_the_year_is_refused():
    with pytest.raises(ValueError, match=r"FY27 has periods 1 to 2, not 3\."):
        periods.period_at(PRESET, 2027, 3)


def test_period_contains_only_dates_within_it():
    h1 = periods.period_at(PRESET, 2027, 1)
    assert date(2026, 7, 1) in h1
    assert date(2026, 12, 31) in h1
    assert date(2026, 6, 30) not in h1
    assert "2026-07-01" not in h1


# Properties over every allowed rule --------------------------------------------------------------------------

programs_strategy = st.builds(
    lambda start, months, opens_month, opens_day, closes: rules(
        fiscal_year_start_month=start,
        period_months=months,
        claim_opens_month=min(opens_month, months),
        claim_opens_day=opens_day,
        claim_closes_days_after_usage=closes,
    ),
    st.integers(1, 12),
    st.sampled_from([1, 2, 3, 4, 6, 12]),
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(0, 366),
)
days = st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31))


@settings(max_examples=300, deadline=None)
@given(program=programs_strategy, day=days)
def test_every_day_falls_in_exactly_one_period_chained_to_its_neighbours(program, day):
    period = periods.period_containing(program, day)
    following = periods.next_period(program, period)
    assert day in period
    assert period.start.day == 1
    assert period.end + timedelta(days=1) == following.start
    assert periods.previous_period(program, following) == period
    assert periods.fiscal_year_of(program, period.start) == period.fiscal_year
    assert periods.fiscal_year_of(program, period.end) == period.fiscal_year
    assert (period.usage_start, period.usage_end) == (following.start, following.end)
    assert period.claim_opens == periods.claim_window(program, following)[0]
    assert following.start <= period.claim_opens <= following.end
    assert period.claim_closes == following.end + timedelta(days=program.claim_closes_days_after_usage + 1)
    assert period.forfeit_on == following.end + timedelta(days=1)
    assert period.label.startswith(periods.fiscal_year_label(period.fiscal_year))


@settings(max_examples=200, deadline=None)
@given(program=programs_strategy, fiscal_year=st.integers(2001, 2099))
def test_the_periods_of_a_fiscal_year_tile_it(program, fiscal_year):
    start, end = periods.fiscal_year_bounds(program, fiscal_year)
    year = periods.periods_of_fiscal_year(program, fiscal_year)
    assert len(year) == 12 // program.period_months
    assert [p.index for p in year] == list(range(1, len(year) + 1))
    assert (year[0].start, year[-1].end) == (start, end)
    assert sum(p.days for p in year) == (end - start).days + 1
    assert all(a.end + timedelta(days=1) == b.start for a, b in pairwise(year))
    assert len({p.label for p in year}) == len(year)
