"""The plan builder's input checks: a campaign's and an activity's fields, in words a marketing manager
understands. Pure (no writes): services call them before saving; the live check calls them on a draft."""

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from coopfunds.core.countries import country_codes
from coopfunds.core.i18n import day_lazy
from coopfunds.core.money import CENT
from coopfunds.plans.deadlines import PlanWindow
from coopfunds.plans.models import Plan
from coopfunds.programs.models import ActivityType

MAX_TEXT = 2000
MAX_AMOUNT = Decimal("9999999999999999.99")


def _amount(value: Any, errors: dict[str, str], name: str, words: str) -> Decimal | None:
    try:
        amount = Decimal(str(value).strip()) if value is not None and str(value).strip() else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or not 0 < amount <= MAX_AMOUNT or amount != amount.quantize(CENT):
        errors[name] = words
        return None
    return amount


def _text(value: Any, errors: dict[str, str], name: str, *, required: str = "", limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if required and not text:
        errors[name] = required
    elif len(text) > limit:
        errors[name] = _("Keep it to %(limit)s characters or fewer.") % {
            "limit": number_format(limit, force_grouping=True)
        }
    return text


def clean_campaign(window: PlanWindow, values: dict[str, Any]) -> dict[str, Any]:
    """name, start, end, budget, description -> cleaned values, or a ValidationError naming each field."""
    errors: dict[str, str] = {}
    name = _text(values.get("name"), errors, "name", required=_("Give the campaign a name."), limit=200)
    start, end = values.get("start"), values.get("end")
    if not isinstance(start, date):
        errors["start"] = _("Give the date the campaign starts.")
    if not isinstance(end, date):
        errors["end"] = _("Give the date the campaign ends.")
    if isinstance(start, date) and isinstance(end, date):
        if end < start:
            errors["end"] = _("The campaign ends before it starts.")
        elif start < window.starts or end > window.first_submit_by:
            errors["start" if start < window.starts else "end"] = _(
                "The campaign must run within the program year %(year)s (%(start)s – %(end)s)."
            ) % {"year": window.label, "start": day_lazy(window.starts), "end": day_lazy(window.first_submit_by)}
    budget = _amount(
        values.get("budget"), errors, "budget", _("Give the budget: an amount above zero with at most two decimals.")
    )
    description = _text(values.get("description"), errors, "description")
    if errors:
        raise ValidationError(errors)
    return {"name": name, "start": start, "end": end, "budget": budget, "description": description}


def clean_countries(codes: Any, errors: dict[str, str]) -> list[str]:
    cleaned = country_codes(codes, errors)
    if not cleaned and "countries" not in errors:
        errors["countries"] = _("Name at least one country the activity runs in.")
    return cleaned


def clean_activity(plan: Plan, values: dict[str, Any]) -> dict[str, Any]:
    """activity_type, countries, planned_amount, description, expected_reach -> cleaned values."""
    errors: dict[str, str] = {}
    kind = values.get("activity_type")
    if not isinstance(kind, ActivityType):
        errors["activity_type"] = _("Choose the activity from the program's catalogue.")
    elif kind.program_id != plan.program_id or kind.fiscal_year != plan.fiscal_year or not kind.is_active:
        errors["activity_type"] = _("Choose an activity of %(program)s's %(year)s catalogue.") % {
            "program": plan.program.name,
            "year": f"FY{plan.fiscal_year % 100:02d}",
        }
    countries = clean_countries(values.get("countries"), errors)
    amount = _amount(
        values.get("planned_amount"),
        errors,
        "planned_amount",
        _("Give the planned amount: above zero with at most two decimals."),
    )
    description = _text(values.get("description"), errors, "description")
    reach = values.get("expected_reach")
    if reach is not None and (isinstance(reach, bool) or not isinstance(reach, int) or reach < 0):
        errors["expected_reach"] = _("Give the expected reach as a whole number of people (or leave it empty).")
    if errors:
        raise ValidationError(errors)
    return {
        "activity_type": kind,
        "countries": countries,
        "planned_amount": amount,
        "description": description,
        "expected_reach": reach,
    }
