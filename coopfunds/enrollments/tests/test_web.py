"""The web pages: every page and action for every persona, then forms, filters, paging and htmx."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import PERSONAS
from coopfunds.audit.models import AuditEvent
from coopfunds.documents.tests import files
from coopfunds.enrollments import services
from coopfunds.enrollments.models import Enrollment, EnrollmentStatus, PayoutProfile, TaxProfile
from coopfunds.enrollments.tests.helpers import IBAN, branches, in_a_year, invited, reviewing, submit_payout, submit_tax

pytestmark = pytest.mark.django_db

VENDOR = {"program_manager", "reviewer", "finance", "auditor"}
SEES_FABRIKAM_BERLIN = {"partner_admin", "partner_user", *VENDOR}
VALIDATORS = {"reviewer", "program_manager"}


def expected(persona: str, *, allowed: set[str], visible: set[str] = SEES_FABRIKAM_BERLIN, ok: int = 200) -> int:
    if persona == "anonymous":
        return 302  # to the sign-in page
    if persona not in visible:
        return 404
    return ok if persona in allowed else 403


def assert_signin_redirect(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


# --- pages (GET) for every persona -----------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_pages_answer_each_persona_as_their_rights_say(world, as_persona, persona):
    enrollment = invited(world)
    payout, tax = (
        submit_payout(world),
        submit_tax(world, document=SimpleUploadedFile("c.pdf", files.pdf(), "application/pdf")),
    )
    everyone = set(PERSONAS)
    pages = {
        reverse("home"): expected(persona, allowed=everyone, visible=everyone),
        reverse("enrollment_list"): expected(persona, allowed=everyone, visible=everyone),
        reverse("enrollment_detail", args=[enrollment.pk]): expected(persona, allowed=everyone),
        reverse("enrollment_invite"): expected(persona, allowed={"program_manager"}, visible=everyone),
        reverse("payout_profile", args=[world.location.pk]): expected(persona, allowed=everyone),
        reverse("tax_profile", args=[world.location.pk]): expected(persona, allowed=everyone),
        reverse("tax_profile_document", args=[tax.pk]): expected(persona, allowed=everyone),
        reverse("validation_queue"): expected(persona, allowed=everyone, visible=VENDOR),
        reverse("validation_queue") + "?queue=payout": expected(persona, allowed=everyone, visible=VENDOR),
        reverse("validation_queue") + "?queue=tax": expected(persona, allowed=everyone, visible=VENDOR),
        reverse("payout_profile_request_action", args=[payout.pk]): expected(persona, allowed=VALIDATORS),
        reverse("tax_profile_request_action", args=[tax.pk]): expected(persona, allowed=VALIDATORS),
    }
    client = as_persona(persona)
    answers = {url: client.get(url).status_code for url in pages}
    assert answers == pages


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_partner_never_sees_another_partners_enrollment_or_profiles(world, as_persona, persona):
    theirs = invited(world, world.other_location)
    client = as_persona(persona)
    urls = [
        reverse("enrollment_detail", args=[theirs.pk]),
        reverse("payout_profile", args=[world.other_location.pk]),
        reverse("tax_profile", args=[world.other_location.pk]),
    ]
    codes = [client.get(url).status_code for url in urls]
    code = {"partner_admin": 404, "partner_user": 404, "anonymous": 302}.get(persona, 200)
    assert codes == [code, code, code]
    list_page = client.get(reverse("enrollment_list"))
    if persona in {"partner_admin", "partner_user"}:
        assert "Northwind Oslo" not in list_page.content.decode()


# --- actions (POST) for every persona --------------------------------------------------------------------


def state() -> tuple:
    return (
        list(Enrollment.objects.values_list("status", "status_reason").order_by("id")),
        list(PayoutProfile.objects.values_list("id", "status", "is_current").order_by("id")),
        list(TaxProfile.objects.values_list("id", "status", "is_current").order_by("id")),
        AuditEvent.objects.count(),
    )


def run_action(client, url: str, data: dict, persona: str, code: int) -> None:  # type: ignore[no-untyped-def]
    before = state()
    response = client.post(url, data)
    if persona == "anonymous":
        assert_signin_redirect(response)
    else:
        assert response.status_code == code
    if code != 302 or persona == "anonymous":
        assert state() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_accepting_an_invitation(world, as_persona, persona):
    enrollment = invited(world)
    code = expected(persona, allowed={"partner_admin"}, ok=302)
    run_action(as_persona(persona), reverse("enrollment_accept", args=[enrollment.pk]), {}, persona, code)
    enrollment.refresh_from_db()
    assert enrollment.status == ("action_required" if code == 302 and persona != "anonymous" else "invited")


@pytest.mark.parametrize("persona", PERSONAS)
def test_approving_an_enrollment(world, as_persona, persona):
    enrollment = reviewing(world)
    code = expected(persona, allowed=VALIDATORS, ok=302)
    run_action(as_persona(persona), reverse("enrollment_approve", args=[enrollment.pk]), {}, persona, code)
    enrollment.refresh_from_db()
    assert enrollment.status == ("enrolled" if persona in VALIDATORS else "reviewing")


@pytest.mark.parametrize("persona", PERSONAS)
def test_ending_and_reactivating_an_enrollment(world, as_persona, persona):
    enrollment = invited(world)
    code = expected(persona, allowed={"program_manager"}, ok=302)
    client = as_persona(persona)
    data = {"status": "inactive", "reason": "Dormant for a year."}
    run_action(client, reverse("enrollment_set_status", args=[enrollment.pk]), data, persona, code)
    enrollment.refresh_from_db()
    assert enrollment.status == ("inactive" if persona == "program_manager" else "invited")
    if persona != "program_manager":
        services.enrollment_set_status(
            enrollment=enrollment, status="inactive", reason="x", actor=world.program_manager
        )
    run_action(client, reverse("enrollment_reactivate", args=[enrollment.pk]), {}, persona, code)
    enrollment.refresh_from_db()
    assert enrollment.status == ("invited" if persona == "program_manager" else "inactive")


PAYOUT_FORM = {
    "method": "sepa",
    "currency": "EUR",
    "beneficiary_name": "Fabrikam GmbH",
    "bank_name": "Commerzbank",
    "bank_country": "DE",
    "iban": IBAN,
    "bic": "COBADEFFXXX",
    "account_number": "",
    "routing_code": "",
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_submitting_profiles(world, as_persona, persona):
    code = expected(persona, allowed={"partner_admin"}, ok=302)
    client = as_persona(persona)
    run_action(client, reverse("payout_profile", args=[world.location.pk]), PAYOUT_FORM, persona, code)
    tax_form = {"country": "DE", "tax_id": "DE123", "legal_name": "Fabrikam GmbH", "expires_on": in_a_year()}
    run_action(client, reverse("tax_profile", args=[world.location.pk]), tax_form, persona, code)
    created = 1 if persona == "partner_admin" else 0
    assert (PayoutProfile.objects.count(), TaxProfile.objects.count()) == (created, created)


@pytest.mark.parametrize("kind", ["payout", "tax"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_validating_profiles(world, as_persona, persona, kind):
    profile = submit_payout(world) if kind == "payout" else submit_tax(world)
    code = expected(persona, allowed=VALIDATORS, ok=302)
    client = as_persona(persona)
    url = reverse(f"{kind}_profile_request_action", args=[profile.pk])
    run_action(client, url, {"reason": "Illegible."}, persona, code)
    profile.refresh_from_db()
    assert profile.status == ("action_required" if persona in VALIDATORS else "pending")
    fresh = submit_payout(world) if kind == "payout" else submit_tax(world)
    run_action(client, reverse(f"{kind}_profile_approve", args=[fresh.pk]), {}, persona, code)
    fresh.refresh_from_db()
    assert fresh.status == ("approved" if persona in VALIDATORS else "pending")


# --- forms, errors, filters, paging ----------------------------------------------------------------------


def test_the_invite_form_creates_and_redirects(world, as_persona):
    client = as_persona("program_manager")
    response = client.post(reverse("enrollment_invite"), {"location": world.location.pk, "program": world.program.pk})
    enrollment = Enrollment.objects.get()
    assert response["Location"] == reverse("enrollment_detail", args=[enrollment.pk])
    follow = client.get(response["Location"])
    assert "Invited Fabrikam Berlin (FAB-001) to Cloud Co-op." in follow.content.decode()


def test_the_invite_form_shows_a_duplicate_under_the_location(world, as_persona):
    invited(world)
    response = as_persona("program_manager").post(
        reverse("enrollment_invite"), {"location": world.location.pk, "program": world.program.pk}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "location": ["Fabrikam Berlin (FAB-001) already has an enrollment in Cloud Co-op (Invited)."]
    }


def test_the_invite_form_needs_both_fields(world, as_persona):
    response = as_persona("program_manager").post(reverse("enrollment_invite"), {"location": "", "program": "x"})
    assert response.context["form"].errors == {
        "location": ["This field is required."],
        "program": ["Select a valid choice. That choice is not one of the available choices."],
    }


def test_bad_bank_details_are_field_errors_on_the_form(world, as_persona):
    data = {**PAYOUT_FORM, "iban": "DE89370400440532013001", "currency": "XXY"}
    response = as_persona("partner_admin").post(reverse("payout_profile", args=[world.location.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "currency": ["“XXY” is not an ISO 4217 currency code (for example USD, EUR, GBP)."],
        "iban": ["This IBAN's check digits do not match the rest of it: check it for typing mistakes."],
    }
    assert PayoutProfile.objects.count() == 0


def test_an_iban_of_another_country_is_a_field_error(world, as_persona):
    data = {**PAYOUT_FORM, "bank_country": "FR", "bic": ""}
    response = as_persona("partner_admin").post(reverse("payout_profile", args=[world.location.pk]), data)
    assert response.context["form"].errors == {
        "iban": ["This IBAN is for an account in Germany (DE), but the bank country is France (FR)."]
    }


def test_a_past_expiry_date_and_a_bad_file_are_field_errors(world, as_persona):
    data = {
        "country": "DE",
        "tax_id": "DE123",
        "legal_name": "Fabrikam GmbH",
        "expires_on": "2020-01-01",
        "document": SimpleUploadedFile("virus.exe", b"MZ"),
    }
    response = as_persona("partner_admin").post(reverse("tax_profile", args=[world.location.pk]), data)
    assert response.context["form"].errors == {
        "expires_on": ["The expiry date must be in the future: an expired registration cannot be used."],
        "document": ["“virus.exe” is a program, not a document; accepted here: PDF, PNG, JPEG."],
    }
    bad_date = as_persona("partner_admin").post(
        reverse("tax_profile", args=[world.location.pk]), {**data, "expires_on": "31/12/2030", "document": ""}
    )
    assert bad_date.context["form"].errors == {"expires_on": ["Enter a valid date."]}


def test_ending_without_a_reason_is_a_field_error(world, as_persona):
    enrollment = invited(world)
    response = as_persona("program_manager").post(
        reverse("enrollment_set_status", args=[enrollment.pk]), {"status": "inactive", "reason": ""}
    )
    assert response.status_code == 200
    assert response.context["set_status_form"].errors == {"reason": ["Say why, in words the partner will understand."]}


def test_requesting_action_without_a_reason_is_a_field_error(world, as_persona):
    profile = submit_payout(world)
    response = as_persona("reviewer").post(reverse("payout_profile_request_action", args=[profile.pk]), {"reason": ""})
    assert response.context["form"].errors == {
        "reason": ["Say what the partner must fix, in words they will understand."]
    }


def test_a_refused_transition_is_explained_not_a_crash(world, as_persona):
    enrollment = reviewing(world, approve_profiles=False)
    client = as_persona("reviewer")
    response = client.post(reverse("enrollment_approve", args=[enrollment.pk]), follow=True)
    assert response.status_code == 200
    assert (
        "It cannot be approved yet. The payout profile has not been validated yet. "
        "The tax profile has not been validated yet."
    ) in response.content.decode()


def test_approve_returns_to_the_validation_queue(world, as_persona):
    profile = submit_payout(world)
    here = reverse("validation_queue") + "?queue=payout"
    response = as_persona("reviewer").post(reverse("payout_profile_approve", args=[profile.pk]), {"next": here})
    assert response["Location"] == here
    evil = as_persona("reviewer").post(
        reverse("tax_profile_approve", args=[submit_tax(world).pk]), {"next": "https://evil.example/"}
    )
    assert evil["Location"] == reverse("tax_profile", args=[world.location.pk])


def test_the_detail_page_shows_status_reason_actions_and_history(world, as_persona):
    enrollment = services.enrollment_accept(enrollment=invited(world), actor=world.partner_admin)
    body = as_persona("partner_admin").get(reverse("enrollment_detail", args=[enrollment.pk])).content.decode()
    assert "Add a payout profile (the bank account to pay). Add a tax profile." in body
    assert "Invitation accepted" in body
    assert "<td>Invited</td>" in body
    assert reverse("enrollment_approve", args=[enrollment.pk]) not in body
    pm_body = as_persona("program_manager").get(reverse("enrollment_detail", args=[enrollment.pk])).content.decode()
    assert reverse("enrollment_set_status", args=[enrollment.pk]) in pm_body


def test_the_list_filters_and_pages(world, as_persona):
    locations = branches(world, 30)
    Enrollment.objects.bulk_create(
        Enrollment(location=loc, program=world.program, status=EnrollmentStatus.INVITED) for loc in locations
    )
    Enrollment.objects.filter(location=locations[0]).update(status=EnrollmentStatus.INELIGIBLE)
    client = as_persona("reviewer")
    first = client.get(reverse("enrollment_list"))
    assert len(first.context["page"].object_list) == 25
    assert 'href="?page=2"' in first.content.decode()
    second = client.get(reverse("enrollment_list") + "?page=2")
    assert len(second.context["page"].object_list) == 5
    filtered = client.get(reverse("enrollment_list"), {"status": "ineligible", "program": world.program.pk})
    assert [e.location.name for e in filtered.context["page"].object_list] == ["Branch 00"]
    bad = client.get(reverse("enrollment_list"), {"status": "nonsense"})
    assert bad.status_code == 200
    assert len(bad.context["page"].object_list) == 25


def test_the_list_answers_htmx_with_just_the_results(world, as_persona):
    invited(world)
    response = as_persona("reviewer").get(
        reverse("enrollment_list"), {"status": "invited"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results">')
    assert "<html" not in body
    assert "Fabrikam Berlin" in body


def test_the_partner_home_shows_invitations_with_an_accept_button(world, as_persona):
    enrollment = invited(world)
    body = as_persona("partner_admin").get(reverse("home")).content.decode()
    assert "Invitation: Cloud Co-op" in body
    assert reverse("enrollment_accept", args=[enrollment.pk]) in body
    user_body = as_persona("partner_user").get(reverse("home")).content.decode()
    assert "Nothing needs your action." in user_body
    assert reverse("enrollment_accept", args=[enrollment.pk]) not in user_body


def test_the_vendor_home_shows_the_queues(world, as_persona):
    reviewing(world, approve_profiles=False)
    body = as_persona("reviewer").get(reverse("home")).content.decode()
    assert "Enrollments to review (1)" in body
    assert "Payout profiles to validate (1)" in body
    assert "Tax profiles to validate (1)" in body


def test_the_tax_certificate_downloads(world, as_persona):
    certificate = files.pdf()
    tax = submit_tax(world, document=SimpleUploadedFile("cert.pdf", certificate, "application/pdf"))
    response = as_persona("reviewer").get(reverse("tax_profile_document", args=[tax.pk]))
    assert b"".join(response.streaming_content) == certificate
    assert response["Content-Disposition"].startswith("attachment;")
    without = submit_tax(world)
    assert as_persona("reviewer").get(reverse("tax_profile_document", args=[without.pk])).status_code == 404


def test_the_enrollment_queue_offers_approval_to_validators_only(world, as_persona):
    enrollment = reviewing(world)
    approve = reverse("enrollment_approve", args=[enrollment.pk])
    reviewer = as_persona("reviewer").get(reverse("validation_queue")).content.decode()
    finance = as_persona("finance").get(reverse("validation_queue")).content.decode()
    assert (approve in reviewer, approve in finance) == (True, False)
    assert "Fabrikam Berlin (FAB-001)" in finance
