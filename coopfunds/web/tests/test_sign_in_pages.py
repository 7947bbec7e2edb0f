"""The pages of signing in: an organisation's sign-in rules, its identity providers, the sign-in page's providers,
a provider's own sign-in page, the sign-in security page in our frame, and an administrator's reset."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.exceptions import ImproperlyConfigured

from coopfunds.accounts import sso
from coopfunds.accounts.models import IdentityProvider

FORM = {
    "protocol": "openid_connect",
    "name": "Fabrikam staff",
    "key": "fabrikam-entra",
    "url": "https://login.microsoftonline.com/fabrikam/v2.0",
    "client_id": "0f6a",
    "secret": "s3cret",
}


@pytest.mark.django_db
def test_a_partner_admin_sets_the_rules_of_their_organisation(world, as_persona):
    client = as_persona("partner_admin")
    page = client.get(f"/organisations/{world.partner.pk}/sign-in/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "How people of Fabrikam sign in" in html
    assert "None yet: people sign in with their email and password." in html
    assert "Add an identity provider" not in html  # only program managers add providers
    assert as_persona("partner_user").get(f"/organisations/{world.partner.pk}/sign-in/").status_code == 403
    assert as_persona("other_admin").get(f"/organisations/{world.partner.pk}/sign-in/").status_code == 404
    refused = client.post(f"/organisations/{world.partner.pk}/sign-in/", {"sso_required": "on"})
    assert refused.status_code == 200
    assert refused.context["form"].errors == {
        "sso_required": [
            "Fabrikam has no active identity provider; ask a program manager to add one before single sign-on is "
            "required."
        ]
    }
    saved = client.post(f"/organisations/{world.partner.pk}/sign-in/", {"mfa_required": "on"})
    assert saved["Location"] == f"/organisations/{world.partner.pk}/sign-in/"
    world.partner.refresh_from_db()
    assert (world.partner.sso_required, world.partner.mfa_required) == (False, True)


@pytest.mark.django_db
def test_a_program_manager_adds_changes_and_removes_a_provider(world, as_persona):
    client = as_persona("program_manager")
    form = client.get(f"/organisations/{world.partner.pk}/identity-providers/new/")
    assert "/accounts/oidc/&lt;key&gt;/login/callback/" in form.content.decode()
    bad = client.post(f"/organisations/{world.partner.pk}/identity-providers/new/", FORM | {"secret": "", "key": "a b"})
    assert bad.context["form"].errors == {
        "key": ["Use letters, digits and hyphens only, e.g. “contoso-entra”."],
        "secret": ["OpenID Connect needs the client secret the provider gave for Coopfunds."],
    }
    added = client.post(f"/organisations/{world.partner.pk}/identity-providers/new/", FORM)
    assert added["Location"] == f"/organisations/{world.partner.pk}/sign-in/"
    provider = IdentityProvider.objects.get()
    page = client.get(f"/organisations/{world.partner.pk}/sign-in/").content.decode()
    assert "http://testserver/login/sso/fabrikam-entra/" in page  # the page to give its people
    edit = client.get(f"/identity-providers/{provider.pk}/")
    assert "s3cret" not in edit.content.decode()
    client.post(
        f"/identity-providers/{provider.pk}/", FORM | {"secret": "", "name": "Fabrikam people", "is_active": "on"}
    )
    provider.refresh_from_db()
    assert (provider.name, provider.secret, provider.is_active) == ("Fabrikam people", "s3cret", True)
    assert "Fabrikam people" in client.get("/identity-providers/").content.decode()
    assert as_persona("partner_admin").get(f"/identity-providers/{provider.pk}/").status_code == 404
    assert as_persona("reviewer").get("/identity-providers/").status_code == 403
    client.post(f"/identity-providers/{provider.pk}/delete/")
    assert not IdentityProvider.objects.exists()


@pytest.mark.django_db
def test_the_sign_in_page_offers_the_vendors_providers_and_a_partners_have_a_page_of_their_own(world, client):
    for organisation, key, name in ((world.vendor, "contoso-entra", "Contoso staff"), (world.partner, "fab", "Fab")):
        sso.identity_provider_create(
            organisation=organisation,
            protocol="openid_connect",
            key=key,
            name=name,
            url="https://idp.example/",
            client_id="c",
            secret="s",
            actor=world.program_manager,
        )
    html = client.get("/login/").content.decode()
    assert '<form method="post" action="/accounts/oidc/contoso-entra/login/">' in html
    assert "Sign in with Contoso staff" in html
    assert "Sign in with Fab" not in html
    own = client.get("/login/sso/fab/").content.decode()
    assert "People of Fabrikam sign in through their organisation's identity provider." in own
    assert '<form method="post" action="/accounts/oidc/fab/login/">' in own
    assert client.get("/login/sso/nobody/").status_code == 404


@pytest.mark.django_db
def test_providers_from_the_servers_settings_belong_to_the_vendor(world, client, settings, as_persona):
    settings.SSO_PROVIDERS = '[{"key": "entra", "name": "Contoso Entra", "url": "https://login.example/v2.0", "client_id": "x", "secret": "y"}]'
    assert [(p.key, p.organisation) for p in sso.providers_active()] == [("entra", world.vendor)]
    assert "Sign in with Contoso Entra" in client.get("/login/").content.decode()
    taken = as_persona("program_manager").post(
        f"/organisations/{world.partner.pk}/identity-providers/new/", FORM | {"key": "entra"}
    )
    assert taken.context["form"].errors == {"key": ["The key “entra” is taken by a provider of the server's settings."]}
    settings.SSO_PROVIDERS = '[{"name": "no key"}]'
    with pytest.raises(ImproperlyConfigured, match=r"SSO_PROVIDERS, provider 1: key, url missing\."):
        sso.providers_active()


@pytest.mark.django_db
def test_the_sign_in_security_page_is_in_our_frame(world, as_persona):
    page = as_persona("partner_user").get("/accounts/2fa/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'href="/accounts/2fa/totp/activate/"' in html
    assert "Sign-in security" in html
    assert "Fabrikam" in html


@pytest.mark.django_db
def test_an_administrator_resets_someones_second_step(world, as_persona):
    TOTP.activate(world.partner_user, generate_totp_secret())
    client = as_persona("partner_admin")
    page = client.get(f"/users/{world.partner_user.pk}/").content.decode()
    assert "Authenticator app" in page
    assert "Reset the second step" in page
    done = client.post(f"/users/{world.partner_user.pk}/mfa-reset/", follow=True)
    assert "1 authenticator of uma.user@fabrikam.example is removed" in done.content.decode()
    assert not Authenticator.objects.filter(user=world.partner_user).exists()
    assert (
        "Reset the second step"
        not in as_persona("partner_user").get(f"/users/{world.partner_user.pk}/").content.decode()
    )
    assert as_persona("other_admin").post(f"/users/{world.partner_user.pk}/mfa-reset/").status_code == 404


@pytest.mark.django_db
def test_the_pages_of_signing_in_speak_swedish(world, as_persona, client):
    world.partner_user.language = "sv"
    world.partner_user.save(update_fields=["language"])
    html = as_persona("partner_user").get("/accounts/2fa/").content.decode()
    assert "Inloggningssäkerhet" in html  # ours
    assert "Tvåfaktorsautentisering" in html  # django-allauth's own Swedish
    refused = as_persona("partner_admin").get(
        f"/organisations/{world.partner.pk}/sign-in/", headers={"Accept-Language": "sv"}
    )
    assert "Hur personer i Fabrikam loggar in" in refused.content.decode()
