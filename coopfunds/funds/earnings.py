"""Earnings in: import a file of earning lines, all or nothing, never counting a line twice."""

import hashlib
import pickle
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext, gettext_noop, ngettext

from coopfunds.accounts.models import Location
from coopfunds.associations.customers import customer_reference_key
from coopfunds.associations.selectors import customer_windows
from coopfunds.audit.services import audit_record
from coopfunds.core.i18n import Said
from coopfunds.enrollments.models import Enrollment, EnrollmentStatus
from coopfunds.funds.imports import FileProblem, Problem, Row, parse_rows
from coopfunds.funds.models import EarningImport, EarningLine, Fund
from coopfunds.funds.permissions import can_import_earnings
from coopfunds.funds.services import funds_accrue, funds_for_earnings, rebate_share, split
from coopfunds.programs import rules
from coopfunds.programs.models import Program

CHUNK = 2000


@dataclass
class Context:
    """What rows are checked against, loaded once per file (a few queries, not one per row)."""

    locations: dict[str, Location] = field(default_factory=dict)
    programs: dict[str, Program] = field(default_factory=dict)
    earnings_start: dict[tuple[int, int], date | None] = field(default_factory=dict)
    # Programs that count earnings only for customers a location is associated with: their windows.
    associations: dict[int, dict[tuple[int, str], list[tuple[date, date | None]]]] = field(default_factory=dict)

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
        for program in ctx.programs.values():
            if program.earnings_require_association:
                ctx.associations[program.pk] = customer_windows(program.pk)
        return ctx

    def associated(self, program_id: int, location_id: int, reference: str, day: date) -> bool:
        windows = self.associations[program_id].get((location_id, customer_reference_key(reference)), [])
        return any(start <= day and (until is None or day < until) for start, until in windows)


def _check(row: Row, ctx: Context) -> list[Problem]:
    problems = []
    location = ctx.locations.get(row.partner_id.upper())
    program = ctx.programs.get(row.program_code.lower())
    if location is None:
        problems.append(
            Problem(
                row.number,
                "partner ID",
                gettext("No location has the partner ID “%(partner_id)s”.") % {"partner_id": row.partner_id},
            )
        )
    if program is None:
        problems.append(
            Problem(
                row.number,
                "program code",
                gettext("No program has the code “%(code)s”.") % {"code": row.program_code},
            )
        )
    if program is not None and row.currency != program.currency:
        problems.append(
            Problem(
                row.number,
                "currency",
                gettext("%(program)s keeps its funds in %(currency)s; this line is in “%(line_currency)s”.")
                % {"program": program.name, "currency": program.currency, "line_currency": row.currency},
            )
        )
    if location is not None and program is not None:
        key = (location.pk, program.pk)
        if key not in ctx.earnings_start:
            problems.append(
                Problem(
                    row.number,
                    "partner ID",
                    gettext("%(partner_id)s is not enrolled in %(program)s.")
                    % {"partner_id": row.partner_id, "program": program.name},
                )
            )
        elif (start := ctx.earnings_start[key]) and row.earned_on < start:
            problems.append(
                Problem(
                    row.number,
                    "earned date",
                    gettext("%(day)s is before %(partner_id)s's earnings start (%(start)s).")
                    % {"day": row.earned_on, "partner_id": row.partner_id, "start": start},
                )
            )
    if location is not None and program is not None and program.pk in ctx.associations and not problems:
        if not row.customer_reference:
            problems.append(
                Problem(
                    row.number,
                    "customer reference",
                    gettext(
                        "%(program)s counts earnings only for associated customers: give the customer's tenant ID "
                        "or domain."
                    )
                    % {"program": program.name},
                )
            )
        elif not ctx.associated(program.pk, location.pk, row.customer_reference, row.earned_on):
            problems.append(
                Problem(
                    row.number,
                    "customer reference",
                    gettext("%(partner_id)s has no customer association in force for “%(customer)s” on %(day)s.")
                    % {"partner_id": row.partner_id, "customer": row.customer_reference, "day": row.earned_on},
                )
            )
    return problems


@dataclass
class Checked:
    """The outcome of the checking pass. Good rows wait in `spool` (a temporary file of pickled chunks), so
    memory stays bounded however large the file is and the file is parsed only once."""

    problems: list[Problem]
    rows: int
    skipped: int  # lines already imported with the same content
    spool: IO[bytes] | None = None


Line = tuple[Row, int, int]  # a good row, its program id and location id


