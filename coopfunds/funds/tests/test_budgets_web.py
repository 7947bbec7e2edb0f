"""The budget pages: who sees which, a program manager creating a budget, allocating, moving and changing its
total through the forms (with each refusal on its field and nothing changed), and a partner's allocations."""

import html
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from conftest import PERSONAS
from coopfunds.funds import budgets
from coopfunds.funds.models import Allocation, Budget
from coopfunds.funds.tests.test_budgets import ledger_state, make

pytestmark = pytest.mark.django_db


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    """The page's words as a reader sees them: without tags and entities, white space collapsed."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).strip())


D = Decimal
VENDOR = {"program_manager", "reviewer", "finance", "auditor"}


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "anonymous"])
def test_each_persona_sees_the_budget_pages_their_rights_give(enrolled, as_persona, persona):
    budget = make(enrolled, total="5000.00")
    budgets.allocation_set(
        budget=budget, location=enrolled.location, amount=D("1200.00"), actor=enrolled.program_manager
    )
    client = as_persona(persona)
    codes = [client.get(url).status_code for url in ("/budgets/", f"/budgets/{budget.pk}/", "/budgets/new/")]
    if persona == "program_manager":
        assert codes == [200, 200, 200]
    elif persona in VENDOR:
        assert codes == [200, 200, 403]
    else:
        assert codes == [404, 404, 404]
    allocations = client.get("/allocations/")
    assert allocations.status_code == 200
    shown = "FAB-001" in text_of(allocations)
    assert shown == (persona in VENDOR | {"partner_admin", "partner_user"})


def test_signed_out_every_budget_page_asks_to_sign_in(enrolled, client):
    for url in ("/budgets/", "/budgets/1/", "/budgets/new/", "/allocations/"):
        response = client.get(url)
        assert (response.status_code, response["Location"].split("?")[0]) == (302, "/login/")


def test_a_program_manager_creates_allocates_moves_and_changes_the_total(enrolled, as_persona, time_machine):
    time_machine.move_to(datetime(2026, 7, 1, 12, tzinfo=UTC), tick=False)
    client = as_persona("program_manager")
    created = client.post(
        "/budgets/new/",
        {
            "program": enrolled.program.pk,
            "name": "FY27 H1 MDF",
            "starts_on": "2026-07-01",
            "ends_on": "2026-12-31",
            "total": "10000.00",
            "countries": "de, fr",
        },
    )
    assert created.status_code == 302, text_of(created)[-600:]
    budget = Budget.objects.get()
    assert (created.status_code, created["Location"]) == (302, f"/budgets/{budget.pk}/")
    assert budget.countries == ["DE", "FR"]
    page = text_of(client.get(f"/budgets/{budget.pk}/"))
    assert (
        "Total 10,000.00 USD Allocated, not used 0.00 USD Reserved by fund requests 0.00 USD Pool (not allocated) 10,000.00 USD"
        in page
    )
    assert "Nothing allocated yet: all of it is in the pool." in page

    done = client.post(f"/budgets/{budget.pk}/allocate/", {"partner_id": "FAB-001", "amount": "4000.00"}, follow=True)
    assert "FAB-001 has 4,000.00 USD of the budget." in text_of(done)
    client.post(f"/budgets/{budget.pk}/allocate/", {"partner_id": "FAB-002", "amount": "1000"})
    moved = client.post(
        f"/budgets/{budget.pk}/move/",
        {"source": "FAB-001", "target": "FAB-002", "amount": "250.50", "reason": "Paris launch"},
        follow=True,
    )
    assert "Moved 250.50 USD from FAB-001 to FAB-002." in text_of(moved)
    changed = client.post(f"/budgets/{budget.pk}/total/", {"total": "12000", "reason": "Top-up"}, follow=True)
    page = text_of(changed)
    assert "The budget's total is now 12,000.00 USD." in page
    assert (
        "Total 12,000.00 USD Allocated, not used 5,000.00 USD Reserved by fund requests 0.00 USD Pool (not allocated) 7,000.00 USD"
        in page
    )
    assert "FAB-001 Fabrikam Berlin 3,749.50 USD 0.00 USD FAB-002 Fabrikam Paris 1,250.50 USD 0.00 USD" in page
    assert (
        "History Date What Account Amount By "
        "1 Jul 2026 Budget set Top-up Pool 2,000.00 USD Pat Manager "
        "1 Jul 2026 Moved between allocations Paris launch FAB-002 250.50 USD Pat Manager "
        "1 Jul 2026 Moved between allocations Paris launch FAB-001 -250.50 USD Pat Manager"
    ) in page
    listed = text_of(client.get("/budgets/"))
    assert "FY27 H1 MDF Cloud Co-op 1 Jul 2026 – 31 Dec 2026 DE, FR 12,000.00 USD 5,000.00 USD 7,000.00 USD" in listed


@pytest.mark.parametrize(
    ("url", "data", "message"),
    [
        ("allocate", {"partner_id": "NW-001", "amount": "10"}, "NW-001 is in NO; this budget is for DE, FR."),
        ("allocate", {"partner_id": "NOPE", "amount": "10"}, "No location has the partner ID “NOPE”."),
        (
            "allocate",
            {"partner_id": "FAB-002", "amount": "8000.01"},
            "The budget has 8,000.00 USD left to allocate: FAB-002 can have 8,000.00 USD at most.",
        ),
        ("allocate", {"partner_id": "FAB-002", "amount": "-5"}, "The amount cannot be below zero."),
        (
            "move",
            {"source": "FAB-001", "target": "FAB-002", "amount": "2000.01", "reason": "x"},
            "FAB-001 has 2,000.00 USD left in its allocation.",
        ),
        (
            "move",
            {"source": "FAB-001", "target": "FAB-001", "amount": "1", "reason": "x"},
            "Choose another location's allocation.",
        ),
        (
            "move",
            {"source": "FAB-009", "target": "FAB-001", "amount": "1", "reason": "x"},
            "“FAB-009” has no allocation of this budget.",
        ),
        ("move", {"source": "FAB-001", "target": "FAB-002", "amount": "1", "reason": ""}, "Say why the money moves."),
        (
            "total",
            {"total": "1999.99", "reason": "Cut"},
            "2,000.00 USD is allocated to locations: the total can go down to that at the least.",
        ),
        ("total", {"total": "20000", "reason": ""}, "Say why the budget changes."),
    ],
)
def test_a_refused_form_says_why_on_the_page_and_changes_nothing(enrolled, as_persona, url, data, message):
    budget = make(enrolled, total="10000.00", countries=["DE", "FR"])
    pm = enrolled.program_manager
    budgets.allocation_set(budget=budget, location=enrolled.location, amount=D("2000.00"), actor=pm)
    if url == "move":
        budgets.allocation_set(budget=budget, location=enrolled.second_location, amount=D("0.00"), actor=pm)
    before = ledger_state()
    response = as_persona("program_manager").post(f"/budgets/{budget.pk}/{url}/", data)
    assert response.status_code == 400
    assert message in text_of(response)
    assert ledger_state() == before
    assert Allocation.objects.filter(location=enrolled.other_location).count() == 0


def test_a_reviewer_cannot_post_to_a_budget(enrolled, as_persona):
    budget = make(enrolled, total="10000.00")
    before = ledger_state()
    response = as_persona("reviewer").post(f"/budgets/{budget.pk}/allocate/", {"partner_id": "FAB-001", "amount": "10"})
    assert response.status_code == 403
    assert ledger_state() == before
