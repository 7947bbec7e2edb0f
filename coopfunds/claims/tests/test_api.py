"""The claims and notifications API: every endpoint for every persona, findings in the caller's words, bad
input as field errors, the review queue, and Idempotency-Key on state-changing POSTs."""

import hashlib
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import PERSONAS, api_status
from coopfunds.audit.models import AuditEvent
from coopfunds.claims import services
from coopfunds.claims.models import Claim, ClaimDocument, ClaimEvent
from coopfunds.claims.tests.conftest import pdf, png, ready_claim
from coopfunds.claims.tests.helpers import PARTNERS, VENDOR, expected, rejected, state, submitted
from coopfunds.claims.tests.test_console import queue_of
from coopfunds.core.models import IdempotentRequest
from coopfunds.funds.models import Transfer
from coopfunds.notifications.models import Notification

pytestmark = pytest.mark.django_db

API = "/api/v1"
AMOUNT = "Write an amount above zero with a dot and at most two decimals, e.g. 1250.00."
D = Decimal
EVERYONE = set(PERSONAS) - {"anonymous"}
SEES_BERLIN = PARTNERS | VENDOR


def send(client, method: str, url: str, body: object = None, key: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"Idempotency-Key": key} if key is not None else {}
    call = getattr(client, method)
    return call(
        API + url, json.dumps(body if body is not None else {}), content_type="application/json", headers=headers
    )


def code_of(persona: str, *, allowed: set[str], ok: int, visible: set[str] = SEES_BERLIN) -> int:
    return expected(persona, allowed=allowed, visible=visible, ok=ok, anonymous=401)


def run(client, method: str, url: str, body: object, persona: str, code: int) -> object:  # type: ignore[no-untyped-def]
    before = state()
    code = api_status(persona, method, API + url, code)
    response = send(client, method, url, body)
    assert response.status_code == code, response.content
    if code >= 400:
        assert state() == before
    return response


# --- reads for every persona -----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_reads_answer_each_persona_as_their_rights_say(claims_world, api_as, persona):
    claim = submitted(claims_world)
    reads = {
        "/claims": code_of(persona, allowed=EVERYONE, ok=200, visible=EVERYONE),
        f"/claims/{claim.pk}": code_of(persona, allowed=SEES_BERLIN, ok=200),
        f"/claims/{claim.pk}/checks": code_of(persona, allowed=SEES_BERLIN, ok=200),
        f"/claims/{claim.pk}/timeline": code_of(persona, allowed=SEES_BERLIN, ok=200),
        "/review-queue": code_of(persona, allowed=VENDOR, ok=200, visible=EVERYONE),
        "/reason-codes": code_of(persona, allowed=EVERYONE, ok=200, visible=EVERYONE),
        f"/reason-codes?claim_id={claim.pk}": code_of(persona, allowed=SEES_BERLIN, ok=200),
        "/notifications": code_of(persona, allowed=EVERYONE, ok=200, visible=EVERYONE),
    }
    client = api_as(persona)
    assert {url: client.get(API + url).status_code for url in reads} == reads


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_partner_never_lists_another_partners_claims(claims_world, api_as, persona):
    mine = ready_claim(claims_world)
    theirs = ready_claim(claims_world, fund=claims_world.other_fund, actor=claims_world.other_admin, invoice="NW-1")
    response = api_as(persona).get(f"{API}/claims")
    if persona == "anonymous":
        assert response.status_code == 401
        return
    listed = [c["id"] for c in response.json()["results"]]
    assert listed == {
        "partner_admin": [mine.pk],
        "partner_user": [mine.pk],
        "other_admin": [theirs.pk],
    }.get(persona, [theirs.pk, mine.pk])


# --- writes for every persona ----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_creating_a_claim(claims_world, api_as, persona):
    body = {
        "fund_id": claims_world.fund.pk,
        "activity_type_id": claims_world.activity("syndicated-content").pk,
        "name": "API claim",
        "amount": "250.00",
    }
    code = {"other_admin": 422, "anonymous": 401}.get(persona, 201 if persona in PARTNERS else 403)
    response = run(api_as(persona), "post", "/claims", body, persona, code)
    assert Claim.objects.filter(name="API claim").count() == (1 if code == 201 else 0)
    if persona == "other_admin":  # Berlin's fund does not exist for Northwind
        assert response.json()["fields"] == {"fund_id": ["No fund with this id."]}


