"""A program's rules in plain words, for people (the web page) and for API clients that show them. Written in
the active language (the request's)."""

from dataclasses import dataclass
from datetime import date

from django.utils import translation
from django.utils.dates import MONTHS as MONTH_NAMES
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django_countries import countries

from coopfunds.core.money import money as money_in_words
from coopfunds.programs import periods
from coopfunds.programs.models import Program, percent_in_words

# English keeps what these words always said, also "1 days" and "1 months" (the singulars of the plural
# messages below are the same words); other languages get their own singular.

# "January" … "December" (Django's own names, translated: "januari" … "december" in Swedish).
MONTHS: tuple[str, ...] = tuple(MONTH_NAMES[m] for m in range(1, 13))


@dataclass(frozen=True)
class Rule:
    topic: str
    text: str


def ordinal(n: int) -> str:
    """ "16th" in English, "16:e" in Swedish."""
    if 10 <= n % 100 <= 20:
        return pgettext("ordinal 10-20", "%(n)sth") % {"n": n}
    match n % 10:
        case 1:
            return pgettext("ordinal 1", "%(n)sst") % {"n": n}
        case 2:
            return pgettext("ordinal 2", "%(n)snd") % {"n": n}
        case 3:
            return pgettext("ordinal 3", "%(n)srd") % {"n": n}
        case _:
            return pgettext("ordinal 0, 4-9", "%(n)sth") % {"n": n}


def day_range(start: date, end: date) -> str:
    """'16 Feb – 15 Aug 2027', or with both years when they differ (the language's dates: '16 feb – 15 aug 2027')."""
    first = date_format(start, "MONTH_DAY_FORMAT" if start.year == end.year else "DATE_FORMAT")
    return f"{first} – {date_format(end, 'DATE_FORMAT')}"


def money(amount: object, currency: str) -> str:
    if (translation.get_language() or "en").startswith("en"):
        return f"{amount:,} {currency}"
    return money_in_words(amount, currency)  # type: ignore[arg-type]


