"""The monthly exchange-rate table: parsing what finance sends (CSV or API) and converting with it.

A CSV has the header `month,source,target,rate` and one rate per row, e.g. `2026-11,USD,EUR,0.92150000`:
1 USD = 0.9215 EUR for payments of runs in November 2026. Pure functions; the services write.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import IO

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext

from coopfunds.core.money import quantize, validate_currency

HEADER = ("month", "source", "target", "rate")
RATE_PLACES = 8
MAX_ROWS = 10_000


@dataclass(frozen=True)
class RateRow:
    month: date
    source: str
    target: str
    rate: Decimal


def month_of(day: date) -> date:
    return day.replace(day=1)


def parse_month(text: str) -> date:
    """'2026-11' or '2026-11-01' -> 1 Nov 2026."""
    cleaned = text.strip()
    try:
        if len(cleaned) == 7:
            return date.fromisoformat(cleaned + "-01")
        day = date.fromisoformat(cleaned)
    except ValueError:
        raise ValidationError(
            gettext("“%(text)s” is not a month; write it as YYYY-MM, e.g. 2026-11.") % {"text": text}
        ) from None
    if day.day != 1:
        raise ValidationError(
            gettext("“%(text)s” is not the first day of a month; write the month as YYYY-MM.") % {"text": text}
        )
    return day


def clean_rate(*, month: str | date, source: str, target: str, rate: str | Decimal) -> RateRow:
    """One rate, checked; raises ValidationError({field: message}) naming every problem."""
    errors: dict[str, str] = {}
    month_value = None
    if isinstance(month, date):
        month_value = month_of(month)
    else:
        try:
            month_value = parse_month(month)
        except ValidationError as e:
            errors["month"] = e.messages[0]
    source, target = source.strip().upper(), target.strip().upper()
    for name, code in (("source", source), ("target", target)):
        try:
            validate_currency(code)
        except ValidationError as e:
            errors[name] = e.messages[0]
    if "source" not in errors and source == target:
        errors["target"] = gettext("A rate converts between two different currencies.")
    try:
        value = Decimal(str(rate).strip())
        if not value.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        errors["rate"] = gettext("“%(rate)s” is not a number; write it with a dot, e.g. 0.9215.") % {"rate": rate}
    else:
        if value <= 0:
            errors["rate"] = gettext("A rate is more than zero.")
        elif value != value.quantize(Decimal(1).scaleb(-RATE_PLACES)):
            errors["rate"] = gettext("Give the rate with at most %(places)s decimal places.") % {"places": RATE_PLACES}
        elif value >= Decimal(10) ** 10:
            errors["rate"] = gettext("This rate is too large.")
    if errors:
        raise ValidationError(errors)
    assert month_value is not None
    return RateRow(month=month_value, source=source, target=target, rate=value)


def parse_csv(stream: IO[bytes]) -> list[RateRow]:
    """Every row of a rates CSV, or ValidationError({"file": [...]}) listing each problem with its row."""
    raw = stream.read(MAX_ROWS * 100 + 1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": gettext("The file is not UTF-8 text: save it as CSV (UTF-8).")}) from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if tuple(header) != HEADER:
        raise ValidationError(
            {"file": gettext("The first row must name the columns: %(columns)s.") % {"columns": ",".join(HEADER)}}
        )
    rows: list[RateRow] = []
    problems: list[str] = []
    seen: set[tuple[date, str, str]] = set()
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(rows) + len(problems) >= MAX_ROWS:
            problems.append(
                gettext("More than %(most)s rates: split the file.")
                % {"most": number_format(MAX_ROWS, force_grouping=True)}
            )
            break
        if len(cells) != len(HEADER):
            problems.append(
                gettext("Row %(row)s: expected %(expected)s columns, found %(found)s.")
                % {"row": number, "expected": len(HEADER), "found": len(cells)}
            )
            continue
        try:
            row = clean_rate(**dict(zip(HEADER, cells, strict=True)))
        except ValidationError as e:
            problems += [
                gettext("Row %(row)s, %(field)s: %(message)s") % {"row": number, "field": field, "message": m}
                for field, ms in e.message_dict.items()
                for m in ms
            ]
            continue
        key = (row.month, row.source, row.target)
        if key in seen:
            problems.append(
                gettext("Row %(row)s: %(source)s→%(target)s for %(month)s appears twice.")
                % {"row": number, "source": row.source, "target": row.target, "month": f"{row.month:%Y-%m}"}
            )
            continue
        seen.add(key)
        rows.append(row)
    if not rows and not problems:
        problems.append(gettext("The file holds no rates."))
    if problems:
        raise ValidationError({"file": problems})
    return rows


def convert(amount: Decimal, rate: Decimal) -> Decimal:
    return quantize(amount * rate)
