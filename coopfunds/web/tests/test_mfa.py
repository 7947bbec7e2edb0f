"""Multi-factor sign-in: TOTP with real codes (pyotp computes them from the secret the page shows), recovery
codes, a WebAuthn security key (a software authenticator signing real assertions), the organisation's rule that
requires a second step, and what is audited and told."""

import json
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core import mail
from django.test import Client

from coopfunds.accounts import services, sso
from coopfunds.accounts.models import IdentityProvider
from coopfunds.audit.models import AuditEvent
from coopfunds.notifications.models import Notification
from coopfunds.testing import PASSWORD
from coopfunds.testing.webauthn import SoftAuthenticator, page_options

EMAIL = "ada.admin@fabrikam.example"
ORIGIN = "http://testserver"


def password_sign_in(client: Client, email: str = EMAIL):  # type: ignore[no-untyped-def]
    return client.post("/login/", {"login": email, "password": PASSWORD})


def verbs(user) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    rows = AuditEvent.objects.filter(target_type="accounts.user", target_id=str(user.pk)).order_by("id")
    return [(row.verb, row.changes) for row in rows]


def confirm_password(client: Client, path: str) -> None:
    """Changing one's authenticators asks for the password again (allauth's reauthentication), then goes on."""
    asked = client.get(path)
    assert (asked.status_code, asked["Location"]) == (302, f"/accounts/reauthenticate/?next={path.replace('/', '%2F')}")
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302


def add_totp(client: Client, capture) -> pyotp.TOTP:  # type: ignore[no-untyped-def]
    confirm_password(client, "/accounts/2fa/totp/activate/")
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    totp = pyotp.TOTP(page.context["form"].secret)
    assert page.context["form"].secret in page.content.decode()  # shown, to type into an app by hand
    wrong = client.post("/accounts/2fa/totp/activate/", {"code": "000000" if totp.now() != "000000" else "111111"})
    assert wrong.context["form"].errors == {"code": ["Incorrect code."]}
    with capture(execute=True):
        done = client.post("/accounts/2fa/totp/activate/", {"code": totp.now()})
    assert done.status_code == 302
    return totp


@pytest.mark.django_db
def test_an_authenticator_app_adds_a_second_step_with_real_codes(world, django_capture_on_commit_callbacks):
    client = Client()
    assert password_sign_in(client).status_code == 302
    totp = add_totp(client, django_capture_on_commit_callbacks)
    types = set(Authenticator.objects.filter(user=world.partner_admin).values_list("type", flat=True))
    assert types == {"totp", "recovery_codes"}
    # told in the inbox and by email, whatever the email settings
    notice = Notification.objects.get(user=world.partner_admin)
    assert notice.subject == "A sign-in method was added to your account"
    assert notice.body.startswith("an authenticator app was added to your Coopfunds account on ")
    assert [m.subject for m in mail.outbox] == ["A sign-in method was added to your account"]
    assert mail.outbox[0].to == [EMAIL]

    client.post("/logout/")
    later = datetime.now(UTC) + timedelta(seconds=31)  # a code is good once: the next one comes 30 s later
    with time_machine.travel(later, tick=True):
        client = Client()
        step = password_sign_in(client)
        assert (step.status_code, step["Location"]) == (302, "/accounts/2fa/authenticate/")
        assert client.get("/locations/")["Location"] == "/login/?next=/locations/"  # not signed in yet
        wrong = client.post("/accounts/2fa/authenticate/", {"code": "12345"})
        assert wrong.context["form"].errors == {"code": ["Incorrect code."]}
        signed_in = client.post("/accounts/2fa/authenticate/", {"code": totp.now()})
        assert (signed_in.status_code, signed_in["Location"]) == (302, "/")
        assert client.get("/locations/").status_code == 200

    assert [v for v, _ in verbs(world.partner_admin)] == [
        "user.sign_in",
        "user.mfa_added",
        "user.mfa_added",
        "user.mfa_failed",
        "user.sign_in",
    ]
    assert verbs(world.partner_admin)[1:3] == [
        ("user.mfa_added", {"type": [None, "totp"]}),
        ("user.mfa_added", {"type": [None, "recovery_codes"]}),
    ]
    assert verbs(world.partner_admin)[-1] == (
        "user.sign_in",
        {"method": [None, "password"], "mfa": [None, "totp"]},
    )


