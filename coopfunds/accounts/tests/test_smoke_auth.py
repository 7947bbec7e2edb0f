import pytest
from django.test import Client

from coopfunds.accounts.tests.helpers import PASSWORD


@pytest.mark.django_db
def test_sign_in_with_email_and_password_reaches_home(world):
    client = Client()
    response = client.post("/login/", {"login": "ada.admin@fabrikam.example", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_password_reset_sends_a_link(world, mailoutbox):
    response = Client().post("/password-reset/", {"email": "ada.admin@fabrikam.example"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ada.admin@fabrikam.example"]