def check_file(stream: IO[bytes], file_name: str, ctx: Context, spool: IO[bytes]) -> Checked:
    """Every problem of the file, in one pass; good rows go to `spool`. Keeps only external IDs in memory."""
    problems: list[Problem] = []
    seen: dict[tuple[int, str], int] = {}
    skipped = 0
    pending: list[Line] = []
    count = 0

    def flush() -> None:
        nonlocal skipped
        by_program: dict[int, dict[str, Line]] = defaultdict(dict)
        for line in pending:
            by_program[line[1]][line[0].external_line_id] = line
        known: set[tuple[int, str]] = set()
        for program_id, lines in by_program.items():
            for old in _already_imported(program_id, list(lines)).select_related("batch"):
                row, _, location_id = lines[old.external_line_id]
                known.add((program_id, row.external_line_id))
                if (old.location_id, old.earned_on, old.amount, old.currency) == (
                    location_id,
                    row.earned_on,
                    row.amount,
                    row.currency,
                ):
                    skipped += 1
                else:
                    problems.append(
                        Problem(
                            row.number,
                            "external line ID",
                            gettext(
                                "Line “%(line)s” was already imported with other values (on %(day)s); a line is "
                                "never counted twice."
                            )
                            % {"line": row.external_line_id, "day": f"{old.batch.created_at:%Y-%m-%d}"},
                        )
                    )
        fresh = [line for line in pending if (line[1], line[0].external_line_id) not in known]
        if fresh and not problems:
            pickle.dump(fresh, spool, protocol=pickle.HIGHEST_PROTOCOL)
        pending.clear()

    for item in parse_rows(stream, file_name):
        count += 1
        if isinstance(item, list):
            problems.extend(item)
            continue
        row_problems = _check(item, ctx)
        if not row_problems:
            program_id = ctx.programs[item.program_code.lower()].pk
            key = (program_id, item.external_line_id)
            if key in seen:
                row_problems.append(
                    Problem(
                        item.number,
                        "external line ID",
                        gettext("Line “%(line)s” appears twice in this file (first on row %(row)s).")
                        % {"line": item.external_line_id, "row": seen[key]},
                    )
                )
            else:
                seen[key] = item.number
                pending.append((item, program_id, ctx.locations[item.partner_id.upper()].pk))
        problems.extend(row_problems)
        if len(pending) >= CHUNK:
            flush()
    flush()
    if count == 0:
        raise FileProblem(gettext("The file has a header but no earning lines."))
    spool.seek(0)
    return Checked(problems=problems, rows=count, skipped=skipped, spool=spool)


def _already_imported(program_id: int, external_ids: list[str]) -> QuerySet[EarningLine]:
    """The program's lines with these external IDs. PostgreSQL gets the IDs as one array (`= ANY(%s)`): as an
    IN list of a chunk's 2,000 values, quoting and planning them cost more than the rest of the import."""
    lines = EarningLine.objects.filter(program_id=program_id)
    if connection.vendor != "postgresql":
        return lines.filter(external_line_id__in=external_ids)
    known = RawSQL("external_line_id = ANY(%s)", [external_ids], output_field=BooleanField())
    return lines.alias(known=known).filter(known=True)


def _spooled(spool: IO[bytes]) -> Iterator[list[Line]]:
    while True:
        try:
            yield pickle.load(spool)  # noqa: S301 (our own temporary file, written just before)
        except EOFError:
            return


LINE_COLUMNS = (
    "batch_id",
    "program_id",
    "location_id",
    "fund_id",
    "external_line_id",
    "row_number",
    "earned_on",
    "amount",
    "currency",
    "coop_amount",
    "rebate_amount",
    "earning_type",
    "product",
    "customer_reference",
)


def _insert_lines(lines: list[tuple[Any, ...]]) -> None:
    """Insert earning lines: PostgreSQL's COPY where available (the database's own bulk path), else bulk_create.
    The table's constraints (unique external line ID per program) hold either way."""
    if connection.vendor == "postgresql":
        table = EarningLine._meta.db_table
        sql = f"COPY {table} ({', '.join(LINE_COLUMNS)}) FROM STDIN"
        with connection.wrap_database_errors, connection.cursor() as cursor, cursor.copy(sql) as copy:
            for line in lines:
                copy.write_row(line)
    else:
        EarningLine.objects.bulk_create([EarningLine(**dict(zip(LINE_COLUMNS, line, strict=True))) for line in lines])