@pytest.mark.parametrize("persona", PERSONAS)
def test_changing_a_claim(claims_world, api_as, persona):
    claim = ready_claim(claims_world)
    code = code_of(persona, allowed=PARTNERS, ok=200)
    run(api_as(persona), "patch", f"/claims/{claim.pk}", {"name": "Renamed"}, persona, code)
    assert Claim.objects.get(pk=claim.pk).name == ("Renamed" if code == 200 else "Autumn campaign")


@pytest.mark.parametrize("persona", PERSONAS)
def test_adding_and_removing_documents(claims_world, api_as, persona):
    claim = ready_claim(claims_world)
    code = code_of(persona, allowed=PARTNERS, ok=201)
    client = api_as(persona)
    before = state()
    response = client.post(
        f"{API}/claims/{claim.pk}/documents",
        {"kind": "proof", "note": "The event.", "files": [png("a.png", "red"), pdf("b.pdf", "green")]},
    )
    assert response.status_code == code
    if code != 201:
        assert state() == before
        return
    assert [(d["name"], d["kind"], d["note"]) for d in response.json()] == [
        ("a.png", "proof", "The event."),
        ("b.pdf", "proof", "The event."),
    ]
    document_id = response.json()[0]["id"]
    assert client.delete(f"{API}/claims/{claim.pk}/documents/{document_id}").status_code == 204
    assert ClaimDocument.objects.filter(claim=claim, removed_at__isnull=True).count() == 3


@pytest.mark.parametrize("persona", PERSONAS)
def test_removing_a_document_for_every_persona(claims_world, api_as, persona):
    claim = ready_claim(claims_world)
    document = ClaimDocument.objects.filter(claim=claim).first().document
    code = code_of(persona, allowed=PARTNERS, ok=204)
    run(api_as(persona), "delete", f"/claims/{claim.pk}/documents/{document.pk}", None, persona, code)


@pytest.mark.parametrize("persona", PERSONAS)
def test_submitting(claims_world, api_as, persona):
    claim = ready_claim(claims_world)
    code = code_of(persona, allowed=PARTNERS, ok=200)
    response = run(api_as(persona), "post", f"/claims/{claim.pk}/submit", None, persona, code)
    if code == 200:
        assert (response.json()["status"], response.json()["due_on"]) == ("submitted", "2026-11-24")


@pytest.mark.parametrize("persona", PERSONAS)
def test_withdrawing(claims_world, api_as, persona):
    claim = submitted(claims_world)
    code = code_of(persona, allowed=PARTNERS, ok=200)
    run(api_as(persona), "post", f"/claims/{claim.pk}/withdraw", {"reason": "Wrong fund."}, persona, code)
    assert Claim.objects.get(pk=claim.pk).status == ("withdrawn" if code == 200 else "submitted")


@pytest.mark.parametrize("persona", PERSONAS)
def test_disputing(claims_world, api_as, persona):
    claim = rejected(claims_world)
    code = code_of(persona, allowed={"partner_admin"}, ok=200)
    run(api_as(persona), "post", f"/claims/{claim.pk}/dispute", {"reason": "It is on page 2."}, persona, code)
    assert Claim.objects.get(pk=claim.pk).status == ("disputed" if code == 200 else "rejected")


