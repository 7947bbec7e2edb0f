"""Business days: weekends, the program's own holidays and its country's public holidays are skipped."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coopfunds.programs import periods
from coopfunds.programs.models import Holiday
from coopfunds.programs.periods import BusinessCalendar
from coopfunds.testing.factories import ProgramFactory

FRI = date(2027, 3, 5)
PLAIN = BusinessCalendar()
US = BusinessCalendar(country="US")
DE = BusinessCalendar(country="DE")


def test_weekends_are_skipped():
    assert PLAIN.add(FRI, 0) == FRI
    assert PLAIN.add(FRI, 1) == date(2027, 3, 8)
    assert PLAIN.add(FRI, 2) == date(2027, 3, 9)
    assert PLAIN.add(date(2027, 3, 6), 1) == date(2027, 3, 8)  # from a Saturday
    assert PLAIN.is_business_day(date(2027, 3, 6)) is False
    assert PLAIN.is_business_day(date(2027, 3, 7)) is False
    assert PLAIN.between(FRI, date(2027, 3, 9)) == 2
    assert PLAIN.between(date(2027, 3, 9), FRI) == -2
    assert PLAIN.between(FRI, FRI) == 0


def test_public_holidays_of_the_country_are_skipped():
    assert US.add(date(2027, 7, 2), 2) == date(2027, 7, 7)  # Mon 5 Jul: Independence Day observed
    assert US.add(date(2027, 12, 23), 1) == date(2027, 12, 27)  # Fri 24 Dec: Christmas observed
    assert DE.add(date(2027, 3, 25), 1) == date(2027, 3, 30)  # Good Friday and Easter Monday
    assert PLAIN.add(date(2027, 3, 25), 1) == date(2027, 3, 26)


def test_payment_within_45_business_days_on_the_us_calendar():
    # From Mon 4 Jan 2027, skipping Martin Luther King Jr. Day (18 Jan) and Washington's Birthday (15 Feb).
    assert US.add(date(2027, 1, 4), 45) == date(2027, 3, 10)
    assert US.between(date(2027, 1, 4), date(2027, 3, 10)) == 45


def test_counting_backwards_is_refused():
    with pytest.raises(ValueError, match="days must be zero or more"):
        PLAIN.add(FRI, -1)


@pytest.mark.django_db
def test_the_programs_own_holidays_and_country_come_from_the_program():
    program = ProgramFactory.create(holiday_country="US")
    Holiday.objects.create(program=program, date=date(2027, 3, 9), name="Company day")
    assert periods.calendar_for(program) == BusinessCalendar(country="US", extra_holidays=frozenset({date(2027, 3, 9)}))
    assert periods.add_business_days(program, FRI, 2) == date(2027, 3, 10)
    assert periods.business_days_between(program, FRI, date(2027, 3, 10)) == 2
    assert periods.is_business_day(program, date(2027, 3, 9)) is False
    assert periods.is_business_day(program, date(2027, 7, 5)) is False
    assert periods.is_business_day(program, date(2027, 3, 10)) is True


calendars = st.builds(
    BusinessCalendar,
    country=st.sampled_from(["", "US", "DE", "GB"]),
    extra_holidays=st.frozensets(st.dates(min_value=date(2027, 1, 1), max_value=date(2027, 12, 31)), max_size=20),
)
starts = st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31))


@settings(max_examples=200, deadline=None)
@given(calendar=calendars, start=starts, n=st.integers(0, 60))
def test_adding_n_business_days_is_n_business_days_later(calendar, start, n):
    end = calendar.add(start, n)
    assert calendar.between(start, end) == n
    assert end >= start
    assert calendar.add(start, n + 1) > end


@settings(max_examples=200, deadline=None)
@given(calendar=calendars, start=starts, n=st.integers(1, 60))
def test_adding_business_days_lands_on_the_first_business_day_that_counts(calendar, start, n):
    end = calendar.add(start, n)
    assert calendar.is_business_day(end)
    assert calendar.between(start, end - timedelta(days=1)) == n - 1
