"""/api/v1 programs endpoints: the authorisation matrix, exact bodies and bad input."""

import json
from datetime import date
from typing import Any

import pytest

from conftest import PERSONAS, api_status
from coopfunds.programs.models import ActivityType, Holiday
from coopfunds.programs.tests.helpers import state
from coopfunds.testing.factories import ProgramFactory

pytestmark = pytest.mark.django_db

READERS = {"partner_admin", "partner_user", "program_manager", "reviewer", "finance", "auditor"}
API = "/api/v1"


def call(client: Any, method: str, url: str, body: Any = None) -> Any:
    if body is None:
        return getattr(client, method)(API + url)
    return getattr(client, method)(API + url, json.dumps(body), content_type="application/json")


def expected_status(persona: str, kind: str, ok: int) -> int:
    if persona == "anonymous":
        return 401
    if kind == "list" or (kind == "read" and persona in READERS) or persona == "program_manager":
        return ok
    if kind == "create" or persona in READERS:
        return 403
    return 404


WEBINARS = {
    "fiscal_year": 2027,
    "code": "webinars",
    "name": "Webinars",
    "category": "demand_generation",
    "metrics": ["Registered guests"],
    "documents": [{"kind": "invitation_agenda", "note": "The agenda"}],
    "caps": [{"kind": "period_amount", "amount": "5000"}],
}

# (name, method, kind, ok status, url(program, entry, cap, holiday), body)
ENDPOINTS: list[tuple[str, str, str, int, Any, Any]] = [
    ("program_list", "get", "list", 200, lambda p, t, c, h: "/programs", None),
    ("program_detail", "get", "read", 200, lambda p, t, c, h: f"/programs/{p.pk}", None),
    ("program_periods", "get", "read", 200, lambda p, t, c, h: f"/programs/{p.pk}/periods?fiscal_year=2027", None),
    (
        "activity_type_list",
        "get",
        "read",
        200,
        lambda p, t, c, h: f"/programs/{p.pk}/activity-types?fiscal_year=2027",
        None,
    ),
    ("activity_type_detail", "get", "read", 200, lambda p, t, c, h: f"/activity-types/{t.pk}", None),
    (
        "program_create",
        "post",
        "create",
        201,
        lambda p, t, c, h: "/programs",
        {"code": "mdf", "name": "MDF", "currency": "USD"},
    ),
    ("program_update", "patch", "configure", 200, lambda p, t, c, h: f"/programs/{p.pk}", {"payment_day": 10}),
    (
        "holiday_add",
        "post",
        "configure",
        201,
        lambda p, t, c, h: f"/programs/{p.pk}/holidays",
        {"date": "2027-03-10", "name": "Day off"},
    ),
    ("holiday_remove", "delete", "configure", 204, lambda p, t, c, h: f"/holidays/{h.pk}", None),
    ("activity_type_create", "post", "configure", 201, lambda p, t, c, h: f"/programs/{p.pk}/activity-types", WEBINARS),
    (
        "catalogue_copy",
        "post",
        "configure",
        200,
        lambda p, t, c, h: f"/programs/{p.pk}/activity-types/copy",
        {"fiscal_year": 2027},
    ),
    (
        "activity_type_update",
        "patch",
        "configure",
        200,
        lambda p, t, c, h: f"/activity-types/{t.pk}",
        {"name": "Demo kit"},
    ),
    ("cap_exempt", "post", "configure", 200, lambda p, t, c, h: f"/caps/{c.pk}/exempt", {"reason": "Launch"}),
]


