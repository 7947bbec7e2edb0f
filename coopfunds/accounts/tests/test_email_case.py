import pytest
from django.test import Client

from coopfunds.testing import PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_in_ignores_the_capitals_of_the_email(world):
    client = Client()
    response = client.post("/login/", {"login": "  Ada.Admin@FABRIKAM.example ", "password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, "/")


def test_the_lockout_counts_every_spelling_of_one_email(world, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for spelling in ("ada.admin@fabrikam.example", "ADA.admin@fabrikam.example", "Ada.Admin@Fabrikam.Example"):
        client.post("/login/", {"login": spelling, "password": "wrong password"})
    locked = client.post("/login/", {"login": "ada.admin@fabrikam.example", "password": PASSWORD})
    assert locked.status_code == 429
    assert b"Too many failed sign-in attempts" in locked.content
