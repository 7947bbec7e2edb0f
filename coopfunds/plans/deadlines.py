"""The dates of plans and proofs of execution, from the program's rules. Pure: no queries, no writes.

- A plan is for one program year (fiscal year). It must be first submitted by the year's last day; after that
  it may be changed and resubmitted (after a request for changes, or as an amendment) for `resubmit_days`
  more days (preset 90).
- Proof of execution is due `proof_due_days` (preset 180) after its campaign starts, the due day included;
  the partner is warned `proof_warning_days` (preset 30) before.
- A proof is reviewed by the end of the month after the month it was submitted in.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from coopfunds.plans.models import PlanSettings
from coopfunds.programs import periods
from coopfunds.programs.models import Program


@dataclass(frozen=True)
class PlanWindow:
    """When a plan of one program year may be created, first submitted, and changed or resubmitted."""

    fiscal_year: int
    label: str  # "FY27"
    starts: date
    first_submit_by: date  # the program year's last day
    resubmit_by: date  # `resubmit_days` later

    def may_submit_first(self, today: date) -> bool:
        return today <= self.first_submit_by

    def may_resubmit(self, today: date) -> bool:
        return today <= self.resubmit_by

    def may_change(self, today: date, *, submitted_before: bool) -> bool:
        """A plan never submitted may be changed while it can still be first submitted; one submitted before,
        while it can be resubmitted."""
        return self.may_resubmit(today) if submitted_before else self.may_submit_first(today)


def plan_window(program: Program, settings: PlanSettings, fiscal_year: int) -> PlanWindow:
    starts, ends = periods.fiscal_year_bounds(program, fiscal_year)
    return PlanWindow(
        fiscal_year=fiscal_year,
        label=periods.fiscal_year_label(fiscal_year),
        starts=starts,
        first_submit_by=ends,
        resubmit_by=ends + timedelta(days=settings.resubmit_days),
    )


def proof_due(settings: PlanSettings, campaign_start: date) -> date:
    """The last day proof of execution of an activity of a campaign starting on `campaign_start` may be first
    submitted."""
    return campaign_start + timedelta(days=settings.proof_due_days)


def proof_warning_from(settings: PlanSettings, campaign_start: date) -> date:
    """From this day on the partner is warned that proof is due."""
    return proof_due(settings, campaign_start) - timedelta(days=settings.proof_warning_days)


def proof_review_due(submitted_on: date) -> date:
    """The last day of the month after the month of submission (submitted 31 Jan: due 28 or 29 Feb)."""
    year, month = (
        (submitted_on.year + 1, 1) if submitted_on.month == 12 else (submitted_on.year, submitted_on.month + 1)
    )
    return date(year, month, calendar.monthrange(year, month)[1])


def plannable_years(program: Program, today: date) -> list[int]:
    """Program years a new plan may be for: the current one and the next."""
    current = periods.fiscal_year_of(program, today)
    return [current, current + 1]