@pytest.mark.parametrize("persona", PERSONAS)
def test_commenting_and_internal_notes(claims_world, api_as, persona):
    claim = submitted(claims_world)
    client = api_as(persona)
    run(
        client,
        "post",
        f"/claims/{claim.pk}/comments",
        {"message": "Hi."},
        persona,
        code_of(persona, allowed=PARTNERS | {"reviewer"}, ok=201),
    )
    run(
        client,
        "post",
        f"/claims/{claim.pk}/comments",
        {"message": "Note.", "internal": True},
        persona,
        code_of(persona, allowed=VENDOR, ok=201),
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_asking_a_colleague(claims_world, api_as, persona):
    claim = ready_claim(claims_world)
    colleague = claims_world.partner_user if persona == "partner_admin" else claims_world.partner_admin
    code = code_of(persona, allowed=PARTNERS, ok=201)
    body = {"colleague_id": colleague.pk, "message": "Photos, please."}
    run(api_as(persona), "post", f"/claims/{claim.pk}/document-requests", body, persona, code)
    assert Notification.objects.filter(subject__startswith="Please add documents").count() == (1 if code == 201 else 0)


@pytest.mark.parametrize("verb", ["assign", "approve", "request-action", "reject"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_reviewing(claims_world, api_as, persona, verb):
    claim = submitted(claims_world)
    body = (
        {"reasons": [{"code": "missing_invoice", "note": "Unreadable."}]}
        if verb in ("request-action", "reject")
        else {}
    )
    code = code_of(persona, allowed={"reviewer"}, ok=200)
    response = run(api_as(persona), "post", f"/claims/{claim.pk}/{verb}", body, persona, code)
    status = {
        "assign": "under_review",
        "approve": "approved",
        "request-action": "action_required",
        "reject": "rejected",
    }
    assert Claim.objects.get(pk=claim.pk).status == (status[verb] if code == 200 else "submitted")
    if code == 200:
        assert response.json()["status"] == status[verb]


@pytest.mark.parametrize("persona", PERSONAS)
def test_marking_notifications_read(claims_world, api_as, persona):
    submitted(claims_world)
    response = send(api_as(persona), "post", "/notifications/read", {})
    if persona == "anonymous":
        assert response.status_code == 401
        return
    assert response.json() == {"marked": 1 if persona == "reviewer" else 0}  # reviewers hear of a submission
    assert (
        Notification.objects.filter(user__email=claims_world.persona(persona).email, read_at__isnull=True).count() == 0
    )


# --- content ---------------------------------------------------------------------------------------------


def test_findings_come_in_the_callers_words(claims_world, api_as):
    theirs = submitted(claims_world, fund=claims_world.other_fund, actor=claims_world.other_admin, invoice="INV-7")
    claim = ready_claim(claims_world, invoice="INV-7")
    partner = api_as("partner_user").get(f"{API}/claims/{claim.pk}/checks").json()
    reviewer = api_as("reviewer").get(f"{API}/claims/{claim.pk}/checks").json()
    assert [(f["code"], f["field"], f["message"]) for f in partner] == [
        ("duplicate_invoice", "invoice_number", "This invoice (vendor and number) has already been claimed."),
        ("duplicate_file", "documents", "“INV-7.pdf” has already been claimed."),
    ]
    assert [(f["code"], f["message"], f["blocking"]) for f in reviewer] == [
        (
            "duplicate_invoice",
            f"Invoice already claimed on claim {theirs.pk} by Northwind, Northwind Oslo (NW-001) (Submitted).",
            True,
        ),
        (
            "duplicate_file",
            f"“INV-7.pdf” is the same file as one on claim {theirs.pk} by Northwind, Northwind Oslo (NW-001).",
            True,
        ),
    ]
    shown = api_as("partner_user").get(f"{API}/claims/{claim.pk}").json()
    assert [d["kind"] for d in shown["documents"]] == ["invoice", "screenshot"]
    assert "findings" not in shown  # computed when asked for, at /checks: a read of the claim does not run them


def test_the_claim_as_the_api_shows_it(claims_world, api_as):
    claim = submitted(claims_world)
    body = api_as("partner_admin").get(f"{API}/claims/{claim.pk}").json()
    assert {
        k: body[k] for k in ("status", "amount", "currency", "fund_label", "partner_id", "metrics", "reserved")
    } == {
        "status": "submitted",
        "amount": "1000.00",
        "currency": "USD",
        "fund_label": "FY27 H1",
        "partner_id": "FAB-001",
        "metrics": {"Content views": "1200"},
        "reserved": "1000.00",
    }
    assert "findings" not in body
    assert api_as("partner_admin").get(f"{API}/claims/{claim.pk}/checks").json() == []


def test_a_refused_submission_lists_every_blocking_finding_by_field(claims_world, api_as):
    client = api_as("partner_admin")
    created = send(
        client,
        "post",
        "/claims",
        {
            "fund_id": claims_world.fund.pk,
            "activity_type_id": claims_world.activity("syndicated-content").pk,
            "name": "x",
        },
    ).json()
    response = send(client, "post", f"/claims/{created['id']}/submit")
    assert response.status_code == 422
    assert response.json()["fields"] == {
        "amount": ["Enter the amount claimed."],
        "documents": [
            "Add the third-party invoice, or a certification report for in-house work.",
            "Syndicated content requires “Screenshot of the activity”: A screenshot of the content on the partner's channel.",
        ],
        "execution_start": ["Enter when the activity was executed (start and end dates)."],
        "metrics": ["Report the metrics: Content views."],
    }


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        ({"amount": "12,50"}, 400, {"amount": [AMOUNT]}),
        ({"amount": "10.005"}, 400, {"amount": [AMOUNT]}),
        ({"amount": "-3"}, 400, {"amount": [AMOUNT]}),
        ({"amount": 0}, 400, {"amount": [AMOUNT]}),
        ({"amount": 12.5}, 200, {}),
        ({"status": "approved"}, 400, {"status": ["Extra inputs are not permitted"]}),
        (
            {"invoice_currency": "XXY"},
            422,
            {"invoice_currency": ["“XXY” is not an ISO 4217 currency code (for example USD, EUR, GBP)."]},
        ),
        (
            {"execution_start": "2026-10-01", "execution_end": "2026-09-01"},
            422,
            {"execution_end": ["The end date is before the start date."]},
        ),
        ({"metrics": {"Likes": "3"}}, 422, {"metrics": ["Syndicated content reports Content views; not Likes."]}),
        ({"name": " "}, 400, {"name": ["Write something here: it cannot be empty or only spaces."]}),
    ],
)
def test_bad_input_is_a_field_error_and_changes_nothing(claims_world, api_as, body, status, fields):
    claim = ready_claim(claims_world)
    before = (state(), AuditEvent.objects.count())
    response = send(api_as("partner_admin"), "patch", f"/claims/{claim.pk}", body)
    if status == 200:  # a JSON number is read as the amount it writes
        assert (response.status_code, response.json()["amount"]) == (200, "12.50")
        return
    assert (response.status_code, response.json()["code"], response.json()["fields"]) == (status, "invalid", fields)
    assert (state(), AuditEvent.objects.count()) == before


def test_a_refused_upload_names_every_file_and_keeps_nothing(claims_world, api_as):
    from django.core.files.uploadedfile import SimpleUploadedFile

    claim = ready_claim(claims_world)
    before = state()
    response = api_as("partner_admin").post(
        f"{API}/claims/{claim.pk}/documents",
        {
            "kind": "screenshot",
            "files": [png("ok.png", "red"), SimpleUploadedFile("x.svg", b"<svg onload='x'/>", "image/svg+xml")],
        },
    )
    assert response.status_code == 422
    assert response.json()["fields"] == {
        "files": [
            "“x.svg” is a web page or SVG image, which can carry scripts; these are not accepted. Save it as PDF and "
            "upload that."
        ]
    }
    assert state() == before


def test_decisions_need_reasons_from_the_catalogue(claims_world, api_as):
    claim = submitted(claims_world)
    client = api_as("reviewer")
    response = send(client, "post", f"/claims/{claim.pk}/reject", {"reasons": []})
    assert response.json()["fields"] == {"reasons": ["Give at least one reason, so the partner knows what to change."]}
    response = send(client, "post", f"/claims/{claim.pk}/reject", {"reasons": [{"code": "because"}]})
    assert response.json()["fields"] == {"reasons": ["“because” is not a reason of this program's catalogue."]}
    response = send(client, "post", f"/claims/{claim.pk}/reject")
    assert response.json()["fields"] == {"reasons": ["Field required"]}
    assert Claim.objects.get(pk=claim.pk).status == "submitted"


def test_the_timeline_hides_internal_notes_from_partners_and_carries_reasons(claims_world, api_as):
    claim = submitted(claims_world)
    screenshot = ClaimDocument.objects.get(claim=claim, document__kind="screenshot").document
    services.claim_comment(claim=claim, actor=claims_world.reviewer, message="Check twice.", internal=True)
    services.claim_reject(
        claim=claim,
        actor=claims_world.reviewer,
        reasons=[services.Reason(code="branding", note="No logo.", document_id=screenshot.pk)],
        message="Sorry.",
    )
    partner = api_as("partner_user").get(f"{API}/claims/{claim.pk}/timeline").json()["results"]
    vendor = api_as("auditor").get(f"{API}/claims/{claim.pk}/timeline").json()["results"]
    assert [e["kind"] for e in partner] == ["created", "document", "document", "status", "status", "feedback"]
    assert [e["kind"] for e in vendor] == ["created", "document", "document", "status", "note", "status", "feedback"]
    assert partner[-1]["reasons"] == [
        {
            "code": "branding",
            "label": "Vendor branding missing or misused",
            "note": "No logo.",
            "document_id": screenshot.pk,
            "field": "",
        }
    ]


def test_the_review_queue_has_the_clock(claims_world, api_as, time_machine):
    claim = submitted(claims_world)
    time_machine.move_to(timezone.localdate() + timedelta(days=6))  # Thursday 26 Nov
    [item] = api_as("reviewer").get(f"{API}/review-queue").json()["results"]
    assert (item["id"], item["age_business_days"], item["days_left"], item["breached"]) == (claim.pk, 4, -2, True)
    assert api_as("reviewer").get(f"{API}/review-queue?overdue=true&mine=true").json()["results"] == []


def test_the_review_queue_runs_a_fixed_number_of_queries(claims_world, api_as):
    client = api_as("reviewer")
    queue_of(claims_world, 3)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"{API}/review-queue").status_code == 200
        return len(captured.captured_queries)

    count()  # the first request of a token marks it used
    few = count()
    queue_of(claims_world, 27)
    assert count() == few == 3  # the caller with their grants, the page of claims, the program's holidays


