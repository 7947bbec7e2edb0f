"""The transaction history as a download (CSV or XLSX): every row of the filtered ledger query, read in
chunks and written as it is read, so a million rows never sit in memory.

Spreadsheet formula injection: a text cell starting with = + - @ tab or carriage return would run as a
formula when opened; it gets a leading apostrophe. Amounts are numbers, never text."""

import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import IO

from django.db.models import QuerySet
from django.utils import translation

from coopfunds.core.csvlines import line_writer
from coopfunds.funds.models import Bucket, Entry, TransferKind

CHUNK = 1000
HEADER = ("Date", "Partner ID", "Program", "Fund", "Kind", "Bucket", "Amount", "Currency", "Reference", "Memo")
XLSX_MAX_ROWS = 1_048_575  # a worksheet holds 1,048,576 rows, one of them the header

# What each movement means to a partner reconciling their funds (TransferKind's labels are the ledger's).
KIND_LABELS = {
    TransferKind.ACCRUE: "Earned",
    TransferKind.CLOSE: "Made available (earning period closed)",
    TransferKind.CONVERT: "Converted to rebate",
    TransferKind.RESERVE: "Claimed (reserved)",
    TransferKind.RELEASE: "Released",
    TransferKind.APPROVE: "Approved",
    TransferKind.PAY: "Paid",
    TransferKind.FORFEIT: "Forfeited",
    TransferKind.ADJUST: "Adjusted",
    TransferKind.REVERSE: "Reversed",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(TransferKind(kind), kind)


@cache
def _bucket_names() -> dict[str, str]:
    """The buckets' names in English (the model's labels are in the reader's language): a download's values are
    the same whoever downloads it."""
    with translation.override("en"):
        return {b.value: str(b.label) for b in Bucket}


def safe_text(value: str) -> str:
    """A text cell that a spreadsheet shows as text, never evaluates."""
    return "'" + value if value.startswith(FORMULA_START) else value


@dataclass(frozen=True)
class TransactionRow:
    date: date
    partner_id: str
    program: str
    fund: str
    kind: str
    bucket: str
    amount: Decimal
    currency: str
    reference: str
    memo: str

    def texts(self, clean: Callable[[str], str] = str) -> list[str]:
        """The text cells in HEADER order, without Date and Amount: cleaned, then made safe."""
        values = (self.partner_id, self.program, self.fund, self.kind, self.bucket, self.currency, self.reference)
        return [safe_text(clean(v)) for v in (*values, self.memo)]


def row_of(entry: Entry) -> TransactionRow:
    """The row of one fund-side entry (its transfer, fund, location and program loaded with it)."""
    fund = entry.account.fund
    assert fund is not None  # the history holds fund-side entries only, never the program-wide sources
    return TransactionRow(
        date=entry.transfer.effective_on,
        partner_id=fund.location.partner_id,
        program=fund.program.name,
        fund=fund.label,
        kind=kind_label(entry.transfer.kind),
        bucket=_bucket_names()[entry.account.bucket],
        amount=entry.amount,
        currency=fund.currency,
        reference=entry.transfer.reference,
        memo=entry.transfer.memo,
    )


def transaction_rows(entries: QuerySet[Entry]) -> Iterator[TransactionRow]:
    """One row per ledger entry of `entries`, in its order, read CHUNK rows at a time."""
    related = entries.select_related("transfer", "account__fund__location", "account__fund__program")
    for entry in related.iterator(chunk_size=CHUNK):
        yield row_of(entry)


def csv_lines(rows: Iterable[TransactionRow]) -> Iterator[str]:
    """The CSV text, line by line; UTF-8 with a byte-order mark so spreadsheet programs read it as UTF-8."""
    writer = line_writer()
    yield "\ufeff" + writer.writerow(HEADER)
    for r in rows:
        partner_id, program, fund, kind, bucket, currency, reference, memo = r.texts()
        yield writer.writerow(
            [
                r.date.isoformat(),
                partner_id,
                program,
                fund,
                kind,
                bucket,
                format(r.amount, "f"),
                currency,
                reference,
                memo,
            ]
        )


def xlsx_file(rows: Iterable[TransactionRow]) -> IO[bytes]:
    """An .xlsx workbook in a temporary file (rewound), written row by row (openpyxl's write-only mode).
    Beyond a worksheet's row limit the rows continue on a next sheet."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    book = Workbook(write_only=True)

    def new_sheet(number: int) -> WriteOnlyWorksheet:
        title = "Transactions" if number == 1 else f"Transactions ({number})"  # downloads: the same in every language
        sheet = book.create_sheet(title)
        sheet.append(list(HEADER))
        return sheet

    sheets = 1
    sheet, count = new_sheet(sheets), 0
    for r in rows:
        if count == XLSX_MAX_ROWS:
            sheets += 1
            sheet, count = new_sheet(sheets), 0
        day = WriteOnlyCell(sheet, r.date)
        day.number_format = "yyyy-mm-dd"
        amount = WriteOnlyCell(sheet, r.amount)
        amount.number_format = "#,##0.00"
        partner_id, program, fund, kind, bucket, currency, reference, memo = r.texts(
            lambda text: ILLEGAL_CHARACTERS_RE.sub("", text)  # control characters are not allowed in XML
        )
        sheet.append([day, partner_id, program, fund, kind, bucket, amount, currency, reference, memo])
        count += 1
    out = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it once sent)
    book.save(out)
    out.seek(0)
    return out
