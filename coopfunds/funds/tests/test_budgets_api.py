"""The budgets API: every persona's reads, a program manager's budget, allocations and moves, refusals as field
errors that change nothing, and a partner's own allocations only."""

import json
from decimal import Decimal

import pytest

from conftest import PERSONAS, api_status
from coopfunds.funds import budgets
from coopfunds.funds.models import Allocation, Budget, Transfer
from coopfunds.funds.tests.test_budgets import ledger_state, make

pytestmark = pytest.mark.django_db
API = "/api/v1"
D = Decimal


def send(client, method, url, body=None):  # type: ignore[no-untyped-def]
    return getattr(client, method)(API + url, json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def funded(enrolled):  # type: ignore[no-untyped-def]
    budget = make(enrolled, total="10000.00", countries=["DE", "FR"])
    pm = enrolled.program_manager
    enrolled.berlin = budgets.allocation_set(budget=budget, location=enrolled.location, amount=D("2500.00"), actor=pm)
    enrolled.paris = budgets.allocation_set(
        budget=budget, location=enrolled.second_location, amount=D("1000.00"), actor=pm
    )
    enrolled.budget = budget
    return enrolled


def budget_json(budget, total, allocated, unallocated):  # type: ignore[no-untyped-def]
    return {
        "id": budget.pk,
        "program_id": budget.program_id,
        "program_code": "coop",
        "name": "FY27 H1 MDF",
        "currency": "USD",
        "starts_on": "2026-07-01",
        "ends_on": "2026-12-31",
        "countries": ["DE", "FR"],
        "total": total,
        "allocated": allocated,
        "reserved": "0.00",
        "unallocated": unallocated,
        "created_at": budget.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_budget_reads_answer_each_persona_as_their_rights_say(funded, api_as, persona):
    client = api_as(persona)
    budget = funded.budget
    code = api_status(persona, "get", f"{API}/budgets", 401 if persona == "anonymous" else 200)
    response = client.get(f"{API}/budgets")
    assert response.status_code == code
    if code == 200:
        assert response.json() == {"next": None, "results": [budget_json(budget, "10000.00", "3500.00", "6500.00")]}
    detail = client.get(f"{API}/budgets/{budget.pk}")
    assert detail.status_code == code
    allocations = client.get(f"{API}/allocations")
    seen = {
        "partner_admin": ["FAB-001", "FAB-002"],
        "partner_user": ["FAB-001"],
        "other_admin": [],
    }
    if persona == "anonymous":
        assert allocations.status_code == 401
    else:
        assert allocations.status_code == 200
        expected = seen.get(persona, ["FAB-001", "FAB-002"])
        assert [a["partner_id"] for a in allocations.json()["results"]] == expected
        mine = client.get(f"{API}/allocations/{funded.berlin.pk}")
        assert mine.status_code == (200 if "FAB-001" in expected else 404)


def test_an_allocation_reads_as_its_money(funded, api_as):
    response = api_as("partner_user").get(f"{API}/allocations/{funded.berlin.pk}")
    assert response.json() == {
        "id": funded.berlin.pk,
        "budget_id": funded.budget.pk,
        "budget_name": "FY27 H1 MDF",
        "program_id": funded.program.pk,
        "location_id": funded.location.pk,
        "partner_id": "FAB-001",
        "location_name": "Fabrikam Berlin",
        "currency": "USD",
        "allocated": "2500.00",
        "reserved": "0.00",
    }


def test_a_program_manager_sets_a_budget_its_allocations_and_moves_through_the_api(enrolled, api_as):
    client = api_as("program_manager")
    created = send(
        client,
        "post",
        "/budgets",
        {
            "program_id": enrolled.program.pk,
            "name": "FY27 H1 MDF",
            "starts_on": "2026-07-01",
            "ends_on": "2026-12-31",
            "total": "10000.00",
            "countries": ["DE", "FR"],
        },
    )
    assert created.status_code == 201, created.content
    budget = Budget.objects.get()
    assert created.json() == budget_json(budget, "10000.00", "0.00", "10000.00")
    put = send(client, "put", f"/budgets/{budget.pk}/allocations/{enrolled.location.pk}", {"amount": "4000.00"})
    assert put.status_code == 200
    assert (put.json()["partner_id"], put.json()["allocated"]) == ("FAB-001", "4000.00")
    again = send(client, "put", f"/budgets/{budget.pk}/allocations/{enrolled.location.pk}", {"amount": "4000.00"})
    assert (again.status_code, Transfer.objects.filter(kind="allocate").count()) == (200, 1)
    send(client, "put", f"/budgets/{budget.pk}/allocations/{enrolled.second_location.pk}", {"amount": "500.00"})
    berlin, paris = (Allocation.objects.get(location=loc) for loc in (enrolled.location, enrolled.second_location))
    moved = send(
        client,
        "post",
        f"/allocations/{berlin.pk}/move",
        {"to_allocation_id": paris.pk, "amount": "1250.50", "reason": "Paris launch"},
    )
    assert moved.status_code == 201
    assert (moved.json()["kind"], moved.json()["memo"]) == ("reallocate", "Paris launch")
    total = send(client, "put", f"/budgets/{budget.pk}/total", {"total": "12000.00", "reason": "Top-up"})
    assert total.json() == budget_json(budget, "12000.00", "4500.00", "7500.00")
    listed = client.get(f"{API}/budgets/{budget.pk}/allocations").json()["results"]
    assert [(a["partner_id"], a["allocated"]) for a in listed] == [("FAB-001", "2749.50"), ("FAB-002", "1750.50")]


@pytest.mark.parametrize(
    ("method", "url", "body", "errors"),
    [
        (
            "put",
            "/budgets/{budget}/allocations/{other}",
            {"amount": "10.00"},
            {"location": ["NW-001 is in NO; this budget is for DE, FR."]},
        ),
        (
            "put",
            "/budgets/{budget}/allocations/{berlin_location}",
            {"amount": "9000.01"},
            {"amount": ["The budget has 6,500.00 USD left to allocate: FAB-001 can have 9,000.00 USD at most."]},
        ),
        (
            "put",
            "/budgets/{budget}/total",
            {"total": "3499.99", "reason": "Cut"},
            {"total": ["3,500.00 USD is allocated to locations: the total can go down to that at the least."]},
        ),
        (
            "post",
            "/allocations/{berlin}/move",
            {"to_allocation_id": "{paris}", "amount": "2500.01", "reason": "x"},
            {"amount": ["FAB-001 has 2,500.00 USD left in its allocation."]},
        ),
        (
            "post",
            "/allocations/{berlin}/move",
            {"to_allocation_id": 999999, "amount": "1.00", "reason": "x"},
            {"to_allocation_id": ["No allocation with this id."]},
        ),
        (
            "post",
            "/budgets",
            {"program_id": 999999, "name": "X", "starts_on": "2026-01-01", "ends_on": "2026-01-02", "total": "1"},
            {"program_id": ["No program with this id."]},
        ),
    ],
)
def test_refusals_are_field_errors_and_change_nothing(funded, api_as, method, url, body, errors):
    names = {
        "budget": funded.budget.pk,
        "other": funded.other_location.pk,
        "berlin_location": funded.location.pk,
        "berlin": funded.berlin.pk,
        "paris": funded.paris.pk,
    }
    url = url.format(**names)
    body = {k: (int(v.format(**names)) if isinstance(v, str) and v.startswith("{") else v) for k, v in body.items()}
    before = ledger_state()
    response = send(api_as("program_manager"), method, url, body)
    assert response.status_code == 422, response.content
    assert response.json()["fields"] == errors
    assert ledger_state() == before


@pytest.mark.parametrize("persona", ["partner_admin", "reviewer", "finance", "auditor"])
def test_only_program_managers_change_budgets(funded, api_as, persona):
    client = api_as(persona)
    before = ledger_state()
    calls = [
        ("put", f"/budgets/{funded.budget.pk}/total", {"total": "1.00", "reason": "x"}),
        ("put", f"/budgets/{funded.budget.pk}/allocations/{funded.location.pk}", {"amount": "1.00"}),
        (
            "post",
            f"/allocations/{funded.berlin.pk}/move",
            {"to_allocation_id": funded.paris.pk, "amount": "1.00", "reason": "x"},
        ),
    ]
    for method, url, body in calls:
        assert send(client, method, url, body).status_code == 403
    assert ledger_state() == before


def test_a_budgets_history_lists_each_movement_on_each_account_oldest_first(funded, api_as):
    budgets.allocation_move(
        source=funded.berlin,
        target=funded.paris,
        amount=D("300.00"),
        reason="Paris launch",
        actor=funded.program_manager,
    )
    rows = api_as("finance").get(f"{API}/budgets/{funded.budget.pk}/transactions").json()["results"]
    assert [(r["kind"], r["account"], r["amount"], r["memo"]) for r in rows] == [
        ("budget", "pool", "10000.00", ""),
        ("allocate", "pool", "-2500.00", ""),
        ("allocate", "FAB-001", "2500.00", ""),
        ("allocate", "pool", "-1000.00", ""),
        ("allocate", "FAB-002", "1000.00", ""),
        ("reallocate", "FAB-001", "-300.00", "Paris launch"),
        ("reallocate", "FAB-002", "300.00", "Paris launch"),
    ]
    assert {r["actor_id"] for r in rows} == {funded.program_manager.pk}
    assert (rows[0]["allocation_id"], rows[-1]["allocation_id"]) == (None, funded.paris.pk)
    assert api_as("partner_admin").get(f"{API}/budgets/{funded.budget.pk}/transactions").status_code == 403
