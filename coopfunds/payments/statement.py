"""A location's transaction history for reconciling: one row per ledger movement (transfer) and fund, with
what it did to each of the fund's buckets, so that every bucket's column sums exactly to its balance.

Movements are named as partners reconcile them: earned, made available, converted, claimed (reserved),
released, approved, paid, payment returned, forfeited, adjusted. Amounts are signed: into the bucket positive.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import translation

from coopfunds.accounts.models import Location
from coopfunds.core.csvlines import line_writer
from coopfunds.funds.exports import safe_text
from coopfunds.funds.models import FUND_BUCKETS, Account, Entry, TransferKind

MOVEMENTS = {
    TransferKind.ACCRUE: "Earned",
    TransferKind.CLOSE: "Made available",
    TransferKind.CONVERT: "Converted to rebate",
    TransferKind.RESERVE: "Claimed",
    TransferKind.RELEASE: "Released",
    TransferKind.APPROVE: "Approved",
    TransferKind.PAY: "Paid",
    TransferKind.FORFEIT: "Forfeited",
    TransferKind.ADJUST: "Adjusted",
    TransferKind.REVERSE: "Payment returned",
}
BUCKETS = [b.value for b in FUND_BUCKETS]
COLUMNS = ("Date", "Program", "Fund", "Currency", "Movement", "Reference", "Memo")
CHUNK = 2000


@dataclass(frozen=True)
class StatementRow:
    date: date
    program: str
    fund: str
    fund_id: int
    currency: str
    movement: str
    reference: str
    memo: str
    amounts: dict[str, Decimal]


def entries_of(location: Location, program_id: int | None = None) -> QuerySet[Entry]:
    qs = Entry.objects.filter(account__fund__location=location)
    if program_id is not None:
        qs = qs.filter(account__fund__program_id=program_id)
    return qs.select_related("transfer", "account__fund__program").order_by("transfer_id", "account__fund_id", "id")


def rows(entries: QuerySet[Entry]) -> Iterator[StatementRow]:
    """One row per (transfer, fund), in ledger order, reading CHUNK entries at a time."""
    current: tuple[int, int] | None = None
    first: Entry | None = None
    amounts: dict[str, Decimal] = {}
    for entry in entries.iterator(chunk_size=CHUNK):
        fund = entry.account.fund
        assert fund is not None
        key = (entry.transfer_id, fund.pk)
        if key != current:
            if first is not None:
                yield _row(first, amounts)
            current, first, amounts = key, entry, {}
        amounts[entry.account.bucket] = amounts.get(entry.account.bucket, Decimal(0)) + entry.amount
    if first is not None:
        yield _row(first, amounts)


def _row(entry: Entry, amounts: dict[str, Decimal]) -> StatementRow:
    fund = entry.account.fund
    assert fund is not None
    transfer = entry.transfer
    return StatementRow(
        date=transfer.effective_on,
        program=fund.program.name,
        fund=fund.label,
        fund_id=fund.pk,
        currency=fund.currency,
        movement=MOVEMENTS.get(TransferKind(transfer.kind), transfer.kind),
        reference=transfer.reference,
        memo=transfer.memo,
        amounts=amounts,
    )


def header() -> tuple[str, ...]:
    """The file's columns, in English whoever downloads it (the buckets' labels are in the reader's language)."""
    with translation.override("en"):
        return (*COLUMNS, *[str(b.label) for b in FUND_BUCKETS])


def csv_lines(statement: Iterable[StatementRow]) -> Iterator[str]:
    writer = line_writer()
    yield "\ufeff" + writer.writerow(header())
    for r in statement:
        texts = [safe_text(t) for t in (r.program, r.fund, r.currency, r.movement, r.reference, r.memo)]
        yield writer.writerow(
            [r.date.isoformat(), *texts, *[format(r.amounts[b], "f") if b in r.amounts else "" for b in BUCKETS]]
        )


def balances(location: Location, program_id: int | None = None) -> dict[int, dict[str, Decimal]]:
    """The ledger's balances of the location's funds, by fund and bucket (what the statement must sum to)."""
    qs = Account.objects.filter(fund__location=location)
    if program_id is not None:
        qs = qs.filter(fund__program_id=program_id)
    out: dict[int, dict[str, Decimal]] = {}
    for fund_id, bucket, balance in qs.values_list("fund_id", "bucket", "balance"):
        out.setdefault(fund_id, {})[bucket] = balance  # type: ignore[index]
    return out
