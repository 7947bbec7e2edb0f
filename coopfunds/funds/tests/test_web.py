"""The funds pages: every page and action for every persona, then balances, expiry warning and chart,
filters, paging, adjustments, earnings imports and period close."""

import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from openpyxl import Workbook

from conftest import PERSONAS
from coopfunds.audit.models import AuditEvent
from coopfunds.funds.charts import expiry_chart, nice_ceiling
from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.models import EarningImport, EarningLine, Fund, Transfer
from coopfunds.funds.selectors import ExpiryTotal, balances
from coopfunds.funds.services import fund_reserve, period_close
from coopfunds.funds.tests.conftest import HEADER, csv_file

pytestmark = pytest.mark.django_db

D = Decimal
VENDOR = {"program_manager", "reviewer", "finance", "auditor"}
IMPORTERS = {"program_manager", "finance"}
IMPORT_READERS = {"program_manager", "finance", "auditor"}
SIGNED_IN = [p for p in PERSONAS if p != "anonymous"]  # signed out, every page redirects to sign in (tested below)


def at(time_machine, day: date) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), tick=False)


@pytest.fixture
def books(enrolled, time_machine):
    """FY26 H2 earnings (Jan–Jun 2026), imported on 30 Jun 2026 and closed: Berlin 12,000 co-op available,
    Paris 8,000 converted to rebate (below the 10,000 threshold), Oslo 16,000 available. All three funds are
    used Jul–Dec 2026 (FY27 H1)."""
    at(time_machine, date(2026, 6, 30))
    batch = earnings_import(
        stream=csv_file(
            "2026-03-15,FAB-001,coop,30000.00,USD,,,,A-1",
            "2026-03-15,FAB-002,coop,20000.00,USD,,,,B-1",
            "2026-03-15,NW-001,coop,40000.00,USD,,,,C-1",
        ),
        file_name="h2.csv",
        actor=enrolled.finance,
    )
    assert batch.status == "applied", batch.errors
    period_close(program=enrolled.program, today=date(2026, 7, 1))
    enrolled.batch = batch
    enrolled.berlin = Fund.objects.get(location=enrolled.location)
    enrolled.paris = Fund.objects.get(location=enrolled.second_location)
    enrolled.oslo = Fund.objects.get(location=enrolled.other_location)
    return enrolled


def expected(persona: str, *, allowed: set[str], visible: set[str] | None = None, ok: int = 200) -> int:
    if persona == "anonymous":
        return 302  # to the sign-in page
    if visible is not None and persona not in visible:
        return 404
    return ok if persona in allowed else 403


