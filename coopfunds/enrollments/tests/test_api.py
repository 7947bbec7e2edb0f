"""The API: every endpoint for every persona, error shapes, bad input, paging, and token authentication."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from conftest import PERSONAS
from coopfunds.accounts.services import api_token_create
from coopfunds.audit.models import AuditEvent
from coopfunds.documents.tests import files
from coopfunds.enrollments import services
from coopfunds.enrollments.models import Enrollment, EnrollmentStatus, PayoutProfile, TaxProfile
from coopfunds.enrollments.tests.helpers import IBAN, branches, in_a_year, invited, reviewing, submit_payout, submit_tax

pytestmark = pytest.mark.django_db

API = "/api/v1"
VENDOR = {"program_manager", "reviewer", "finance", "auditor"}
SEES_FABRIKAM_BERLIN = {"partner_admin", "partner_user", *VENDOR}
VALIDATORS = {"reviewer", "program_manager"}
PAYOUT = {
    "method": "sepa",
    "currency": "EUR",
    "beneficiary_name": "Fabrikam GmbH",
    "bank_name": "Commerzbank",
    "bank_country": "DE",
    "iban": IBAN,
    "bic": "COBADEFFXXX",
}


def expected(persona: str, *, allowed: set[str], ok: int = 200, visible: set[str] = SEES_FABRIKAM_BERLIN) -> int:
    if persona == "anonymous":
        return 401
    if persona not in visible and not (persona == "other_admin" and allowed <= VENDOR):
        return 404
    return ok if persona in allowed else 403  # a partner on a vendor staff operation: the role table's 403


def post(client: Client, url: str, data: dict | None = None):  # type: ignore[no-untyped-def]
    return client.post(API + url, json.dumps(data or {}), content_type="application/json")


def field_names(response) -> set[str]:  # type: ignore[no-untyped-def]
    """The invalid fields of a schema error, without the body parameter's name ("data.currency" -> "currency")."""
    return {name.rsplit(".", 1)[-1] for name in response.json()["fields"]}


def state() -> tuple:
    return (
        list(Enrollment.objects.values_list("status", "status_reason").order_by("id")),
        list(PayoutProfile.objects.values_list("id", "status", "is_current").order_by("id")),
        list(TaxProfile.objects.values_list("id", "status", "is_current").order_by("id")),
        AuditEvent.objects.count(),
    )


def check(response, code: int, before: tuple) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == code, response.content
    if code >= 400:
        assert state() == before
        assert set(response.json()) == {"code", "message", "fields"}


# --- reads -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_reading_enrollments_and_profiles(world, as_persona, persona):
    for location in (world.location, world.second_location, world.other_location):
        invited(world, location)
    mine = Enrollment.objects.get(location=world.location)
    payout, tax = (
        submit_payout(world),
        submit_tax(world, document=SimpleUploadedFile("c.pdf", files.pdf(), "application/pdf")),
    )
    client = as_persona(persona)
    everyone = set(PERSONAS)
    answers = {
        url: client.get(API + url).status_code
        for url in [
            "/enrollments",
            f"/enrollments/{mine.pk}",
            f"/locations/{world.location.pk}/payout-profiles",
            f"/locations/{world.location.pk}/tax-profiles",
            f"/payout-profiles/{payout.pk}",
            f"/tax-profiles/{tax.pk}",
            f"/tax-profiles/{tax.pk}/document",
        ]
    }
    visible = expected(persona, allowed=everyone)
    assert answers == {
        "/enrollments": 401 if persona == "anonymous" else 200,
        f"/enrollments/{mine.pk}": visible,
        f"/locations/{world.location.pk}/payout-profiles": visible,
        f"/locations/{world.location.pk}/tax-profiles": visible,
        f"/payout-profiles/{payout.pk}": visible,
        f"/tax-profiles/{tax.pk}": visible,
        f"/tax-profiles/{tax.pk}/document": visible,
    }
    if persona != "anonymous":
        listed = {row["partner_id"] for row in client.get(API + "/enrollments").json()["results"]}
        expected_ids = {
            "partner_admin": {"FAB-001", "FAB-002"},
            "partner_user": {"FAB-001"},
            "other_admin": {"NW-001"},
        }.get(persona, {"FAB-001", "FAB-002", "NW-001"})
        assert listed == expected_ids


def test_an_enrollment_reads_in_full(world, as_persona):
    enrollment = services.enrollment_accept(enrollment=invited(world), actor=world.partner_admin)
    body = as_persona("partner_user").get(f"{API}/enrollments/{enrollment.pk}").json()
    assert {k: body[k] for k in body if not k.endswith("_at")} == {
        "id": enrollment.pk,
        "location_id": world.location.pk,
        "location_name": "Fabrikam Berlin",
        "partner_id": "FAB-001",
        "program_id": world.program.pk,
        "program_code": "coop",
        "status": "action_required",
        "status_label": "Action required",
        "status_reason": "Add a payout profile (the bank account to pay). Add a tax profile.",
        "earnings_start": None,
    }


