"""The sign-in API: an organisation's sign-in rules, identity providers, authenticators and their reset."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core import mail

from conftest import PERSONAS, api_status
from coopfunds.accounts.models import IdentityProvider
from coopfunds.audit.models import AuditEvent
from coopfunds.notifications.models import Notification

JSON = "application/json"
PROVIDER = {
    "protocol": "openid_connect",
    "key": "fabrikam-entra",
    "name": "Fabrikam staff",
    "url": "https://login.microsoftonline.com/fabrikam/v2.0",
    "client_id": "0f6a",
    "secret": "s3cret",
}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_read_and_set_an_organisations_rules(world, api_as, persona):
    url = f"/api/v1/organisations/{world.partner.pk}/sign-in-rules"
    expected = {"partner_admin": 200, "program_manager": 200, "other_admin": 404, "anonymous": 401}.get(persona, 403)
    body = {"sso_required": False, "mfa_required": True}
    assert api_as(persona).get(url).status_code == api_status(persona, "GET", url, expected)
    assert api_as(persona).put(url, body, content_type=JSON).status_code == api_status(persona, "PUT", url, expected)


@pytest.mark.django_db
def test_rules_are_set_and_refused_with_reasons(world, api_as):
    url = f"/api/v1/organisations/{world.partner.pk}/sign-in-rules"
    client = api_as("partner_admin")
    assert client.get(url).json() == {"organisation_id": world.partner.pk, "sso_required": False, "mfa_required": False}
    refused = client.put(url, {"sso_required": True, "mfa_required": False}, content_type=JSON)
    assert (refused.status_code, refused.json()["fields"]) == (
        422,
        {
            "sso_required": [
                "Fabrikam has no active identity provider; ask a program manager to add one before single sign-on "
                "is required."
            ]
        },
    )
    done = client.put(url, {"sso_required": False, "mfa_required": True}, content_type=JSON)
    assert done.json() == {"organisation_id": world.partner.pk, "sso_required": False, "mfa_required": True}
    assert client.put(url, {"sso_required": False}, content_type=JSON).status_code == 400
    vendor = f"/api/v1/organisations/{world.vendor.pk}/sign-in-rules"
    assert (
        api_as("program_manager")
        .put(vendor, {"sso_required": False, "mfa_required": True}, content_type=JSON)
        .json()["mfa_required"]
    )


@pytest.mark.django_db
def test_identity_providers_through_the_api(world, api_as):
    client = api_as("program_manager")
    created = client.post(
        "/api/v1/identity-providers", PROVIDER | {"organisation_id": world.partner.pk}, content_type=JSON
    )
    assert created.status_code == 201
    body = created.json()
    assert {k: v for k, v in body.items() if k not in {"id", "created_at"}} == {
        "organisation_id": world.partner.pk,
        "protocol": "openid_connect",
        "key": "fabrikam-entra",
        "name": "Fabrikam staff",
        "url": "https://login.microsoftonline.com/fabrikam/v2.0",
        "client_id": "0f6a",
        "has_secret": True,
        "creates_accounts": False,
        "domains": "",
        "is_active": True,
    }
    stored = IdentityProvider.objects.get()
    assert stored.secret == "s3cret"
    assert "s3cret" not in str(AuditEvent.objects.get(verb="identity_provider.create").changes)

    again = client.post(
        "/api/v1/identity-providers", PROVIDER | {"organisation_id": world.partner.pk}, content_type=JSON
    )
    assert (again.status_code, again.json()["fields"]) == (
        422,
        {"key": ["Another provider has the key “fabrikam-entra”."]},
    )
    bad = client.post(
        "/api/v1/identity-providers",
        PROVIDER | {"organisation_id": world.partner.pk, "key": "no spaces", "url": "ftp://x", "secret": ""},
        content_type=JSON,
    )
    assert (bad.status_code, bad.json()["fields"]) == (
        422,
        {
            "key": ["Use letters, digits and hyphens only, e.g. “contoso-entra”."],
            "url": ["Give the provider's address, starting with https:// (or http:// while developing)."],
            "secret": ["OpenID Connect needs the client secret the provider gave for Coopfunds."],
        },
    )
    missing = client.post("/api/v1/identity-providers", PROVIDER | {"organisation_id": 999999}, content_type=JSON)
    assert (missing.status_code, missing.json()["fields"]) == (422, {"organisation_id": ["No such organisation."]})

    url = f"/api/v1/identity-providers/{body['id']}"
    changed = client.patch(url, {"name": "Fabrikam people", "secret": "", "is_active": False}, content_type=JSON)
    assert (changed.json()["name"], changed.json()["is_active"], changed.json()["has_secret"]) == (
        "Fabrikam people",
        False,
        True,
    )
    stored.refresh_from_db()
    assert stored.secret == "s3cret"  # an empty secret keeps the old one
    assert [p["key"] for p in client.get("/api/v1/identity-providers").json()["results"]] == ["fabrikam-entra"]
    assert api_as("partner_admin").get(url).status_code == 403
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert list(
        AuditEvent.objects.filter(target_type="accounts.identityprovider").order_by("id").values_list("verb", flat=True)
    ) == ["identity_provider.create", "identity_provider.update", "identity_provider.delete"]


@pytest.mark.django_db
def test_authenticators_are_listed_and_reset_by_an_administrator(world, api_as, django_capture_on_commit_callbacks):
    TOTP.activate(world.partner_user, generate_totp_secret())
    assert api_as("partner_user").get("/api/v1/me/authenticators").json()[0]["type"] == "totp"
    listed = api_as("partner_admin").get(f"/api/v1/users/{world.partner_user.pk}/authenticators")
    assert [(a["type"], a["name"], a["last_used_at"]) for a in listed.json()] == [("totp", "", None)]
    assert api_as("other_admin").get(f"/api/v1/users/{world.partner_user.pk}/authenticators").status_code == 404

    own = api_as("partner_user").post(f"/api/v1/users/{world.partner_user.pk}/mfa-reset")
    assert own.status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        reset = api_as("partner_admin").post(f"/api/v1/users/{world.partner_user.pk}/mfa-reset")
    assert (reset.status_code, reset.json()) == (200, {"removed": 1})
    assert not Authenticator.objects.filter(user=world.partner_user).exists()
    assert Notification.objects.get(user=world.partner_user).subject == "A sign-in method was removed from your account"
    assert [m.subject for m in mail.outbox] == ["A sign-in method was removed from your account"]
    assert list(
        AuditEvent.objects.filter(target_id=str(world.partner_user.pk), target_type="accounts.user")
        .order_by("id")
        .values_list("verb", "actor_label")
    ) == [
        ("user.mfa_removed", "ada.admin@fabrikam.example"),
        ("user.mfa_reset", "ada.admin@fabrikam.example"),
    ]
    again = api_as("partner_admin").post(f"/api/v1/users/{world.partner_user.pk}/mfa-reset")
    assert (again.status_code, again.json()["code"]) == (409, "no_authenticator")
