"""Single sign-on against a real OpenID Connect provider (django-oauth-toolkit in its own process on loopback,
`coopfunds.testing.oidc_provider`): signing in, matching by verified email within the provider's organisation,
refusals, just-in-time accounts, the single-sign-on rule, and what is audited."""

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from coopfunds.accounts import services, sso
from coopfunds.accounts.models import IdentityProvider, RoleAssignment, User
from coopfunds.audit.models import AuditEvent
from coopfunds.core.errors import Conflict
from coopfunds.testing import PASSWORD
from coopfunds.testing.oidc_provider import Provider, running_provider

KEY = "fabrikam-idp"
CALLBACK = f"http://testserver/accounts/oidc/{KEY}/login/callback/"
IDP_PASSWORD = "the provider's own password"
PEOPLE: list[dict[str, Any]] = [
    {"email": "ada.admin@fabrikam.example", "password": IDP_PASSWORD, "name": "Ada Admin"},
    {"email": "Uma.User@Fabrikam.example", "password": IDP_PASSWORD, "name": "Uma User"},
    {"email": "nina.new@fabrikam.example", "password": IDP_PASSWORD, "name": "Nina New"},
    {"email": "olga.admin@northwind.example", "password": IDP_PASSWORD, "name": "Olga (another partner)"},
    {"email": "uma.user@fabrikam.example.unverified", "password": IDP_PASSWORD, "name": "x"},
    {"email": "vic.unverified@fabrikam.example", "password": IDP_PASSWORD, "name": "Vic", "verified": False},
]


@pytest.fixture(scope="module")
def idp() -> Provider:  # type: ignore[misc]
    with running_provider(PEOPLE, [CALLBACK]) as provider:
        yield provider


@pytest.fixture
def fabrikam_idp(world, idp):  # type: ignore[no-untyped-def]
    return sso.identity_provider_create(
        organisation=world.partner,
        protocol=IdentityProvider.Protocol.OIDC,
        key=KEY,
        name="Fabrikam staff",
        url=idp.url,
        client_id=idp.client_id,
        secret=idp.secret,
        actor=world.program_manager,
    )


def sso_sign_in(client: Client, idp: Provider, email: str):  # type: ignore[no-untyped-def]
    """What a browser does: start at Coopfunds, sign in at the provider, come back with its code."""
    start = client.post(f"/accounts/oidc/{KEY}/login/")
    assert start.status_code == 302, start.content
    authorize = start["Location"]
    assert authorize.startswith(f"{idp.url}/authorize/")
    browser = idp.signed_in(email, IDP_PASSWORD)
    try:
        answer = browser.get(authorize)
    finally:
        browser.close()
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    return client.get(back.path, query_params=dict(pair.split("=", 1) for pair in back.query.split("&")))


def signed_in_as(client: Client) -> str | None:
    response = client.get("/api/v1/me")
    return response.json()["email"] if response.status_code == 200 else None


@pytest.mark.django_db
def test_a_partner_signs_in_through_their_organisations_provider(world, idp, fabrikam_idp):
    client = Client()
    response = sso_sign_in(client, idp, "ada.admin@fabrikam.example")
    assert (response.status_code, response["Location"]) == (302, "/")
    assert signed_in_as(client) == "ada.admin@fabrikam.example"
    assert "Fabrikam Berlin" in client.get("/locations/").content.decode()
    # linked once, then signed in by the provider's subject
    assert list(
        AuditEvent.objects.filter(target_type="accounts.user", target_id=str(world.partner_admin.pk)).values_list(
            "verb", "changes"
        )
    ) == [
        ("user.sign_in", {"method": [None, "sso"], "provider": [None, KEY]}),
        ("user.sso_linked", {"provider": [None, KEY]}),
    ]
    again = Client()
    assert sso_sign_in(again, idp, "ada.admin@fabrikam.example").status_code == 302
    assert signed_in_as(again) == "ada.admin@fabrikam.example"
    assert AuditEvent.objects.filter(verb="user.sso_linked").count() == 1


@pytest.mark.django_db
def test_the_email_is_matched_whatever_its_capitals(world, idp, fabrikam_idp):
    client = Client()
    assert sso_sign_in(client, idp, "Uma.User@Fabrikam.example").status_code == 302
    assert signed_in_as(client) == "uma.user@fabrikam.example"


@pytest.mark.django_db
def test_an_unverified_email_is_refused(world, idp, fabrikam_idp):
    User.objects.create_user("vic.unverified@fabrikam.example", PASSWORD, organisation=world.partner)
    client = Client()
    response = sso_sign_in(client, idp, "vic.unverified@fabrikam.example")
    assert response.status_code == 403
    assert (
        "Fabrikam staff did not confirm your email address, so it cannot be matched to an account."
        in response.content.decode()
    )
    assert signed_in_as(client) is None
    event = AuditEvent.objects.get(verb="user.sign_in_failed")
    assert (event.actor_label, event.target_repr, event.reason, event.changes) == (
        "system",  # a failure is nobody's act: anyone may have typed the address
        "vic.unverified@fabrikam.example",
        "unverified_email",
        {"provider": [None, KEY]},
    )


