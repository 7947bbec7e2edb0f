"""Earnings in: import a file of earning lines, all or nothing, never counting a line twice."""

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from coopfunds.accounts.models import Location, Role
from coopfunds.accounts.permissions import holds
from coopfunds.audit.services import audit_record
from coopfunds.enrollments.models import Enrollment, EnrollmentStatus
from coopfunds.funds.imports import FileProblem, Problem, Row, parse_rows
from coopfunds.funds.models import EarningImport, EarningLine, Fund
from coopfunds.funds.services import fund_accrue, fund_for_earning, split
from coopfunds.programs.models import Program

CHUNK = 2000


def can_import_earnings(user: Any) -> bool:
    return holds(user, {Role.PROGRAM_MANAGER, Role.FINANCE})


@dataclass
class Context:
    """What rows are checked against, loaded once per file (a few queries, not one per row)."""

    locations: dict[str, Location] = field(default_factory=dict)
    programs: dict[str, Program] = field(default_factory=dict)
    earnings_start: dict[tuple[int, int], date | None] = field(default_factory=dict)

    @classmethod
    def load(cls) -> "Context":
        ctx = cls()
        ctx.locations = {
            loc.partner_id.upper(): loc for loc in Location.objects.only("id", "partner_id", "organisation_id")
        }
        ctx.programs = {p.code.lower(): p for p in Program.objects.all()}
        for e in Enrollment.objects.filter(status=EnrollmentStatus.ENROLLED).values(
            "location_id", "program_id", "earnings_start"
        ):
            ctx.earnings_start[(e["location_id"], e["program_id"])] = e["earnings_start"]
        return ctx


def _check(row: Row, ctx: Context) -> list[Problem]:
    problems = []
    location = ctx.locations.get(row.partner_id.upper())
    program = ctx.programs.get(row.program_code.lower())
    if location is None:
        problems.append(Problem(row.number, "partner ID", f"No location has the partner ID “{row.partner_id}”."))
    if program is None:
        problems.append(Problem(row.number, "program code", f"No program has the code “{row.program_code}”."))
    if program is not None and row.currency != program.currency:
        problems.append(
            Problem(
                row.number,
                "currency",
                f"{program.name} keeps its funds in {program.currency}; this line is in “{row.currency}”.",
            )
        )
    if location is not None and program is not None:
        key = (location.pk, program.pk)
        if key not in ctx.earnings_start:
            problems.append(Problem(row.number, "partner ID", f"{row.partner_id} is not enrolled in {program.name}."))
        elif (start := ctx.earnings_start[key]) and row.earned_on < start:
            problems.append(
                Problem(
                    row.number, "earned date", f"{row.earned_on} is before {row.partner_id}'s earnings start ({start})."
                )
            )
    return problems


def _same(line: EarningLine, row: Row, location: Location) -> bool:
    return (line.location_id, line.earned_on, line.amount, line.currency) == (
        location.pk,
        row.earned_on,
        row.amount,
        row.currency,
    )


@dataclass
class Checked:
    problems: list[Problem]
    rows: int
    duplicates_ok: set[tuple[int, str]]  # (program id, external id) already imported with the same content


def check_file(stream: IO[bytes], file_name: str, ctx: Context) -> Checked:
    """First pass: every problem of the file. Keeps only the external IDs in memory, not the rows."""
    problems: list[Problem] = []
    seen: dict[tuple[int, str], int] = {}
    already: set[tuple[int, str]] = set()
    pending: list[Row] = []
    count = 0

    def flush() -> None:
        by_program: dict[int, dict[str, Row]] = defaultdict(dict)
        for r in pending:
            by_program[ctx.programs[r.program_code.lower()].pk][r.external_line_id] = r
        for program_id, rows in by_program.items():
            for line in EarningLine.objects.filter(program_id=program_id, external_line_id__in=list(rows)):
                r = rows[line.external_line_id]
                if _same(line, r, ctx.locations[r.partner_id.upper()]):
                    already.add((program_id, r.external_line_id))
                else:
                    problems.append(
                        Problem(
                            r.number,
                            "external line ID",
                            f"Line “{r.external_line_id}” was already imported with other values "
                            f"(on {line.batch.created_at:%Y-%m-%d}); a line is never counted twice.",
                        )
                    )
        pending.clear()

    for item in parse_rows(stream, file_name):
        count += 1
        if isinstance(item, list):
            problems.extend(item)
            continue
        row_problems = _check(item, ctx)
        if not row_problems:
            key = (ctx.programs[item.program_code.lower()].pk, item.external_line_id)
            if key in seen:
                row_problems.append(
                    Problem(
                        item.number,
                        "external line ID",
                        f"Line “{item.external_line_id}” appears twice in this file (first on row {seen[key]}).",
                    )
                )
            else:
                seen[key] = item.number
                pending.append(item)
        problems.extend(row_problems)
        if len(pending) >= CHUNK:
            flush()
    flush()
    if count == 0:
        raise FileProblem("The file has a header but no earning lines.")
    return Checked(problems=problems, rows=count, duplicates_ok=already)