def test_the_list_filters_and_pages_by_cursor(world, as_persona):
    locations = branches(world, 60)
    Enrollment.objects.bulk_create(
        Enrollment(location=loc, program=world.program, status=EnrollmentStatus.INVITED) for loc in locations
    )
    Enrollment.objects.filter(location=locations[7]).update(status=EnrollmentStatus.INACTIVE)
    client = as_persona("auditor")
    first = client.get(API + "/enrollments").json()
    assert len(first["results"]) == 50
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 10
    assert second["next"] is None
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert ids == sorted(ids)
    assert len(set(ids)) == 60
    only = client.get(API + "/enrollments", {"status": "inactive", "program_id": world.program.pk}).json()
    assert [row["location_name"] for row in only["results"]] == ["Branch 07"]
    by_location = client.get(API + "/enrollments", {"location_id": locations[3].pk}).json()
    assert [row["location_name"] for row in by_location["results"]] == ["Branch 03"]
    bad = client.get(API + "/enrollments", {"status": "nonsense"})
    assert bad.status_code == 400
    assert field_names(bad) == {"status"}


def test_a_personal_token_authenticates(world):
    invited(world)
    _, token = api_token_create(name="ERP", actor=world.partner_user)
    response = Client().get(API + "/enrollments", headers={"Authorization": f"Bearer {token}"})
    assert [row["partner_id"] for row in response.json()["results"]] == ["FAB-001"]
    assert Client().get(API + "/enrollments", headers={"Authorization": "Bearer cf_wrong"}).status_code == 401


# --- enrollment verbs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_inviting(world, as_persona, persona):
    before = state()
    response = post(
        as_persona(persona), "/enrollments", {"location_id": world.location.pk, "program_id": world.program.pk}
    )
    code = expected(persona, allowed={"program_manager"}, ok=201)
    check(response, code, before)  # other_admin, a partner: refused by role before the location is looked up
    if code == 201:
        assert response.json()["status"] == "invited"


