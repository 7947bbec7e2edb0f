"""The reviewer's desk: one queue of claims and proofs, and approval of many at once (web page and API)."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from coopfunds.audit.models import AuditEvent
from coopfunds.claims import services as claims
from coopfunds.claims.models import Claim
from coopfunds.claims.tests.conftest import ready_claim, set_limit
from coopfunds.claims.tests.helpers import MISSING
from coopfunds.desk import selectors
from coopfunds.funds.selectors import balances
from coopfunds.plans.models import Proof
from coopfunds.plans.tests.helpers import approved_plan, submitted_proof

D = Decimal
PERSONAS = ["partner_admin", "partner_user", "other_admin", "program_manager", "reviewer", "finance", "auditor"]


def claim(world, amount, invoice):
    return claims.claim_submit(claim=ready_claim(world, amount=amount, invoice=invoice), actor=world.partner_admin)


@pytest.fixture
def waiting(plans_world, time_machine):
    """Two claims and a proof waiting: claim 1 due 24 Nov, the proof due 31 Dec, claim 2 (disputed) due later."""
    world = plans_world
    first = claim(world, "1000.00", "INV-C1")
    proof = submitted_proof(world, approved_plan(world), amount="2000.00", invoice="INV-P1")
    second = claims.claim_reject(claim=claim(world, "500.00", "INV-C2"), actor=world.reviewer, reasons=MISSING)
    second = claims.claim_dispute(claim=second, actor=world.partner_admin, reason="Look again.")
    world.items = (first, proof, second)
    return world


def keys(rows):
    return [f"{kind}:{pk}" for kind, pk, _ in rows]


def test_one_queue_of_claims_and_proofs_oldest_due_first(waiting):
    first, proof, second = waiting.items
    assert list(selectors.queue(waiting.reviewer)) == [
        ("claim", first.pk, date(2026, 11, 24)),  # 2 business days from Friday 20 Nov
        ("claim", second.pk, date(2026, 11, 27)),  # disputed: 5 business days
        ("proof", proof.pk, date(2026, 12, 31)),  # the end of the month after submission
    ]
    assert keys(selectors.queue(waiting.reviewer, kind="proof")) == [f"proof:{proof.pk}"]
    assert keys(selectors.queue(waiting.reviewer, kind="claim", status="disputed")) == [f"claim:{second.pk}"]
    assert keys(selectors.queue(waiting.other_admin)) == []  # another partner sees nothing of it


def test_the_page_lists_both_kinds_and_filters_by_kind(waiting, as_persona):
    first, proof, _ = waiting.items
    page = as_persona("reviewer").get(reverse("review_queue"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<a href="{reverse("review_detail", args=[first.pk])}">Claim {first.pk}: Autumn campaign</a>' in html
    assert f'<a href="{reverse("proof_review", args=[proof.pk])}">Proof {proof.pk}: Syndication September</a>' in html
    assert f'value="proof:{proof.pk}" form="bulk"' in html
    only = as_persona("reviewer").get(reverse("review_queue"), {"kind": "proof"})
    assert [r.key for r in only.context["rows"]] == [f"proof:{proof.pk}"]
    auditor = as_persona("auditor").get(reverse("review_queue")).content.decode()
    assert 'form="bulk"' not in auditor  # auditors read
    assert "Approve the chosen ones" not in auditor


@pytest.mark.parametrize("persona", ["partner_admin", "partner_user", "other_admin"])
def test_partners_never_see_the_desk(waiting, as_persona, persona):
    assert as_persona(persona).get(reverse("review_queue")).status_code == 404
    first = waiting.items[0]
    response = as_persona(persona).post(reverse("review_approve_many"), {"items": [f"claim:{first.pk}"]})
    assert response.status_code == 404
    assert Claim.objects.get(pk=first.pk).status == "submitted"


def test_approve_many_from_the_page_each_checked_and_audited(waiting, as_persona):
    first, proof, second = waiting.items
    client = as_persona("reviewer")
    response = client.post(
        reverse("review_approve_many"),
        {"items": [f"claim:{first.pk}", f"proof:{proof.pk}", f"claim:{second.pk}"], "note": "Thanks."},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        f"Approved 3: claim {first.pk}, proof {proof.pk}, claim {second.pk}."
    ]
    assert list(Claim.objects.order_by("pk").values_list("status", "approved_amount")) == [
        ("approved", D("1000.00")),
        ("approved", D("500.00")),
    ]
    assert Proof.objects.get(pk=proof.pk).payable == D("2000.00")
    assert AuditEvent.objects.filter(verb="claim.approved").count() == 2
    assert AuditEvent.objects.filter(verb="proof.approved").count() == 1
    b = balances(waiting.fund)
    assert (b.available, b.reserved, b.payable) == (D("8500.00"), D("0.00"), D("3500.00"))


def test_approve_many_reports_each_refusal_and_first_approval(waiting, as_persona):
    first, proof, second = waiting.items
    set_limit(waiting.reviewer, waiting.program, "1500.00")  # the proof of 2,000.00 needs a second reviewer
    claims.claim_withdraw(claim=first, actor=waiting.partner_admin)
    response = as_persona("reviewer").post(
        reverse("review_approve_many"),
        {"items": [f"claim:{first.pk}", f"proof:{proof.pk}", f"claim:{second.pk}"]},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        f"Approved 1: claim {second.pk}.",
        f"First approval recorded for 1 (a second reviewer must approve): proof {proof.pk}.",
        f"Not approved: claim {first.pk}. A claim that is withdrawn is not waiting for a decision.",
    ]
    assert Proof.objects.get(pk=proof.pk).first_approver_id == waiting.reviewer.pk


def test_approve_many_refuses_a_bad_list_and_changes_nothing(waiting, as_persona):
    first = waiting.items[0]
    response = as_persona("reviewer").post(
        reverse("review_approve_many"), {"items": [f"claim:{first.pk}", "plan:1"]}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Item 2 (“plan:1”) is not a claim or proof reference, e.g. claim:12."
    ]
    assert Claim.objects.get(pk=first.pk).status == "submitted"


# --- API ---------------------------------------------------------------------------------------------------


def test_api_queue_pages_claims_and_proofs(waiting, api_as):
    first, proof, second = waiting.items
    response = api_as("reviewer").get("/api/v1/review/queue", {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    expected = [f"claim:{first.pk}", f"claim:{second.pk}", f"proof:{proof.pk}"]
    assert [i["reference"] for i in body["items"]] == expected[:2]
    assert body["next_page"] == 2
    rest = api_as("reviewer").get("/api/v1/review/queue", {"page_size": 2, "page": 2}).json()
    assert ([i["reference"] for i in rest["items"]], rest["next_page"]) == (expected[2:], None)
    proof_row = next(i for i in body["items"] + rest["items"] if i["kind"] == "proof")
    assert (proof_row["id"], proof_row["amount"], proof_row["can_review"]) == (proof.pk, "2000.00", True)


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_approve_many_for_every_persona(waiting, api_as, persona):
    first = waiting.items[0]
    response = api_as(persona).post(
        "/api/v1/review/approve", {"items": [f"claim:{first.pk}"]}, content_type="application/json"
    )
    if persona in ("partner_admin", "partner_user", "other_admin"):
        assert response.status_code == 403
        assert Claim.objects.get(pk=first.pk).status == "submitted"
        return
    assert response.status_code == 200
    result = response.json()
    if persona == "reviewer":
        assert result == {
            "approved": 1,
            "first_approvals": 0,
            "refused": 0,
            "results": [
                {
                    "kind": "claim",
                    "id": first.pk,
                    "outcome": "approved",
                    "code": "",
                    "message": "",
                    "approved_amount": "1000.00",
                }
            ],
        }
        assert Claim.objects.get(pk=first.pk).status == "approved"
    else:
        assert (result["refused"], result["results"][0]["code"]) == (1, "forbidden")
        assert Claim.objects.get(pk=first.pk).status == "submitted"


def test_api_approve_many_validates_the_list(waiting, api_as):
    client = api_as("reviewer")
    bad = client.post("/api/v1/review/approve", {"items": ["claim:x"]}, content_type="application/json")
    assert bad.status_code == 400
    twice = client.post("/api/v1/review/approve", {"items": ["claim:1", "claim:1"]}, content_type="application/json")
    assert (twice.status_code, twice.json()["fields"]) == (422, {"items": ["Each claim or proof can be chosen once."]})
    missing = client.post("/api/v1/review/approve", {"items": ["claim:999999"]}, content_type="application/json")
    assert missing.json()["results"] == [
        {
            "kind": "claim",
            "id": 999999,
            "outcome": "refused",
            "code": "not_found",
            "message": "No such claim.",
            "approved_amount": None,
        }
    ]
