"""Bank details are shown in full to the location's own incentives admins and to nobody else: not on any
page, not in the API, not in the admin, not in the audit table, not in a repr that could reach a log."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from conftest import PERSONAS
from coopfunds.accounts.models import User
from coopfunds.audit.models import AuditEvent
from coopfunds.enrollments import services
from coopfunds.enrollments.models import PayoutProfile
from coopfunds.enrollments.tests.helpers import BIC, IBAN, IBAN_SPACED, invited, submit_payout, submit_tax

pytestmark = pytest.mark.django_db

SECRETS = [IBAN, IBAN_SPACED, BIC, "0532013000"]


def leaked(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


@pytest.fixture
def profile(world) -> PayoutProfile:  # type: ignore[no-untyped-def]
    enrollment = services.enrollment_accept(enrollment=invited(world), actor=world.partner_admin)
    submit_tax(world)
    payout = submit_payout(world)
    assert enrollment.pk
    return payout


@pytest.mark.parametrize("persona", PERSONAS)
def test_pages_show_bank_details_to_the_locations_admin_only(world, as_persona, persona, profile):
    enrollment = world.location.enrollments.get()
    client = as_persona(persona)
    pages = [
        reverse("home"),
        reverse("enrollment_list"),
        reverse("enrollment_detail", args=[enrollment.pk]),
        reverse("payout_profile", args=[world.location.pk]),
        reverse("tax_profile", args=[world.location.pk]),
        reverse("validation_queue") + "?queue=payout",
        reverse("payout_profile_request_action", args=[profile.pk]),
    ]
    bodies = {url: client.get(url).content.decode() for url in pages}
    shown = {url: leaked(body) for url, body in bodies.items() if leaked(body)}
    if persona == "partner_admin":
        assert shown == {reverse("payout_profile", args=[world.location.pk]): [IBAN, BIC, "0532013000"]}
    else:
        assert shown == {}
    if persona in {"partner_user", "program_manager", "reviewer", "finance", "auditor"}:
        assert "•••• 3000" in bodies[reverse("payout_profile", args=[world.location.pk])]


def test_the_payout_page_is_never_cached(world, as_persona, profile):
    response = as_persona("partner_admin").get(reverse("payout_profile", args=[world.location.pk]))
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_api_shows_bank_details_to_the_locations_admin_only(world, as_persona, persona, profile):
    client = as_persona(persona)
    urls = [
        f"/api/v1/locations/{world.location.pk}/payout-profiles",
        f"/api/v1/payout-profiles/{profile.pk}",
        f"/api/v1/enrollments/{world.location.enrollments.get().pk}",
    ]
    bodies = {url: client.get(url).content.decode() for url in urls}
    shown = {url: leaked(body) for url, body in bodies.items() if leaked(body)}
    if persona == "partner_admin":
        assert shown == {urls[0]: [IBAN, BIC, "0532013000"], urls[1]: [IBAN, BIC, "0532013000"]}
        assert json.loads(bodies[urls[1]])["iban"] == IBAN
    else:
        assert shown == {}
    if persona not in {"other_admin", "anonymous"}:
        single = json.loads(bodies[urls[1]])
        assert single["masked_account"] == "•••• 3000"
        if persona != "partner_admin":
            assert (single["iban"], single["bic"], single["account_number"], single["routing_code"]) == (
                None,
                None,
                None,
                None,
            )


def test_a_validators_response_is_masked_too(world, as_persona, profile):
    response = as_persona("reviewer").post(f"/api/v1/payout-profiles/{profile.pk}/approve")
    assert response.status_code == 200
    assert leaked(response.content.decode()) == []


def test_the_admin_site_never_shows_bank_details(world, profile):
    superuser = User.objects.create_superuser(
        "root@contoso.example", "a long admin password", organisation=world.vendor
    )
    client = Client()
    client.force_login(superuser)
    pages = [
        reverse("admin:enrollments_payoutprofile_changelist"),
        reverse("admin:enrollments_payoutprofile_change", args=[profile.pk]),
        reverse("admin:enrollments_payoutprofile_changelist") + "?q=3000",
        reverse("admin:audit_auditevent_changelist"),
        reverse("admin:enrollments_enrollment_changelist"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert leaked(response.content.decode()) == [], url
    assert "•••• 3000" in client.get(pages[1]).content.decode()


def test_the_audit_table_never_holds_bank_details(world, profile):
    services.profile_request_action(profile=profile, reason="Wrong holder.", actor=world.reviewer)
    submit_payout(world, method="wire", currency="USD")
    rows = list(AuditEvent.objects.values_list("target_repr", "changes", "reason"))
    assert len(rows) == 10
    assert leaked(json.dumps(rows, ensure_ascii=False)) == []


def test_decrypted_values_never_show_in_a_repr(profile):
    fresh = PayoutProfile.objects.get(pk=profile.pk)
    assert (str(fresh.iban), repr(fresh.iban)) == (IBAN, "Secret('••••')")
