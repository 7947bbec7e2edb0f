"""The partner's claim pages and the notifications inbox: every page and action for every persona, the
checker on the page (live too), uploads, the certification report, colleagues, withdrawal, dispute."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import PERSONAS
from coopfunds.claims import services
from coopfunds.claims.models import Claim, ClaimDocument, ClaimEvent
from coopfunds.claims.tests.conftest import TODAY, pdf, png, ready_claim
from coopfunds.claims.tests.helpers import PARTNERS, VENDOR, expected, rejected, state, submitted
from coopfunds.documents.models import Document
from coopfunds.funds.models import Transfer
from coopfunds.notifications.models import Notification
from coopfunds.testing.web import post_as

pytestmark = pytest.mark.django_db
D = Decimal
EVERYONE = set(PERSONAS) - {"anonymous"}


def form_data(claim: Claim, **changes: str) -> dict[str, str]:
    """The claim form as the page shows it for a ready claim, with `changes`."""
    data = {
        "name": claim.name,
        "description": claim.description,
        "execution_start": "2026-09-01",
        "execution_end": "2026-09-30",
        "amount": f"{claim.amount or ''}",
        "invoice_vendor": claim.invoice_vendor,
        "invoice_vendor_tax_id": "",
        "invoice_number": claim.invoice_number,
        "invoice_date": "2026-10-01",
        "invoice_amount": f"{claim.invoice_amount or ''}",
        "invoice_currency": "USD",
        "comments": "",
        **{f"metric_{i}": claim.metrics.get(m, "") for i, m in enumerate(claim.activity_type.metrics)},
    }
    return data | changes


def stored_files(settings) -> list[str]:  # type: ignore[no-untyped-def]
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- pages (GET) for every persona -----------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_pages_answer_each_persona_as_their_rights_say(claims_world, as_persona, persona):
    claim = ready_claim(claims_world)
    submitted_claim = submitted(claims_world, invoice="INV-2")
    pages = {
        reverse("claim_list"): expected(persona, allowed=EVERYONE, visible=EVERYONE, ok=200),
        reverse("claim_new"): expected(persona, allowed=PARTNERS | {"other_admin"}, visible=EVERYONE, ok=200),
        reverse("claim_detail", args=[claim.pk]): expected(
            persona, allowed=PARTNERS, visible=PARTNERS | VENDOR, ok=200
        ),
        reverse("claim_detail", args=[submitted_claim.pk]): expected(
            persona, allowed=PARTNERS, visible=PARTNERS | VENDOR, ok=200
        ),
        reverse("review_queue"): expected(persona, allowed=VENDOR, visible=VENDOR, ok=200),
        reverse("review_detail", args=[claim.pk]): expected(persona, allowed=VENDOR, visible=VENDOR, ok=200),
        reverse("notification_list"): expected(persona, allowed=EVERYONE, visible=EVERYONE, ok=200),
    }
    if persona in VENDOR:  # vendor staff opening a claim are taken to the review console
        pages[reverse("claim_detail", args=[claim.pk])] = 302
        pages[reverse("claim_detail", args=[submitted_claim.pk])] = 302
    client = as_persona(persona)
    assert {url: client.get(url).status_code for url in pages} == pages


def test_anonymous_visitors_are_sent_to_sign_in(claims_world, as_persona):
    response = as_persona("anonymous").get(reverse("claim_list"))
    assert response["Location"] == "/login/?next=/claims/"


def test_vendor_staff_opening_a_claim_land_in_the_review_console(claims_world, as_persona):
    claim = ready_claim(claims_world)
    response = as_persona("reviewer").get(reverse("claim_detail", args=[claim.pk]))
    assert response["Location"] == reverse("review_detail", args=[claim.pk])


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_partner_never_sees_another_partners_claim(claims_world, as_persona, persona):
    theirs = ready_claim(claims_world, fund=claims_world.other_fund, actor=claims_world.other_admin, invoice="NW-9")
    theirs.name = "Northwind secret campaign"
    Claim.objects.filter(pk=theirs.pk).update(name=theirs.name)
    client = as_persona(persona)
    code = {"partner_admin": 404, "partner_user": 404, "anonymous": 302}.get(persona)
    if code is not None:
        assert client.get(reverse("claim_detail", args=[theirs.pk])).status_code == code
        assert client.post(reverse("claim_check", args=[theirs.pk]), {}).status_code == code
    if persona in PARTNERS:
        assert "Northwind secret campaign" not in client.get(reverse("claim_list")).content.decode()
    if persona == "other_admin":
        assert "Northwind secret campaign" in client.get(reverse("claim_list")).content.decode()


# --- actions (POST) for every persona --------------------------------------------------------------------


def _act(client, url: str, data: dict, persona: str, code: int) -> None:  # type: ignore[no-untyped-def]
    post_as(client, url, data, persona, code, state)


@pytest.mark.parametrize("persona", PERSONAS)
def test_saving_the_form(claims_world, as_persona, persona):
    claim = ready_claim(claims_world)
    code = expected(persona, allowed=PARTNERS, visible=PARTNERS | VENDOR, ok=302)
    url = reverse("claim_detail", args=[claim.pk])
    _act(as_persona(persona), url, form_data(claim, name="Renamed"), persona, code)
    assert Claim.objects.get(pk=claim.pk).name == (
        "Renamed" if code == 302 and persona != "anonymous" else "Autumn campaign"
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_saving_and_submitting(claims_world, as_persona, persona):
    claim = ready_claim(claims_world)
    code = expected(persona, allowed=PARTNERS, visible=PARTNERS | VENDOR, ok=302)
    _act(
        as_persona(persona), reverse("claim_detail", args=[claim.pk]), form_data(claim, action="submit"), persona, code
    )
    allowed = persona in PARTNERS
    assert Claim.objects.get(pk=claim.pk).status == ("submitted" if allowed else "editing")
    assert Transfer.objects.filter(reference=f"claim:{claim.pk}", kind="reserve").count() == (1 if allowed else 0)


@pytest.mark.parametrize("persona", PERSONAS)
def test_adding_documents(claims_world, as_persona, persona, settings):
    claim = ready_claim(claims_world)
    code = expected(persona, allowed=PARTNERS, visible=PARTNERS | VENDOR, ok=302)
    data = {"files": [png("a.png", "red"), png("b.png", "green")], "kind": "screenshot", "note": ""}
    _act(as_persona(persona), reverse("claim_documents_add", args=[claim.pk]), data, persona, code)
    assert ClaimDocument.objects.filter(claim=claim).count() == (4 if persona in PARTNERS else 2)


@pytest.mark.parametrize("persona", PERSONAS)
def test_removing_a_document(claims_world, as_persona, persona):
    claim = ready_claim(claims_world)
    document = ClaimDocument.objects.filter(claim=claim).first().document
    code = expected(persona, allowed=PARTNERS, visible=PARTNERS | VENDOR, ok=302)
    _act(as_persona(persona), reverse("claim_document_remove", args=[claim.pk, document.pk]), {}, persona, code)
    removed = ClaimDocument.objects.get(claim=claim, document=document).removed_at is not None
    assert removed == (persona in PARTNERS)


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_certification_report(claims_world, as_persona, persona):
    claim = ready_claim(claims_world)
    code = expected(persona, allowed=PARTNERS, visible=PARTNERS | VENDOR, ok=302)
    data = {"description": "Our team wrote the mailing.", "person_1": "Ada Admin", "hours_1": "10", "rate_1": "75"}
    _act(as_persona(persona), reverse("claim_certification", args=[claim.pk]), data, persona, code)
    count = ClaimDocument.objects.filter(claim=claim, document__kind="certification_report").count()
    assert count == (1 if persona in PARTNERS else 0)


@pytest.mark.parametrize("persona", PERSONAS)
def test_asking_a_colleague_for_documents(claims_world, as_persona, persona):
    claim = ready_claim(claims_world)
    colleague = claims_world.partner_user if persona != "partner_user" else claims_world.partner_admin
    code = expected(persona, allowed=PARTNERS, visible=PARTNERS | VENDOR, ok=302)
    data = {"colleague": colleague.pk, "message": "The event photos, please."}
    before = Notification.objects.count()
    _act(as_persona(persona), reverse("claim_request_documents", args=[claim.pk]), data, persona, code)
    assert Notification.objects.count() == before + (1 if persona in PARTNERS else 0)


@pytest.mark.parametrize("persona", PERSONAS)
def test_commenting(claims_world, as_persona, persona):
    claim = submitted(claims_world)
    commenters = PARTNERS | {"reviewer"}
    code = expected(persona, allowed=commenters, visible=PARTNERS | VENDOR, ok=302)
    _act(as_persona(persona), reverse("claim_comment", args=[claim.pk]), {"message": "See page 2."}, persona, code)
    assert ClaimEvent.objects.filter(claim=claim, kind="comment").count() == (1 if persona in commenters else 0)


@pytest.mark.parametrize("persona", PERSONAS)
def test_withdrawing(claims_world, as_persona, persona):
    claim = submitted(claims_world)
    code = expected(persona, allowed=PARTNERS, visible=PARTNERS | VENDOR, ok=302)
    _act(as_persona(persona), reverse("claim_withdraw", args=[claim.pk]), {"reason": ""}, persona, code)
    assert Claim.objects.get(pk=claim.pk).status == ("withdrawn" if persona in PARTNERS else "submitted")


@pytest.mark.parametrize("persona", PERSONAS)
def test_disputing(claims_world, as_persona, persona):
    claim = rejected(claims_world)
    code = expected(persona, allowed={"partner_admin"}, visible=PARTNERS | VENDOR, ok=302)
    data = {"reason": "The screenshot is on page 2."}
    _act(as_persona(persona), reverse("claim_dispute", args=[claim.pk]), data, persona, code)
    assert Claim.objects.get(pk=claim.pk).status == ("disputed" if persona == "partner_admin" else "rejected")


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_live_checker_changes_nothing(claims_world, as_persona, persona):
    claim = ready_claim(claims_world)
    code = expected(persona, allowed=PARTNERS, visible=PARTNERS | VENDOR, ok=200)
    _act(as_persona(persona), reverse("claim_check", args=[claim.pk]), form_data(claim, amount="5"), persona, code)
    assert Claim.objects.get(pk=claim.pk).amount == D("1000.00")


# --- the checker on the page -----------------------------------------------------------------------------


def test_the_page_shows_each_finding_next_to_its_field_and_disables_submit(claims_world, as_persona):
    claim = services.claim_create(
        fund=claims_world.fund,
        activity_type=claims_world.activity("digital-advertising"),
        name="Banner ads",
        actor=claims_world.partner_user,
    )
    page = as_persona("partner_user").get(reverse("claim_detail", args=[claim.pk])).content.decode()
    assert '<div id="finding-amount" class="finding"><p>Enter the amount claimed.</p></div>' in page
    assert (
        '<div id="finding-execution_start" class="finding"><p>Enter when the activity was executed (start and end '
        "dates).</p></div>"
    ) in page
    assert '<div id="finding-metrics" class="finding"><p>Report the metrics: Results summary.</p></div>' in page
    assert "Digital advertising requires “Landing-page URL”: The URL of the landing page the ad leads to." in page
    assert "6 things to settle before the claim can be submitted:" in page
    assert '<button type="submit" form="claim-form" name="action" value="submit" disabled>' in page


def test_a_complete_claim_can_be_submitted_from_the_page(claims_world, as_persona):
    claim = ready_claim(claims_world)
    page = as_persona("partner_admin").get(reverse("claim_detail", args=[claim.pk])).content.decode()
    assert "Everything the checker looks at is in order." in page
    assert '<button type="submit" form="claim-form" name="action" value="submit">' in page


def test_the_live_checker_judges_the_form_as_typed(claims_world, as_persona):
    claim = ready_claim(claims_world)
    response = as_persona("partner_admin").post(
        reverse("claim_check", args=[claim.pk]), form_data(claim, amount="12000.01", invoice_amount="13000.00")
    )
    html = response.content.decode()
    assert (
        '<div id="finding-amount" class="finding" hx-swap-oob="true"><p>Only 12,000.00 USD of FY27 H1 co-op is '
        "left; this claim asks for 12,000.01 USD.</p></div>"
    ) in html
    assert '<div id="finding-documents" class="finding" hx-swap-oob="true"></div>' in html
    assert '<button type="submit" form="claim-form" name="action" value="submit" disabled>' in html
    assert Claim.objects.get(pk=claim.pk).amount == D("1000.00")


def test_a_refused_submission_keeps_the_changes_and_says_why(claims_world, as_persona):
    claim = services.claim_create(
        fund=claims_world.fund,
        activity_type=claims_world.activity("syndicated-content"),
        name="Draft",
        actor=claims_world.partner_admin,
    )
    data = form_data(claim, amount="250.00", execution_start="2026-09-01", action="submit")
    response = as_persona("partner_admin").post(reverse("claim_detail", args=[claim.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "Add the third-party invoice, or a certification report for in-house work.",
        "Syndicated content requires “Screenshot of the activity”: A screenshot of the content on the partner's channel.",
        "Report the metrics: Content views.",
    ]
    assert [str(m) for m in response.context["messages"]] == [
        "Saved, but not submitted: the checker still finds what is listed below."
    ]
    claim.refresh_from_db()
    assert (claim.status, claim.amount) == ("editing", D("250.00"))


def test_bad_input_is_a_field_error_and_changes_nothing(claims_world, as_persona):
    claim = ready_claim(claims_world)
    before = state()
    data = form_data(claim, amount="12,50", execution_end="2026-08-01", invoice_currency="XXY", name="")
    response = as_persona("partner_admin").post(reverse("claim_detail", args=[claim.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "name": ["This field is required."],
        "amount": ["“12,50” uses a comma; write amounts with a dot as decimal separator, e.g. 1234.50."],
        "invoice_currency": ["Select a valid choice. XXY is not one of the available choices."],
        "execution_end": ["The end date is before the start date."],
    }
    assert state() == before


def test_attendees_are_asked_only_where_caps_count_people(claims_world, as_persona):
    conference = services.claim_create(
        fund=claims_world.fund,
        activity_type=claims_world.activity("vendor-conferences"),
        name="Summit",
        actor=claims_world.partner_admin,
    )
    client = as_persona("partner_admin")
    assert "attendees" in client.get(reverse("claim_detail", args=[conference.pk])).context["form"].fields
    syndicated = ready_claim(claims_world)
    assert "attendees" not in client.get(reverse("claim_detail", args=[syndicated.pk])).context["form"].fields


# --- documents -------------------------------------------------------------------------------------------


def test_several_files_are_uploaded_at_once(claims_world, as_persona):
    claim = ready_claim(claims_world)
    client = as_persona("partner_user")
    data = {
        "files": [png("photo-1.png", "red"), png("photo-2.png", "green"), pdf("agenda.pdf", "yellow")],
        "kind": "proof",
        "note": "The event and its agenda.",
    }
    response = client.post(reverse("claim_documents_add", args=[claim.pk]), data)
    assert response["Location"] == reverse("claim_detail", args=[claim.pk]) + "#documents"
    added = list(
        ClaimDocument.objects.filter(claim=claim, document__kind="proof").values_list(
            "document__original_name", "document__note"
        )
    )
    assert added == [
        ("photo-1.png", "The event and its agenda."),
        ("photo-2.png", "The event and its agenda."),
        ("agenda.pdf", "The event and its agenda."),
    ]
    follow = client.get(response["Location"])
    assert [str(m) for m in follow.context["messages"]] == [
        "Added 3 documents: “photo-1.png”, “photo-2.png”, “agenda.pdf”"
    ]


def test_a_refused_upload_says_why_and_keeps_nothing(claims_world, as_persona, settings):
    claim = ready_claim(claims_world)
    before, files = state(), stored_files(settings)
    data = {
        "files": [
            png("fine.png", "red"),
            SimpleUploadedFile("page.html", b"<html><script>alert(1)</script></html>", "text/html"),
            SimpleUploadedFile("tool.exe", b"MZ\x90\x00" + b"\x00" * 60, "application/octet-stream"),
        ],
        "kind": "screenshot",
        "note": "",
    }
    response = as_persona("partner_admin").post(reverse("claim_documents_add", args=[claim.pk]), data)
    assert response.status_code == 400
    assert response.context["upload_form"].errors == {
        "files": [
            "“page.html” is a web page or SVG image, which can carry scripts; these are not accepted. Save it as PDF "
            "and upload that.",
            response.context["upload_form"].errors["files"][1],
        ]
    }
    assert response.context["upload_form"].errors["files"][1].startswith("“tool.exe” is a program, not a document")
    assert (state(), stored_files(settings)) == (before, files)


def test_proof_needs_a_note(claims_world, as_persona):
    claim = ready_claim(claims_world)
    data = {"files": [png("x.png", "red")], "kind": "proof", "note": ""}
    response = as_persona("partner_admin").post(reverse("claim_documents_add", args=[claim.pk]), data)
    assert response.context["upload_form"].errors == {
        "note": ["Add a note that explains what this proof document shows."]
    }


def test_the_upload_form_offers_the_activitys_kinds_first(claims_world, as_persona):
    claim = services.claim_create(
        fund=claims_world.fund,
        activity_type=claims_world.activity("direct-marketing"),
        name="Mailing",
        actor=claims_world.partner_admin,
    )
    page = as_persona("partner_admin").get(reverse("claim_detail", args=[claim.pk]))
    assert page.context["upload_form"].fields["kind"].choices == [
        ("final_piece", "Final piece"),
        ("proof_of_distribution", "Proof of distribution"),
        ("invoice", "Third-party invoice"),
        ("certification_report", "Certification report"),
        ("proof", "Proof document (say in the note what it proves)"),
        ("other", "Other"),
    ]
    assert "data-dropzone" in page.content.decode()
    assert "multiple" in page.content.decode()


def test_the_certification_report_becomes_a_pdf_document(claims_world, as_persona):
    claim = services.claim_create(
        fund=claims_world.fund,
        activity_type=claims_world.activity("syndicated-content"),
        name="In-house content",
        actor=claims_world.partner_admin,
    )
    data = {
        "description": "Our marketing team wrote and published the articles.",
        "person_1": "Ada Admin",
        "hours_1": "12.5",
        "rate_1": "80",
        "person_2": "Uma User",
        "hours_2": "17.5",
        "rate_2": "70.00",
    }
    response = as_persona("partner_admin").post(reverse("claim_certification", args=[claim.pk]), data)
    assert response.status_code == 302
    document = Document.objects.get(kind="certification_report")
    assert (document.original_name, document.file_type, document.note) == (
        f"certification-report-claim-{claim.pk}.pdf",
        "pdf",
        "In-house work certified: 2 people, 30 hours, 2,225.00 USD.",
    )
    with document.file.open("rb") as f:
        content = f.read()
    assert content.startswith(b"%PDF-1.3")
    assert b"(1. Ada Admin: 12.5 hours at 80.00 USD an hour = 1,000.00 USD) Tj" in content
    assert b"(Total: 30 hours, 2,225.00 USD) Tj" in content
    claim.refresh_from_db()
    found = [f.code for f in services.checks.findings(claim)]
    assert "missing_invoice" not in found


def test_the_certification_report_explains_bad_lines(claims_world, as_persona):
    claim = ready_claim(claims_world)
    before = state()
    data = {"description": "Work.", "person_1": "Ada", "hours_1": "abc", "rate_1": "80", "hours_2": "3", "rate_2": "1"}
    response = as_persona("partner_admin").post(reverse("claim_certification", args=[claim.pk]), data)
    assert response.status_code == 400
    assert response.context["cert_form"].non_field_errors() == [
        "Line 1: the hours “abc” is not a number.",
        "Line 2: the person's name is missing.",
    ]
    assert state() == before


# --- new claim -------------------------------------------------------------------------------------------


def test_starting_a_claim_in_two_steps(claims_world, as_persona):
    client = as_persona("partner_user")
    first = client.get(reverse("claim_new"))
    funds = list(first.context["form"].fields["fund"].queryset)
    assert funds == [claims_world.fund]
    assert (
        "Fabrikam Berlin (FAB-001) · Cloud Co-op · FY27 H1: 12,000.00 USD available, claims 16 Aug 2026 – 15 Feb 2027"
        in first.content.decode()
    )
    second = client.get(reverse("claim_new"), {"fund": claims_world.fund.pk})
    activities = [a.code for a in second.context["activities"]]
    assert activities[:3] == ["customer-offers", "digital-advertising", "direct-marketing"]  # by category, name
    activity = claims_world.activity("seminars-bootcamps")
    response = client.post(
        reverse("claim_new"), {"fund": claims_world.fund.pk, "activity_type": activity.pk, "name": "Boot camp"}
    )
    claim = Claim.objects.get()
    assert response["Location"] == reverse("claim_detail", args=[claim.pk])
    assert (claim.name, claim.activity_type, claim.fund, claim.created_by) == (
        "Boot camp",
        activity,
        claims_world.fund,
        claims_world.partner_user,
    )


def test_starting_a_claim_explains_what_is_missing(claims_world, as_persona):
    client = as_persona("partner_admin")
    response = client.post(reverse("claim_new"), {"fund": claims_world.fund.pk, "activity_type": "", "name": ""})
    assert response.status_code == 400
    assert response.context["form"].errors == {"activity_type": ["Choose the activity you claim for."]}
    activity = claims_world.activity("seminars-bootcamps")
    response = client.post(
        reverse("claim_new"), {"fund": claims_world.fund.pk, "activity_type": activity.pk, "name": " "}
    )
    assert response.context["form"].errors == {"name": ["Give the claim a name."]}
    response = client.post(
        reverse("claim_new"), {"fund": claims_world.other_fund.pk, "activity_type": activity.pk, "name": "X"}
    )
    assert response.context["form"].errors == {  # another partner's fund is not even offered
        "fund": ["Select a valid choice. That choice is not one of the available choices."],
        "activity_type": ["Select a valid choice. That choice is not one of the available choices."],
    }
    assert Claim.objects.count() == 0


# --- list, timeline, dispute -----------------------------------------------------------------------------


def test_my_claims_with_filters_and_what_is_needed(claims_world, as_persona):
    draft = ready_claim(claims_world, invoice="INV-1")
    waiting = submitted(claims_world, invoice="INV-2")
    client = as_persona("partner_user")
    rows = client.get(reverse("claim_list")).context["rows"]
    assert [(c.pk, step) for c, step in rows] == [
        (waiting.pk, "Review due 24 Nov 2026"),
        (draft.pk, "Draft: submit by 15 Feb 2027"),
    ]
    filtered = client.get(reverse("claim_list"), {"status": "editing", "period": "FY27 H1"})
    assert [c.pk for c, _ in filtered.context["rows"]] == [draft.pk]
    partial = client.get(reverse("claim_list"), {"status": "submitted"}, headers={"HX-Request": "true"})
    assert partial.content.decode().lstrip().startswith('<div id="results">')
    bad = client.get(reverse("claim_list"), {"status": "lost"})
    assert bad.status_code == 400


def test_the_timeline_shows_reasons_but_never_internal_notes_to_partners(claims_world, as_persona):
    claim = submitted(claims_world)
    screenshot = ClaimDocument.objects.filter(claim=claim, document__kind="screenshot").get().document
    services.claim_comment(claim=claim, actor=claims_world.reviewer, message="Looks staged.", internal=True)
    services.claim_request_action(
        claim=claim,
        actor=claims_world.reviewer,
        reasons=[
            services.Reason(code="missing_metrics", note="Views are missing.", field="metrics"),
            services.Reason(code="branding", note="No logo.", document_id=screenshot.pk),
        ],
        message="Two things to fix.",
    )
    page = as_persona("partner_user").get(reverse("claim_detail", args=[claim.pk])).content.decode()
    assert "Looks staged." not in page
    assert "<li><strong>Missing metrics</strong>: Views are missing." in page
    assert "· field: Metrics" in page
    assert f'· document <a href="/documents/{screenshot.pk}/">screenshot.png</a>' in page
    assert "Under review → Action required" in page
    console = as_persona("reviewer").get(reverse("review_detail", args=[claim.pk])).content.decode()
    assert "Looks staged." in console


def test_a_rejected_claim_shows_the_dispute_deadline(claims_world, as_persona, time_machine):
    claim = rejected(claims_world)
    admin = as_persona("partner_admin").get(reverse("claim_detail", args=[claim.pk])).content.decode()
    assert "You can dispute until <strong>20 December 2026</strong>." in admin
    user = as_persona("partner_user").get(reverse("claim_detail", args=[claim.pk]))
    assert user.context["dispute_form"] is None  # only incentives admins dispute
    time_machine.move_to(TODAY + timedelta(days=31))
    late = as_persona("partner_admin").get(reverse("claim_detail", args=[claim.pk]))
    assert late.context["dispute_form"] is None


def test_a_dispute_without_a_reason_is_a_field_error(claims_world, as_persona):
    claim = rejected(claims_world)
    response = as_persona("partner_admin").post(reverse("claim_dispute", args=[claim.pk]), {"reason": " "})
    assert response.status_code == 400
    assert response.context["dispute_form"].errors == {"reason": ["This field is required."]}
    assert Claim.objects.get(pk=claim.pk).status == "rejected"


def test_an_action_out_of_order_says_so(claims_world, as_persona):
    claim = submitted(claims_world)
    before = state()
    client = as_persona("partner_admin")
    response = client.post(reverse("claim_detail", args=[claim.pk]), form_data(claim, name="X"))
    assert response["Location"] == reverse("claim_detail", args=[claim.pk])
    follow = client.get(response["Location"])
    assert [str(m) for m in follow.context["messages"]] == ["A claim that is submitted cannot be changed."]
    assert state() == before


# --- notifications ---------------------------------------------------------------------------------------


def test_the_inbox_the_bell_and_mark_read(claims_world, as_persona):
    claim = submitted(claims_world)
    client = as_persona("reviewer")
    page = client.get(reverse("notification_list"))
    assert [n.subject for n in page.context["page"].object_list] == [f"Claim {claim.pk} to review: Autumn campaign"]
    assert (
        'aria-label="Notifications, 1 unread">Notifications <span class="badge pending">1</span>'
        in page.content.decode()
    )
    notification = Notification.objects.get(user=claims_world.reviewer)
    response = client.post(reverse("notification_open", args=[notification.pk]))
    assert response["Location"] == f"/claims/{claim.pk}/"
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert 'aria-label="Notifications, ' not in client.get(reverse("notification_list")).content.decode()


def test_mark_all_read_and_nobody_elses(claims_world, as_persona):
    submitted(claims_world, invoice="INV-1")
    submitted(claims_world, invoice="INV-2")
    mine = Notification.objects.filter(user=claims_world.reviewer)
    theirs = Notification.objects.create(user=claims_world.partner_admin, subject="Yours", link="/claims/")
    client = as_persona("reviewer")
    assert client.post(reverse("notification_open", args=[theirs.pk])).status_code == 404
    client.post(reverse("notification_read"), {"id": [theirs.pk]})
    theirs.refresh_from_db()
    assert theirs.read_at is None
    client.post(reverse("notification_read"), {"id": [mine.first().pk]})
    assert mine.filter(read_at__isnull=True).count() == 1
    client.post(reverse("notification_read"))
    assert mine.filter(read_at__isnull=True).count() == 0
    assert client.post(reverse("notification_read"), {"id": ["x"]}).status_code == 400
    assert client.get(reverse("notification_read")).status_code == 405


def test_the_navigation_by_role(claims_world, as_persona):
    partner = as_persona("partner_user").get(reverse("claim_list")).content.decode()
    vendor = as_persona("auditor").get(reverse("claim_list")).content.decode()
    assert '<a href="/claims/">Claims</a>' in partner
    assert '<a href="/review/">Review claims</a>' not in partner
    assert '<a href="/review/">Review claims</a>' in vendor
    assert '<a href="/claims/">Claims</a>' not in vendor


def test_the_scripts_carry_the_csp_nonce(claims_world, as_persona):
    claim = ready_claim(claims_world)
    response = as_persona("partner_admin").get(reverse("claim_detail", args=[claim.pk]))
    nonce = response.context["csp_nonce"]
    assert f'<script src="/static/web/claims.js" defer nonce="{nonce}"></script>' in response.content.decode()
    assert "<script>" not in response.content.decode()
    assert ' style="' not in response.content.decode()
