"""English and Swedish: the browser's language, a person's choice (which wins, and is kept), the chooser on every
page, the API's /me, and money written the way each language writes it."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from coopfunds.accounts.models import User
from coopfunds.audit.models import AuditEvent
from coopfunds.core.money import money

NBSP = "\xa0"


def test_a_swedish_browser_gets_the_pages_in_swedish(world, as_persona):
    page = as_persona("partner_admin").get(reverse("home"), HTTP_ACCEPT_LANGUAGE="sv-SE,sv;q=0.9,en;q=0.5")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="sv">' in html
    assert '<a class="skip" href="#main">Hoppa till innehållet</a>' in html
    assert f'<li><a href="{reverse("claim_list")}">Anspråk</a></li>' in html
    assert '<button type="submit" class="link">Logga ut</button>' in html
    assert '<option value="sv" selected>Svenska</option>' in html
    assert page["Content-Language"] == "sv"
    english = as_persona("partner_admin").get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert '<html lang="en">' in english.content.decode()
    assert f'<li><a href="{reverse("claim_list")}">Claims</a></li>' in english.content.decode()


def test_a_person_chooses_a_language_which_wins_over_the_browser_and_is_kept(world, as_persona):
    client = as_persona("partner_admin")
    response = client.post(reverse("language_set"), {"language": "sv", "next": reverse("claim_list")})
    assert (response.status_code, response["Location"]) == (302, reverse("claim_list"))
    assert response.cookies["django_language"].value == "sv"
    assert User.objects.get(pk=world.partner_admin.pk).language == "sv"
    event = AuditEvent.objects.get(verb="user.language")
    assert (event.actor_id, event.changes) == (world.partner_admin.pk, {"language": ["", "sv"]})
    client.cookies.clear()  # another browser, in English: the person's choice still wins once signed in
    client.force_login(world.partner_admin)
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="sv">' in html
    assert "Logga ut" in html


def test_the_chooser_works_before_signing_in_and_refuses_what_it_does_not_offer(world, client):
    response = client.post(reverse("language_set"), {"language": "sv", "next": reverse("login")})
    assert (response.status_code, response["Location"]) == (302, reverse("login"))
    assert '<html lang="sv">' in client.get(reverse("login")).content.decode()
    refused = client.post(reverse("language_set"), {"language": "de", "next": reverse("login")}, follow=True)
    assert [str(m) for m in refused.context["messages"]] == ["Välj ett av de erbjudna språken."]
    assert client.cookies["django_language"].value == "sv"


@pytest.mark.parametrize("elsewhere", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_the_chooser_never_sends_anyone_to_another_site(world, as_persona, elsewhere):
    response = as_persona("reviewer").post(reverse("language_set"), {"language": "en", "next": elsewhere})
    assert (response.status_code, response["Location"]) == (302, reverse("home"))


def test_the_api_shows_and_changes_the_language(world, api_as):
    client = api_as("reviewer")
    assert client.get("/api/v1/me").json()["language"] == ""
    changed = client.patch("/api/v1/me", {"language": "sv"}, content_type="application/json")
    assert (changed.status_code, changed.json()["language"]) == (200, "sv")
    assert User.objects.get(pk=world.reviewer.pk).language == "sv"
    bad = client.patch("/api/v1/me", {"language": "de"}, content_type="application/json")
    assert bad.status_code == 400
    assert User.objects.get(pk=world.reviewer.pk).language == "sv"
    back = client.patch("/api/v1/me", {"language": ""}, content_type="application/json")
    assert back.json()["language"] == ""


@pytest.mark.parametrize(
    ("language", "amount", "currency", "said"),
    [
        ("en", "18750", "USD", "18,750.00 USD"),
        ("en", "1234.5", "SEK", "1,234.50 SEK"),
        ("sv", "18750", "USD", f"18{NBSP}750,00 USD"),
        ("sv", "1234.5", "SEK", f"1{NBSP}234,50 kr"),
        ("sv", "-1234567.891", "EUR", f"-1{NBSP}234{NBSP}567,89 EUR"),
        ("sv", "0", "SEK", "0,00 kr"),
    ],
)
def test_money_is_written_the_way_each_language_writes_it(language, amount, currency, said):
    with translation.override(language):
        assert money(Decimal(amount), currency) == said


def test_signing_in_and_resetting_a_password_in_swedish(world, client, mailoutbox):
    client.cookies["django_language"] = "sv"
    html = client.get(reverse("login")).content.decode()
    assert "<title>Logga in · Coopfunds</title>" in html
    assert '<button type="submit">Logga in</button>' in html
    assert f'<a href="{reverse("password_reset")}">Glömt lösenordet?</a>' in html
    assert '<label for="id_login">E-post:</label>' in html
    assert '<label for="id_password">Lösenord:</label>' in html  # Django's own Swedish
    sent = client.post(reverse("password_reset"), {"email": world.partner_admin.email}, follow=True)
    assert "<h1>Titta i din e-post</h1>" in sent.content.decode()
    (mail,) = mailoutbox
    assert mail.subject == "Återställ ditt Coopfunds-lösenord"
    assert mail.body.startswith(
        "Någon har bett om att återställa Coopfunds-lösenordet för ada.admin@fabrikam.example. Om det var du, välj "
        "ett nytt lösenord här:\n\nhttp://testserver/password-reset/"
    )
    assert mail.body.endswith("Om det inte var du kan du bortse från meddelandet; ditt lösenord förblir som det är.\n")


def test_the_partners_home_page_in_swedish(claims_world, as_persona):
    client = as_persona("partner_admin")
    client.cookies["django_language"] = "sv"
    html = client.get(reverse("home")).content.decode()
    assert "<h1>Välkommen, Ada</h1>" in html
    assert "<h2>Dina registreringar</h2>" in html
    assert "<th>Program</th><th>Plats</th><th>Status</th><th>Intjänar från</th>" in html
    assert "<td>1 jan 2026</td>" in html  # the month as Swedish writes it


def test_the_claims_list_and_the_inbox_in_swedish(claims_world, as_persona):
    from coopfunds.claims import services
    from coopfunds.claims.tests.conftest import ready_claim

    world = claims_world
    world.program.partial_approval = True
    world.program.save()
    claim = services.claim_submit(claim=ready_claim(world, amount="1234.50"), actor=world.partner_admin)
    services.claim_approve(claim=claim, actor=world.reviewer, amount=Decimal("1000.00"), note="Part.")
    User.objects.filter(pk=world.partner_admin.pk).update(language="sv")
    client = as_persona("partner_admin")
    listed = client.get(reverse("claim_list")).content.decode()
    assert "<h1>Mina anspråk</h1>" in listed
    assert '<th scope="col" class="num">Belopp</th>' in listed
    assert f"1{NBSP}234,50 USD" in listed
    assert f'<small class="muted">1{NBSP}000,00 godkänt</small>' in listed
    inbox = client.get(reverse("notification_list")).content.decode()
    assert "<h1>Aviseringar</h1>" in inbox
    assert '<span class="badge pending">ny</span>' in inbox
    assert "Markera alla som lästa" in inbox