@pytest.mark.django_db
def test_a_recovery_code_signs_in_once(world, django_capture_on_commit_callbacks):
    client = Client()
    password_sign_in(client)
    add_totp(client, django_capture_on_commit_callbacks)
    codes = RecoveryCodes(Authenticator.objects.get(user=world.partner_admin, type="recovery_codes"))
    code = codes.get_unused_codes()[0]
    client.post("/logout/")

    client = Client()
    password_sign_in(client)
    assert client.post("/accounts/2fa/authenticate/", {"code": code})["Location"] == "/"
    client.post("/logout/")
    client = Client()
    password_sign_in(client)
    again = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert again.context["form"].errors == {"code": ["Incorrect code."]}


@pytest.mark.django_db
def test_a_security_key_registers_and_signs_in(world, django_capture_on_commit_callbacks):
    key = SoftAuthenticator()
    client = Client()
    password_sign_in(client)
    confirm_password(client, "/accounts/2fa/webauthn/add/")
    page = client.get("/accounts/2fa/webauthn/add/")
    creation = page_options(page.content.decode())["creation_options"]["publicKey"]
    assert creation["rp"]["id"] == "testserver"
    with django_capture_on_commit_callbacks(execute=True):
        added = client.post(
            "/accounts/2fa/webauthn/add/",
            {"name": "Blue key", "credential": json.dumps(key.create(creation, ORIGIN))},
        )
    assert added.status_code == 302
    webauthn = Authenticator.objects.get(user=world.partner_admin, type="webauthn")
    assert webauthn.wrap().name == "Blue key"
    assert Notification.objects.get(user=world.partner_admin).body.startswith(
        "a security key or passkey was added to your Coopfunds account on "
    )
    client.post("/logout/")

    client = Client()
    assert password_sign_in(client)["Location"] == "/accounts/2fa/authenticate/"
    page = client.get("/accounts/2fa/authenticate/")
    request = page_options(page.content.decode())["request_options"]["publicKey"]
    # a key that is not hers is refused
    stranger = SoftAuthenticator()
    stranger.credential_id = key.credential_id  # the same id, another private key: the signature is wrong
    refused = client.post(
        "/accounts/2fa/authenticate/", {"credential": json.dumps(stranger.get(request, ORIGIN, "testserver"))}
    )
    assert refused.status_code == 200
    assert client.get("/locations/").status_code == 302
    page = client.get("/accounts/2fa/authenticate/")
    request = page_options(page.content.decode())["request_options"]["publicKey"]
    signed_in = client.post(
        "/accounts/2fa/authenticate/", {"credential": json.dumps(key.get(request, ORIGIN, "testserver"))}
    )
    assert (signed_in.status_code, signed_in["Location"]) == (302, "/")
    assert client.get("/locations/").status_code == 200
    assert verbs(world.partner_admin)[-1] == (
        "user.sign_in",
        {"method": [None, "password"], "mfa": [None, "webauthn"]},
    )


