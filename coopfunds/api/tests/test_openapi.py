from collections import Counter

import pytest
from django.test import Client
from ninja import Schema

import coopfunds.api.api  # noqa: F401 (loads every router and its schemas)


def _all_schemas(cls: type) -> list[type]:
    found: list[type] = []
    subclasses: list[type] = cls.__subclasses__()
    for direct in subclasses:
        found += [direct, *_all_schemas(direct)]
    return found


def test_every_api_schema_has_its_own_name():
    """ninja names OpenAPI components after the Schema classes: two of one name would silently share an entry."""
    ours = [s for s in _all_schemas(Schema) if s.__module__.startswith("coopfunds.")]
    duplicates = {name: n for name, n in Counter(s.__name__ for s in ours).items() if n > 1}
    assert duplicates == {}


@pytest.mark.django_db
def test_openapi_document_is_served():
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert {"EnrollmentInviteIn", "InviteIn"} <= set(response.json()["components"]["schemas"])


@pytest.mark.django_db
def test_api_docs_page_renders_without_external_resources():
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    assert b"cdn" not in response.content.lower()