@pytest.mark.django_db
def test_a_provider_signs_in_only_people_of_its_own_organisation(world, idp, fabrikam_idp):
    client = Client()
    response = sso_sign_in(client, idp, "olga.admin@northwind.example")  # a Northwind account
    assert response.status_code == 403
    # said as for an address with no account: the provider learns nothing of other organisations' people
    assert (
        "There is no account for olga.admin@northwind.example at Fabrikam. Ask an administrator of your "
        "organisation to invite you." in response.content.decode()
    )
    assert signed_in_as(client) is None
    assert AuditEvent.objects.get(verb="user.sign_in_failed").reason == "other_org"


@pytest.mark.django_db
def test_no_account_is_made_unless_the_provider_creates_accounts(world, idp, fabrikam_idp):
    client = Client()
    response = sso_sign_in(client, idp, "nina.new@fabrikam.example")
    assert response.status_code == 403
    assert (
        "There is no account for nina.new@fabrikam.example at Fabrikam. Ask an administrator of your organisation "
        "to invite you." in response.content.decode()
    )
    assert not User.objects.filter(email="nina.new@fabrikam.example").exists()

    sso.identity_provider_update(
        provider=fabrikam_idp,
        values={"creates_accounts": True, "domains": "fabrikam.example"},
        actor=world.program_manager,
    )
    client = Client()
    assert sso_sign_in(client, idp, "nina.new@fabrikam.example").status_code == 302
    nina = User.objects.get(email="nina.new@fabrikam.example")
    assert (nina.organisation, nina.full_name, nina.has_usable_password()) == (world.partner, "Nina New", False)
    assert not RoleAssignment.objects.filter(user=nina).exists()  # a provider never grants a role
    assert signed_in_as(client) == "nina.new@fabrikam.example"
    assert list(
        AuditEvent.objects.filter(target_type="accounts.user", target_id=str(nina.pk)).values_list("verb", flat=True)
    ) == [
        "user.sign_in",
        "user.sso_created",
    ]


@pytest.mark.django_db
def test_when_single_sign_on_is_required_a_password_no_longer_signs_in(world, idp, fabrikam_idp):
    open_session = Client()
    assert (
        open_session.post("/login/", {"login": "ada.admin@fabrikam.example", "password": PASSWORD}).status_code == 302
    )
    assert signed_in_as(open_session) == "ada.admin@fabrikam.example"

    sso.sign_in_rules_set(organisation=world.partner, sso_required=True, mfa_required=False, actor=world.partner_admin)

    refused = Client().post("/login/", {"login": "ada.admin@fabrikam.example", "password": PASSWORD})
    assert refused.status_code == 403
    page = refused.content.decode()
    assert "Fabrikam signs its people in through its identity provider only." in page
    assert f'action="/accounts/oidc/{KEY}/login/"' in page
    # the session opened with a password ends at its next page
    response = open_session.get("/locations/")
    assert (response.status_code, response["Location"]) == (302, "/login/")
    assert signed_in_as(open_session) is None
    # the provider still signs her in; other organisations keep their passwords
    client = Client()
    assert sso_sign_in(client, idp, "ada.admin@fabrikam.example").status_code == 302
    assert client.get("/locations/").status_code == 200
    assert Client().post("/login/", {"login": "olga.admin@northwind.example", "password": PASSWORD}).status_code == 302
    assert AuditEvent.objects.get(verb="user.sign_in_failed").reason == "single sign-on is required"


@pytest.mark.django_db
def test_an_inactive_provider_signs_nobody_in(world, idp, fabrikam_idp):
    sso.identity_provider_update(provider=fabrikam_idp, values={"is_active": False}, actor=world.program_manager)
    response = Client().post(f"/accounts/oidc/{KEY}/login/")
    assert response.status_code == 404


@pytest.mark.django_db
def test_an_account_a_provider_made_is_not_an_invitation(world, idp, fabrikam_idp, api_as):
    sso.identity_provider_update(
        provider=fabrikam_idp,
        values={"creates_accounts": True, "domains": "fabrikam.example"},
        actor=world.program_manager,
    )
    assert sso_sign_in(Client(), idp, "nina.new@fabrikam.example").status_code == 302
    nina = User.objects.get(email="nina.new@fabrikam.example")
    listed = api_as("partner_admin").get(f"/api/v1/users/{nina.pk}").json()
    assert listed["invitation_pending"] is False
    with pytest.raises(Conflict, match=r"nina\.new@fabrikam\.example signs in through their organisation's identity"):
        services.user_resend_invitation(user=nina, actor=world.partner_admin)
    admin = Client()
    admin.force_login(world.partner_admin)
    page = admin.get(f"/users/{nina.pk}/").content.decode()
    assert "has not chosen a password yet" not in page
    assert "Send the invitation again" not in page
    assert KEY in page  # the provider that signs her in