@pytest.mark.django_db
def test_an_organisation_that_requires_a_second_step_sends_its_people_to_add_one(
    world, django_capture_on_commit_callbacks
):
    sso.sign_in_rules_set(organisation=world.partner, sso_required=False, mfa_required=True, actor=world.partner_admin)
    _token, plain = services.api_token_create(name="ERP", actor=world.partner_admin)
    client = Client()
    assert password_sign_in(client)["Location"] == "/"
    for page in ("/", "/locations/", "/claims/"):
        response = client.get(page)
        assert (response.status_code, response["Location"]) == (302, "/accounts/2fa/")
    assert client.get("/accounts/2fa/").status_code == 200
    # API tokens keep working
    api = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert (api.status_code, api.json()["email"]) == (200, EMAIL)
    add_totp(client, django_capture_on_commit_callbacks)
    assert client.get("/locations/").status_code == 200
    # other organisations are not asked; the vendor's rule is that of all its staff
    northwind = Client()
    password_sign_in(northwind, "olga.admin@northwind.example")
    assert northwind.get("/locations/").status_code == 200
    sso.sign_in_rules_set(organisation=world.vendor, sso_required=False, mfa_required=True, actor=world.program_manager)
    staff = Client()
    password_sign_in(staff, "rita.reviewer@contoso.example")
    assert staff.get("/locations/")["Location"] == "/accounts/2fa/"
    assert list(AuditEvent.objects.filter(verb="organisation.sign_in_rules").values_list("actor_label", "changes")) == [
        ("pat.manager@contoso.example", {"mfa_required": [False, True]}),
        (EMAIL, {"mfa_required": [False, True]}),
    ]


@pytest.mark.django_db
def test_lockout_and_wrong_passwords_are_audited(world):
    for _ in range(4):
        assert Client().post("/login/", {"login": EMAIL, "password": "wrong"}).status_code == 200
    assert Client().post("/login/", {"login": EMAIL, "password": "wrong"}).status_code == 429  # the fifth
    assert Client().post("/login/", {"login": EMAIL, "password": PASSWORD}).status_code == 429
    Client().post("/login/", {"login": "nobody@nowhere.example", "password": "wrong"})
    failed = AuditEvent.objects.filter(verb="user.sign_in_failed")
    assert list(
        failed.filter(target_id=str(world.partner_admin.pk)).order_by("id").values_list("reason", flat=True)
    ) == [
        *["wrong email or password"] * 4,
        *["locked out after too many failures"] * 2,  # the attempt that locked, and the right password after it
    ]
    assert failed.get(target_id="").actor_label == "system"
    assert failed.get(target_id="").target_repr == "nobody@nowhere.example"
    locked = AuditEvent.objects.filter(verb="user.locked_out", target_id=str(world.partner_admin.pk))
    assert list(locked.values_list("changes", flat=True)) == [{"address": [None, "127.0.0.1"]}] * 2  # each refused


@pytest.mark.django_db
def test_the_admin_sites_own_sign_in_form_is_never_used(world, django_capture_on_commit_callbacks):
    staff = world.program_manager
    staff.is_staff = staff.is_superuser = True
    staff.save()
    TOTP.activate(staff, generate_totp_secret())
    anonymous = Client()
    page = anonymous.get("/admin/login/?next=/admin/")
    assert (page.status_code, page["Location"]) == (302, "/login/?next=/admin/")
    # signed in as someone else, the admin's form does not sign in a staff account with its password alone
    other = Client()
    other.force_login(world.partner_user)
    posted = other.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert posted.status_code == 403
    assert other.get("/api/v1/me").json()["email"] == "uma.user@fabrikam.example"
    # the one sign-in page asks the staff account for its second step
    step = Client().post("/login/?next=/admin/", {"login": staff.email, "password": PASSWORD})
    assert step["Location"] == "/accounts/2fa/authenticate/"


@pytest.mark.django_db
def test_a_password_session_ends_on_every_page_once_single_sign_on_is_required(world):
    client = Client()
    password_sign_in(client)
    IdentityProvider.objects.create(
        organisation=world.partner, protocol="openid_connect", key="fab", name="Fab", url="https://idp.example/"
    )
    sso.sign_in_rules_set(organisation=world.partner, sso_required=True, mfa_required=False, actor=world.partner_admin)
    response = client.get("/accounts/2fa/")
    assert (response.status_code, response["Location"]) == (302, "/login/")