@pytest.fixture
def objects(catalogued):  # type: ignore[no-untyped-def]
    entry = ActivityType.objects.get(program=catalogued, code="demo-units")
    holiday = Holiday.objects.create(program=catalogued, date=date(2027, 3, 9), name="Founders' day")
    return catalogued, entry, entry.caps.get(), holiday


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("name", "method", "kind", "ok", "url", "body"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_endpoint_authorisation(as_persona, objects, persona, name, method, kind, ok, url, body):
    before = state()
    response = call(as_persona(persona), method, url(*objects), body)
    assert response.status_code == api_status(persona, method, API + url(*objects), expected_status(persona, kind, ok))
    assert (state() != before) is (persona == "program_manager" and method != "get")


def test_partners_list_only_their_programs(as_persona, enrolled):
    ProgramFactory.create(vendor=enrolled.vendor, name="Not for them")
    assert [p["name"] for p in call(as_persona("partner_user"), "get", "/programs").json()["results"]] == [
        "Cloud Co-op"
    ]
    assert call(as_persona("other_admin"), "get", "/programs").json() == {"next": None, "results": []}


def test_program_list_is_keyset_paginated(as_persona, world):
    for n in range(3):
        ProgramFactory.create(vendor=world.vendor, name=f"Program {n}")
    client = as_persona("auditor")
    first = call(client, "get", "/programs?page_size=2").json()
    assert [p["name"] for p in first["results"]] == ["Cloud Co-op", "Program 0"]
    second = client.get(first["next"]).json()
    assert [p["name"] for p in second["results"]] == ["Program 1", "Program 2"]
    assert second["next"] is None


def test_program_detail_has_rules_and_the_current_period(as_persona, objects):
    program = objects[0]
    body = call(as_persona("partner_admin"), "get", f"/programs/{program.pk}").json()
    assert {
        k: body[k] for k in ("code", "name", "vendor", "currency", "coop_threshold", "rebate_percent", "coop_percent")
    } == {
        "code": "coop",
        "name": "Cloud Co-op",
        "vendor": "Contoso",
        "currency": "USD",
        "coop_threshold": "10000.00",
        "rebate_percent": "60.00",
        "coop_percent": "40.00",
    }
    assert [r["topic"] for r in body["rules"]][:3] == ["Fiscal year", "Periods", "Claiming window"]
    assert body["rules"][4] == {
        "topic": "Threshold",
        "text": "Co-op below 10,000.00 USD for an earning period is converted to rebate instead. The split and the "
        "threshold apply to each fund's exact totals, rounded once.",
    }
    assert set(body["current_period"]) == {
        "fiscal_year",
        "index",
        "label",
        "start",
        "end",
        "usage_start",
        "usage_end",
        "claim_opens",
        "claim_closes",
        "forfeit_on",
    }


def test_periods_of_a_fiscal_year(as_persona, objects):
    program = objects[0]
    assert call(as_persona("reviewer"), "get", f"/programs/{program.pk}/periods?fiscal_year=2027").json() == {
        "fiscal_year": 2027,
        "label": "FY27",
        "start": "2026-07-01",
        "end": "2027-06-30",
        "periods": [
            {
                "fiscal_year": 2027,
                "index": 1,
                "label": "FY27 H1",
                "start": "2026-07-01",
                "end": "2026-12-31",
                "usage_start": "2027-01-01",
                "usage_end": "2027-06-30",
                "claim_opens": "2027-02-16",
                "claim_closes": "2027-08-15",
                "forfeit_on": "2027-07-01",
            },
            {
                "fiscal_year": 2027,
                "index": 2,
                "label": "FY27 H2",
                "start": "2027-01-01",
                "end": "2027-06-30",
                "usage_start": "2027-07-01",
                "usage_end": "2027-12-31",
                "claim_opens": "2027-08-16",
                "claim_closes": "2028-02-15",
                "forfeit_on": "2028-01-01",
            },
        ],
    }


def test_an_activity_type_with_its_documents_and_caps(as_persona, objects):
    entry = objects[1]
    body = call(as_persona("partner_user"), "get", f"/activity-types/{entry.pk}").json()
    assert body == {
        "id": entry.pk,
        "program_id": entry.program_id,
        "fiscal_year": 2027,
        "code": "demo-units",
        "name": "Demo units",
        "category": "market_development",
        "core_requirements": "Devices or licences used to demonstrate the vendor's solutions to customers.",
        "metrics": ["Demonstrations given"],
        "eligible_expenses": "Purchase or lease of demonstration units.",
        "ineligible_expenses": "",
        "expense_categories": [],
        "cost_share_percent": None,
        "is_active": True,
        "documents": [
            {
                "kind": "other",
                "label": "Other proof",
                "required": True,
                "note": "Serial numbers or licence keys of the demo units.",
            }
        ],
        "caps": [
            {
                "id": objects[2].pk,
                "kind": "period_percent",
                "amount": "3000.00",
                "percent": "10.00",
                "count": None,
                "expense": "",
                "exempt": False,
                "description": "At most the greater of 10% of earned co-op and 3,000.00 per period",
            }
        ],
    }


def test_create_and_patch_an_activity_type(as_persona, objects):
    program = objects[0]
    client = as_persona("program_manager")
    created = call(client, "post", f"/programs/{program.pk}/activity-types", WEBINARS).json()
    assert (created["code"], created["caps"][0]["description"]) == ("webinars", "At most 5,000.00 per period")
    assert created["documents"] == [
        {"kind": "invitation_agenda", "label": "Invitation and agenda", "required": True, "note": "The agenda"}
    ]
    patched = call(
        client, "patch", f"/activity-types/{created['id']}", {"caps": [{"kind": "per_event_attendees", "count": 3}]}
    ).json()
    assert [c["description"] for c in patched["caps"]] == ["At most 3 attendees per event"]
    assert patched["name"] == "Webinars"
    listed = call(client, "get", f"/programs/{program.pk}/activity-types?fiscal_year=2027&page_size=100").json()
    assert len(listed["results"]) == 13


def test_holidays_and_caps(as_persona, objects):
    program, _, cap, holiday = objects
    client = as_persona("program_manager")
    added = call(client, "post", f"/programs/{program.pk}/holidays", {"date": "2027-12-24", "name": "Christmas Eve"})
    assert added.json() == {
        "id": added.json()["id"],
        "program_id": program.pk,
        "date": "2027-12-24",
        "name": "Christmas Eve",
    }
    assert call(client, "delete", f"/holidays/{holiday.pk}").status_code == 204
    assert call(client, "post", f"/caps/{cap.pk}/exempt", {}).json()["exempt"] is True
    assert call(client, "post", f"/caps/{cap.pk}/apply", {}).json()["exempt"] is False


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        (
            {"currency": "XXY"},
            422,
            {"currency": ["“XXY” is not an ISO 4217 currency code (for example USD, EUR, GBP)."]},
        ),
        (
            {"coop_threshold": "-5"},
            400,
            {"coop_threshold": ["Write an amount with a dot and at most two decimals, e.g. 1250.00 (0 is allowed)."]},
        ),
        (
            {"fiscal_year_start_month": 13},
            400,
            {"fiscal_year_start_month": ["Input should be less than or equal to 12"]},
        ),
        ({"code": "coop"}, 422, {"code": ["Another program already uses the code “coop”; choose another."]}),
    ],
)
def test_program_create_bad_input_is_a_field_error(as_persona, world, body, status, fields):
    before = state()
    response = call(
        as_persona("program_manager"), "post", "/programs", {"code": "mdf", "name": "MDF", "currency": "USD", **body}
    )
    lead = "Some fields are not valid" if status == 422 else "The request is not valid"
    assert (response.status_code, response.json()) == (
        status,
        {"code": "invalid", "message": f"{lead}: {', '.join(fields)}.", "fields": fields},
    )
    assert state() == before


def test_schema_errors_name_the_field(as_persona, world):
    client = as_persona("program_manager")
    response = call(
        client, "post", "/programs", {"code": "mdf", "name": "MDF", "currency": "USD", "payment_day": "soon"}
    )
    assert (response.status_code, list(response.json()["fields"])) == (400, ["payment_day"])
    response = call(client, "patch", f"/programs/{world.program.pk}", {"code": "other"})
    assert (response.status_code, response.json()["fields"]) == (400, {"code": ["Extra inputs are not permitted"]})
    response = call(client, "get", f"/programs/{world.program.pk}/periods?fiscal_year=1999")
    assert (response.status_code, response.json()["fields"]) == (
        400,
        {"fiscal_year": ["Input should be greater than or equal to 2000"]},
    )
