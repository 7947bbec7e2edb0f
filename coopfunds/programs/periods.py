"""Time, computed from a program's rules: fiscal years, earning and usage periods, claiming windows, business days.

Pure functions: nothing here writes, and the only read is a program's own Holiday rows (`calendar_for`).

- A fiscal year is named by the calendar year it ends in: with a July start, FY27 runs 1 Jul 2026 – 30 Jun 2027.
- It splits into periods of `period_months` (preset 6: H1 Jul–Dec, H2 Jan–Jun). Co-op earned in one period
  (the earning period) must be used in the next (the usage period); what is not used is forfeited.
- Claims for a usage period open on `claim_opens_day` of its `claim_opens_month`-th month and close
  `claim_closes_days_after_usage` days after it ends (the preset: usage Jan–Jun, claims 16 Feb – 15 Aug).
- Business days skip weekends, the program's own holidays and the public holidays of `holiday_country`.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays as public_holidays

from coopfunds.programs.models import Program

# The period names people use: halves and quarters; other lengths are numbered periods (P1, P2, ...).
PERIOD_LETTERS = {6: "H", 3: "Q"}


@dataclass(frozen=True)
class Period:
    """One period of a program, with what it means as an earning period.

    `start` and `end` are inclusive. As an earning period, its co-op is used from `usage_start` to `usage_end`
    (the next period), claimed from `claim_opens` to `claim_closes` (inclusive), and what is not used by
    `usage_end` is forfeited on `forfeit_on` (the day after)."""

    program_id: int | None
    fiscal_year: int
    index: int  # 1-based within the fiscal year
    label: str  # "FY27 H2"
    start: date
    end: date
    usage_start: date
    usage_end: date
    claim_opens: date
    claim_closes: date
    forfeit_on: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _month_start(year: int, month: int, add_months: int = 0) -> date:
    months = year * 12 + (month - 1) + add_months
    return date(months // 12, months % 12 + 1, 1)


def fiscal_year_label(fiscal_year: int) -> str:
    return f"FY{fiscal_year % 100:02d}"


def fiscal_year_of(program: Program, day: date) -> int:
    """The fiscal year `day` falls in, named by the calendar year it ends in."""
    start_month = program.fiscal_year_start_month
    return day.year + 1 if start_month > 1 and day.month >= start_month else day.year


def fiscal_year_bounds(program: Program, fiscal_year: int) -> tuple[date, date]:
    """First and last day of a fiscal year."""
    start_month = program.fiscal_year_start_month
    start = date(fiscal_year - 1 if start_month > 1 else fiscal_year, start_month, 1)
    return start, _month_start(start.year, start.month, 12) - timedelta(days=1)


def periods_per_year(program: Program) -> int:
    return 12 // program.period_months


def period_label(program: Program, fiscal_year: int, index: int) -> str:
    if periods_per_year(program) == 1:
        return fiscal_year_label(fiscal_year)
    return f"{fiscal_year_label(fiscal_year)} {PERIOD_LETTERS.get(program.period_months, 'P')}{index}"


def _bounds(program: Program, fiscal_year: int, index: int) -> tuple[date, date]:
    fy_start, _ = fiscal_year_bounds(program, fiscal_year)
    months = program.period_months
    start = _month_start(fy_start.year, fy_start.month, (index - 1) * months)
    return start, _month_start(start.year, start.month, months) - timedelta(days=1)


def _following(program: Program, fiscal_year: int, index: int) -> tuple[int, int]:
    return (fiscal_year, index + 1) if index < periods_per_year(program) else (fiscal_year + 1, 1)


def _preceding(program: Program, fiscal_year: int, index: int) -> tuple[int, int]:
    return (fiscal_year, index - 1) if index > 1 else (fiscal_year - 1, periods_per_year(program))


def _claim_window(program: Program, usage_start: date, usage_end: date) -> tuple[date, date]:
    opening_month = _month_start(usage_start.year, usage_start.month, program.claim_opens_month - 1)
    opens = opening_month.replace(day=program.claim_opens_day)
    # "45 days after the usage period ends": counted from the end of its last day (30 Jun -> 15 Aug).
    closes = usage_end + timedelta(days=program.claim_closes_days_after_usage + 1)
    return opens, closes


def period_at(program: Program, fiscal_year: int, index: int) -> Period:
    """The `index`-th period (1-based) of a fiscal year."""
    if not 1 <= index <= periods_per_year(program):
        raise ValueError(f"{fiscal_year_label(fiscal_year)} has periods 1 to {periods_per_year(program)}, not {index}.")
    start, end = _bounds(program, fiscal_year, index)
    usage_start, usage_end = _bounds(program, *_following(program, fiscal_year, index))
    opens, closes = _claim_window(program, usage_start, usage_end)
    return Period(
        program_id=program.pk,
        fiscal_year=fiscal_year,
        index=index,
        label=period_label(program, fiscal_year, index),
        start=start,
        end=end,
        usage_start=usage_start,
        usage_end=usage_end,
        claim_opens=opens,
        claim_closes=closes,
        forfeit_on=usage_end + timedelta(days=1),
    )


def periods_of_fiscal_year(program: Program, fiscal_year: int) -> list[Period]:
    return [period_at(program, fiscal_year, i) for i in range(1, periods_per_year(program) + 1)]


def period_containing(program: Program, day: date) -> Period:
    """The period `day` falls in (as an earning period: the one in which money earned that day is earned)."""
    fiscal_year = fiscal_year_of(program, day)
    fy_start, _ = fiscal_year_bounds(program, fiscal_year)
    months_in = (day.year - fy_start.year) * 12 + day.month - fy_start.month
    return period_at(program, fiscal_year, months_in // program.period_months + 1)


def next_period(program: Program, period: Period) -> Period:
    return period_at(program, *_following(program, period.fiscal_year, period.index))


def previous_period(program: Program, period: Period) -> Period:
    return period_at(program, *_preceding(program, period.fiscal_year, period.index))


def usage_period_for_earning(program: Program, earning: Period) -> Period:
    """Co-op earned in `earning` is used in the period after it."""
    return next_period(program, earning)


def earning_period_for_usage(program: Program, usage: Period) -> Period:
    """The period whose co-op is used in `usage`: the one before it."""
    return previous_period(program, usage)


def claim_window(program: Program, usage: Period) -> tuple[date, date]:
    """When claims for activities executed in the usage period `usage` may be submitted (both days included)."""
    return _claim_window(program, usage.start, usage.end)


def claims_open_on(program: Program, usage: Period, day: date) -> bool:
    opens, closes = claim_window(program, usage)
    return opens <= day <= closes


# Business days ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def _public_holidays(country: str, year: int) -> frozenset[date]:
    return frozenset(public_holidays.country_holidays(country, years=year).keys())


@lru_cache(maxsize=1)
def supported_holiday_countries() -> frozenset[str]:
    """ISO 3166 alpha-2 codes of the countries whose public holidays the `holidays` library knows."""
    return frozenset(code for code in public_holidays.list_supported_countries() if len(code) == 2)


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekends, a country's public holidays and a set of extra holidays are not business days."""

    country: str = ""
    extra_holidays: frozenset[date] = frozenset()

    def is_business_day(self, day: date) -> bool:
        if day.weekday() >= 5 or day in self.extra_holidays:
            return False
        return not self.country or day not in _public_holidays(self.country, day.year)

    def add(self, start: date, days: int) -> date:
        """The day `days` business days after `start` (`start` itself never counts; 0 gives `start`)."""
        if days < 0:
            raise ValueError("Count business days forward: days must be zero or more.")
        day = start
        while days:
            day += timedelta(days=1)
            if self.is_business_day(day):
                days -= 1
        return day

    def between(self, a: date, b: date) -> int:
        """Business days after `a` up to and including `b` (negative when `b` is before `a`)."""
        if b < a:
            return -self.between(b, a)
        return sum(1 for offset in range(1, (b - a).days + 1) if self.is_business_day(a + timedelta(days=offset)))


def calendar_for(program: Program) -> BusinessCalendar:
    """The program's calendar: one query for its own holidays (none for an unsaved program)."""
    extra = frozenset(program.holidays.values_list("date", flat=True)) if program.pk else frozenset()
    return BusinessCalendar(country=program.holiday_country, extra_holidays=extra)


def is_business_day(program: Program, day: date) -> bool:
    return calendar_for(program).is_business_day(day)


def add_business_days(program: Program, start: date, days: int) -> date:
    """E.g. a claim submitted on `start` must be reviewed by add_business_days(program, start, 2)."""
    return calendar_for(program).add(start, days)


def business_days_between(program: Program, a: date, b: date) -> int:
    return calendar_for(program).between(a, b)
