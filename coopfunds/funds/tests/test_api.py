"""The funds API: every endpoint for every persona, balances, filters, paging, imports, adjustments."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client

from conftest import PERSONAS, api_status
from coopfunds.accounts.services import api_token_create
from coopfunds.audit.models import AuditEvent
from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.models import EarningImport, EarningLine, Fund, Transfer
from coopfunds.funds.selectors import balances
from coopfunds.funds.services import fund_reserve, period_close
from coopfunds.funds.tests.conftest import HEADER, csv_file

pytestmark = pytest.mark.django_db

API = "/api/v1"
SIGNED = "Write a non-zero amount with a dot and at most two decimals, e.g. 500.00 or -200.00."
KEY = "Send 1 to 200 visible ASCII characters without spaces, e.g. a UUID."
D = Decimal
VENDOR = {"program_manager", "reviewer", "finance", "auditor"}
SEES_BERLIN = {"partner_admin", "partner_user", *VENDOR}


def at(time_machine, day: date) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), tick=False)


@pytest.fixture
def books(enrolled, time_machine):
    """Berlin 12,000 co-op available, Paris 8,000 converted to rebate, Oslo 16,000 available; usage Jul–Dec 2026."""
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
    period_close(program=enrolled.program, today=date(2026, 7, 1))
    enrolled.batch = batch
    enrolled.berlin = Fund.objects.get(location=enrolled.location)
    enrolled.paris = Fund.objects.get(location=enrolled.second_location)
    enrolled.oslo = Fund.objects.get(location=enrolled.other_location)
    return enrolled


def expected(persona: str, *, allowed: set[str], visible: set[str] | None = None, ok: int = 200) -> int:
    if persona == "anonymous":
        return 401
    if visible is not None and persona not in visible:
        return 404
    return ok if persona in allowed else 403


def state() -> tuple:
    return Transfer.objects.count(), AuditEvent.objects.count(), EarningImport.objects.count()


def adjust(client: Client, fund: Fund, key: str | None = "k-1", **changes):  # type: ignore[no-untyped-def]
    body = {"amount": "500.00", "reason_code": "policy_exception", "memo": "Launch event"} | changes
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(
        f"{API}/funds/{fund.pk}/adjustments", json.dumps(body), content_type="application/json", headers=headers
    )


def upload(client: Client, name: str, content: bytes):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/earnings-imports", {"file": SimpleUploadedFile(name, content, "text/csv")})


# --- every endpoint for every persona --------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_reads_answer_each_persona_as_their_rights_say(books, as_persona, persona):
    everyone = set(PERSONAS)
    readers = {"program_manager", "finance", "auditor"}
    calls = {
        "/funds": expected(persona, allowed=everyone),
        f"/funds/{books.berlin.pk}": expected(persona, allowed=everyone, visible=SEES_BERLIN),
        f"/funds/{books.paris.pk}": expected(persona, allowed=everyone, visible={"partner_admin", *VENDOR}),
        f"/funds/{books.oslo.pk}": expected(persona, allowed=everyone, visible={"other_admin", *VENDOR}),
        "/funds/999999": expected(persona, allowed=everyone, visible=set()),
        f"/funds/{books.berlin.pk}/transactions": expected(persona, allowed=everyone, visible=SEES_BERLIN),
        f"/funds/{books.oslo.pk}/transactions": expected(persona, allowed=everyone, visible={"other_admin", *VENDOR}),
        "/transactions": expected(persona, allowed=everyone),
        "/earnings-imports": expected(persona, allowed=readers),
        f"/earnings-imports/{books.batch.pk}": expected(persona, allowed=everyone, visible=readers),
    }
    calls = {url: api_status(persona, "GET", API + url, code) for url, code in calls.items()}
    client = as_persona(persona)
    answers = {url: client.get(API + url).status_code for url in calls}
    assert answers == calls


@pytest.mark.parametrize("persona", PERSONAS)
def test_adjusting_over_the_api(books, as_persona, persona):
    code = api_status(
        persona,
        "POST",
        f"{API}/funds/{books.berlin.pk}/adjustments",
        expected(persona, allowed={"program_manager"}, visible=SEES_BERLIN, ok=201),
    )
    before = state()
    response = adjust(as_persona(persona), books.berlin)
    assert response.status_code == code, response.content
    if code == 201:
        assert balances(books.berlin).available == D("12500.00")
        assert state() == (before[0] + 1, before[1] + 1, before[2])
    else:
        assert set(response.json()) == {"code", "message", "fields"}
        assert state() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_uploading_earnings_over_the_api(enrolled, as_persona, persona):
    code = expected(persona, allowed={"program_manager", "finance"}, ok=201)
    before = state()
    response = upload(
        as_persona(persona), "march.csv", (HEADER + "2026-03-15,FAB-001,coop,100.00,USD,,,,L-1\n").encode()
    )
    assert response.status_code == code, response.content
    if code == 201:
        assert (response.json()["status"], response.json()["applied"], EarningLine.objects.count()) == ("applied", 1, 1)
    else:
        assert state() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_running_period_jobs_over_the_api(books, as_persona, persona, time_machine):
    at(time_machine, date(2027, 1, 1))
    code = expected(persona, allowed={"program_manager"})
    before = state()
    response = as_persona(persona).post(f"{API}/period-jobs")
    assert response.status_code == code
    if code == 200:
        assert response.json() == {"closed": 0, "reevaluated": 0, "forfeited": 2}
        assert (balances(books.berlin).forfeited, balances(books.oslo).forfeited) == (D("12000.00"), D("16000.00"))
    else:
        assert state() == before
        assert balances(books.berlin).forfeited == 0


def test_an_api_token_reads_its_owners_funds(books):
    _, token = api_token_create(name="ERP", actor=books.partner_user)
    response = Client().get(f"{API}/funds", headers={"Authorization": f"Bearer {token}"})
    assert [f["partner_id"] for f in response.json()["results"]] == ["FAB-001"]


# --- funds -----------------------------------------------------------------------------------------------


def test_a_fund_with_its_balances(books, as_persona, time_machine):
    at(time_machine, date(2026, 8, 20))
    with transaction.atomic():
        fund_reserve(fund=books.berlin, amount=D("2500.00"), key="c:1", reference="claim:1", actor=books.partner_user)
    body = as_persona("partner_user").get(f"{API}/funds/{books.berlin.pk}").json()
    assert body == {
        "id": books.berlin.pk,
        "location_id": books.location.pk,
        "partner_id": "FAB-001",
        "location_name": "Fabrikam Berlin",
        "program_id": books.program.pk,
        "program_code": "coop",
        "currency": "USD",
        "label": "FY27 H1",
        "earning_start": "2026-01-01",
        "earning_end": "2026-06-30",
        "usage_start": "2026-07-01",
        "usage_end": "2026-12-31",
        "claim_opens": "2026-08-16",
        "claim_closes": "2027-02-15",
        "expires_on": "2026-12-31",
        "expires_soon": False,
        "closed_at": body["closed_at"],
        "threshold_applied": "10000.00",
        "converted_to_rebate": False,
        "forfeited_at": None,
        "balances": {
            "earned": "12000.00",
            "earned_rebate": "18000.00",
            "accrued": "0.00",
            "available": "9500.00",
            "reserved": "2500.00",
            "payable": "0.00",
            "paid": "0.00",
            "forfeited": "0.00",
            "converted": "0.00",
            "rebate": "18000.00",
            "rebate_paid": "0.00",
            "claimed": "2500.00",
            "remaining": "9500.00",
        },
    }
    assert body["closed_at"].startswith("2026-06-30T12:00:00")


def test_the_list_has_the_same_balances_as_the_detail(books, as_persona):
    client = as_persona("auditor")
    listed = client.get(f"{API}/funds").json()["results"]
    assert [f["id"] for f in listed] == sorted([books.berlin.pk, books.paris.pk, books.oslo.pk])
    assert listed == [client.get(f"{API}/funds/{f['id']}").json() for f in listed]


def test_fund_filters(books, as_persona, time_machine):
    def ids(**params) -> list[int]:  # type: ignore[no-untyped-def]
        client = as_persona("partner_admin")  # signed in now: a session does not survive months of time travel
        return [f["id"] for f in client.get(f"{API}/funds", params).json()["results"]]

    assert ids() == sorted([books.berlin.pk, books.paris.pk])
    assert ids(location_id=books.second_location.pk) == [books.paris.pk]
    assert ids(location_id=books.other_location.pk) == []  # another partner's location: nothing, no hint
    assert ids(program_id=books.program.pk, location_id=books.location.pk) == [books.berlin.pk]
    at(time_machine, date(2026, 11, 15))
    assert ids(expiring_within_days=45) == []
    at(time_machine, date(2026, 11, 16))
    assert ids(expiring_within_days=45) == [books.berlin.pk]  # Paris has nothing left to expire
    assert as_persona("partner_admin").get(f"{API}/funds/{books.berlin.pk}").json()["expires_soon"] is True


@pytest.mark.parametrize(
    ("params", "field"),
    [({"expiring_within_days": "-1"}, "expiring_within_days"), ({"location_id": "x"}, "location_id")],
)
def test_bad_fund_filters_are_field_errors(books, as_persona, params, field):
    response = as_persona("auditor").get(f"{API}/funds", params)
    assert response.status_code == 400
    assert (response.json()["code"], list(response.json()["fields"])) == ("invalid", [field])


# --- transactions ----------------------------------------------------------------------------------------


def test_transactions_of_a_fund(books, as_persona):
    rows = as_persona("partner_user").get(f"{API}/funds/{books.berlin.pk}/transactions").json()["results"]
    assert [(r["kind"], r["kind_label"], r["bucket"], r["amount"], r["date"]) for r in rows] == [
        ("accrue", "Earned", "rebate", "18000.00", "2026-06-30"),
        ("accrue", "Earned", "accrued", "12000.00", "2026-06-30"),
        ("close", "Made available (earning period closed)", "accrued", "-12000.00", "2026-06-30"),
        ("close", "Made available (earning period closed)", "available", "12000.00", "2026-06-30"),
    ]
    first = rows[0]
    assert first | {"id": 0, "transfer_id": 0, "recorded_at": ""} == {
        "id": 0,
        "transfer_id": 0,
        "date": "2026-06-30",
        "recorded_at": "",
        "fund_id": books.berlin.pk,
        "fund_label": "FY27 H1",
        "location_id": books.location.pk,
        "partner_id": "FAB-001",
        "program_id": books.program.pk,
        "program_code": "coop",
        "kind": "accrue",
        "kind_label": "Earned",
        "bucket": "rebate",
        "bucket_label": "Rebate payable",
        "amount": "18000.00",
        "currency": "USD",
        "reference": f"earnings-import:{books.batch.pk}",
        "reason_code": "",
        "memo": "Earnings from h2.csv",
    }


def test_transactions_across_funds_only_the_callers(books, as_persona):
    def partners(persona: str, **params) -> list[str]:  # type: ignore[no-untyped-def]
        return [r["partner_id"] for r in as_persona(persona).get(f"{API}/transactions", params).json()["results"]]

    assert partners("partner_user") == ["FAB-001"] * 4
    assert sorted(set(partners("partner_admin"))) == ["FAB-001", "FAB-002"]
    assert partners("other_admin") == ["NW-001"] * 4
    assert partners("auditor", kind="convert") == ["FAB-002", "FAB-002"]
    assert partners("auditor", fund_id=books.oslo.pk, kind="accrue") == ["NW-001", "NW-001"]
    assert partners("partner_admin", fund_id=books.oslo.pk) == []
    assert partners("auditor", date_from="2026-07-01") == []
    assert len(partners("auditor", date_from="2026-06-30", date_to="2026-06-30")) == 12


def test_transactions_are_keyset_paginated(books, as_persona):
    client = as_persona("auditor")
    page = client.get(f"{API}/transactions", {"page_size": 5}).json()
    seen = [r["id"] for r in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [r["id"] for r in page["results"]]
    assert len(seen) == 12
    assert seen == sorted(seen)


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"date_from": "2026-07-01", "date_to": "2026-06-30"}, 422, "date_to"),
        ({"date_from": "30/06/2026"}, 400, "date_from"),
        ({"kind": "gift"}, 400, "kind"),
        ({"cursor": "!!"}, 400, "cursor"),
    ],
)
def test_bad_transaction_filters_are_field_errors(books, as_persona, params, status, field):
    response = as_persona("auditor").get(f"{API}/transactions", params)
    assert response.status_code == status
    assert (response.json()["code"], list(response.json()["fields"])) == ("invalid", [field])


# --- earnings imports ------------------------------------------------------------------------------------


def test_a_rejected_file_is_422_with_every_row_and_its_report_is_kept(enrolled, as_persona):
    client = as_persona("finance")
    body = (
        HEADER
        + "2026-03-15,FAB-001,coop,100.00,USD,,,,L-1\n"
        + "2026-03-15,NOPE-9,coop,1.00,USD,,,,L-2\n"
        + "2026-03-15,FAB-001,coop,abc,USD,,,,L-3\n"
    ).encode()
    response = upload(client, "bad.csv", body)
    batch = EarningImport.objects.get()
    assert response.status_code == 422
    assert response["Location"] == f"{API}/earnings-imports/{batch.pk}"
    assert response.json() == {
        "code": "import_rejected",
        "message": f"bad.csv: 2 problems found; nothing was imported. The report is import {batch.pk} "
        f"({API}/earnings-imports/{batch.pk}).",
        "fields": {
            "rows": [
                "row 3, partner ID: No location has the partner ID “NOPE-9”.",
                "row 4, amount: “abc” is not an amount.",
            ]
        },
    }
    assert EarningLine.objects.count() == 0
    report = client.get(response["Location"]).json()
    assert (report["status"], report["rows"], report["applied"], report["problems"]) == ("rejected", 3, 0, 2)
    assert report["errors"] == [
        {"row": 3, "column": "partner ID", "message": "No location has the partner ID “NOPE-9”."},
        {"row": 4, "column": "amount", "message": "“abc” is not an amount."},
    ]


def test_a_whole_file_problem(enrolled, as_persona):
    response = upload(as_persona("finance"), "notes.pdf", b"x")
    assert response.status_code == 422
    assert response.json()["fields"] == {"file": ["Upload a .csv or .xlsx file."]}


def test_an_upload_without_a_file(enrolled, as_persona):
    response = as_persona("finance").post(f"{API}/earnings-imports", {})
    assert (response.status_code, response.json()["fields"]) == (400, {"file": ["Field required"]})
    assert EarningImport.objects.count() == 0


def test_an_applied_import_and_the_list(enrolled, as_persona):
    client = as_persona("program_manager")
    body = (HEADER + "2026-03-15,FAB-001,coop,100.00,USD,,,,L-1\n2026-03-16,FAB-002,coop,50.50,USD,,,,L-2\n").encode()
    created = upload(client, "march.csv", body).json()
    again = upload(client, "march-again.csv", body).json()
    assert (created["status"], created["rows"], created["applied"], created["skipped"], created["total"]) == (
        "applied",
        2,
        2,
        0,
        "150.50",
    )
    assert (created["created_by"], created["errors"], created["problems"]) == ("pat.manager@contoso.example", [], 0)
    assert (again["applied"], again["skipped"], again["total"]) == (0, 2, "0.00")
    listed = as_persona("auditor").get(f"{API}/earnings-imports").json()["results"]
    assert [i["file_name"] for i in listed] == ["march-again.csv", "march.csv"]  # newest first
    assert "errors" not in listed[0]


# --- adjustments -----------------------------------------------------------------------------------------


def test_the_same_idempotency_key_returns_the_first_adjustment(books, as_persona):
    client = as_persona("program_manager")
    first, again = adjust(client, books.berlin), adjust(client, books.berlin)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    body = first.json()
    assert body | {"id": 0, "created_at": "", "date": ""} == {
        "id": 0,
        "kind": "adjust",
        "reason_code": "policy_exception",
        "memo": "Launch event",
        "reference": f"fund:{books.berlin.pk}",
        "date": "",
        "created_at": "",
        "entries": [{"fund_id": books.berlin.pk, "bucket": "available", "amount": "500.00"}],
    }
    assert balances(books.berlin).available == D("12500.00")
    assert (Transfer.objects.filter(kind="adjust").count(), AuditEvent.objects.filter(verb="fund.adjust").count()) == (
        1,
        1,
    )


def test_a_used_key_with_other_content_is_a_conflict(books, as_persona):
    client = as_persona("program_manager")
    adjust(client, books.berlin)
    before = state()
    response = adjust(client, books.berlin, amount="600.00")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert state() == before


def test_keys_are_per_person(books, as_persona, world):
    """Two program managers choosing the same key make two adjustments."""
    from coopfunds.testing.factories import RoleFactory, UserFactory

    second = UserFactory(email="max.manager@contoso.example", organisation=world.vendor)
    RoleFactory(user=second, role="program_manager", location=None)
    other = Client()
    other.force_login(second)  # type: ignore[arg-type]
    assert (
        adjust(as_persona("program_manager"), books.berlin).status_code,
        adjust(other, books.berlin).status_code,
    ) == (
        201,
        201,
    )
    assert balances(books.berlin).available == D("13000.00")


@pytest.mark.parametrize(
    ("key", "changes", "status", "fields"),
    [
        (None, {}, 400, {"Idempotency-Key": ["Field required"]}),
        ("", {}, 400, {"Idempotency-Key": [KEY]}),
        ("k", {"amount": "12,50"}, 400, {"amount": [SIGNED]}),
        ("k", {"amount": "0"}, 400, {"amount": [SIGNED]}),
        (
            "k",
            {"reason_code": "whim", "memo": " "},
            400,
            {
                "reason_code": [
                    "Input should be 'policy_exception', 'previous_period', 'operations_adjustment' or 'rollover'"
                ],
                "memo": ["Write something here: it cannot be empty or only spaces."],
            },
        ),
        ("k", {"to_fund_id": 999999, "reason_code": "rollover"}, 422, {"to_fund_id": ["No fund with this id."]}),
        (
            "k",
            {"reason_code": "rollover"},
            422,
            {"to_fund": ["A rollover names the fund it moves to; other adjustments do not."]},
        ),
    ],
)
def test_bad_adjustments_are_field_errors(books, as_persona, key, changes, status, fields):
    before = state()
    response = adjust(as_persona("program_manager"), books.berlin, key=key, **changes)
    assert response.status_code == status
    assert (response.json()["code"], response.json()["fields"]) == ("invalid", fields)
    assert state() == before


def test_an_overdraw_is_a_conflict(books, as_persona):
    before = state()
    response = adjust(
        as_persona("program_manager"), books.berlin, amount="-12000.01", reason_code="operations_adjustment"
    )
    assert response.status_code == 409
    assert response.json() == {
        "code": "insufficient_funds",
        "message": "Not enough money available in the fund: 12000.01 needed.",
        "fields": {},
    }
    assert state() == before


def test_a_rollover_to_another_partners_fund_is_refused(books, as_persona):
    response = adjust(
        as_persona("program_manager"), books.berlin, reason_code="rollover", to_fund_id=books.oslo.pk, amount="100.00"
    )
    assert response.status_code == 422
    assert response.json()["fields"] == {"to_fund": ["A rollover stays within one location and program."]}
