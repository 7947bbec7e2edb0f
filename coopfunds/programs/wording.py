"""A program's rules in plain words, for people (the web page) and for API clients that show them."""

from dataclasses import dataclass
from datetime import date

from django_countries import countries

from coopfunds.programs import periods
from coopfunds.programs.models import Program

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Rule:
    topic: str
    text: str


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def day_range(start: date, end: date) -> str:
    """'16 Feb – 15 Aug 2027', or with both years when they differ."""
    if start.year == end.year:
        return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"


def money(amount: object, currency: str) -> str:
    return f"{amount:,} {currency}"


def rules_in_words(program: Program, today: date, holiday_count: int = 0) -> list[Rule]:
    fiscal_year = periods.fiscal_year_of(program, today)
    fy_start, fy_end = periods.fiscal_year_bounds(program, fiscal_year)
    earning = periods.period_containing(program, today)
    usage = periods.next_period(program, earning)
    per_year = periods.periods_per_year(program)
    names = ", ".join(p.label.split(" ")[-1] for p in periods.periods_of_fiscal_year(program, fiscal_year))
    country = str(countries.name(program.holiday_country)) if program.holiday_country else ""
    return [
        Rule(
            "Fiscal year",
            f"Starts on 1 {MONTHS[program.fiscal_year_start_month - 1]} and is named by the year it ends in: "
            f"{periods.fiscal_year_label(fiscal_year)} runs {day_range(fy_start, fy_end)}.",
        ),
        Rule(
            "Periods",
            f"{program.period_months} months long, {per_year} a year"
            + (f" ({names})" if per_year > 1 else "")
            + ". Co-op earned in one period must be used in the next one (its usage period); what is not used "
            "by the end of the usage period is forfeited.",
        ),
        Rule(
            "Claiming window",
            f"Claims for a usage period open on the {ordinal(program.claim_opens_day)} of its "
            f"{ordinal(program.claim_opens_month)} month and close {program.claim_closes_days_after_usage} days "
            f"after it ends. For example, co-op earned in {earning.label} ({day_range(earning.start, earning.end)}) "
            f"is used in {usage.label} ({day_range(usage.start, usage.end)}) and claimed "
            f"{day_range(earning.claim_opens, earning.claim_closes)}.",
        ),
        Rule(
            "Rebate and co-op",
            f"{program.rebate_percent.normalize():f}% of earnings are paid as rebate; "
            f"{program.coop_percent.normalize():f}% become co-op funds.",
        ),
        Rule(
            "Threshold",
            f"Co-op below {money(program.coop_threshold, program.currency)} for an earning period is converted "
            "to rebate instead. The split and the threshold apply to each fund's exact totals, rounded once.",
        ),
        Rule(
            "Late earnings",
            "Earnings that arrive after their period closed: "
            + (
                "the threshold is applied again to the new total of the period (converted co-op becomes available "
                "once it reaches the threshold, unless it was paid as rebate)."
                if program.late_earnings == "reevaluate"
                else "the close's outcome stands."
            ),
        ),
        Rule(
            "Disputes",
            f"A rejection can be disputed for {program.dispute_window_days} days after it.",
        ),
        Rule("Reminders", _reminders(program)),
        Rule(
            "Service levels",
            f"Claims are reviewed within {program.review_sla_business_days} business days of submission, disputes "
            f"answered within {program.dispute_sla_business_days}, and approved claims paid within "
            f"{program.payment_sla_business_days} business days.",
        ),
        Rule("Payments", f"Payment runs are monthly, by the {ordinal(program.payment_day)}."),
        Rule("Business days", _business_days(country, holiday_count)),
    ]


def _reminders(program: Program) -> str:
    parts = []
    if program.expiry_reminder_days:
        parts.append(f"{program.expiry_reminder_days} days before available co-op is forfeited")
    if program.window_reminder_days:
        parts.append(f"{program.window_reminder_days} days before a claiming window closes")
    if not parts:
        return "No reminders before forfeiture or the end of a claiming window."
    return "Location admins are reminded " + " and ".join(parts) + "."


def _business_days(country: str, holiday_count: int) -> str:
    exceptions = [f"the public holidays of {country}"] if country else []
    if holiday_count:
        exceptions.append(f"the program's own {holiday_count} holiday{'s' if holiday_count > 1 else ''}")
    return "Monday to Friday" + (", except " + " and ".join(exceptions) if exceptions else "") + "."
