"""The OpenAPI document tells the truth about input: what a pattern allows, the server reads, and what it
refuses gets a sentence a person understands. (The schemathesis step of CI checks the same against the running
server for every operation; these tests pin the shared types and the error wording.)"""

import re
from decimal import Decimal

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from coopfunds.api import common
from coopfunds.api.api import api

DECIMALS = [
    (common.Amount, common.AMOUNT, Decimal("0.01"), Decimal("9999999999999999.99")),
    (common.AmountOrZero, common.AMOUNT_OR_ZERO, Decimal(0), Decimal("9999999999999999.99")),
    (common.Percent, common.PERCENT, Decimal(0), Decimal(100)),
    (common.PositivePercent, common.POSITIVE_PERCENT, Decimal("0.01"), Decimal(100)),
    (common.Hours, common.HOURS, Decimal("0.01"), Decimal(10000)),
]


def _patterns(node: object) -> set[str]:
    if isinstance(node, dict):
        own = {node["pattern"]} if isinstance(node.get("pattern"), str) else set()
        return own.union(*(_patterns(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_patterns(v) for v in node))
    return set()


def test_every_pattern_of_the_schema_has_its_sentence():
    assert _patterns(api.get_openapi_schema()) == set(common.PATTERN_MESSAGES)


@pytest.mark.parametrize(("kind", "pattern", "low", "high"), DECIMALS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_every_decimal_the_pattern_allows_is_read_in_range_with_two_places(kind, pattern, low, high, data):
    text = data.draw(st.from_regex(pattern, fullmatch=True))
    value = TypeAdapter(kind).validate_python(text)
    assert (value, low <= value <= high, -value.as_tuple().exponent <= 2) == (Decimal(text), True, True)


@pytest.mark.parametrize(("kind", "pattern", "low", "high"), DECIMALS)
@pytest.mark.parametrize("text", ["", " ", "12,50", "1.005", "-1", "1e3", "NaN", "Infinity", "0x10", "１２"])
def test_what_the_pattern_refuses_the_server_refuses_in_words(kind, pattern, low, high, text):
    if re.fullmatch(pattern, text):
        pytest.skip("the pattern allows it")
    with pytest.raises(ValidationError) as refused:
        TypeAdapter(kind).validate_python(text)
    assert [e["msg"] for e in refused.value.errors()] == [common.PATTERN_MESSAGES[pattern]]


def test_a_json_number_is_read_as_the_amount_it_writes():
    assert [TypeAdapter(common.Amount).validate_python(n) for n in (12, 12.5, 0.07)] == [
        Decimal(12),
        Decimal("12.5"),
        Decimal("0.07"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": ""}, {"name": ["Write something here: it cannot be empty or only spaces."]}),
        ({"name": " \t\n"}, {"name": ["Write something here: it cannot be empty or only spaces."]}),
        ({"name": "\x1c\x85\u3000"}, {"name": ["Write something here: it cannot be empty or only spaces."]}),
        ({"name": "x" * 201}, {"name": ["String should have at most 200 characters"]}),
    ],
)
def test_text_a_person_must_write_is_refused_blank_as_the_schema_says(world, api_as, body, fields):
    response = api_as("program_manager").post("/api/v1/organisations", body, content_type="application/json")
    assert (response.status_code, response.json()["fields"]) == (400, fields)
    schema = Client().get("/api/v1/openapi.json").json()["components"]["schemas"]["OrganisationIn"]
    assert schema["properties"]["name"] == {
        "maxLength": 200,
        "pattern": common.NOT_BLANK,
        "title": "Name",
        "type": "string",
    }


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8")))
def test_text_the_pattern_allows_is_not_blank_to_the_services_which_strip_it(text):
    assert (re.search(common.NOT_BLANK, text) is not None) == (text.strip() != "")
