"""The certification report for in-house work (DOMAIN.md, Flow A and B): what was done, by whom, how many
hours at which rate. The product writes it as a small PDF with fpdf2 (plain text in the standard Helvetica font,
no scripts, no fonts embedded) that is attached to the claim like any document of kind `certification_report`.

Pure: `report_clean` checks the figures, `report_pdf` writes the bytes; nothing here touches the database."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from fpdf import FPDF

from coopfunds.core.money import quantize

MAX_DESCRIPTION = 2000
MAX_LINES = 20
MAX_HOURS = Decimal(10000)


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
        return (
            f"In-house work certified: {people} {'person' if people == 1 else 'people'}, "
            f"{self.hours.normalize():f} hours, {self.total:,.2f} {self.currency}."
        )


def _number(value: object, what: str, *, places: int) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"the {what} “{value}” is not a number") from None
    if not number.is_finite() or number <= 0:
        raise ValueError(f"the {what} must be more than zero")
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(f"the {what} has more than {places} decimal places")
    return number


def report_clean(*, description: str, lines: list[tuple[str, object, object]], currency: str) -> CertificationReport:
    """(person, hours, rate) rows in; a report out, or a ValidationError {description, lines} in words."""
    errors: dict[str, list[str]] = {}
    description = description.strip()
    if not description:
        errors["description"] = ["Describe the work that was done in-house."]
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = [f"Keep the description to {MAX_DESCRIPTION:,} characters."]
    rows = [(str(p or "").strip(), h, r) for p, h, r in lines if str(p or "").strip() or h or r]
    cleaned: list[WorkLine] = []
    problems: list[str] = []
    if not rows:
        problems.append("Add at least one person with their hours and hourly rate.")
    if len(rows) > MAX_LINES:
        problems.append(f"At most {MAX_LINES} people per report.")
    for n, (person, hours, rate) in enumerate(rows, start=1):
        try:
            if not person:
                raise ValueError("the person's name is missing")
            h = _number(hours, "hours", places=2)
            if h > MAX_HOURS:
                raise ValueError(f"the hours must be at most {MAX_HOURS:,}")
            cleaned.append(WorkLine(person=person[:100], hours=h, rate=_number(rate, "rate", places=2)))
        except ValueError as problem:
            problems.append(f"Line {n}: {problem}.")
    if problems:
        errors["lines"] = problems
    if errors:
        raise ValidationError(errors)
    return CertificationReport(description=description, lines=tuple(cleaned), currency=currency)


# --- the PDF ---------------------------------------------------------------------------------------------


def _text(value: str) -> str:
    """What the standard PDF fonts can show (Windows-1252); anything else becomes “?”."""
    return value.encode("cp1252", errors="replace").decode("cp1252")


def report_pdf(report: CertificationReport, *, claim_label: str, location: str, certified_by: str, on: date) -> bytes:
    """The report as an A4 PDF: text in Helvetica (no embedded fonts, no scripts), uncompressed."""
    money = lambda amount: f"{amount:,.2f} {report.currency}"  # noqa: E731
    pdf = FPDF(format="A4")
    pdf.compress = False
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_title(_text(f"Certification report, {claim_label}"))
    pdf.set_creator("Coopfunds")
    pdf.set_creation_date(datetime.combine(on, time(12), tzinfo=UTC))
    pdf.set_margin(20)
    pdf.add_page()

    def block(text: str, size: int = 11, style: str = "", gap: float = 0) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(0, size * 0.55, _text(text), new_x="LMARGIN", new_y="NEXT")
        if gap:
            pdf.ln(gap)

    block("Certification report: in-house work", 16, "B", 4)
    block(claim_label)
    block(f"Location: {location}")
    block(f"Certified by {certified_by} on {on:%d %B %Y}", gap=6)
    block("Work done", 13, "B", 1)
    block(report.description, gap=6)
    block("People, hours and rates", 13, "B", 1)
    for n, line in enumerate(report.lines, start=1):
        block(
            f"{n}. {line.person}: {line.hours.normalize():f} hours at {money(line.rate)} an hour = {money(line.amount)}"
        )
    pdf.ln(4)
    block(f"Total: {report.hours.normalize():f} hours, {money(report.total)}", 12, "B", 6)
    block(
        "I certify that this work was carried out in-house by the people named above, for the activity of this "
        "claim, and that the hours and rates are true.",
        10,
    )
    return bytes(pdf.output())
