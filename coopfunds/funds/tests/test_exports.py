"""The transaction history downloads: exact CSV content, XLSX read back, formula injection, completeness."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from openpyxl import load_workbook

from coopfunds.funds import exports
from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.models import Fund
from coopfunds.funds.selectors import entries_filter, entries_visible_to
from coopfunds.funds.services import AdjustmentReason, fund_adjust, fund_approve, fund_reserve, period_close
from coopfunds.funds.tests.conftest import csv_file

pytestmark = pytest.mark.django_db

D = Decimal


def at(time_machine, day: date) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), tick=False)


@pytest.fixture
def books(enrolled, time_machine):
    """Berlin earns 30,000 (co-op 12,000) and Oslo 40,000 in FY26 H2, imported on 30 Jun 2026 and closed;
    on 20 Aug Berlin claims 5,000 (approved) and a program manager debits 200."""
    at(time_machine, date(2026, 6, 30))
    batch = earnings_import(
        stream=csv_file("2026-03-15,FAB-001,coop,30000.00,USD,,,,A-1", "2026-03-15,NW-001,coop,40000.00,USD,,,,C-1"),
        file_name="h2.csv",
        actor=enrolled.finance,
    )
    assert batch.status == "applied", batch.errors
    period_close(program=enrolled.program, today=date(2026, 7, 1))
    berlin = Fund.objects.get(location=enrolled.location)
    at(time_machine, date(2026, 8, 20))
    with transaction.atomic():
        fund_reserve(fund=berlin, amount=D("5000.00"), key="c:1", reference="claim:1", actor=enrolled.partner_user)
        fund_approve(fund=berlin, amount=D("5000.00"), key="c:1:ok", reference="claim:1", actor=enrolled.reviewer)
    fund_adjust(
        fund=berlin,
        amount=D("-200.00"),
        reason_code=AdjustmentReason.OPERATIONS,
        memo="Duplicate earning",
        key="adj:1",
        actor=enrolled.program_manager,
    )
    enrolled.batch, enrolled.berlin = batch, berlin
    return enrolled


def download(client, url_name: str, **params: str) -> bytes:  # type: ignore[no-untyped-def]
    response = client.get(reverse(url_name), params)
    assert response.status_code == 200
    if url_name.endswith("csv"):
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        return b"".join(response.streaming_content)
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return b"".join(response.streaming_content)


def test_exact_csv_of_a_small_ledger(books, as_persona, time_machine):
    at(time_machine, date(2026, 8, 21))
    response = as_persona("partner_user").get(reverse("fund_transactions_csv"))
    assert response["Content-Disposition"] == 'attachment; filename="coopfunds-transactions-2026-08-21.csv"'
    content = b"".join(response.streaming_content).decode("utf-8")
    fund, batch = books.berlin.pk, books.batch.pk
    assert content == (
        "\ufeffDate,Partner ID,Program,Fund,Kind,Bucket,Amount,Currency,Reference,Memo\r\n"
        f"2026-08-20,FAB-001,Cloud Co-op,FY27 H1,Adjusted,Available,-200.00,USD,fund:{fund},Duplicate earning\r\n"
        '2026-08-20,FAB-001,Cloud Co-op,FY27 H1,Approved,"Approved, payable",5000.00,USD,claim:1,\r\n'
        "2026-08-20,FAB-001,Cloud Co-op,FY27 H1,Approved,Reserved by pending claims,-5000.00,USD,claim:1,\r\n"
        "2026-08-20,FAB-001,Cloud Co-op,FY27 H1,Claimed (reserved),Reserved by pending claims,5000.00,USD,claim:1,\r\n"
        "2026-08-20,FAB-001,Cloud Co-op,FY27 H1,Claimed (reserved),Available,-5000.00,USD,claim:1,\r\n"
        f"2026-06-30,FAB-001,Cloud Co-op,FY27 H1,Made available (earning period closed),Available,12000.00,USD,fund:{fund},"
        "Earning period closed: 12000.00 USD co-op available until 31 Dec 2026.\r\n"
        f"2026-06-30,FAB-001,Cloud Co-op,FY27 H1,Made available (earning period closed),"
        f"Co-op accruing (earning period open),-12000.00,USD,fund:{fund},"
        "Earning period closed: 12000.00 USD co-op available until 31 Dec 2026.\r\n"
        f"2026-06-30,FAB-001,Cloud Co-op,FY27 H1,Earned,Co-op accruing (earning period open),12000.00,USD,"
        f"earnings-import:{batch},Earnings from h2.csv\r\n"
        f"2026-06-30,FAB-001,Cloud Co-op,FY27 H1,Earned,Rebate payable,18000.00,USD,earnings-import:{batch},"
        "Earnings from h2.csv\r\n"
    )


def test_the_csv_holds_exactly_the_filtered_rows(books, as_persona):
    content = download(as_persona("auditor"), "fund_transactions_csv", kind="accrue").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert [(r[1], r[5], r[6]) for r in rows[1:]] == [
        ("NW-001", "Co-op accruing (earning period open)", "16000.00"),
        ("NW-001", "Rebate payable", "24000.00"),
        ("FAB-001", "Co-op accruing (earning period open)", "12000.00"),
        ("FAB-001", "Rebate payable", "18000.00"),
    ]


def test_xlsx_reads_back_with_dates_and_numbers(books, as_persona, time_machine):
    client = as_persona("partner_user")
    csv_rows = list(csv.reader(io.StringIO(download(client, "fund_transactions_csv").decode("utf-8-sig"))))
    book = load_workbook(io.BytesIO(download(client, "fund_transactions_xlsx")), read_only=True)
    assert book.sheetnames == ["Transactions"]
    cells = [list(row) for row in book["Transactions"].iter_rows()]
    values = [[c.value for c in row] for row in cells]
    assert values[0] == list(exports.HEADER)
    assert values[1] == [
        datetime(2026, 8, 20),
        "FAB-001",
        "Cloud Co-op",
        "FY27 H1",
        "Adjusted",
        "Available",
        -200,
        "USD",
        f"fund:{books.berlin.pk}",
        "Duplicate earning",
    ]
    assert [cells[1][0].number_format, cells[1][6].number_format, cells[1][6].data_type] == [
        "yyyy-mm-dd",
        "#,##0.00",
        "n",
    ]
    assert [as_csv(row) for row in values[1:]] == csv_rows[1:]  # the same rows as the CSV


def as_csv(row: list) -> list[str]:
    """A worksheet row written the way the CSV writes it."""
    day, *texts, amount, currency, reference, memo = row
    return [day.date().isoformat(), *texts, format(D(str(amount)), ".2f"), currency, reference or "", memo or ""]


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ('=HYPERLINK("http://x.example","x")', '\'=HYPERLINK("http://x.example","x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Launch event", "Launch event"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_safe_text(value, safe):
    assert exports.safe_text(value) == safe


def test_formulas_in_memos_and_references_stay_text(books, as_persona):
    with transaction.atomic():
        fund_reserve(fund=books.berlin, amount=D("1.00"), key="c:x", reference="+1", actor=books.partner_user)
    fund_adjust(
        fund=books.berlin,
        amount=D("10.00"),
        reason_code=AdjustmentReason.POLICY_EXCEPTION,
        memo='=HYPERLINK("http://evil.example","Click me")',
        key="adj:x",
        actor=books.program_manager,
    )
    client = as_persona("partner_user")
    rows = list(csv.reader(io.StringIO(download(client, "fund_transactions_csv").decode("utf-8-sig"))))
    assert rows[1][6:] == ["10.00", "USD", f"fund:{books.berlin.pk}", '\'=HYPERLINK("http://evil.example","Click me")']
    assert rows[2][6:] == ["1.00", "USD", "'+1", ""]
    assert rows[3][6:] == ["-1.00", "USD", "'+1", ""]
    sheet = load_workbook(io.BytesIO(download(client, "fund_transactions_xlsx")))["Transactions"]
    assert [(c.value, c.data_type) for c in sheet[2][6:]] == [
        (10, "n"),
        ("USD", "s"),
        (f"fund:{books.berlin.pk}", "s"),
        ('\'=HYPERLINK("http://evil.example","Click me")', "s"),
    ]
    assert [(c.value, c.data_type) for c in sheet[4][6:9]] == [(-1, "n"), ("USD", "s"), ("'+1", "s")]


def test_control_characters_do_not_break_the_workbook(books, as_persona):
    fund_adjust(
        fund=books.berlin,
        amount=D("10.00"),
        reason_code=AdjustmentReason.POLICY_EXCEPTION,
        memo="\x01=1+1 bell\x07",
        key="adj:x",
        actor=books.program_manager,
    )
    sheet = load_workbook(io.BytesIO(download(as_persona("auditor"), "fund_transactions_xlsx")))["Transactions"]
    assert sheet["J2"].value == "'=1+1 bell"


def test_rows_beyond_a_worksheet_continue_on_the_next(books, monkeypatch):
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 4)
    rows = exports.transaction_rows(entries_visible_to(books.partner_user))
    book = load_workbook(exports.xlsx_file(rows), read_only=True)
    assert book.sheetnames == ["Transactions", "Transactions (2)", "Transactions (3)"]
    assert [len(list(book[name].iter_rows())) for name in book.sheetnames] == [
        5,
        5,
        2,
    ]  # header + 4, header + 4, header + 1


def test_an_export_drops_no_rows(books, as_persona, time_machine):
    """1,234 entries (617 reservations of two legs each, across more than one read chunk) all come out."""
    at(time_machine, date(2026, 9, 1))
    with transaction.atomic():
        for i in range(617):
            fund_reserve(
                fund=books.berlin, amount=D("1.00"), key=f"bulk:{i}", reference=f"claim:{i}", actor=books.partner_user
            )
    filters = {"kind": "reserve", "date_from": "2026-09-01"}
    query = entries_filter(entries_visible_to(books.partner_user), kind="reserve", date_from=date(2026, 9, 1))
    assert query.count() == 1234
    client = as_persona("partner_user")
    rows = list(csv.reader(io.StringIO(download(client, "fund_transactions_csv", **filters).decode("utf-8-sig"))))
    assert rows[0] == list(exports.HEADER)
    assert len(rows[1:]) == 1234
    assert sorted(r[8] for r in rows[1:] if r[5] == "Available") == sorted(f"claim:{i}" for i in range(617))
    assert sum(D(r[6]) for r in rows[1:]) == 0  # each reservation's two legs
    sheet = load_workbook(io.BytesIO(download(client, "fund_transactions_xlsx", **filters)), read_only=True)
    assert len(list(sheet["Transactions"].iter_rows())) == 1 + 1234