def _apply(stream: IO[bytes], file_name: str, ctx: Context, batch: EarningImport, checked: Checked, actor: Any) -> None:
    """Second pass: write the lines in chunks, then one balanced transfer per fund."""
    funds: dict[tuple[int, int, date], Fund] = {}
    totals: dict[int, dict[str, Decimal]] = defaultdict(lambda: {"coop": Decimal(0), "rebate": Decimal(0)})
    fund_by_id: dict[int, Fund] = {}
    buffer: list[EarningLine] = []
    applied = 0
    grand_total = Decimal(0)

    def rows() -> Iterator[Row]:
        for item in parse_rows(stream, file_name):
            assert isinstance(item, Row)
            yield item

    for row in rows():
        program = ctx.programs[row.program_code.lower()]
        if (program.pk, row.external_line_id) in checked.duplicates_ok:
            continue
        location = ctx.locations[row.partner_id.upper()]
        period_key = (location.pk, program.pk, row.earned_on.replace(day=1))
        fund = funds.get(period_key)
        if fund is None:
            fund = fund_for_earning(location=location, program=program, earned_on=row.earned_on)
            funds[period_key] = fund
            fund_by_id[fund.pk] = fund
        coop, rebate = split(program, row.amount)
        totals[fund.pk]["coop"] += coop
        totals[fund.pk]["rebate"] += rebate
        grand_total += row.amount
        buffer.append(
            EarningLine(
                batch=batch,
                program=program,
                location=location,
                fund=fund,
                external_line_id=row.external_line_id,
                row_number=row.number,
                earned_on=row.earned_on,
                amount=row.amount,
                currency=row.currency,
                coop_amount=coop,
                rebate_amount=rebate,
                earning_type=row.earning_type,
                product=row.product,
                customer_reference=row.customer_reference,
            )
        )
        applied += 1
        if len(buffer) >= CHUNK:
            EarningLine.objects.bulk_create(buffer)
            buffer.clear()
    EarningLine.objects.bulk_create(buffer)

    for fund_id in sorted(totals):
        fund_accrue(
            fund=fund_by_id[fund_id],
            coop=totals[fund_id]["coop"],
            rebate=totals[fund_id]["rebate"],
            key=f"earnings:{batch.pk}:{fund_id}",
            reference=f"earnings-import:{batch.pk}",
            effective_on=fund_by_id[fund_id].earning_end,
            memo=f"Earnings from {batch.file_name}",
            actor=actor,
        )
    batch.applied, batch.total = applied, grand_total


def earnings_import(*, stream: IO[bytes], file_name: str, actor: Any) -> EarningImport:
    """Check the whole file; if anything is wrong, record the report and change nothing else. Otherwise apply
    it in one transaction. Lines imported before with the same content are skipped (and counted as such)."""
    if not can_import_earnings(actor):
        raise PermissionDenied("Only program managers and finance can import earnings.")
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    stream.seek(0)
    ctx = Context.load()
    try:
        checked = check_file(stream, file_name, ctx)
    except FileProblem as exc:
        checked = Checked(problems=[Problem(0, "file", " ".join(exc.messages))], rows=0, duplicates_ok=set())
    base = {
        "created_by": actor,
        "file_name": file_name[:255],
        "sha256": digest.hexdigest(),
        "rows": checked.rows,
        "skipped": len(checked.duplicates_ok),
    }
    if checked.problems:
        with transaction.atomic(durable=True):
            return EarningImport.objects.create(
                status=EarningImport.Status.REJECTED,
                errors=[p.as_dict() for p in sorted(checked.problems, key=lambda p: p.row)],
                **base,
            )
    stream.seek(0)
    try:
        with transaction.atomic(durable=True):
            batch = EarningImport.objects.create(status=EarningImport.Status.APPLIED, **base)
            _apply(stream, file_name, ctx, batch, checked, actor)
            batch.save(update_fields=["applied", "total"])
            audit_record(
                actor=actor,
                verb="earnings.import",
                target=batch,
                changes={"applied": (None, batch.applied), "total": (None, str(batch.total))},
            )
            return batch
    except IntegrityError:
        raise ValidationError(
            {
                "file": "Another import applied some of these lines at the same moment; "
                "upload the file again: lines already counted are skipped."
            }
        ) from None


def import_rejected_message(batch: EarningImport) -> str:
    n = len(batch.errors)
    return f"{batch.file_name}: {n} problem{'s' if n != 1 else ''} found; nothing was imported. Fix the rows below and upload it again."
