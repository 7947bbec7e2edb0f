"""API-wide: who gets in (tokens, sessions) and the one error shape {code, message, fields}."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coopfunds.accounts import services
from coopfunds.accounts.models import ApiToken, Organisation, User
from coopfunds.api.common import CURSOR

UNAUTHENTICATED = {
    "code": "unauthenticated",
    "message": "Send a valid API token: Authorization: Bearer <token>.",
    "fields": {},
}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [None, "Bearer cf_unknown", "Bearer ", "Token cf_whatever", "cf_no_scheme", "Bearer cf_a cf_b"],
)
def test_missing_unknown_or_malformed_tokens_get_401_in_the_error_shape(world, header):
    client = Client() if header is None else Client(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/me")
    assert (response.status_code, response.json()) == (401, UNAUTHENTICATED)


@pytest.mark.django_db
def test_a_token_works_until_revoked(world):
    token, plain = services.api_token_create(name="ERP", actor=world.partner_admin)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert client.get("/api/v1/me").json()["email"] == "ada.admin@fabrikam.example"
    services.api_token_revoke(token=token, actor=world.partner_admin)
    response = client.get("/api/v1/me")
    assert (response.status_code, response.json()) == (401, UNAUTHENTICATED)


@pytest.mark.django_db
def test_a_deactivated_owners_token_gets_401(world):
    _, plain = services.api_token_create(name="ERP", actor=world.partner_user)
    services.user_set_active(user=world.partner_user, active=False, actor=world.partner_admin)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {plain}").get("/api/v1/me")
    assert (response.status_code, response.json()) == (401, UNAUTHENTICATED)


@pytest.mark.django_db
def test_using_a_token_records_when_at_most_once_a_minute(world):
    token, plain = services.api_token_create(name="ERP", actor=world.partner_user)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {plain}")
    client.get("/api/v1/me")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    client.get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(seconds=1)
    assert token.last_used_at <= timezone.now()


@pytest.mark.django_db
def test_the_browser_session_works_for_reads_and_needs_csrf_for_writes(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.program_manager)
    assert client.get("/api/v1/me").json()["email"] == "pat.manager@contoso.example"
    response = client.post("/api/v1/organisations", {"name": "Tailspin"}, content_type="application/json")
    assert response.status_code == 403
    assert set(response.json()) == {"code", "message", "fields"}
    assert Organisation.objects.filter(name="Tailspin").exists() is False


@pytest.mark.django_db
def test_a_deactivated_users_session_gets_401(world):
    client = Client()
    client.force_login(world.partner_user)
    User.objects.filter(pk=world.partner_user.pk).update(is_active=False)
    response = client.get("/api/v1/me")
    assert (response.status_code, response.json()) == (401, UNAUTHENTICATED)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "{not json",
            {
                "code": "invalid",
                "message": "The request body is not valid JSON.",
                "fields": {"body": ["Not valid JSON."]},
            },
        ),
        (
            "{}",
            {"code": "invalid", "message": "The request is not valid: name.", "fields": {"name": ["Field required"]}},
        ),
        (
            '{"name": 5}',
            {
                "code": "invalid",
                "message": "The request is not valid: name.",
                "fields": {"name": ["Input should be a valid string"]},
            },
        ),
        (
            '{"name": "  "}',
            {
                "code": "invalid",
                "message": "The request is not valid: name.",
                "fields": {"name": ["Write something here: it cannot be empty or only spaces."]},
            },
        ),
    ],
)
def test_bad_bodies_get_400_with_fields(world, api_as, body, expected):
    before = Organisation.objects.count()
    response = api_as("program_manager").post("/api/v1/organisations", body, content_type="application/json")
    assert (response.status_code, response.json()) == (400, expected)
    assert Organisation.objects.count() == before


@pytest.mark.django_db
def test_bad_path_and_query_values_get_400_with_fields(world, api_as):
    client = api_as("program_manager")
    response = client.get("/api/v1/users/abc")
    assert (response.status_code, response.json()["fields"]) == (
        400,
        {"user_id": ["Input should be a valid integer, unable to parse string as an integer"]},
    )
    response = client.get("/api/v1/users", {"cursor": "!!"})
    assert (response.status_code, response.json()["fields"]) == (
        400,
        {"cursor": ["Not a cursor of this list: follow the `next` URL of the page before."]},
    )
    response = client.get("/api/v1/users", {"page_size": 501})
    assert (response.status_code, response.json()["fields"]) == (
        400,
        {"page_size": ["Input should be less than or equal to 500"]},
    )


@pytest.mark.django_db
def test_keyset_pagination_follows_next_to_the_end(world, api_as):
    client = api_as("auditor")
    seen, url = [], "/api/v1/users?page_size=3"
    while url:
        page = client.get(url).json()
        seen += [u["email"] for u in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(User.objects.values_list("email", flat=True))
    assert len(seen) == len(set(seen)) == 7


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cursor=st.from_regex(CURSOR, fullmatch=True))
def test_every_cursor_the_schema_allows_is_read(world, api_as, cursor):
    page = api_as("auditor").get("/api/v1/users", {"cursor": cursor}).json()
    after = min(int(cursor), 2**63 - 1)
    assert [u["id"] for u in page["results"]] == sorted(User.objects.filter(pk__gt=after).values_list("pk", flat=True))


@pytest.mark.django_db
def test_the_openapi_document_lists_the_accounts_endpoints(world):
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    for path in [
        "/api/v1/me",
        "/api/v1/organisations",
        "/api/v1/organisations/{organisation_id}",
        "/api/v1/locations",
        "/api/v1/locations/{location_id}",
        "/api/v1/users",
        "/api/v1/users/{user_id}",
        "/api/v1/users/{user_id}/roles",
        "/api/v1/role-assignments/{assignment_id}",
        "/api/v1/users/{user_id}/deactivate",
        "/api/v1/users/{user_id}/reactivate",
        "/api/v1/tokens",
        "/api/v1/tokens/{token_id}/revoke",
    ]:
        assert path in paths