def rules_in_words(program: Program, today: date, holiday_count: int = 0) -> list[Rule]:
    fiscal_year = periods.fiscal_year_of(program, today)
    fy_start, fy_end = periods.fiscal_year_bounds(program, fiscal_year)
    earning = periods.period_containing(program, today)
    usage = periods.next_period(program, earning)
    per_year = periods.periods_per_year(program)
    names = ", ".join(p.label.split(" ")[-1] for p in periods.periods_of_fiscal_year(program, fiscal_year))
    country = str(countries.name(program.holiday_country)) if program.holiday_country else ""
    months = program.period_months
    period_words = ngettext(
        "%(months)s months long, %(count)s a year", "%(months)s months long, %(count)s a year", months
    ) % {"months": months, "count": per_year}
    usage_words = _(
        "Co-op earned in one period must be used in the next one (its usage period); what is not used by the end "
        "of the usage period is forfeited."
    )
    return [
        Rule(
            _("Fiscal year"),
            _("Starts on 1 %(month)s and is named by the year it ends in: %(year)s runs %(days)s.")
            % {
                "month": MONTHS[program.fiscal_year_start_month - 1],
                "year": periods.fiscal_year_label(fiscal_year),
                "days": day_range(fy_start, fy_end),
            },
        ),
        Rule(
            _("Periods"),
            (
                _("%(length)s (%(names)s). %(usage)s") % {"length": period_words, "names": names, "usage": usage_words}
                if per_year > 1
                else _("%(length)s. %(usage)s") % {"length": period_words, "usage": usage_words}
            ),
        ),
        Rule(
            _("Claiming window"),
            ngettext(
                "Claims for a usage period open on the %(day)s of its %(month)s month and close %(days)s days after "
                "it ends. For example, co-op earned in %(earning)s (%(earning_days)s) is used in %(usage)s "
                "(%(usage_days)s) and claimed %(claim_days)s.",
                "Claims for a usage period open on the %(day)s of its %(month)s month and close %(days)s days after "
                "it ends. For example, co-op earned in %(earning)s (%(earning_days)s) is used in %(usage)s "
                "(%(usage_days)s) and claimed %(claim_days)s.",
                program.claim_closes_days_after_usage,
            )
            % {
                "day": ordinal(program.claim_opens_day),
                "month": ordinal(program.claim_opens_month),
                "days": program.claim_closes_days_after_usage,
                "earning": earning.label,
                "earning_days": day_range(earning.start, earning.end),
                "usage": usage.label,
                "usage_days": day_range(usage.start, usage.end),
                "claim_days": day_range(earning.claim_opens, earning.claim_closes),
            },
        ),
        Rule(
            _("Rebate and co-op"),
            _("%(rebate)s of earnings are paid as rebate; %(coop)s become co-op funds.")
            % {
                "rebate": percent_in_words(program.rebate_percent),
                "coop": percent_in_words(program.coop_percent),
            },
        ),
        Rule(
            _("Threshold"),
            _(
                "Co-op below %(threshold)s for an earning period is converted to rebate instead. The split and the "
                "threshold apply to each fund's exact totals, rounded once."
            )
            % {"threshold": money(program.coop_threshold, program.currency)},
        ),
        Rule(
            _("Late earnings"),
            (
                _(
                    "Earnings that arrive after their period closed: the threshold is applied again to the new total "
                    "of the period (converted co-op becomes available once it reaches the threshold, unless it was "
                    "paid as rebate)."
                )
                if program.late_earnings == "reevaluate"
                else _("Earnings that arrive after their period closed: the close's outcome stands.")
            ),
        ),
        Rule(
            _("Disputes"),
            ngettext(
                "A rejection can be disputed for %(days)s days after it.",
                "A rejection can be disputed for %(days)s days after it.",
                program.dispute_window_days,
            )
            % {"days": program.dispute_window_days},
        ),
        Rule(_("Reminders"), _reminders(program)),
        Rule(
            _("Service levels"),
            _(
                "Claims are reviewed within %(review)s business days of submission, disputes answered within "
                "%(dispute)s, and approved claims paid within %(payment)s business days."
            )
            % {
                "review": program.review_sla_business_days,
                "dispute": program.dispute_sla_business_days,
                "payment": program.payment_sla_business_days,
            },
        ),
        Rule(
            _("Payments"),
            _("Payment runs are monthly, by the %(day)s.") % {"day": ordinal(program.payment_day)},
        ),
        Rule(_("Business days"), _business_days(country, holiday_count)),
    ]


def _reminders(program: Program) -> str:
    expiry, window = program.expiry_reminder_days, program.window_reminder_days
    before_forfeit = ngettext(
        "%(days)s days before available co-op is forfeited", "%(days)s days before available co-op is forfeited", expiry
    ) % {"days": expiry}
    before_close = ngettext(
        "%(days)s days before a claiming window closes", "%(days)s days before a claiming window closes", window
    ) % {"days": window}
    if expiry and window:
        return _("Location admins are reminded %(first)s and %(second)s.") % {
            "first": before_forfeit,
            "second": before_close,
        }
    if expiry or window:
        return _("Location admins are reminded %(when)s.") % {"when": before_forfeit if expiry else before_close}
    return _("No reminders before forfeiture or the end of a claiming window.")


def _business_days(country: str, holiday_count: int) -> str:
    own = (
        ngettext("the program's own %(count)s holiday", "the program's own %(count)s holidays", holiday_count)
        % {"count": holiday_count}
        if holiday_count
        else ""
    )
    public = _("the public holidays of %(country)s") % {"country": country} if country else ""
    if public and own:
        return _("Monday to Friday, except %(first)s and %(second)s.") % {"first": public, "second": own}
    if public or own:
        return _("Monday to Friday, except %(holidays)s.") % {"holidays": public or own}
    return _("Monday to Friday.")
