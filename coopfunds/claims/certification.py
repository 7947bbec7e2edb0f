"""The certification report for in-house work (DOMAIN.md, Flow A and B): what was done, by whom, how many
hours at which rate. The product writes it as a small PDF with fpdf2 (plain text in the standard Helvetica font,
no scripts, no fonts embedded) that is attached to the claim like any document of kind `certification_report`.

Pure: `report_clean` checks the figures, `report_pdf` writes the bytes; nothing here touches the database. Both
speak the active language (the PDF is written in it)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from fpdf import FPDF

from coopfunds.core.money import money, quantize, typed_figures

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as StrPromise

MAX_DESCRIPTION = 2000
MAX_LINES = 20
MAX_HOURS = Decimal(10000)
# What can be wrong with a figure, per figure: not a number, not above zero, too many decimals.
_PROBLEMS: "dict[str, tuple[StrPromise, StrPromise, StrPromise]]" = {
    "hours": (
        gettext_lazy("the hours “%(value)s” is not a number"),
        gettext_lazy("the hours must be more than zero"),
        gettext_lazy("the hours has more than %(places)s decimal places"),
    ),
    "rate": (
        gettext_lazy("the rate “%(value)s” is not a number"),
        gettext_lazy("the rate must be more than zero"),
        gettext_lazy("the rate has more than %(places)s decimal places"),
    ),
}


def figures(number: Decimal) -> str:
    """Hours as people write them, in the active language: "7.5" (Swedish "7,5"), no trailing zeros."""
    return number_format(number.normalize())


def _grouped(number: int | Decimal) -> str:
    """A limit with its thousands grouped: "2,000" ("2 000" in Swedish)."""
    return number_format(number, force_grouping=True)


@dataclass(frozen=True)
class WorkLine:
    person: str
    hours: Decimal
    rate: Decimal

    @property
    def amount(self) -> Decimal:
        return quantize(self.hours * self.rate)


@dataclass(frozen=True)
class CertificationReport:
    description: str
    lines: tuple[WorkLine, ...]
    currency: str

    @property
    def hours(self) -> Decimal:
        return sum((line.hours for line in self.lines), Decimal(0))

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))

    def summary(self) -> str:
        people = len(self.lines)
        return ngettext(
            "In-house work certified: %(people)s person, %(hours)s hours, %(total)s.",
            "In-house work certified: %(people)s people, %(hours)s hours, %(total)s.",
            people,
        ) % {"people": people, "hours": figures(self.hours), "total": money(self.total, self.currency)}


def _number(value: object, what: str, *, places: int) -> Decimal:
    """`what`: "hours" or "rate"."""
    not_a_number, not_positive, too_precise = _PROBLEMS[what]
    try:
        number = Decimal(typed_figures(str(value)).strip())
    except InvalidOperation:
        raise ValueError(not_a_number % {"value": value}) from None
    if not number.is_finite() or number <= 0:
        raise ValueError(str(not_positive))
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(too_precise % {"places": places})
    return number


def report_clean(*, description: str, lines: list[tuple[str, object, object]], currency: str) -> CertificationReport:
    """(person, hours, rate) rows in; a report out, or a ValidationError {description, lines} in words."""
    errors: dict[str, list[str]] = {}
    description = description.strip()
    if not description:
        errors["description"] = [_("Describe the work that was done in-house.")]
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = [_("Keep the description to %(n)s characters.") % {"n": _grouped(MAX_DESCRIPTION)}]
    rows = [(str(p or "").strip(), h, r) for p, h, r in lines if str(p or "").strip() or h or r]
    cleaned: list[WorkLine] = []
    problems: list[str] = []
    if not rows:
        problems.append(_("Add at least one person with their hours and hourly rate."))
    if len(rows) > MAX_LINES:
        problems.append(_("At most %(n)s people per report.") % {"n": MAX_LINES})
    for n, (person, hours, rate) in enumerate(rows, start=1):
        try:
            if not person:
                raise ValueError(_("the person's name is missing"))
            h = _number(hours, "hours", places=2)
            if h > MAX_HOURS:
                raise ValueError(_("the hours must be at most %(n)s") % {"n": _grouped(MAX_HOURS)})
            cleaned.append(WorkLine(person=person[:100], hours=h, rate=_number(rate, "rate", places=2)))
        except ValueError as problem:
            problems.append(_("Line %(n)s: %(problem)s.") % {"n": n, "problem": problem})
    if problems:
        errors["lines"] = problems
    if errors:
        raise ValidationError(errors)
    return CertificationReport(description=description, lines=tuple(cleaned), currency=currency)


# --- the PDF ---------------------------------------------------------------------------------------------


def _text(value: str) -> str:
    """What the standard PDF fonts can show (Windows-1252); anything else becomes “?”."""
    return value.encode("cp1252", errors="replace").decode("cp1252")


def _long_day(day: date) -> str:
    """ "04 December 2026" in English (as the report always said it); "4 december 2026" in Swedish."""
    english = (translation.get_language() or "en").startswith("en")
    return date_format(day, "d F Y" if english else "j F Y")


def report_pdf(report: CertificationReport, *, claim_label: str, location: str, certified_by: str, on: date) -> bytes:
    """The report as an A4 PDF in the active language: text in Helvetica (no embedded fonts, no scripts),
    uncompressed."""
    amount_of = lambda amount: money(amount, report.currency)  # noqa: E731
    pdf = FPDF(format="A4")
    pdf.compress = False
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_title(_text(_("Certification report, %(claim)s") % {"claim": claim_label}))
    pdf.set_creator("Coopfunds")
    pdf.set_creation_date(datetime.combine(on, time(12), tzinfo=UTC))
    pdf.set_margin(20)
    pdf.add_page()

    def block(text: str, size: int = 11, style: str = "", gap: float = 0) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(0, size * 0.55, _text(text), new_x="LMARGIN", new_y="NEXT")
        if gap:
            pdf.ln(gap)

    block(_("Certification report: in-house work"), 16, "B", 4)
    block(claim_label)
    block(_("Location: %(location)s") % {"location": location})
    block(_("Certified by %(person)s on %(day)s") % {"person": certified_by, "day": _long_day(on)}, gap=6)
    block(_("Work done"), 13, "B", 1)
    block(report.description, gap=6)
    block(_("People, hours and rates"), 13, "B", 1)
    for n, line in enumerate(report.lines, start=1):
        block(
            _("%(n)s. %(person)s: %(hours)s hours at %(rate)s an hour = %(amount)s")
            % {
                "n": n,
                "person": line.person,
                "hours": figures(line.hours),
                "rate": amount_of(line.rate),
                "amount": amount_of(line.amount),
            }
        )
    pdf.ln(4)
    total = _("Total: %(hours)s hours, %(total)s") % {"hours": figures(report.hours), "total": amount_of(report.total)}
    block(total, 12, "B", 6)
    block(
        _(
            "I certify that this work was carried out in-house by the people named above, for the activity of this "
            "claim, and that the hours and rates are true."
        ),
        10,
    )
    return bytes(pdf.output())
