"""Reading and checking earning files (CSV or XLSX), row by row, without loading the file into memory.

Every problem is reported with its row number (as a spreadsheet shows it: the header is row 1), the
column, and a reason a partner manager understands. Nothing here writes."""

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from coopfunds.core.money import parse_amount

COLUMNS = {
    "earned_date": "earned date",
    "partner_id": "partner ID",
    "program_code": "program code",
    "amount": "amount",
    "currency": "currency",
    "earning_type": "earning type",
    "product": "product",
    "customer_reference": "customer reference",
    "external_line_id": "external line ID",
}
REQUIRED = ("earned_date", "partner_id", "program_code", "amount", "currency", "external_line_id")
ALIASES = {label.lower(): key for key, label in COLUMNS.items()} | {key: key for key in COLUMNS}


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass(frozen=True)
class Row:
    number: int
    earned_on: date
    partner_id: str
    program_code: str
    amount: Decimal
    currency: str
    earning_type: str
    product: str
    customer_reference: str
    external_line_id: str


class FileProblem(ValidationError):
    pass


def _normalise_header(cells: list[Any]) -> dict[str, int]:
    positions: dict[str, int] = {}
    unknown = []
    for index, cell in enumerate(cells):
        name = str(cell or "").strip().lower().replace("-", "_")
        name = ALIASES.get(name, ALIASES.get(name.replace("_", " "), ""))
        if name:
            positions[name] = index
        elif str(cell or "").strip():
            unknown.append(str(cell).strip())
    missing = [COLUMNS[c] for c in REQUIRED if c not in positions]
    if missing:
        expected = ", ".join(COLUMNS.values())
        raise FileProblem(
            gettext("The first row must name the columns. Missing: %(missing)s. Expected: %(expected)s.")
            % {"missing": ", ".join(missing), "expected": expected}
        )
    if unknown:
        raise FileProblem(
            gettext("Unknown column(s): %(unknown)s. Expected: %(expected)s.")
            % {"unknown": ", ".join(unknown), "expected": ", ".join(COLUMNS.values())}
        )
    return positions


def _csv_rows(stream: IO[bytes]) -> Iterator[list[Any]]:
    text = codecs.getreader("utf-8-sig")(stream, "strict")
    try:
        yield from csv.reader(text)
    except UnicodeDecodeError:
        raise FileProblem(
            gettext("The file is not UTF-8 text. Save it as “CSV UTF-8” or upload the .xlsx file.")
        ) from None
    except csv.Error as exc:
        raise FileProblem(gettext("The CSV file is malformed: %(error)s.") % {"error": exc}) from None


def _xlsx_rows(stream: IO[bytes]) -> Iterator[list[Any]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError):
        raise FileProblem(gettext("The file is not a readable .xlsx workbook.")) from None
    try:
        for values in book.worksheets[0].iter_rows(values_only=True):
            yield list(values)
    finally:
        book.close()


def raw_rows(stream: IO[bytes], file_name: str) -> Iterator[list[Any]]:
    if file_name.lower().endswith(".xlsx"):
        return _xlsx_rows(stream)
    if file_name.lower().endswith((".csv", ".txt")):
        return _csv_rows(stream)
    raise FileProblem(gettext("Upload a .csv or .xlsx file."))


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value if type(value) is date else value.date()  # type: ignore[attr-defined]
    text = str(value or "").strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            gettext("“%(text)s” is not a date; write dates as YYYY-MM-DD, e.g. 2026-03-31.") % {"text": text}
        ) from None


def _amount(value: Any) -> Decimal:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = format(Decimal(str(value)), "f")
    amount = parse_amount(str(value or ""))
    if amount <= 0:
        raise ValidationError(
            gettext("%(amount)s is not more than zero; corrections are made as fund adjustments.") % {"amount": amount}
        )
    return amount


def parse_rows(stream: IO[bytes], file_name: str) -> Iterator[Row | list[Problem]]:
    """Yield a Row for each good data row and a list of Problems for each bad one (blank rows skipped)."""
    rows = raw_rows(stream, file_name)
    try:
        header = next(rows)
    except StopIteration:
        raise FileProblem(gettext("The file is empty.")) from None
    positions = _normalise_header(header)
    order = list(COLUMNS)  # every row is first reduced to these columns, in this order
    index = [positions.get(name) for name in order]
    width = max(i for i in index if i is not None) + 1
    required = [order.index(name) for name in REQUIRED]
    at_date, at_amount = order.index("earned_date"), order.index("amount")
    for number, cells in enumerate(rows, start=2):
        if len(cells) < width:
            cells = [*cells, *([None] * (width - len(cells)))]
        raw = [None if i is None else cells[i] for i in index]
        text = ["" if v is None else str(v).strip() for v in raw]
        if not any(text) and not any(str(c or "").strip() for c in cells):
            continue  # a blank row
        problems = [
            Problem(number, COLUMNS[order[i]], gettext("The %(column)s is missing.") % {"column": COLUMNS[order[i]]})
            for i in required
            if not text[i]
        ]
        parsed: dict[int, Any] = {}
        for i, parse in ((at_date, _date), (at_amount, _amount)):
            if text[i]:
                try:
                    parsed[i] = parse(raw[i])
                except ValidationError as exc:
                    problems.append(Problem(number, COLUMNS[order[i]], " ".join(exc.messages)))
        if problems:
            yield problems
            continue
        yield Row(
            number,
            parsed[at_date],
            text[1],
            text[2],
            parsed[at_amount],
            text[4].upper(),
            text[5],
            text[6],
            text[7],
            text[8],
        )
