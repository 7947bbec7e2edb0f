"""The roles each operation states in the OpenAPI document are the roles it lets in: every operation has an
entry, and every persona outside an operation's roles gets 403 before the operation reads its input."""

import re

import pytest

from coopfunds.api.api import api
from coopfunds.api.roles import ANYONE, PREFIX, ROLES

PERSONA_ROLE = {
    "partner_admin": "incentives_admin",
    "partner_user": "incentives_user",
    "program_manager": "program_manager",
    "reviewer": "reviewer",
    "finance": "finance",
    "auditor": "auditor",
}


def operations() -> list[tuple[str, str, dict]]:
    schema = api.get_openapi_schema()
    return [(method.upper(), path, op) for path, ops in schema["paths"].items() for method, op in ops.items()]


def test_every_operation_states_its_roles_and_the_table_names_no_other():
    ops = operations()
    assert {f"{m} {p.removeprefix(PREFIX)}" for m, p, _ in ops} == set(ROLES)
    for _method, _path, op in ops:
        assert op["x-roles"]
        assert set(op["x-roles"]) <= set(PERSONA_ROLE.values())
        assert re.search(
            r"\*\*Who may call:\*\* (Anyone signed in\.|.+ only; others get 403 `forbidden`\.)$", op["description"]
        )


def test_the_schema_words_for_a_reviewers_operation():
    schema = api.get_openapi_schema()
    op = schema["paths"]["/api/v1/claims/{claim_id}/approve"]["post"]
    assert op["x-roles"] == ["reviewer"]
    assert op["description"].endswith("**Who may call:** Reviewers only; others get 403 `forbidden`.")
    op = schema["paths"]["/api/v1/payments/{payment_id}/disputes"]["post"]
    assert op["description"].endswith("**Who may call:** Incentives admins only; others get 403 `forbidden`.")


RESTRICTED = [(m, p) for m, p, op in operations() if ROLES[f"{m} {p.removeprefix(PREFIX)}"] != ANYONE]


@pytest.mark.parametrize(("method", "path"), RESTRICTED, ids=[f"{m} {p}" for m, p in RESTRICTED])
def test_a_caller_outside_the_roles_gets_403_before_the_input_is_read(api_as, method, path):
    roles = ROLES[f"{method} {path.removeprefix(PREFIX)}"]
    url = re.sub(r"\{\w+\}", "999999", path)
    for persona, role in PERSONA_ROLE.items():
        if role in roles:
            continue
        client = api_as(persona)
        if method == "GET":
            response = client.get(url, {"limit": "not a number"})
        else:
            response = getattr(client, method.lower())(url, data="{not json", content_type="application/json")
        body = response.json()
        assert (response.status_code, body["code"], body["message"].startswith("Only ")) == (403, "forbidden", True), (
            persona,
            body,
        )