def text(response) -> str:  # type: ignore[no-untyped-def]
    """The page's words without tags, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).strip()


def state() -> tuple:
    return Transfer.objects.count(), AuditEvent.objects.count(), EarningImport.objects.count()


# --- every page for every persona -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_pages_answer_each_persona_as_their_rights_say(books, as_persona, persona):
    everyone = set(PERSONAS)
    fabrikam = {"partner_admin", *VENDOR}
    pages = {
        reverse("fund_list"): expected(persona, allowed=everyone),
        reverse("fund_detail", args=[books.berlin.pk]): expected(
            persona, allowed=everyone, visible={"partner_admin", "partner_user", *VENDOR}
        ),
        reverse("fund_detail", args=[books.paris.pk]): expected(persona, allowed=everyone, visible=fabrikam),
        reverse("fund_detail", args=[books.oslo.pk]): expected(
            persona, allowed=everyone, visible={"other_admin", *VENDOR}
        ),
        reverse("fund_detail", args=[999999]): expected(persona, allowed=everyone, visible=set()),
        reverse("fund_transactions"): expected(persona, allowed=everyone),
        reverse("fund_transactions_csv"): expected(persona, allowed=everyone),
        reverse("fund_transactions_xlsx"): expected(persona, allowed=everyone),
        reverse("earnings_import_list"): expected(persona, allowed=IMPORT_READERS, visible=VENDOR),
        reverse("earnings_import_template"): expected(persona, allowed=IMPORT_READERS, visible=VENDOR),
        reverse("earnings_import_detail", args=[books.batch.pk]): expected(
            persona, allowed=everyone, visible=IMPORT_READERS
        ),
        reverse("fund_periods"): expected(persona, allowed=everyone, visible=VENDOR),
        # actions answer GET with 405 and change nothing
        reverse("fund_adjust", args=[books.berlin.pk]): 302 if persona == "anonymous" else 405,
        reverse("fund_period_jobs_run"): 302 if persona == "anonymous" else 405,
    }
    before = state()
    client = as_persona(persona)
    answers = {url: client.get(url).status_code for url in pages}
    assert answers == pages
    assert state() == before


@pytest.mark.parametrize("persona", SIGNED_IN)
def test_a_partner_never_sees_another_partners_funds_in_lists_or_downloads(books, as_persona, persona):
    client = as_persona(persona)
    pages = [
        text(client.get(reverse("fund_list"))),
        text(client.get(reverse("fund_transactions"))),
        b"".join(client.get(reverse("fund_transactions_csv")).streaming_content).decode(),
    ]
    seen = {pid for pid in ("FAB-001", "FAB-002", "NW-001") if all(pid in page for page in pages)}
    assert seen == {
        "partner_admin": {"FAB-001", "FAB-002"},
        "partner_user": {"FAB-001"},
        "other_admin": {"NW-001"},
    }.get(persona, {"FAB-001", "FAB-002", "NW-001"})
    assert not {pid for pid in ("FAB-001", "FAB-002", "NW-001") if any(pid in page for page in pages)} - seen


def test_signed_out_visitors_are_sent_to_sign_in(books, as_persona):
    response = as_persona("anonymous").get(reverse("fund_list"))
    assert response["Location"] == "/login/?next=/funds/"


# --- my funds: balances, expiry warning, chart ----------------------------------------------------------


def test_my_funds_shows_earned_claimed_remaining_expiry_and_window(books, as_persona, time_machine):
    at(time_machine, date(2026, 8, 20))
    with transaction.atomic():
        fund_reserve(fund=books.berlin, amount=D("2500.00"), key="c:1", reference="claim:1", actor=books.partner_admin)
    page = text(as_persona("partner_admin").get(reverse("fund_list")))
    assert (
        "Fabrikam Berlin FAB-001 Cloud Co-op FY27 H1 1 Jul 2026 – 31 Dec 2026 12,000.00 USD 2,500.00 USD "
        "9,500.00 USD 31 Dec 2026 16 Aug 2026 – 15 Feb 2027" in page
    )
    assert (
        "Fabrikam Paris FAB-002 Cloud Co-op FY27 H1 1 Jul 2026 – 31 Dec 2026 8,000.00 USD 0.00 USD "
        "0.00 USD converted to rebate 31 Dec 2026 16 Aug 2026 – 15 Feb 2027" in page
    )
    assert "of co-op in" not in page  # no warning: nothing expires within 45 days of 20 Aug


def test_expiry_warning_says_how_much_expires_when(books, as_persona, time_machine):
    at(time_machine, date(2026, 12, 1))
    page = text(as_persona("partner_admin").get(reverse("fund_list")))
    assert (
        "12,000.00 USD of co-op in 1 fund expires on 31 December 2026 , in 30 days. "
        "Money not used by then is forfeited. Show it" in page
    )
    assert "expires soon" in page
    detail = text(as_persona("partner_admin").get(reverse("fund_detail", args=[books.berlin.pk])))
    assert "12,000.00 USD of this fund expires on 31 December 2026 , in 30 days." in detail
    vendor = text(as_persona("auditor").get(reverse("fund_list")))
    assert "28,000.00 USD of co-op in 2 funds expires on 31 December 2026 , in 30 days." in vendor


@pytest.mark.parametrize(
    ("day", "warned"), [(date(2026, 11, 15), False), (date(2026, 11, 16), True), (date(2027, 1, 1), False)]
)
def test_the_warning_starts_45_days_before_expiry_and_ends_with_it(books, as_persona, time_machine, day, warned):
    at(time_machine, day)
    assert ("of co-op in 1 fund expires on" in text(as_persona("partner_user").get(reverse("fund_list")))) is warned


def test_no_warning_for_money_already_claimed(books, as_persona, time_machine):
    at(time_machine, date(2026, 12, 1))
    with transaction.atomic():
        fund_reserve(fund=books.berlin, amount=D("12000.00"), key="c:1", reference="claim:1", actor=books.partner_user)
    assert "of co-op in" not in text(as_persona("partner_user").get(reverse("fund_list")))


def test_chart_of_remaining_funds_by_expiry_is_inline_svg_with_its_figures_in_a_table(books, as_persona, time_machine):
    at(time_machine, date(2026, 12, 1))
    html = as_persona("auditor").get(reverse("fund_list")).content.decode()
    assert '<svg role="img" aria-labelledby="chart-USD-title chart-USD-desc"' in html
    assert '<title id="chart-USD-title">Remaining co-op (USD) by expiry date</title>' in html
    assert '<desc id="chart-USD-desc">28,000.00 USD expires on 31 Dec 2026.</desc>' in html
    assert "<script" not in html.split("<main", 1)[1]
    assert '<tr><td>31 Dec 2026</td><td class="num">28,000.00</td><td>USD</td><td class="num">2</td></tr>' in html


def test_chart_geometry():
    totals = [
        ExpiryTotal(date(2026, 12, 31), "USD", D("12000.00"), 1),
        ExpiryTotal(date(2027, 6, 30), "USD", D("3000.00"), 2),
        ExpiryTotal(date(2026, 12, 31), "EUR", D("5.00"), 1),
    ]
    chart = expiry_chart(totals, "USD")
    assert chart is not None
    assert [(b.label, b.value, b.height, b.y) for b in chart.bars] == [
        ("31 Dec 2026", "12,000.00", 106, 94),  # 12,000 of an axis to 20,000 over 176 px, from y=24
        ("30 Jun 2027", "3,000.00", 26, 174),
    ]
    assert [t.text for t in chart.ticks] == ["0", "5,000", "10,000", "15,000", "20,000"]
    assert chart.description == "12,000.00 USD expires on 31 Dec 2026; 3,000.00 USD expires on 30 Jun 2027."
    assert expiry_chart(totals, "GBP") is None


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [
        (D("0"), D(1)),
        (D("0.5"), D(1)),
        (D("7"), D(10)),
        (D("12000"), D(20000)),
        (D("2400"), D("2500")),
        (D("50000"), D(50000)),
    ],
)
def test_axis_ceiling(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_fund_detail_shows_every_balance_and_date(books, as_persona):
    page = text(as_persona("partner_user").get(reverse("fund_detail", args=[books.berlin.pk])))
    for line in [
        "Earned (co-op part) 12,000.00",
        "Earned (rebate part) 18,000.00",
        "Still accruing (earning period open) 0.00",
        "Converted to rebate (below the threshold) 0.00",
        "Available 12,000.00",
        "Reserved by pending claims 0.00",
        "Approved, payable 0.00",
        "Paid (co-op) 0.00",
        "Forfeited 0.00",
        "Rebate payable 18,000.00",
        "Rebate paid 0.00",
        "Remaining to claim 12,000.00",
        "Earning period 1 Jan 2026 – 30 Jun 2026",
        "Usage period FY27 H1: 1 Jul 2026 – 31 Dec 2026",
        "Claiming window 16 Aug 2026 – 15 Feb 2027",
        "threshold 10,000.00 USD, co-op made available",
    ]:
        assert line in page
    assert "Adjust this fund" not in page


def test_fund_detail_history(books, as_persona):
    page = text(as_persona("partner_user").get(reverse("fund_detail", args=[books.berlin.pk])))
    assert (
        f"30 Jun 2026 Made available (earning period closed) Available 12,000.00 USD fund:{books.berlin.pk} "
        "Earning period closed: 12000.00 USD co-op available until 31 Dec 2026."
    ) in page
    assert (
        f"30 Jun 2026 Earned Rebate payable 18,000.00 USD earnings-import:{books.batch.pk} Earnings from h2.csv" in page
    )


# --- filters, paging, htmx -------------------------------------------------------------------------------


def fund_ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    return [int(pk) for pk in re.findall(r'href="/funds/(\d+)/"', response.content.decode())]


def test_filters_of_my_funds(books, as_persona):
    client = as_persona("partner_admin")
    assert sorted(fund_ids(client.get(reverse("fund_list")))) == sorted([books.berlin.pk, books.paris.pk])
    assert fund_ids(client.get(reverse("fund_list"), {"location": books.second_location.pk})) == [books.paris.pk]
    assert fund_ids(client.get(reverse("fund_list"), {"period": "FY27 H2"})) == []
    assert len(fund_ids(client.get(reverse("fund_list"), {"program": books.program.pk, "period": "FY27 H1"}))) == 2


def test_vendor_staff_search_partners_and_locations(books, as_persona):
    client = as_persona("reviewer")
    assert fund_ids(client.get(reverse("fund_list"), {"q": "northwind"})) == [books.oslo.pk]
    assert fund_ids(client.get(reverse("fund_list"), {"q": "FAB-002"})) == [books.paris.pk]
    assert len(fund_ids(client.get(reverse("fund_list")))) == 3


def test_another_partners_location_is_a_filter_error_not_a_peek(books, as_persona):
    response = as_persona("partner_admin").get(reverse("fund_list"), {"location": books.other_location.pk})
    assert response.status_code == 400
    assert "Select a valid choice. That choice is not one of the available choices." in response.content.decode()
    assert fund_ids(response) == []


def test_expiring_filter(books, as_persona, time_machine):
    at(time_machine, date(2026, 12, 1))
    client = as_persona("partner_admin")
    assert fund_ids(client.get(reverse("fund_list"), {"expiring": "on"})) == [books.berlin.pk]


def test_htmx_filter_change_gets_only_the_results(books, as_persona):
    response = as_persona("partner_admin").get(reverse("fund_list"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results">')
    assert "<h1>" not in html


def test_transaction_filters(books, as_persona):
    client = as_persona("auditor")
    page = text(client.get(reverse("fund_transactions"), {"kind": "convert"}))
    assert "2 transactions." in page  # one transfer, two legs: out of accruing, into converted
    assert "FAB-002 Cloud Co-op FY27 H1 Converted to rebate Converted to rebate (below threshold) 8,000.00 USD" in page
    assert "FAB-002 Cloud Co-op FY27 H1 Converted to rebate Co-op accruing (earning period open) -8,000.00 USD" in page
    assert "8 transactions." in text(client.get(reverse("fund_transactions"), {"q": "fabrikam"}))
    assert "6 transactions." in text(
        client.get(reverse("fund_transactions"), {"kind": "accrue", "date_from": "2026-06-30", "date_to": "2026-06-30"})
    )
    assert "0 transactions." in text(client.get(reverse("fund_transactions"), {"date_from": "2026-07-01"}))
    assert "2 transactions." in text(
        client.get(reverse("fund_transactions"), {"fund": books.oslo.pk, "kind": "accrue"})
    )


def test_transaction_filter_by_fund_and_location(books, as_persona):
    client = as_persona("partner_admin")
    assert "4 transactions." in text(client.get(reverse("fund_transactions"), {"fund": books.berlin.pk}))
    assert "4 transactions." in text(client.get(reverse("fund_transactions"), {"location": books.second_location.pk}))
    # a fund of another partner filters to nothing, and says nothing about it
    assert "0 transactions." in text(client.get(reverse("fund_transactions"), {"fund": books.oslo.pk}))


@pytest.mark.parametrize(
    ("params", "field_error"),
    [
        ({"date_from": "2026-07-01", "date_to": "2026-06-30"}, "The end date is before the start date."),
        ({"date_from": "31/12/2026"}, "Enter a valid date."),
        ({"kind": "gift"}, "Select a valid choice. gift is not one of the available choices."),
        ({"fund": "x"}, "Enter a whole number."),
    ],
)
@pytest.mark.parametrize("url", ["fund_transactions", "fund_transactions_csv", "fund_transactions_xlsx"])
def test_bad_transaction_filters_are_field_errors(books, as_persona, params, field_error, url):
    response = as_persona("partner_admin").get(reverse(url), params)
    assert response.status_code == 400
    assert field_error in response.content.decode()
    assert "The filters are not valid; correct them above." in response.content.decode()


def test_transactions_are_paginated_and_the_pager_keeps_the_filters(books, as_persona, time_machine):
    at(time_machine, date(2026, 8, 20))
    with transaction.atomic():
        for i in range(15):
            fund_reserve(
                fund=books.berlin, amount=D("1.00"), key=f"c:{i}", reference=f"claim:{i}", actor=books.partner_user
            )
    client = as_persona("partner_user")
    first = client.get(reverse("fund_transactions"), {"kind": "reserve"})
    assert "30 transactions." in text(first)
    assert 'href="?kind=reserve&amp;page=2"' in first.content.decode()
    second = client.get(reverse("fund_transactions"), {"kind": "reserve", "page": 2})
    assert "Page 2 of 2" in text(second)
    assert text(second).count("Claimed (reserved)") == 5 + 1  # 5 rows + the kind filter's option


# --- adjustments -----------------------------------------------------------------------------------------


def adjustment(key: str = "k-1", **changes: str) -> dict[str, str]:
    return {
        "amount": "500.00",
        "reason_code": "policy_exception",
        "memo": "Launch event",
        "to_fund": "",
        "key": key,
    } | changes


@pytest.mark.parametrize("persona", PERSONAS)
def test_adjusting_a_fund(books, as_persona, persona):
    code = expected(persona, allowed={"program_manager"}, visible={"partner_admin", "partner_user", *VENDOR}, ok=302)
    before = state()
    response = as_persona(persona).post(reverse("fund_adjust", args=[books.berlin.pk]), adjustment())
    assert response.status_code == code
    if code == 302 and persona != "anonymous":
        assert response["Location"] == reverse("fund_detail", args=[books.berlin.pk])
        assert balances(books.berlin).available == D("12500.00")
        assert state() == (before[0] + 1, before[1] + 1, before[2])
    else:
        assert state() == before
        assert balances(books.berlin).available == D("12000.00")


def test_the_form_shows_to_program_managers_with_a_fresh_key(books, as_persona):
    client = as_persona("program_manager")
    keys = [
        re.search(
            r'name="key" value="([0-9a-f]{32})"',
            client.get(reverse("fund_detail", args=[books.berlin.pk])).content.decode(),
        )
        for _ in range(2)
    ]
    assert all(keys)
    assert keys[0].group(1) != keys[1].group(1)  # type: ignore[union-attr]


def test_a_double_submit_posts_once(books, as_persona):
    client = as_persona("program_manager")
    url = reverse("fund_adjust", args=[books.berlin.pk])
    first, second = client.post(url, adjustment()), client.post(url, adjustment())
    assert (first.status_code, second.status_code) == (302, 302)
    assert balances(books.berlin).available == D("12500.00")
    assert Transfer.objects.filter(kind="adjust").count() == 1
    assert AuditEvent.objects.filter(verb="fund.adjust").count() == 1
    page = text(client.get(reverse("fund_detail", args=[books.berlin.pk])))
    assert "Adjusted by 500.00 USD: Launch event" in page


def test_adjustment_input_errors_are_shown_on_the_form(books, as_persona):
    before = state()
    response = as_persona("program_manager").post(
        reverse("fund_adjust", args=[books.berlin.pk]), adjustment(amount="12,50", reason_code="", memo="")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert (
        'id="id_amount_error">“12,50” uses a comma; write amounts with a dot as decimal separator, e.g. 1234.50.</p>'
        in html
    )
    response = as_persona("program_manager").post(
        reverse("fund_adjust", args=[books.berlin.pk]), adjustment(reason_code="", memo=" ")
    )
    html = response.content.decode()
    assert (
        'id="id_reason_code_error">Choose a reason: policy exception, previous period, operations adjustment, '
        "rollover to another period.</p>" in html
    )
    assert 'id="id_memo_error">Say why, in a sentence the partner will read.</p>' in html
    assert state() == before


def test_an_overdraw_is_refused_with_the_reason(books, as_persona):
    before = state()
    response = as_persona("program_manager").post(
        reverse("fund_adjust", args=[books.berlin.pk]),
        adjustment(amount="-12000.01", reason_code="operations_adjustment"),
    )
    assert response.status_code == 400
    assert "Not enough money available in the fund: 12000.01 needed." in response.content.decode()
    assert state() == before


def test_a_rollover_moves_money_to_the_chosen_fund(books, as_persona, time_machine):
    at(time_machine, date(2026, 9, 15))
    earnings_import(
        stream=csv_file("2026-09-15,FAB-001,coop,100.00,USD,,,,N-1"), file_name="n.csv", actor=books.finance
    )
    later = Fund.objects.get(location=books.location, label="FY27 H2")
    response = as_persona("program_manager").post(
        reverse("fund_adjust", args=[books.berlin.pk]),
        adjustment(amount="1000.00", reason_code="rollover", memo="Agreed rollover", to_fund=str(later.pk)),
    )
    assert response.status_code == 302
    assert (balances(books.berlin).available, balances(later).available) == (D("11000.00"), D("1000.00"))


def test_a_rollover_target_must_be_of_the_same_location_and_program(books, as_persona):
    response = as_persona("program_manager").post(
        reverse("fund_adjust", args=[books.berlin.pk]),
        adjustment(reason_code="rollover", to_fund=str(books.oslo.pk)),
    )
    assert response.status_code == 400
    assert "Select a valid choice. That choice is not one of the available choices." in response.content.decode()


# --- earnings imports ------------------------------------------------------------------------------------


def upload(name: str, content: bytes):  # type: ignore[no-untyped-def]
    stream = io.BytesIO(content)
    stream.name = name
    return {"file": stream}


@pytest.mark.parametrize("persona", PERSONAS)
def test_uploading_earnings(enrolled, as_persona, persona):
    code = expected(persona, allowed=IMPORTERS, visible=VENDOR, ok=302)
    before = state()
    body = (HEADER + "2026-03-15,FAB-001,coop,100.00,USD,,,,L-1\n").encode()
    response = as_persona(persona).post(reverse("earnings_import_list"), upload("march.csv", body))
    assert response.status_code == code
    if code == 302 and persona != "anonymous":
        batch = EarningImport.objects.get()
        assert response["Location"] == reverse("earnings_import_detail", args=[batch.pk])
        assert (batch.status, batch.applied, EarningLine.objects.count()) == ("applied", 1, 1)
    else:
        assert state() == before
        assert EarningLine.objects.count() == 0


def test_an_applied_import_reports_its_counts(enrolled, as_persona):
    client = as_persona("finance")
    body = (HEADER + "2026-03-15,FAB-001,coop,100.00,USD,,,,L-1\n2026-03-16,FAB-001,coop,2500.50,USD,,,,L-2\n").encode()
    client.post(reverse("earnings_import_list"), upload("march.csv", body))
    response = client.post(reverse("earnings_import_list"), upload("march-again.csv", body), follow=True)
    page = text(response)
    assert "march-again.csv: 0 line(s) applied, 2 already imported line(s) skipped; total 0.00." in page
    assert "Status Applied Uploaded" in page
    assert "Applied 0 Skipped (already imported) 2 Total earnings 0.00" in page


def test_a_rejected_import_shows_every_row_error_in_a_table(enrolled, as_persona):
    body = (
        HEADER
        + "2026-03-15,FAB-001,coop,100.00,USD,,,,L-1\n"
        + "2026-03-15,NOPE-9,coop,1.00,USD,,,,L-2\n"
        + "2026-03-15,FAB-001,coop,abc,USD,,,,L-3\n"
    ).encode()
    response = as_persona("program_manager").post(reverse("earnings_import_list"), upload("bad.csv", body), follow=True)
    html = response.content.decode()
    assert "bad.csv: 2 problems found; nothing was imported. Fix the rows below and upload it again." in html
    assert "2 problems: nothing was imported" in html
    assert '<tr><td class="num">3</td><td>partner ID</td><td>No location has the partner ID “NOPE-9”.</td></tr>' in html
    assert '<tr><td class="num">4</td><td>amount</td><td>“abc” is not an amount.</td></tr>' in html
    assert EarningLine.objects.count() == 0
    listing = text(as_persona("auditor").get(reverse("earnings_import_list")))
    assert "bad.csv Pat Manager Rejected (nothing changed) 3 0 0 2 0.00" in listing


def test_a_whole_file_problem_is_reported(enrolled, as_persona):
    response = as_persona("finance").post(reverse("earnings_import_list"), upload("notes.pdf", b"x"), follow=True)
    assert (
        '<tr><td class="num">–</td><td>file</td><td>Upload a .csv or .xlsx file.</td></tr>' in response.content.decode()
    )


def test_an_xlsx_upload(enrolled, as_persona):
    book = Workbook()
    book.active.append(["Earned date", "Partner ID", "Program code", "Amount", "Currency", "External line ID"])
    book.active.append([date(2026, 3, 15), "FAB-001", "coop", 1234.5, "USD", "X-1"])
    content = io.BytesIO()
    book.save(content)
    as_persona("finance").post(reverse("earnings_import_list"), upload("earnings.xlsx", content.getvalue()))
    batch = EarningImport.objects.get()
    assert (batch.status, batch.applied, batch.total) == ("applied", 1, D("1234.50"))


def test_the_upload_form_needs_a_file(enrolled, as_persona):
    response = as_persona("finance").post(reverse("earnings_import_list"), {})
    assert response.status_code == 400
    assert 'id="id_file_error">This field is required.</p>' in response.content.decode()
    assert EarningImport.objects.count() == 0


def test_the_auditor_sees_imports_without_the_upload_form(enrolled, as_persona):
    html = as_persona("auditor").get(reverse("earnings_import_list")).content.decode()
    assert 'type="file"' not in html
    assert "Download the CSV template" in html


def test_the_csv_template_is_the_header_row(enrolled, as_persona):
    response = as_persona("finance").get(reverse("earnings_import_template"))
    assert response["Content-Disposition"] == 'attachment; filename="earnings-template.csv"'
    assert response.content.decode() == (
        "earned date,partner ID,program code,amount,currency,earning type,product,customer reference,external line ID\r\n"
    )


# --- period close ----------------------------------------------------------------------------------------


def test_period_close_status(books, as_persona, time_machine):
    at(time_machine, date(2026, 9, 15))
    earnings_import(
        stream=csv_file("2026-09-15,FAB-001,coop,100.00,USD,,,,N-1"), file_name="n.csv", actor=books.finance
    )
    page = text(as_persona("auditor").get(reverse("fund_periods")))
    assert "Cloud Co-op (coop) 1 Jul 2026 – 31 Dec 2026 FY27 H2 1 Open (earning) 40.00 USD 0 funds 0.00 USD" in page
    assert "Cloud Co-op (coop) 1 Jan 2026 – 30 Jun 2026 FY27 H1 3 Closed 36,000.00 USD 1 fund 0.00 USD" in page
    assert "Run period jobs now" not in page


@pytest.mark.parametrize("persona", PERSONAS)
def test_running_the_period_jobs(books, as_persona, persona, time_machine):
    at(time_machine, date(2027, 1, 1))
    code = expected(persona, allowed={"program_manager"}, visible=VENDOR, ok=302)
    before = state()
    client = as_persona(persona)
    response = client.post(reverse("fund_period_jobs_run"))
    assert response.status_code == code
    if code == 302 and persona != "anonymous":
        page = text(client.get(response["Location"]))
        assert (
            "Period jobs done: 0 fund(s) closed, 0 re-evaluated after late earnings, 2 fund(s) with money forfeited."
            in page
        )
        assert "Cloud Co-op (coop) 1 Jan 2026 – 30 Jun 2026 FY27 H1 3 Closed 36,000.00 USD 1 fund 28,000.00 USD" in page
    else:
        assert state() == before
