"""Sign-in hardening: argon2, lockout by (email, address) that lifts by itself, inactive accounts, and the
password pages (reset, invitation link, change) end to end."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import get_hasher
from django.test import Client

from coopfunds.accounts import services
from coopfunds.accounts.models import Role, User
from coopfunds.accounts.tests.helpers import PASSWORD

EMAIL = "ada.admin@fabrikam.example"
NEW_PASSWORD = "a much longer new passphrase"
INVALID_LOGIN = "The email address and/or password you specified are not correct."


def sign_in(client: Client, password: str, *, email: str = EMAIL, ip: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    return client.post("/login/", {"login": email, "password": password}, REMOTE_ADDR=ip)


def link_in(body: str) -> str:
    match = re.search(r"https?://[^/\s]+(/password-reset/[^\s]+/)", body)
    assert match is not None, body
    return match.group(1)


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2(world):
    assert get_hasher().algorithm == "argon2"
    assert User.objects.get(email=EMAIL).password.startswith("argon2$argon2id$")


@pytest.mark.django_db
def test_a_wrong_password_says_so_without_telling_which_part_was_wrong(world):
    response = sign_in(Client(), "wrong password")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [INVALID_LOGIN]


@pytest.mark.django_db
def test_too_many_failures_lock_the_address_and_email_pair_until_the_cool_off_passes(world):
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5
    client = Client()
    for _ in range(limit - 1):
        assert sign_in(client, "wrong password").status_code == 200
    locked = sign_in(client, "wrong password")
    assert locked.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in locked.templates]
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert "paused for 15 minutes" in locked.content.decode()
    # Even the right password is refused from that address while locked.
    assert sign_in(client, PASSWORD).status_code == 429
    # The real user, elsewhere, is not locked out by someone guessing from another address.
    elsewhere = Client()
    assert sign_in(elsewhere, PASSWORD, ip="10.0.0.2").status_code == 302
    # Once the cool-off has passed, the lock lifts by itself.
    cool_off = timedelta(hours=settings.AXES_COOLOFF_TIME)
    assert cool_off == timedelta(minutes=15)
    attempt = AccessAttempt.objects.get(username=EMAIL, ip_address="10.0.0.1")
    AccessAttempt.objects.filter(pk=attempt.pk).update(
        attempt_time=attempt.attempt_time - cool_off - timedelta(seconds=1)
    )
    response = sign_in(client, PASSWORD)
    assert (response.status_code, response["Location"]) == (302, "/")


@pytest.mark.django_db
def test_a_lock_does_not_lift_before_the_cool_off(world):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong password")
    attempt = AccessAttempt.objects.get(username=EMAIL, ip_address="10.0.0.1")
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=attempt.attempt_time - timedelta(minutes=14))
    assert sign_in(client, PASSWORD).status_code == 429


@pytest.mark.django_db
def test_locking_one_email_does_not_lock_another_from_the_same_address(world):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong password")
    assert sign_in(client, PASSWORD, email="uma.user@fabrikam.example").status_code == 302


@pytest.mark.django_db
def test_a_success_before_the_limit_resets_the_count(world):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong password")
    assert sign_in(client, PASSWORD).status_code == 302
    client.post("/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong password").status_code == 200


@pytest.mark.django_db
def test_an_inactive_user_cannot_sign_in(world):
    User.objects.filter(email=EMAIL).update(is_active=False)
    client = Client()
    response = sign_in(client, PASSWORD)
    assert (response.status_code, response["Location"]) == (302, "/accounts/inactive/")
    assert "This account is inactive." in client.get("/accounts/inactive/").content.decode()
    assert client.get("/locations/")["Location"] == "/login/?next=/locations/"
    # a wrong password says nothing of the account
    assert sign_in(Client(), "wrong password").context["form"].non_field_errors() == [INVALID_LOGIN]


@pytest.mark.django_db
def test_deactivation_ends_open_sessions(world, as_persona):
    client = as_persona("partner_user")
    assert client.get("/locations/").status_code == 200
    services.user_set_active(user=world.partner_user, active=False, actor=world.partner_admin)
    response = client.get("/locations/")
    assert (response.status_code, response["Location"]) == (302, "/login/?next=/locations/")


@pytest.mark.django_db
def test_password_reset_end_to_end(world, mailoutbox):
    client = Client()
    assert client.get("/password-reset/").status_code == 200
    response = client.post("/password-reset/", {"email": EMAIL})
    assert (response.status_code, response["Location"]) == (302, "/password-reset/sent/")
    assert "Check your email" in client.get("/password-reset/sent/").content.decode()
    assert mailoutbox[0].subject == "Reset your Coopfunds password"
    assert mailoutbox[0].body.startswith(f"Someone asked to reset the Coopfunds password for {EMAIL}.")
    link = link_in(mailoutbox[0].body)
    form_url = client.get(link)["Location"]  # Django swaps the token for a session marker
    assert client.get(form_url).status_code == 200
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/password-reset/done/")
    assert "Password saved" in client.get("/password-reset/done/").content.decode()
    assert sign_in(Client(), NEW_PASSWORD).status_code == 302
    # The link works once.
    response = Client().get(link)
    assert "This link is no longer valid" in response.content.decode()


@pytest.mark.django_db
def test_password_reset_for_an_unknown_email_sends_nothing_and_says_the_same(world, mailoutbox):
    response = Client().post("/password-reset/", {"email": "nobody@example.com"})
    assert (response.status_code, response["Location"]) == (302, "/password-reset/sent/")
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_weak_new_password_is_refused_with_reasons(world, mailoutbox):
    client = Client()
    client.post("/password-reset/", {"email": EMAIL})
    form_url = client.get(link_in(mailoutbox[0].body))["Location"]
    response = client.post(form_url, {"new_password1": "password", "new_password2": "password"})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "new_password2": [
            "This password is too short. It must contain at least 10 characters.",
            "This password is too common.",
        ]
    }


@pytest.mark.django_db
def test_an_invited_person_chooses_a_password_and_signs_in(world, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.user_invite(
            email="new.colleague@fabrikam.example",
            full_name="New Colleague",
            organisation=world.partner,
            role=Role.INCENTIVES_USER,
            location=world.location,
            actor=world.partner_admin,
        )
    assert sign_in(Client(), "", email="new.colleague@fabrikam.example").status_code == 200
    client = Client()
    form_url = client.get(link_in(mailoutbox[0].body))["Location"]
    assert "Choose a password" in client.get(form_url).content.decode()
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    signed_in = Client()
    assert sign_in(signed_in, NEW_PASSWORD, email="new.colleague@fabrikam.example").status_code == 302
    assert signed_in.get("/locations/").context["page"].object_list[0].partner_id == "FAB-001"


@pytest.mark.django_db
def test_change_password_while_signed_in(world):
    client = Client()
    sign_in(client, PASSWORD)
    assert client.get("/password/").status_code == 200
    response = client.post(
        "/password/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert (response.status_code, response["Location"]) == (302, "/password/done/")
    assert "Password changed" in client.get("/password/done/").content.decode()
    assert sign_in(Client(), NEW_PASSWORD).status_code == 302


@pytest.mark.django_db
def test_sign_in_page_renders_for_anonymous_visitors(db):
    response = Client().get("/login/")
    assert response.status_code == 200
    assert [f for f in response.context["form"].fields] == ["login", "password"]