def test_reason_codes_and_notifications(claims_world, api_as):
    claim = submitted(claims_world)
    codes = api_as("reviewer").get(f"{API}/reason-codes?program_id={claims_world.program.pk}").json()["results"]
    assert [c["code"] for c in codes][:3] == [
        "missing_proof_of_distribution",
        "missing_proof_of_execution",
        "missing_invoice",
    ]
    mine = api_as("reviewer").get(f"{API}/notifications?unread=true").json()["results"]
    assert [n["link"] for n in mine] == [f"/claims/{claim.pk}/"]
    other = Notification.objects.create(user=claims_world.partner_admin, subject="Yours")
    response = send(api_as("reviewer"), "post", "/notifications/read", {"ids": [other.pk]})
    assert response.json() == {"marked": 0}
    other.refresh_from_db()
    assert other.read_at is None


def test_a_cursor_not_of_the_schema_is_a_field_error(claims_world, api_as):
    response = api_as("partner_admin").get(f"{API}/claims?cursor=not-a-cursor")
    assert (response.status_code, response.json()["fields"]) == (
        400,
        {"cursor": ["Not a cursor of this list: follow the `next` URL of the page before."]},
    )


def test_the_queue_pages_by_due_day_then_id_with_undated_claims_last(claims_world, api_as):
    claims = [c.pk for c in queue_of(claims_world, 7)]
    days = [date(2026, 12, 4), date(2026, 12, 1), None, date(2026, 12, 1), date(2026, 12, 9), None, date(2026, 12, 4)]
    for pk, day in zip(claims, days, strict=True):
        Claim.objects.filter(pk=pk).update(due_on=day)
    client, url, pages = api_as("reviewer"), f"{API}/review-queue?page_size=2", []
    while url:
        page = client.get(url).json()
        pages.append([item["id"] for item in page["results"]])
        url = page["next"]
    c = claims
    assert pages == [[c[1], c[3]], [c[0], c[6]], [c[4], c[2]], [c[5]]]


