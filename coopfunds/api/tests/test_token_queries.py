import pytest
from django.test import Client

from coopfunds.accounts.services import api_token_create


@pytest.mark.django_db
def test_an_authenticated_read_costs_two_queries(world, django_assert_num_queries):
    """One query finds the token with its owner, organisation and grants; one reads the object."""
    _, token = api_token_create(name="bench", actor=world.partner_admin)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(f"/api/v1/locations/{world.location.pk}").status_code == 200  # marks the token used
    with django_assert_num_queries(2):
        response = client.get(f"/api/v1/locations/{world.location.pk}")
    assert response.json()["partner_id"] == "FAB-001"
    assert client.get(f"/api/v1/locations/{world.other_location.pk}").status_code == 404


@pytest.mark.django_db
def test_a_token_owner_without_roles_is_still_recognised(world):
    from coopfunds.testing.factories import UserFactory

    lonely = UserFactory.create(email="nobody@fabrikam.example", organisation=world.partner)
    _, token = api_token_create(name="x", actor=lonely)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(f"/api/v1/locations/{world.location.pk}")
    assert response.status_code == 404
