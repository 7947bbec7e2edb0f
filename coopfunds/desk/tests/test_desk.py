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


# --- decisions in batches ------------------------------------------------------------------------------------


def what_approval_wrote(claim):
    """Everything approving `claim` wrote, in words that do not depend on ids or times."""
    from coopfunds.funds.models import Spend, Transfer
    from coopfunds.notifications.models import Notification

    claim = Claim.objects.get(pk=claim.pk)
    events = [
        (e.kind, e.old_status, e.new_status, e.message, e.internal, e.actor_id)
        for e in claim.events.filter(new_status__in=["under_review", "approved"]).order_by("id")
    ]
    audits = list(
        AuditEvent.objects.filter(
            target_type="claims.claim", target_id=str(claim.pk), verb__in=["claim.under_review", "claim.approved"]
        )
        .order_by("id")
        .values_list("verb", "changes", "reason", "actor_id", "organisation_id")
    )
    money = list(
        Transfer.objects.filter(reference=claim.reference, kind__in=["approve", "release"])
        .order_by("id")
        .values_list("kind", "entries__amount")
    )
    told = sorted(
        (email, subject.replace(f"Claim {claim.pk} ", "Claim N "), body)
        for email, subject, body in Notification.objects.filter(
            link=f"/claims/{claim.pk}/", subject__contains="approved"
        ).values_list("user__email", "subject", "body")
    )
    spend = Spend.objects.values_list("held", "approved").get(reference=claim.reference)
    state = (claim.status, claim.reserved, claim.approved_amount, claim.reviewer_id, claim.decided_at is not None)
    return events, audits, money, told, spend, state


def test_a_claim_approved_in_a_batch_is_written_exactly_as_one_approved_alone(claims_world, monkeypatch):
    from coopfunds.desk import services as desk

    monkeypatch.setattr(desk, "CHUNK", 2)  # three claims: a batch of two, then one alone
    world = claims_world
    alone = claim(world, "1000.00", "INV-A")
    batched = [claim(world, "1000.00", f"INV-B{n}") for n in range(3)]
    claims.claim_approve(claim=alone, actor=world.reviewer, note="Fine.")
    outcomes = desk.review_approve_many(items=[("claim", c.pk) for c in batched], actor=world.reviewer, note="Fine.")
    assert [(o.id, o.outcome, o.approved_amount) for o in outcomes] == [
        (c.pk, "approved", D("1000.00")) for c in batched
    ]
    expected = what_approval_wrote(alone)
    assert expected[0] == [
        ("status", "submitted", "under_review", "Review started by Rita Reviewer.", False, world.reviewer.pk),
        ("status", "under_review", "approved", "Fine.", False, world.reviewer.pk),
    ]
    assert [m[0] for m in expected[2]] == ["approve", "approve"]  # two legs: reserved -1,000.00, payable +1,000.00
    assert sorted(m[1] for m in expected[2]) == [D("-1000.00"), D("1000.00")]
    assert expected[4] == (D("0.00"), D("1000.00"))
    assert expected[5] == ("approved", D("0.00"), D("1000.00"), world.reviewer.pk, True)
    for c in batched:
        assert what_approval_wrote(c) == expected
    b = balances(world.fund)
    assert (b.reserved, b.payable) == (D("0.00"), D("4000.00"))


def test_refusals_inside_a_batch_leave_their_claims_untouched_and_approve_the_rest(claims_world):
    from coopfunds.desk import services as desk
    from coopfunds.funds.earnings import earnings_import
    from coopfunds.funds.models import Spend
    from coopfunds.funds.tests.conftest import csv_file

    world = claims_world
    earnings_import(  # the fund holds 40,000.00 USD: more than the cap
        stream=csv_file("2026-03-20,FAB-001,coop,70000.00,USD,,,,A-2"), file_name="late.csv", actor=world.finance
    )
    offers = "customer-offers"  # capped at 25% of the earned co-op: 10,000.00
    first, last = (
        claims.claim_submit(
            claim=ready_claim(world, amount="4000.00", invoice=f"INV-O{n}", code=offers), actor=world.partner_admin
        )
        for n in range(2)
    )
    capped, withdrawn = (claim(world, "4000.00", f"INV-S{n}") for n in range(2))
    claims.claim_withdraw(claim=withdrawn, actor=world.partner_admin)
    # syndicated content spent elsewhere since `capped` was held (say, by another server, under the lock): with
    # 4,000.00 more it would pass its 18,750.00 cap
    Spend.objects.create(
        fund=world.fund,
        activity_type=capped.activity_type,
        reference="proof:999",
        held=D("0.00"),
        approved=D("16000.00"),
    )
    outcomes = desk.review_approve_many(
        items=[
            ("claim", first.pk),
            ("claim", capped.pk),
            ("claim", withdrawn.pk),
            ("claim", 999999),
            ("claim", last.pk),
        ],
        actor=world.reviewer,
    )
    assert [(o.id, o.outcome, o.code) for o in outcomes] == [
        (first.pk, "approved", ""),
        (capped.pk, "refused", "invalid"),
        (withdrawn.pk, "refused", "invalid_transition"),
        (999999, "refused", "not_found"),
        (last.pk, "approved", ""),
    ]
    assert outcomes[1].message == (
        "Syndicated content is capped at 18,750.00 USD for FY27 H1 (18,750.00 per period); 16,000.00 USD is already "
        "claimed, so at most 2,750.00 USD more."
    )
    refused = Claim.objects.get(pk=capped.pk)
    assert (refused.status, refused.reserved, refused.reviewer_id) == ("submitted", D("4000.00"), None)
    assert what_approval_wrote(refused)[:3] == ([], [], [])  # no event, no audit row, no money moved
    assert Spend.objects.values_list("held", "approved").get(reference=capped.reference) == (D("4000.00"), D("0.00"))
    assert list(Claim.objects.filter(pk__in=[first.pk, last.pk]).values_list("status", flat=True)) == ["approved"] * 2
    b = balances(world.fund)
    assert (b.reserved, b.payable) == (D("4000.00"), D("8000.00"))


def test_a_batch_that_fails_as_a_whole_is_decided_one_by_one(claims_world):
    """Should the ledger refuse a posting inside a batch (here: the fund's reserved money was moved away behind
    the claims' back), the batch is undone and its claims approved one at a time: the others still pass."""
    from datetime import date

    from django.db import transaction

    from coopfunds.desk import services as desk
    from coopfunds.funds import ledger
    from coopfunds.funds.models import Bucket, TransferKind
    from coopfunds.funds.services import _accounts

    world = claims_world
    short, fine = claim(world, "3000.00", "INV-1"), claim(world, "2000.00", "INV-2")
    accounts = _accounts(world.fund)
    with transaction.atomic():
        ledger.post(
            key="drain",
            kind=TransferKind.ADJUST,
            effective_on=date(2026, 11, 20),
            legs=[(accounts[Bucket.RESERVED], D("-2500.00")), (accounts[Bucket.AVAILABLE], D("2500.00"))],
        )
    outcomes = desk.review_approve_many(items=[("claim", short.pk), ("claim", fine.pk)], actor=world.reviewer)
    assert [(o.id, o.outcome, o.code) for o in outcomes] == [
        (short.pk, "refused", "insufficient_funds"),
        (fine.pk, "approved", ""),
    ]
    assert list(Claim.objects.order_by("pk").values_list("status", flat=True)) == ["submitted", "approved"]
    b = balances(world.fund)
    assert (b.reserved, b.payable) == (D("500.00"), D("2000.00"))  # 2,500.00 left reserved, less the 2,000.00
