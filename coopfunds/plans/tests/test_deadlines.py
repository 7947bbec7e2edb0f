from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coopfunds.plans import deadlines
from coopfunds.plans.models import PlanSettings
from coopfunds.programs.models import Program

PROGRAM = Program(fiscal_year_start_month=7, period_months=6)
RULES = PlanSettings()


def test_the_plan_window_of_a_july_program_year():
    window = deadlines.plan_window(PROGRAM, RULES, 2027)
    assert (window.label, window.starts, window.first_submit_by, window.resubmit_by) == (
        "FY27",
        date(2026, 7, 1),
        date(2027, 6, 30),
        date(2027, 9, 28),
    )


@pytest.mark.parametrize(
    ("day", "first", "again"),
    [
        (date(2027, 6, 29), True, True),
        (date(2027, 6, 30), True, True),
        (date(2027, 7, 1), False, True),
        (date(2027, 9, 27), False, True),
        (date(2027, 9, 28), False, True),
        (date(2027, 9, 29), False, False),
    ],
)
def test_submission_and_resubmission_edges(day, first, again):
    window = deadlines.plan_window(PROGRAM, RULES, 2027)
    assert (window.may_submit_first(day), window.may_resubmit(day)) == (first, again)
    assert window.may_change(day, submitted_before=False) is first
    assert window.may_change(day, submitted_before=True) is again


def test_a_program_year_starting_in_january():
    window = deadlines.plan_window(
        Program(fiscal_year_start_month=1, period_months=3), PlanSettings(resubmit_days=10), 2027
    )
    assert (window.starts, window.first_submit_by, window.resubmit_by) == (
        date(2027, 1, 1),
        date(2027, 12, 31),
        date(2028, 1, 10),
    )


def test_proof_is_due_180_days_after_the_campaign_starts_and_warned_30_days_before():
    assert deadlines.proof_due(RULES, date(2026, 9, 1)) == date(2027, 2, 28)
    assert deadlines.proof_warning_from(RULES, date(2026, 9, 1)) == date(2027, 1, 29)
    assert deadlines.proof_due(PlanSettings(proof_due_days=30), date(2028, 2, 1)) == date(2028, 3, 2)


@pytest.mark.parametrize(
    ("submitted", "due"),
    [
        (date(2026, 11, 20), date(2026, 12, 31)),
        (date(2026, 12, 1), date(2027, 1, 31)),
        (date(2027, 1, 31), date(2027, 2, 28)),
        (date(2028, 1, 15), date(2028, 2, 29)),
    ],
)
def test_proof_review_is_due_by_the_end_of_the_month_after_submission(submitted, due):
    assert deadlines.proof_review_due(submitted) == due


def test_plans_are_made_for_the_current_and_the_next_year():
    assert deadlines.plannable_years(PROGRAM, date(2027, 6, 30)) == [2027, 2028]
    assert deadlines.plannable_years(PROGRAM, date(2027, 7, 1)) == [2028, 2029]


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 11, 30)))
def test_a_proof_review_is_always_due_on_the_last_day_of_the_next_month(submitted):
    due = deadlines.proof_review_due(submitted)
    months = (due.year - submitted.year) * 12 + due.month - submitted.month
    assert (months, (due + timedelta(days=1)).day) == (1, 1)


@given(st.integers(min_value=1, max_value=12), st.integers(min_value=2001, max_value=2099), st.integers(0, 365))
def test_a_program_year_window_is_a_year_then_the_resubmission_days(start_month, fiscal_year, resubmit_days):
    program = Program(fiscal_year_start_month=start_month, period_months=6)
    window = deadlines.plan_window(program, PlanSettings(resubmit_days=resubmit_days), fiscal_year)
    assert window.first_submit_by.year == fiscal_year
    assert (window.first_submit_by - window.starts).days in (364, 365)
    assert (window.resubmit_by - window.first_submit_by).days == resubmit_days
    assert window.may_change(window.resubmit_by, submitted_before=True)
    assert not window.may_change(window.first_submit_by + timedelta(days=1), submitted_before=False)
