"""Each person chooses which notifications also reach them by email, on a page and over the API."""

import json

import pytest
from django.db import transaction

from coopfunds.notifications.models import EmailSettings, Notification
from coopfunds.notifications.services import notify

pytestmark = pytest.mark.django_db


def test_the_settings_page_saves_what_is_emailed(as_persona, world, mailoutbox, django_capture_on_commit_callbacks):
    client = as_persona("partner_admin")
    page = client.get("/notifications/settings/")
    assert page.status_code == 200
    assert page.context["form"].initial == {
        "emailed": ["update", "review", "reminder", "escalation"],
        "weekly_digest": False,
    }
    response = client.post("/notifications/settings/", {"emailed": ["update", "escalation"]})
    assert (response.status_code, response["Location"]) == (302, "/notifications/")
    chosen = EmailSettings.objects.get(user=world.partner_admin)
    assert (chosen.muted, chosen.weekly_digest) == (["review", "reminder"], False)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify(users=[world.partner_admin], subject="A reminder", body="Soon.", kind="reminder")
        notify(users=[world.partner_admin], subject="A decision", body="Approved.")
    assert [m.subject for m in mailoutbox] == ["A decision"]
    assert list(Notification.objects.filter(user=world.partner_admin).values_list("kind", "subject")) == [
        ("update", "A decision"),
        ("reminder", "A reminder"),
    ]


def test_the_api_reads_and_writes_email_settings(api_as, world):
    client = api_as("reviewer")
    assert client.get("/api/v1/me/email-settings").json() == {"muted": [], "weekly_digest": False}
    response = client.put(
        "/api/v1/me/email-settings",
        json.dumps({"muted": ["review"], "weekly_digest": True}),
        content_type="application/json",
    )
    assert (response.status_code, response.json()) == (200, {"muted": ["review"], "weekly_digest": True})
    bad = client.put(
        "/api/v1/me/email-settings",
        json.dumps({"muted": ["spam"], "weekly_digest": True}),
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert list(bad.json()["fields"]) == ["muted.0"]
    assert EmailSettings.objects.get(user=world.reviewer).muted == ["review"]
    assert api_as("anonymous").get("/api/v1/me/email-settings").status_code == 401