def _apply(checked: Checked, ctx: Context, batch: EarningImport, actor: Any) -> None:
    """Second step: write the spooled lines chunk by chunk, then one balanced transfer for all their funds."""
    assert checked.spool is not None
    programs = {p.pk: p for p in ctx.programs.values()}
    books = {pk: rules.RuleBook(p) for pk, p in programs.items()}  # each line is split by the rules of its day
    totals: dict[int, list[Any]] = {}  # fund id -> [fund, earnings, their exact rebate share]
    for chunk in _spooled(checked.spool):
        earned: dict[int, set[tuple[int, date]]] = defaultdict(set)
        for row, program_id, location_id in chunk:
            earned[program_id].add((location_id, row.earned_on))
        funds = {
            (program_id, *key): fund
            for program_id, keys in earned.items()
            for key, fund in funds_for_earnings(program=programs[program_id], earned=keys).items()
        }
        lines = []
        for row, program_id, location_id in chunk:
            ruled = books[program_id].on(row.earned_on)
            coop, rebate = split(ruled, row.amount)
            fund = funds[(program_id, location_id, row.earned_on)]
            slot = totals.setdefault(fund.pk, [fund, Decimal(0), Decimal(0)])
            slot[1] += row.amount
            slot[2] += rebate_share(ruled, row.amount)
            batch.applied += 1
            batch.total += row.amount
            lines.append(
                (
                    batch.pk,
                    program_id,
                    location_id,
                    fund.pk,
                    row.external_line_id,
                    row.number,
                    row.earned_on,
                    row.amount,
                    row.currency,
                    coop,
                    rebate,
                    row.earning_type,
                    row.product,
                    row.customer_reference,
                )
            )
        _insert_lines(lines)
    by_currency: dict[tuple[int, str], list[tuple[Fund, Decimal, Decimal]]] = defaultdict(list)
    for fund, amount, share in totals.values():
        by_currency[(fund.program_id, fund.currency)].append((fund, amount, share))
    for (program_id, currency), items in sorted(by_currency.items()):
        funds_accrue(
            items=items,
            key=f"earnings:{batch.pk}:{program_id}:{currency}",
            reference=f"earnings-import:{batch.pk}",
            effective_on=batch.created_at.date(),
            memo=Said(gettext_noop("Earnings from %(file)s"), file=batch.file_name),
            actor=actor,
        )


def earnings_import(*, stream: IO[bytes], file_name: str, actor: Any) -> EarningImport:
    """Check the whole file; if anything is wrong, record the report and change nothing else. Otherwise apply
    it in one transaction. Lines imported before with the same content are skipped (and counted as such)."""
    if not can_import_earnings(actor):
        raise PermissionDenied(gettext("Only program managers and finance can import earnings."))
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        digest.update(chunk)
    stream.seek(0)
    ctx = Context.load()
    with tempfile.TemporaryFile() as spool:
        try:
            checked = check_file(stream, file_name, ctx, spool)
        except FileProblem as exc:
            checked = Checked(problems=[Problem(0, "file", " ".join(exc.messages))], rows=0, skipped=0)
        return _record(checked, ctx, file_name, digest.hexdigest(), actor)


def _record(checked: Checked, ctx: Context, file_name: str, sha256: str, actor: Any) -> EarningImport:
    base = {
        "created_by": actor,
        "file_name": file_name[:255],
        "sha256": sha256,
        "rows": checked.rows,
        "skipped": checked.skipped,
        "total": Decimal(0),
    }
    if checked.problems:
        with transaction.atomic(durable=True):
            return EarningImport.objects.create(
                status=EarningImport.Status.REJECTED,
                errors=[p.as_dict() for p in sorted(checked.problems, key=lambda p: p.row)],
                **base,
            )
    try:
        with transaction.atomic(durable=True):
            batch = EarningImport.objects.create(status=EarningImport.Status.APPLIED, **base)
            _apply(checked, ctx, batch, actor)
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
                "file": gettext(
                    "Another import applied some of these lines at the same moment; upload the file again: lines "
                    "already counted are skipped."
                )
            }
        ) from None


def import_rejected_message(batch: EarningImport) -> str:
    n = len(batch.errors)
    return ngettext(
        "%(file)s: %(n)s problem found; nothing was imported. Fix the rows below and upload it again.",
        "%(file)s: %(n)s problems found; nothing was imported. Fix the rows below and upload it again.",
        n,
    ) % {"file": batch.file_name, "n": n}
