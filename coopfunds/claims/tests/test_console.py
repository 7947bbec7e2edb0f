"""The review console: the queue (clock, filters, assignment, a bounded number of queries) and the review
page (documents inline, findings as reviewers read them, decisions with reasons, the next claim offered)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import PERSONAS
from coopfunds.accounts.models import Role
from coopfunds.claims import services
from coopfunds.claims.models import Claim, ClaimDocument, ClaimEvent, ClaimReason
from coopfunds.claims.tests.conftest import TODAY, ready_claim, set_limit
from coopfunds.claims.tests.helpers import VENDOR, expected, state, submitted
from coopfunds.documents.services import document_preview_make
from coopfunds.funds.models import Transfer
from coopfunds.programs.models import Holiday
from coopfunds.testing.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db
D = Decimal
REVIEWERS = {"reviewer"}


def queue_of(world, count: int) -> list[Claim]:  # type: ignore[no-untyped-def]
    """`count` claims waiting for review, written straight to the table (the queue only reads them): due
    over five days, every third one assigned to the reviewer, every fourth one disputed."""
    activity = world.activity("syndicated-content")
    at = datetime(2026, 11, 20, 9, tzinfo=UTC)
    return Claim.objects.bulk_create(
        [
            Claim(
                location=world.location if i % 2 else world.second_location,
                program=world.program,
                fund=world.fund,
                activity_type=activity,
                name=f"Queued {i:02d}",
                amount=D("100.00"),
                currency="USD",
                status="disputed" if i % 4 == 0 else "submitted",
                created_by=world.partner_admin,
                submitted_by=world.partner_admin,
                submitted_at=at,
                disputed_at=at if i % 4 == 0 else None,
                reviewer=world.reviewer if i % 3 == 0 else None,
                due_on=TODAY + timedelta(days=i % 5),
            )
            for i in range(count)
        ]
    )


def second_reviewer(world):  # type: ignore[no-untyped-def]
    second = UserFactory(email="sam.second@contoso.example", full_name="Sam Second", organisation=world.vendor)
    RoleFactory(user=second, role=Role.REVIEWER)
    return second


# --- the queue -------------------------------------------------------------------------------------------


def _queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_queue_runs_a_fixed_number_of_queries(claims_world, as_persona, django_assert_max_num_queries):
    client = as_persona("reviewer")
    queue_of(claims_world, 3)
    few = _queries(client, reverse("review_queue"))
    queue_of(claims_world, 27)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("review_queue"))
    assert len(response.context["rows"]) == 30
    # session, user, organisation, grants, the capped count (claims, proofs), the page of the queue (the first rows
    # of the claims' and of the proofs' queue, merged), the page's claims (all joined; its proofs would be one
    # more), the program's holidays (one query per program on the page), the unread notifications, the programs
    # of the filter
    assert _queries(client, reverse("review_queue")) == few == 12
    assert _queries(client, reverse("review_queue") + "?mine=on&status=submitted") == 12


def test_the_queue_shows_age_due_date_and_breach_in_business_days(claims_world, as_persona, time_machine):
    on_time = submitted(claims_world, invoice="INV-1")  # Friday 20 Nov: due Tuesday 24 Nov
    Holiday.objects.create(program=claims_world.program, date=date(2026, 11, 25), name="Company day")
    time_machine.move_to(date(2026, 11, 26))
    response = as_persona("auditor").get(reverse("review_queue"))
    [row] = response.context["rows"]
    claim, clock, can_review, overdue = row.item, row.clock, row.can_review, row.overdue
    assert (claim.pk, clock.age, clock.due_on, clock.days_left, clock.breached, overdue) == (
        on_time.pk,
        3,  # Mon 23, Tue 24, Thu 26 (Wed 25 is the program's holiday)
        date(2026, 11, 24),
        -1,
        True,
        1,
    )
    assert can_review is False  # auditors read
    html = response.content.decode()
    assert '<span class="badge breach">overdue by 1 day</span>' in html
    assert "Assign to me" not in html


def test_the_queue_filters(claims_world, as_persona, time_machine):
    claims = queue_of(claims_world, 8)

    def ids(**params: str) -> list[int]:
        client = as_persona("reviewer")  # signed in afresh: moving the clock ends sessions
        return [row.item.pk for row in client.get(reverse("review_queue"), params).context["rows"]]

    by_due = sorted(claims, key=lambda c: (c.due_on, c.pk))
    assert ids() == [c.pk for c in by_due]
    assert ids(mine="on") == [c.pk for c in by_due if c.reviewer_id == claims_world.reviewer.pk]
    assert ids(status="disputed") == [c.pk for c in by_due if c.status == "disputed"]
    assert ids(program=str(claims_world.program.pk)) == [c.pk for c in by_due]
    time_machine.move_to(TODAY + timedelta(days=2))
    assert ids(overdue="on") == [c.pk for c in by_due if c.due_on < TODAY + timedelta(days=2)]
    assert as_persona("reviewer").get(reverse("review_queue"), {"status": "approved"}).status_code == 400


def test_the_queue_pages_keep_the_filters(claims_world, as_persona):
    queue_of(claims_world, 70)  # 18 disputed, 52 submitted
    client = as_persona("reviewer")
    response = client.get(reverse("review_queue"))
    assert (response.context["page"].paginator.num_pages, len(response.context["rows"])) == (3, 30)
    response = client.get(reverse("review_queue"), {"status": "submitted", "page": "2"})
    assert (response.context["page"].paginator.count, len(response.context["rows"])) == (52, 22)
    assert '<a href="?status=submitted&amp;page=1" rel="prev">← Previous</a>' in response.content.decode()


# --- actions for every persona ---------------------------------------------------------------------------


def _act(client, url: str, data: dict, persona: str, code: int) -> None:  # type: ignore[no-untyped-def]
    before = state()
    response = client.post(url, data)
    assert response.status_code == code
    if code != 302 or persona == "anonymous":
        assert state() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_assigning(claims_world, as_persona, persona):
    claim = submitted(claims_world)
    code = expected(persona, allowed=REVIEWERS, visible=VENDOR, ok=302)
    _act(as_persona(persona), reverse("review_assign", args=[claim.pk]), {}, persona, code)
    claim.refresh_from_db()
    assert (claim.status, claim.reviewer_id) == (
        ("under_review", claims_world.reviewer.pk) if persona == "reviewer" else ("submitted", None)
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_approving(claims_world, as_persona, persona):
    claim = submitted(claims_world)
    code = expected(persona, allowed=REVIEWERS, visible=VENDOR, ok=302)
    _act(as_persona(persona), reverse("review_decide", args=[claim.pk]), {"decision": "approve"}, persona, code)
    assert Claim.objects.get(pk=claim.pk).status == ("approved" if persona == "reviewer" else "submitted")
    assert Transfer.objects.filter(kind="approve").count() == (1 if persona == "reviewer" else 0)


@pytest.mark.parametrize("persona", PERSONAS)
def test_rejecting(claims_world, as_persona, persona):
    claim = submitted(claims_world)
    code = expected(persona, allowed=REVIEWERS, visible=VENDOR, ok=302)
    data = {"decision": "reject", "reason_1": "missing_invoice", "message": "Unreadable."}
    _act(as_persona(persona), reverse("review_decide", args=[claim.pk]), data, persona, code)
    assert Claim.objects.get(pk=claim.pk).status == ("rejected" if persona == "reviewer" else "submitted")


@pytest.mark.parametrize("persona", PERSONAS)
def test_internal_notes(claims_world, as_persona, persona):
    claim = submitted(claims_world)
    code = expected(persona, allowed=VENDOR, visible=VENDOR, ok=302)
    _act(as_persona(persona), reverse("review_note", args=[claim.pk]), {"message": "Call them."}, persona, code)
    assert ClaimEvent.objects.filter(claim=claim, kind="note").count() == (1 if persona in VENDOR else 0)


# --- deciding --------------------------------------------------------------------------------------------


def test_after_a_decision_the_next_claim_due_opens(claims_world, as_persona):
    first = submitted(claims_world, invoice="INV-1")
    second = submitted(claims_world, invoice="INV-2")
    taken = submitted(claims_world, invoice="INV-3")
    services.claim_assign(claim=taken, reviewer=second_reviewer(claims_world), actor=claims_world.reviewer)
    client = as_persona("reviewer")
    response = client.post(reverse("review_decide", args=[first.pk]), {"decision": "approve"})
    assert response["Location"] == reverse("review_detail", args=[second.pk])
    page = client.get(response["Location"])
    assert [str(m) for m in page.context["messages"]] == [
        f"Claim {first.pk}: approved. Next: claim {second.pk}, due 24 Nov 2026."
    ]
    response = client.post(reverse("review_decide", args=[second.pk]), {"decision": "approve"})
    assert response["Location"] == reverse("review_queue")  # the third is someone else's
    page = client.get(response["Location"])
    assert [str(m) for m in page.context["messages"]] == [
        f"Claim {second.pk}: approved. The queue has no other claim for you."
    ]


def test_reasons_point_at_a_document_and_a_field(claims_world, as_persona):
    claim = submitted(claims_world)
    screenshot = ClaimDocument.objects.get(claim=claim, document__kind="screenshot").document
    data = {
        "decision": "request_action",
        "reason_1": "branding",
        "reason_1_document": screenshot.pk,
        "reason_1_note": "The logo is cut off.",
        "reason_2": "missing_metrics",
        "reason_2_field": "metrics",
        "message": "Two things.",
    }
    response = as_persona("reviewer").post(reverse("review_decide", args=[claim.pk]), data)
    assert response.status_code == 302
    reasons = ClaimReason.objects.filter(event__claim=claim).order_by("id")
    assert [(r.code.code, r.document_id, r.field, r.note) for r in reasons] == [
        ("branding", screenshot.pk, "", "The logo is cut off."),
        ("missing_metrics", None, "metrics", ""),
    ]
    assert Claim.objects.get(pk=claim.pk).status == "action_required"


def test_a_request_for_action_needs_a_reason(claims_world, as_persona):
    claim = submitted(claims_world)
    before = state()
    response = as_persona("reviewer").post(reverse("review_decide", args=[claim.pk]), {"decision": "request_action"})
    assert response.status_code == 400
    assert response.context["decision_form"].non_field_errors() == [
        "Give at least one reason, so the partner knows what to change."
    ]
    assert state() == before


def test_a_reason_cannot_point_at_another_claims_document(claims_world, as_persona):
    claim = submitted(claims_world, invoice="INV-1")
    other = submitted(claims_world, invoice="INV-2")
    foreign = ClaimDocument.objects.filter(claim=other).first().document
    data = {"decision": "reject", "reason_1": "other", "reason_1_document": foreign.pk}
    response = as_persona("reviewer").post(reverse("review_decide", args=[claim.pk]), data)
    assert response.context["decision_form"].errors == {
        "reason_1_document": ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert Claim.objects.get(pk=claim.pk).status == "submitted"


def test_partial_approval_where_the_program_allows_it(claims_world, as_persona):
    claim = submitted(claims_world)
    client = as_persona("reviewer")
    assert "amount" not in client.get(reverse("review_detail", args=[claim.pk])).context["decision_form"].fields
    claims_world.program.partial_approval = True
    claims_world.program.save()
    assert "amount" in client.get(reverse("review_detail", args=[claim.pk])).context["decision_form"].fields
    response = client.post(reverse("review_decide", args=[claim.pk]), {"decision": "approve", "amount": "600.00"})
    assert response.context["decision_form"].non_field_errors() == ["Say why only part of the claim is approved."]
    response = client.post(
        reverse("review_decide", args=[claim.pk]),
        {"decision": "approve", "amount": "600.00", "message": "Catering is not eligible."},
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert (claim.status, claim.approved_amount) == ("approved", D("600.00"))


def test_above_the_approval_limit_the_first_approval_is_recorded(claims_world, as_persona):
    set_limit(claims_world.reviewer, claims_world.program, "500.00")
    claim = submitted(claims_world)
    client = as_persona("reviewer")
    assert "Approve (first approval)" in client.get(reverse("review_detail", args=[claim.pk])).content.decode()
    response = client.post(reverse("review_decide", args=[claim.pk]), {"decision": "approve"})
    page = client.get(response["Location"])
    assert [str(m) for m in page.context["messages"]] == [
        f"First approval of claim {claim.pk} recorded; a second reviewer must approve. The queue has no other claim "
        "for you."
    ]
    claim.refresh_from_db()
    assert (claim.status, claim.first_approver_id) == ("under_review", claims_world.reviewer.pk)


def test_a_decision_out_of_order_says_so(claims_world, as_persona):
    claim = submitted(claims_world)
    services.claim_approve(claim=claim, actor=claims_world.reviewer)
    client = as_persona("reviewer")
    before = state()
    response = client.post(reverse("review_decide", args=[claim.pk]), {"decision": "approve"})
    assert response["Location"] == reverse("review_detail", args=[claim.pk])
    assert [str(m) for m in client.get(response["Location"]).context["messages"]] == [
        "A claim that is approved is not waiting for a decision."
    ]
    assert state() == before


def test_assign_to_me_from_the_queue_and_reassign(claims_world, as_persona):
    claim = submitted(claims_world)
    second = second_reviewer(claims_world)
    client = as_persona("reviewer")
    response = client.post(reverse("review_assign", args=[claim.pk]), {"next": "/review/?mine=on"})
    assert response["Location"] == "/review/?mine=on"
    response = client.post(
        reverse("review_assign", args=[claim.pk]), {"reviewer": second.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("review_detail", args=[claim.pk])
    claim.refresh_from_db()
    assert (claim.status, claim.reviewer_id) == ("under_review", second.pk)
    assert list(ClaimEvent.objects.filter(claim=claim, kind="note").values_list("message", "internal")) == [
        ("Assigned to Sam Second.", True)
    ]


# --- the review page -------------------------------------------------------------------------------------


def test_the_review_page_shows_documents_findings_and_balances(claims_world, as_persona):
    theirs = submitted(claims_world, fund=claims_world.other_fund, actor=claims_world.other_admin, invoice="INV-7")
    claim = ready_claim(claims_world, invoice="INV-7")
    screenshot = ClaimDocument.objects.get(claim=claim, document__kind="screenshot").document
    document_preview_make(document_id=screenshot.pk)  # the task that runs after the upload commits
    response = as_persona("reviewer").get(reverse("review_detail", args=[claim.pk]))
    html = response.content.decode()
    assert [said for _, said, _ in response.context["findings"]] == [
        f"Invoice already claimed on claim {theirs.pk} by Northwind, Northwind Oslo (NW-001) (Submitted).",
        f"“INV-7.pdf” is the same file as one on claim {theirs.pk} by Northwind, Northwind Oslo (NW-001).",
    ]
    partner = as_persona("partner_admin").get(reverse("claim_detail", args=[claim.pk])).content.decode()
    assert "This invoice (vendor and number) has already been claimed." in partner
    assert "Northwind" not in partner
    assert f'<img src="/documents/{screenshot.pk}/preview" alt="Preview of screenshot.png" loading="lazy">' in html
    assert response.context["b"].available == D("12000.00")
    assert response.context["decision_form"] is None  # a draft is not waiting for a decision


def test_the_decision_form_works_from_the_keyboard(claims_world, as_persona):
    claim = submitted(claims_world)
    html = as_persona("reviewer").get(reverse("review_detail", args=[claim.pk])).content.decode()
    first_button = html.index("<button", html.index(f'action="/review/{claim.pk}/decide/"'))
    assert html[first_button:].startswith('<button type="submit" disabled hidden aria-hidden="true" tabindex="-1">')
    for value, key in (("approve", "a"), ("request_action", "q"), ("reject", "j")):
        assert f'name="decision" value="{value}" accesskey="{key}"' in html


def test_read_only_vendor_staff_see_no_decision_form(claims_world, as_persona):
    claim = submitted(claims_world)
    response = as_persona("finance").get(reverse("review_detail", args=[claim.pk]))
    assert (response.context["decision_form"], response.context["can_assign"]) == (None, False)