def test_inviting_bad_input_is_field_errors(world, as_persona):
    client = as_persona("program_manager")
    invited(world)
    duplicate = post(client, "/enrollments", {"location_id": world.location.pk, "program_id": world.program.pk})
    assert (duplicate.status_code, duplicate.json()) == (
        422,
        {
            "code": "invalid",
            "message": "Some fields are not valid: location.",
            "fields": {"location": ["Fabrikam Berlin (FAB-001) already has an enrollment in Cloud Co-op (Invited)."]},
        },
    )
    unknown = post(client, "/enrollments", {"location_id": world.location.pk, "program_id": 999999})
    assert unknown.json()["fields"] == {"program_id": ["No program with this id."]}
    malformed = post(client, "/enrollments", {"location_id": "abc"})
    assert malformed.status_code == 400
    assert field_names(malformed) == {"location_id", "program_id"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_accepting(world, as_persona, persona):
    enrollment = invited(world)
    before = state()
    response = post(as_persona(persona), f"/enrollments/{enrollment.pk}/accept")
    check(response, expected(persona, allowed={"partner_admin"}), before)


@pytest.mark.parametrize("persona", PERSONAS)
def test_approving(world, as_persona, persona):
    enrollment = reviewing(world)
    before = state()
    response = post(as_persona(persona), f"/enrollments/{enrollment.pk}/approve")
    check(response, expected(persona, allowed=VALIDATORS), before)
    if response.status_code == 200:
        assert response.json()["status"] == "enrolled"
        assert response.json()["earnings_start"] is not None


def test_approving_out_of_turn_is_a_conflict(world, as_persona):
    enrollment = invited(world)
    response = post(as_persona("reviewer"), f"/enrollments/{enrollment.pk}/approve")
    assert (response.status_code, response.json()) == (
        409,
        {
            "code": "invalid_transition",
            "message": "Only an enrollment under review can be approved; this one is Invited.",
            "fields": {},
        },
    )


@pytest.mark.parametrize("persona", PERSONAS)
def test_setting_status_and_reactivating(world, as_persona, persona):
    enrollment = invited(world)
    client = as_persona(persona)
    before = state()
    response = post(client, f"/enrollments/{enrollment.pk}/set-status", {"status": "inactive", "reason": "Dormant."})
    code = expected(persona, allowed={"program_manager"})
    check(response, code, before)
    if code != 200:
        services.enrollment_set_status(
            enrollment=enrollment, status="inactive", reason="x", actor=world.program_manager
        )
    before = state()
    check(post(client, f"/enrollments/{enrollment.pk}/reactivate"), code, before)


def test_set_status_bad_input_is_field_errors(world, as_persona):
    enrollment = invited(world)
    response = post(
        as_persona("program_manager"), f"/enrollments/{enrollment.pk}/set-status", {"status": "x", "reason": ""}
    )
    assert (response.status_code, response.json()["fields"]) == (
        400,
        {
            "status": ["Input should be 'inactive', 'ineligible' or 'no_longer_supported'"],
            "reason": ["Write something here: it cannot be empty or only spaces."],
        },
    )


# --- profiles --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_submitting_a_payout_profile(world, as_persona, persona):
    before = state()
    response = post(as_persona(persona), f"/locations/{world.location.pk}/payout-profiles", PAYOUT)
    check(response, expected(persona, allowed={"partner_admin"}, ok=201), before)
    if response.status_code == 201:
        body = response.json()
        assert (body["status"], body["masked_account"], body["iban"], body["is_current"]) == (
            "pending",
            "•••• 3000",
            IBAN,
            True,
        )


def test_payout_profile_bad_input_is_field_errors(world, as_persona):
    client = as_persona("partner_admin")
    url = f"/locations/{world.location.pk}/payout-profiles"
    response = post(client, url, {**PAYOUT, "iban": "DE89370400440532013001", "currency": "XXY"})
    assert response.status_code == 422
    assert response.json()["fields"] == {
        "currency": ["“XXY” is not an ISO 4217 currency code (for example USD, EUR, GBP)."],
        "iban": ["This IBAN's check digits do not match the rest of it: check it for typing mistakes."],
    }
    wrong_country = post(client, url, {**PAYOUT, "bank_country": "FR", "bic": ""})
    assert wrong_country.json()["fields"] == {
        "iban": ["This IBAN is for an account in Germany (DE), but the bank country is France (FR)."]
    }
    missing = post(client, url, {"method": "sepa"})
    assert field_names(missing) == {"currency", "beneficiary_name", "bank_country"}
    assert PayoutProfile.objects.count() == 0


@pytest.mark.parametrize("persona", PERSONAS)
def test_submitting_a_tax_profile_with_its_certificate(world, as_persona, persona):
    before = state()
    data = {
        "country": "DE",
        "tax_id": "DE123456789",
        "legal_name": "Fabrikam GmbH",
        "expires_on": in_a_year().isoformat(),
        "document": SimpleUploadedFile("cert.pdf", b"%PDF-1.7", "application/pdf"),
    }
    response = as_persona(persona).post(f"{API}/locations/{world.location.pk}/tax-profiles", data)
    check(response, expected(persona, allowed={"partner_admin"}, ok=201), before)
    if response.status_code == 201:
        assert (response.json()["has_document"], response.json()["tax_id"]) == (True, "DE123456789")


def test_tax_profile_bad_input_is_field_errors(world, as_persona):
    data = {"country": "DE", "tax_id": "DE1", "legal_name": "Fabrikam GmbH", "expires_on": "2020-01-01"}
    response = as_persona("partner_admin").post(f"{API}/locations/{world.location.pk}/tax-profiles", data)
    assert response.status_code == 422
    assert response.json()["fields"] == {
        "expires_on": ["The expiry date must be in the future: an expired registration cannot be used."]
    }
    not_a_date = as_persona("partner_admin").post(
        f"{API}/locations/{world.location.pk}/tax-profiles", {**data, "expires_on": "soon"}
    )
    assert (not_a_date.status_code, field_names(not_a_date)) == (400, {"expires_on"})


@pytest.mark.parametrize("kind", ["payout", "tax"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_validating_a_profile(world, as_persona, persona, kind):
    client = as_persona(persona)
    code = expected(persona, allowed=VALIDATORS)
    profile = submit_payout(world) if kind == "payout" else submit_tax(world)
    before = state()
    check(post(client, f"/{kind}-profiles/{profile.pk}/request-action", {"reason": "Blurry."}), code, before)
    fresh = submit_payout(world) if kind == "payout" else submit_tax(world)
    before = state()
    response = post(client, f"/{kind}-profiles/{fresh.pk}/approve")
    check(response, code, before)
    if code == 200:
        assert response.json()["status"] == "approved"


def test_request_action_needs_a_reason(world, as_persona):
    profile = submit_tax(world)
    response = post(as_persona("reviewer"), f"/tax-profiles/{profile.pk}/request-action", {"reason": ""})
    assert (response.status_code, response.json()["fields"]) == (
        400,
        {"reason": ["Write something here: it cannot be empty or only spaces."]},
    )
