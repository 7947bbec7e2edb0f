from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook

from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.models import EarningImport, EarningLine, Entry, Fund, Transfer
from coopfunds.funds.selectors import balances, ledger_drift
from coopfunds.funds.tests.conftest import csv_file

pytestmark = pytest.mark.django_db

GOOD = [
    "2026-03-15,FAB-001,coop,10000.00,USD,revenue,Azure,CUST-1,L-1",
    "2026-04-30,FAB-001,coop,2500.50,USD,revenue,M365,CUST-2,L-2",
    "2026-03-01,FAB-002,coop,1000.00,USD,revenue,Azure,CUST-3,L-3",
]


def test_clean_file_is_applied_and_split_between_rebate_and_coop(enrolled):
    batch = earnings_import(stream=csv_file(*GOOD), file_name="march.csv", actor=enrolled.finance)

    assert (batch.status, batch.rows, batch.applied, batch.skipped, batch.total) == (
        "applied",
        3,
        3,
        0,
        Decimal("13500.50"),
    )
    berlin = Fund.objects.get(location=enrolled.location)
    assert (berlin.label, berlin.earning_start, berlin.earning_end) == ("FY27 H1", date(2026, 1, 1), date(2026, 6, 30))
    assert (berlin.usage_start, berlin.usage_end) == (date(2026, 7, 1), date(2026, 12, 31))
    assert (berlin.claim_opens, berlin.claim_closes) == (date(2026, 8, 16), date(2027, 2, 15))
    b = balances(berlin)
    # 60% rebate / 40% co-op: 12500.50 -> rebate 7500.30, co-op 5000.20 (accruing until the period closes)
    assert (b.earned, b.earned_rebate, b.accrued, b.rebate, b.available) == (
        Decimal("5000.20"),
        Decimal("7500.30"),
        Decimal("5000.20"),
        Decimal("7500.30"),
        Decimal("0.00"),
    )
    line = EarningLine.objects.get(external_line_id="L-2")
    assert (line.amount, line.rebate_amount, line.coop_amount, line.customer_reference) == (
        Decimal("2500.50"),
        Decimal("1500.30"),
        Decimal("1000.20"),
        "CUST-2",
    )
    assert ledger_drift() == []


def test_same_file_again_counts_nothing_twice(enrolled):
    earnings_import(stream=csv_file(*GOOD), file_name="march.csv", actor=enrolled.finance)
    transfers = Transfer.objects.count()

    again = earnings_import(stream=csv_file(*GOOD), file_name="march-again.csv", actor=enrolled.finance)

    assert (again.status, again.applied, again.skipped) == ("applied", 0, 3)
    assert Transfer.objects.count() == transfers
    assert EarningLine.objects.count() == 3
    assert balances(Fund.objects.get(location=enrolled.location)).earned == Decimal("5000.20")


def test_known_lines_in_a_new_file_are_skipped_and_new_ones_applied(enrolled):
    earnings_import(stream=csv_file(*GOOD[:2]), file_name="a.csv", actor=enrolled.finance)

    batch = earnings_import(stream=csv_file(*GOOD), file_name="b.csv", actor=enrolled.finance)

    assert (batch.applied, batch.skipped, batch.total) == (1, 2, Decimal("1000.00"))
    assert balances(Fund.objects.get(location=enrolled.second_location)).earned == Decimal("400.00")


def errors_of(rows, enrolled, name="bad.csv"):
    batch = earnings_import(stream=csv_file(*rows), file_name=name, actor=enrolled.finance)
    assert batch.status == "rejected"
    return [(e["row"], e["column"], e["message"]) for e in batch.errors]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("2026-03-15,NOPE-9,coop,100.00,USD,,,,X-1", (2, "partner ID", "No location has the partner ID “NOPE-9”.")),
        ("2026-03-15,FAB-001,nope,100.00,USD,,,,X-1", (2, "program code", "No program has the code “nope”.")),
        (
            "15/03/2026,FAB-001,coop,100.00,USD,,,,X-1",
            (2, "earned date", "“15/03/2026” is not a date; write dates as YYYY-MM-DD, e.g. 2026-03-31."),
        ),
        (
            '2026-03-15,FAB-001,coop,"100,50",USD,,,,X-1',
            (2, "amount", "“100,50” uses a comma; write amounts with a dot as decimal separator, e.g. 1234.50."),
        ),
        ("2026-03-15,FAB-001,coop,12.345,USD,,,,X-1", (2, "amount", "“12.345” has more than two decimal places.")),
        (
            "2026-03-15,FAB-001,coop,-5.00,USD,,,,X-1",
            (2, "amount", "-5.00 is not more than zero; corrections are made as fund adjustments."),
        ),
        (
            "2026-03-15,FAB-001,coop,100.00,EUR,,,,X-1",
            (2, "currency", "Cloud Co-op keeps its funds in USD; this line is in “EUR”."),
        ),
        (
            "2025-12-31,FAB-001,coop,100.00,USD,,,,X-1",
            (2, "earned date", "2025-12-31 is before FAB-001's earnings start (2026-01-01)."),
        ),
        ("2026-03-15,FAB-001,coop,100.00,USD,,,,", (2, "external line ID", "The external line ID is missing.")),
    ],
)
def test_each_bad_row_is_reported_and_nothing_changes(enrolled, row, expected):
    assert errors_of([row], enrolled) == [expected]
    assert (EarningLine.objects.count(), Transfer.objects.count(), Fund.objects.count()) == (0, 0, 0)