@pytest.mark.django_db
def test_a_provider_creates_accounts_only_for_its_domains(world, idp, fabrikam_idp):
    with pytest.raises(ValidationError) as refused:
        sso.identity_provider_update(
            provider=fabrikam_idp, values={"creates_accounts": True}, actor=world.program_manager
        )
    assert refused.value.message_dict == {
        "domains": ["Name the organisation's email domains: a provider creates accounts only for them."]
    }
    sso.identity_provider_update(
        provider=fabrikam_idp, values={"creates_accounts": True, "domains": "fabrikam.com"}, actor=world.program_manager
    )
    response = sso_sign_in(Client(), idp, "nina.new@fabrikam.example")  # fabrikam.example is not among them
    assert response.status_code == 403
    assert not User.objects.filter(email="nina.new@fabrikam.example").exists()
    assert AuditEvent.objects.get(verb="user.sign_in_failed").reason == "no_account"


@pytest.mark.django_db
def test_pointing_a_provider_elsewhere_forgets_whom_it_signed_in(world, idp, fabrikam_idp):
    assert sso_sign_in(Client(), idp, "ada.admin@fabrikam.example").status_code == 302
    assert sso.providers_linked_to(world.partner_admin) == [KEY]
    sso.identity_provider_update(provider=fabrikam_idp, values={"name": "Fabrikam people"}, actor=world.program_manager)
    assert sso.providers_linked_to(world.partner_admin) == [KEY]  # a new name is the same provider
    sso.identity_provider_update(provider=fabrikam_idp, values={"url": idp.url + "/"}, actor=world.program_manager)
    assert sso.providers_linked_to(world.partner_admin) == []
    change = AuditEvent.objects.filter(verb="identity_provider.update").order_by("id").last()
    assert change.changes == {"url": [idp.url, idp.url + "/"], "linked_people": [1, 0]}


@pytest.mark.django_db
def test_an_organisation_that_requires_single_sign_on_keeps_a_provider(world, idp, fabrikam_idp):
    sso.sign_in_rules_set(organisation=world.partner, sso_required=True, mfa_required=False, actor=world.partner_admin)
    message = (
        "Fabrikam requires single sign-on and Fabrikam staff is its only active identity provider: turn the rule "
        "off first, or add another provider."
    )
    with pytest.raises(ValidationError) as off:
        sso.identity_provider_update(provider=fabrikam_idp, values={"is_active": False}, actor=world.program_manager)
    assert off.value.message_dict == {"is_active": [message]}
    with pytest.raises(ValidationError) as removed:
        sso.identity_provider_delete(provider=fabrikam_idp, actor=world.program_manager)
    assert removed.value.message_dict == {"is_active": [message]}
    assert IdentityProvider.objects.filter(is_active=True).count() == 1


@pytest.mark.django_db
def test_a_signed_in_person_cannot_connect_a_provider_to_their_account(world, idp, fabrikam_idp):
    client = Client()
    client.force_login(world.other_admin)  # Northwind
    start = client.post(f"/accounts/oidc/{KEY}/login/", {"process": "connect"})
    browser = idp.signed_in("ada.admin@fabrikam.example", IDP_PASSWORD)
    try:
        answer = browser.get(start["Location"])
    finally:
        browser.close()
    back = urlsplit(answer.headers["Location"])
    response = client.get(back.path, query_params=dict(pair.split("=", 1) for pair in back.query.split("&")))
    assert response.status_code == 403
    assert "Sign out first, then sign in here." in response.content.decode()
    assert sso.providers_linked_to(world.other_admin) == []
    assert sso.providers_linked_to(world.partner_admin) == []


@pytest.mark.django_db
def test_a_key_is_never_the_name_of_a_protocol(world):
    for key in ("saml", "openid_connect"):
        with pytest.raises(ValidationError) as refused:
            sso.identity_provider_create(
                organisation=world.partner,
                protocol="openid_connect",
                key=key,
                name="x",
                url="https://idp.example/",
                client_id="c",
                secret="s",
                actor=world.program_manager,
            )
        assert refused.value.message_dict == {
            "key": [f"“{key}” is a word of the sign-in addresses; choose another key."]
        }
    assert Client().post("/accounts/oidc/saml/login/").status_code == 404
    assert Client().get("/accounts/saml/anything/sls/").status_code == 404
