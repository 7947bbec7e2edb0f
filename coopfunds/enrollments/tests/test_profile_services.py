"""Payout and tax profiles: who submits and validates them, replacement (never deletion), the audit rows
(never with bank details), and the enrollments that follow them."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from conftest import PERSONAS
from coopfunds.audit.models import AuditEvent
from coopfunds.core.crypto import decrypt
from coopfunds.core.errors import Conflict
from coopfunds.documents.tests import files
from coopfunds.enrollments import services
from coopfunds.enrollments.models import Enrollment, PayoutProfile, TaxProfile
from coopfunds.enrollments.tests.helpers import (
    BIC,
    IBAN,
    actor,
    in_a_year,
    invited,
    submit_payout,
    submit_tax,
)

pytestmark = pytest.mark.django_db


def accepted(world) -> Enrollment:  # type: ignore[no-untyped-def]
    return services.enrollment_accept(enrollment=invited(world), actor=world.partner_admin)


# --- payout profiles -------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_locations_incentives_admin_submits_a_payout_profile(world, persona):
    events = AuditEvent.objects.count()
    if persona != "partner_admin":
        with pytest.raises(PermissionDenied):
            services.payout_profile_submit(
                location=world.location,
                method="sepa",
                currency="EUR",
                beneficiary_name="Fabrikam GmbH",
                bank_country="DE",
                iban=IBAN,
                actor=actor(world, persona),
            )
        assert (PayoutProfile.objects.count(), AuditEvent.objects.count()) == (0, events)
        return
    profile = submit_payout(world)
    assert (profile.status, profile.is_current, profile.account_hint, profile.masked_account) == (
        "pending",
        True,
        "3000",
        "•••• 3000",
    )
    assert (profile.submitted_by, str(profile.iban), str(profile.bic)) == (world.partner_admin, IBAN, BIC)


def test_bank_details_are_encrypted_at_rest(world):
    profile = submit_payout(world)
    with connection.cursor() as cursor:
        cursor.execute("SELECT iban, bic FROM enrollments_payoutprofile WHERE id = %s", [profile.pk])
        stored_iban, stored_bic = cursor.fetchone()
    assert IBAN not in stored_iban
    assert (decrypt(stored_iban), decrypt(stored_bic)) == (IBAN, BIC)


def test_the_audit_row_names_the_masked_account_only(world):
    profile = submit_payout(world)
    event = AuditEvent.objects.get(verb="payout_profile.submit")
    assert (event.target_id, event.organisation_id, event.reason) == (str(profile.pk), world.partner.pk, "")
    assert event.changes == {
        "method": [None, "sepa"],
        "currency": [None, "EUR"],
        "beneficiary_name": [None, "Fabrikam GmbH"],
        "bank_country": [None, "DE"],
        "account": [None, "•••• 3000"],
    }
    assert event.target_repr == "SEPA credit transfer (IBAN) •••• 3000 (EUR)"


def test_a_new_payout_profile_replaces_the_current_one_which_is_kept(world):
    first = submit_payout(world)
    second = submit_payout(world, method="wire", currency="USD", bic="COBADEFFXXX")
    first.refresh_from_db()
    assert (first.is_current, second.is_current) == (False, True)
    assert list(PayoutProfile.objects.filter(location=world.location).values_list("pk", flat=True)) == [
        second.pk,
        first.pk,
    ]
    assert AuditEvent.objects.get(target_id=str(second.pk), verb="payout_profile.submit").reason == (
        f"Replaces payout profile #{first.pk}."
    )


def test_a_bad_iban_is_a_field_error_and_stores_nothing(world):
    with pytest.raises(ValidationError) as caught:
        submit_payout(world, iban="DE89370400440532013001")
    assert caught.value.message_dict == {
        "iban": ["This IBAN's check digits do not match the rest of it: check it for typing mistakes."]
    }
    assert (PayoutProfile.objects.count(), AuditEvent.objects.count()) == (0, 0)


def test_a_payout_profile_moves_waiting_enrollments_along(world):
    enrollment = accepted(world)
    submit_payout(world)
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.status_reason) == ("action_required", "Add a tax profile.")
    submit_tax(world)
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.status_reason) == ("reviewing", "")
    verbs = list(
        AuditEvent.objects.filter(target_type="enrollments.enrollment", target_id=str(enrollment.pk)).values_list(
            "verb", "reason"
        )
    )
    assert verbs == [
        ("enrollment.reevaluate", "A new tax profile was submitted."),
        ("enrollment.reevaluate", "A new payout profile was submitted."),
        ("enrollment.accept", ""),
        ("enrollment.invite", ""),
    ]


def test_profiles_do_not_touch_invited_or_enrolled_enrollments(world):
    enrollment = invited(world)
    submit_payout(world)
    submit_tax(world)
    enrollment.refresh_from_db()
    assert enrollment.status == "invited"


# --- tax profiles ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_locations_incentives_admin_submits_a_tax_profile(world, persona):
    events = AuditEvent.objects.count()
    if persona != "partner_admin":
        with pytest.raises(PermissionDenied):
            services.tax_profile_submit(
                location=world.location,
                country="DE",
                tax_id="DE123456789",
                legal_name="Fabrikam GmbH",
                expires_on=in_a_year(),
                actor=actor(world, persona),
            )
        assert (TaxProfile.objects.count(), AuditEvent.objects.count()) == (0, events)
        return
    profile = submit_tax(world, tax_id="de 123 456 789")
    assert (profile.status, profile.is_current, profile.tax_id, profile.expires_on) == (
        "pending",
        True,
        "DE123456789",
        in_a_year(),
    )


def test_tax_profile_fields_are_checked(world):
    with pytest.raises(ValidationError) as caught:
        submit_tax(world, country="XX", tax_id="", legal_name=" ", expires_on=timezone.localdate())
    assert caught.value.message_dict == {
        "country": ["“XX” is not a country code (ISO 3166, for example DE, US, IN)."],
        "tax_id": ["Enter the tax ID as it appears on the registration certificate."],
        "legal_name": ["Enter the legal name the tax registration is in."],
        "expires_on": ["The expiry date must be in the future: an expired registration cannot be used."],
    }
    with pytest.raises(ValidationError) as caught:
        submit_tax(world, tax_id="DE#1", expires_on=None)
    assert caught.value.message_dict == {
        "tax_id": ["A tax ID has at most 40 letters and digits (hyphens, dots and slashes are fine)."],
        "expires_on": ["Enter the date the tax registration expires."],
    }
    assert TaxProfile.objects.count() == 0


def test_the_certificate_is_stored_and_its_type_checked(world):
    with pytest.raises(ValidationError) as caught:
        submit_tax(world, document=SimpleUploadedFile("cert.exe", b"MZ"))
    assert caught.value.message_dict == {
        "document": ["“cert.exe” is a program, not a document; accepted here: PDF, PNG, JPEG."]
    }
    with pytest.raises(ValidationError) as caught:
        submit_tax(world, document=SimpleUploadedFile("cert.pdf", b"<html><script>x()</script></html>"))
    assert caught.value.message_dict == {
        "document": [
            "“cert.pdf” is a web page or SVG image, which can carry scripts; these are not accepted. Save it as PDF "
            "and upload that."
        ]
    }
    certificate = files.pdf()
    profile = submit_tax(world, document=SimpleUploadedFile("cert.pdf", certificate, "application/pdf"))
    with profile.document.open("rb") as handle:
        assert handle.read() == certificate
    assert AuditEvent.objects.get(verb="tax_profile.submit").changes["document"] == [None, True]


# --- validation ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["payout", "tax"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_a_reviewer_or_program_manager_approves_a_profile(world, persona, kind):
    profile = submit_payout(world) if kind == "payout" else submit_tax(world)
    events = AuditEvent.objects.count()
    if persona not in {"reviewer", "program_manager"}:
        with pytest.raises(PermissionDenied):
            services.profile_approve(profile=profile, actor=actor(world, persona))
        profile.refresh_from_db()
        assert (profile.status, profile.validated_by, AuditEvent.objects.count()) == ("pending", None, events)
        return
    approved = services.profile_approve(profile=profile, actor=actor(world, persona))
    assert (approved.status, approved.validated_by) == ("approved", actor(world, persona))
    event = AuditEvent.objects.latest("id")
    assert (event.verb, event.changes) == (f"{kind}_profile.approve", {"status": ["pending", "approved"]})


@pytest.mark.parametrize("kind", ["payout", "tax"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_a_reviewer_or_program_manager_requests_action(world, persona, kind):
    enrollment = accepted(world)
    submit_payout(world)
    submit_tax(world)
    profile = PayoutProfile.objects.get() if kind == "payout" else TaxProfile.objects.get()
    events = AuditEvent.objects.count()
    if persona not in {"reviewer", "program_manager"}:
        with pytest.raises(PermissionDenied):
            services.profile_request_action(profile=profile, reason="Blurry scan.", actor=actor(world, persona))
        profile.refresh_from_db()
        enrollment.refresh_from_db()
        assert (profile.status, enrollment.status, AuditEvent.objects.count()) == ("pending", "reviewing", events)
        return
    services.profile_request_action(profile=profile, reason="The name differs from the bank's.", actor=world.reviewer)
    profile.refresh_from_db()
    enrollment.refresh_from_db()
    label = "payout" if kind == "payout" else "tax"
    assert (profile.status, profile.status_reason) == ("action_required", "The name differs from the bank's.")
    assert (enrollment.status, enrollment.status_reason) == (
        "action_required",
        f"Your {label} profile needs action: The name differs from the bank's.",
    )
    assert list(AuditEvent.objects.filter(id__gt=0).values_list("verb", flat=True)[:2]) == [
        "enrollment.reevaluate",
        f"{kind}_profile.request_action",
    ]


def test_requesting_action_needs_a_reason(world):
    profile = submit_payout(world)
    with pytest.raises(ValidationError) as caught:
        services.profile_request_action(profile=profile, reason="  ", actor=world.reviewer)
    assert caught.value.message_dict == {"reason": ["Say what the partner must fix, in words they will understand."]}
    profile.refresh_from_db()
    assert profile.status == "pending"


def test_the_partner_is_emailed_when_action_is_requested(world, mailoutbox, django_capture_on_commit_callbacks):
    profile = submit_tax(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.profile_request_action(profile=profile, reason="Certificate missing.", actor=world.reviewer)
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["ada.admin@fabrikam.example"], "Fabrikam Berlin: your tax profile needs action")
    ]
    assert "Certificate missing." in mailoutbox[0].body


def test_a_replaced_profile_cannot_be_validated(world):
    first = submit_payout(world)
    submit_payout(world)
    with pytest.raises(Conflict) as caught:
        services.profile_approve(profile=first, actor=world.reviewer)
    assert (caught.value.code, caught.value.message) == (
        "not_current",
        "This payout profile was replaced by a newer one; validate that one.",
    )


def test_a_profile_needing_action_is_fixed_by_a_new_one_not_by_approval(world):
    profile = submit_payout(world)
    services.profile_request_action(profile=profile, reason="Wrong holder.", actor=world.reviewer)
    with pytest.raises(Conflict) as caught:
        services.profile_approve(profile=profile, actor=world.reviewer)
    assert caught.value.code == "invalid_transition"


def test_an_expired_tax_profile_cannot_be_approved(world):
    profile = submit_tax(world)
    TaxProfile.objects.filter(pk=profile.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    with pytest.raises(Conflict) as caught:
        services.profile_approve(profile=profile, actor=world.reviewer)
    assert caught.value.code == "expired"


def test_no_audit_row_ever_holds_bank_details(world):
    enrollment = accepted(world)
    submit_payout(world, method="wire", currency="USD", account_number="", routing_code="")
    payout = submit_payout(world)
    services.profile_approve(profile=payout, actor=world.reviewer)
    services.profile_request_action(profile=payout, reason="Closed account.", actor=world.reviewer)
    assert enrollment.pk
    for event in AuditEvent.objects.all():
        text = f"{event.target_repr} {event.changes} {event.reason}"
        assert IBAN not in text
        assert BIC not in text
        assert "0532013000" not in text