def test_location_not_enrolled(enrolled):
    enrolled.location.enrollments.update(status="inactive")
    assert errors_of(["2026-03-15,FAB-001,coop,100.00,USD,,,,X-1"], enrolled) == [
        (2, "partner ID", "FAB-001 is not enrolled in Cloud Co-op.")
    ]


def test_every_bad_row_of_a_file_is_reported_and_good_rows_are_not_applied(enrolled):
    rows = [
        GOOD[0],
        "2026-03-15,NOPE-9,coop,1.00,USD,,,,X-2",
        GOOD[1],
        "2026-03-15,FAB-001,coop,abc,USD,,,,X-3",
        "2026-03-15,FAB-001,coop,5.00,USD,,,,L-1",
    ]
    assert errors_of(rows, enrolled) == [
        (3, "partner ID", "No location has the partner ID “NOPE-9”."),
        (5, "amount", "“abc” is not an amount."),
        (6, "external line ID", "Line “L-1” appears twice in this file (first on row 2)."),
    ]
    assert EarningLine.objects.count() == 0


def test_a_known_line_with_other_values_is_refused(enrolled):
    earnings_import(stream=csv_file(GOOD[0]), file_name="a.csv", actor=enrolled.finance)
    changed = GOOD[0].replace("10000.00", "9000.00")
    batch = earnings_import(stream=csv_file(changed), file_name="b.csv", actor=enrolled.finance)
    assert batch.status == "rejected"
    assert batch.errors[0]["row"] == 2
    assert batch.errors[0]["message"].startswith("Line “L-1” was already imported with other values")
    assert EarningLine.objects.get().amount == Decimal("10000.00")


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "The file is empty."),
        (
            b"earned date,partner ID\n",
            "short.csv",
            "The first row must name the columns. Missing: program code, amount, currency, external line ID. Expected: earned date, partner ID, program code, amount, currency, earning type, product, customer reference, external line ID.",
        ),
        (
            b"earned date,partner ID,program code,amount,currency,external line ID\n",
            "no-rows.csv",
            "The file has a header but no earning lines.",
        ),
        (
            b"\xff\xfe\x00bad",
            "latin.csv",
            "The file is not UTF-8 text. Save it as “CSV UTF-8” or upload the .xlsx file.",
        ),
        (b"not a zip", "fake.xlsx", "The file is not a readable .xlsx workbook."),
        (b"x", "notes.pdf", "Upload a .csv or .xlsx file."),
    ],
)
def test_unreadable_files_are_reported_as_a_whole(enrolled, content, name, message):
    import io

    batch = earnings_import(stream=io.BytesIO(content), file_name=name, actor=enrolled.finance)
    assert (batch.status, batch.errors) == ("rejected", [{"row": 0, "column": "file", "message": message}])
    assert EarningLine.objects.count() == 0


def test_xlsx_with_real_dates_and_numbers(enrolled, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Earned date", "Partner ID", "Program code", "Amount", "Currency", "External line ID"])
    sheet.append([date(2026, 3, 15), "FAB-001", "coop", 1234.5, "USD", "X-1"])
    sheet.append([date(2026, 3, 16), "fab-001", "COOP", 100, "USD", "X-2"])
    path = tmp_path / "earnings.xlsx"
    book.save(path)
    with open(path, "rb") as stream:
        batch = earnings_import(stream=stream, file_name="earnings.xlsx", actor=enrolled.finance)
    assert (batch.status, batch.applied, batch.total) == ("applied", 2, Decimal("1334.50"))
    assert sorted(EarningLine.objects.values_list("amount", flat=True)) == [Decimal("100.00"), Decimal("1234.50")]


@pytest.mark.parametrize("persona", ["partner_admin", "partner_user", "other_admin", "reviewer", "auditor"])
def test_only_program_managers_and_finance_import(enrolled, persona):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        earnings_import(stream=csv_file(*GOOD), file_name="x.csv", actor=getattr(enrolled, persona))
    assert (EarningImport.objects.count(), Entry.objects.count()) == (0, 0)


def test_program_manager_may_import(enrolled):
    assert (
        earnings_import(stream=csv_file(*GOOD), file_name="x.csv", actor=enrolled.program_manager).status == "applied"
    )