def test_a_queue_page_after_its_rows_left_the_queue_goes_on_from_where_it_was(claims_world, api_as):
    claims = [c.pk for c in queue_of(claims_world, 4)]
    Claim.objects.filter(pk__in=claims).update(due_on=date(2026, 12, 1))
    client = api_as("reviewer")
    first = client.get(f"{API}/review-queue?page_size=2").json()
    Claim.objects.filter(pk__in=claims[:2]).update(due_on=None)  # the first page's rows move to the end
    rest = client.get(first["next"]).json()
    assert ([i["id"] for i in first["results"]], [i["id"] for i in rest["results"]]) == (
        claims[:2],
        [claims[2], claims[3]],
    )
    assert rest["next"] is not None


# --- Idempotency-Key -------------------------------------------------------------------------------------


def test_a_retried_approval_approves_once_and_returns_the_first_response(claims_world, api_as):
    claim = submitted(claims_world)
    client = api_as("reviewer")
    first = send(client, "post", f"/claims/{claim.pk}/approve", {"note": "Fine."}, key="approve-1")
    again = send(client, "post", f"/claims/{claim.pk}/approve", {"note": "Fine."}, key="approve-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == first.content
    assert (first.get("Idempotent-Replayed"), again["Idempotent-Replayed"]) == (None, "true")
    assert Transfer.objects.filter(kind="approve", reference=f"claim:{claim.pk}").count() == 1
    assert AuditEvent.objects.filter(verb="claim.approved", target_id=str(claim.pk)).count() == 1
    without_key = send(client, "post", f"/claims/{claim.pk}/approve", {"note": "Fine."})
    assert (without_key.status_code, without_key.json()["code"]) == (409, "invalid_transition")


def test_the_same_key_with_another_body_or_endpoint_is_refused(claims_world, api_as):
    claim = submitted(claims_world)
    client = api_as("reviewer")
    send(client, "post", f"/claims/{claim.pk}/comments", {"message": "One."}, key="k-1")
    before = ClaimEvent.objects.count()
    other_body = send(client, "post", f"/claims/{claim.pk}/comments", {"message": "Two."}, key="k-1")
    other_endpoint = send(client, "post", f"/claims/{claim.pk}/approve", {}, key="k-1")
    for response in (other_body, other_endpoint):
        assert (response.status_code, response.json()["code"]) == (409, "idempotency_key_reused")
    assert ClaimEvent.objects.count() == before
    assert Claim.objects.get(pk=claim.pk).status == "submitted"


def test_keys_belong_to_one_user(claims_world, api_as):
    claim = submitted(claims_world)
    send(api_as("partner_admin"), "post", f"/claims/{claim.pk}/comments", {"message": "Hi."}, key="shared")
    response = send(api_as("partner_user"), "post", f"/claims/{claim.pk}/comments", {"message": "Hi."}, key="shared")
    assert response.status_code == 201
    assert ClaimEvent.objects.filter(claim=claim, kind="comment").count() == 2


def test_a_failed_request_keeps_nothing_so_the_key_can_be_retried(claims_world, api_as):
    claim = submitted(claims_world)
    client = api_as("reviewer")
    failed = send(client, "post", f"/claims/{claim.pk}/reject", {"reasons": []}, key="reject-1")
    assert failed.status_code == 422
    assert IdempotentRequest.objects.count() == 0
    fixed = send(client, "post", f"/claims/{claim.pk}/reject", {"reasons": [{"code": "other"}]}, key="reject-1")
    assert (fixed.status_code, fixed.json()["status"]) == (200, "rejected")


def test_a_key_left_in_progress_by_a_lost_request_is_taken_over(claims_world, api_as):
    """A record without a response can only be one the earlier design left behind when its process died: the
    retry runs (once), and the key then holds its response."""
    claim = submitted(claims_world)
    body = json.dumps({"note": ""}).encode()
    IdempotentRequest.objects.create(
        user=claims_world.reviewer,
        key="lost",
        endpoint=f"POST /api/v1/claims/{claim.pk}/approve",
        fingerprint=hashlib.sha256(body).hexdigest(),
    )
    response = send(api_as("reviewer"), "post", f"/claims/{claim.pk}/approve", {"note": ""}, key="lost")
    assert (response.status_code, response.json()["status"]) == (200, "approved")
    again = send(api_as("reviewer"), "post", f"/claims/{claim.pk}/approve", {"note": ""}, key="lost")
    assert (again.status_code, again.content, again["Idempotent-Replayed"]) == (200, response.content, "true")
    assert IdempotentRequest.objects.get(key="lost").status_code == 200


def test_an_upload_retried_with_its_key_is_stored_once(claims_world, api_as):
    claim = ready_claim(claims_world)
    client = api_as("partner_user")

    def upload():  # type: ignore[no-untyped-def]
        return client.post(
            f"{API}/claims/{claim.pk}/documents",
            {"kind": "other", "files": [png("p.png", "red")]},
            headers={"Idempotency-Key": "upload-1"},
        )

    first, again = upload(), upload()
    assert (first.status_code, again.status_code, again.content) == (201, 201, first.content)
    assert ClaimDocument.objects.filter(claim=claim).count() == 3


def test_keys_work_for_the_browsers_session_too(claims_world, as_persona):
    claim = submitted(claims_world)
    client = as_persona("reviewer")
    first = send(client, "post", f"/claims/{claim.pk}/approve", {}, key="s-1")
    again = send(client, "post", f"/claims/{claim.pk}/approve", {}, key="s-1")
    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (200, 200, "true")
    assert Transfer.objects.filter(kind="approve").count() == 1


def test_a_bad_key_is_a_field_error(claims_world, api_as):
    claim = submitted(claims_world)
    response = send(api_as("reviewer"), "post", f"/claims/{claim.pk}/approve", {}, key="x" * 201)
    assert (response.status_code, response.json()["fields"]) == (
        400,
        {"Idempotency-Key": ["Send 1 to 200 visible ASCII characters without spaces, e.g. a UUID."]},
    )
    assert Claim.objects.get(pk=claim.pk).status == "submitted"
