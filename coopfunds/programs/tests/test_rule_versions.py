"""Rules versions on the pages and in the API: a change that decides the running period asks for confirmation,
every change is the next version, and the versions are listed (issue: program rules as of their date)."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from coopfunds.programs import rules, services
from coopfunds.programs.models import Program, RuleVersion
from coopfunds.programs.tests.test_web import program_data

pytestmark = pytest.mark.django_db

API = "/api/v1"
CONFIRM = (
    "This changes the co-op threshold, which decide the close of the earning period now running (FY26 H2, "
    "01 Jan 2026 to 30 Jun 2026): its close will use the new rules. Confirm to go ahead."
)


@pytest.fixture
def may(time_machine):
    time_machine.move_to(datetime(2026, 5, 4, 12, tzinfo=UTC), tick=False)


def test_the_edit_page_asks_to_confirm_a_threshold_change_then_saves_a_version(as_persona, world, may):
    client = as_persona("program_manager")
    url = f"/programs/{world.program.pk}/edit/"
    assert 'type="hidden" name="confirm"' in client.get(url).content.decode()  # not asked before it matters
    data = program_data(coop_threshold="5000", reason="Smaller partners")
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["form"].errors == {"confirm": [CONFIRM]}
    assert 'type="checkbox" name="confirm"' in response.content.decode()
    assert Program.objects.get(pk=world.program.pk).coop_threshold == Decimal("10000.00")
    response = client.post(url, {**data, "confirm": "on"})
    assert response.status_code == 302
    page = client.get(f"/programs/{world.program.pk}/")
    text = page.content.decode()
    assert "version 2" in text
    assert [(v.number, v.reason) for v in page.context["versions"].object_list] == [(2, "Smaller partners"), (1, "")]
    assert page.context["versions"].object_list[0].changed_words == "co-op threshold"
    assert "Smaller partners" in text


def test_partners_see_the_rules_but_not_their_versions(as_persona, enrolled, may):
    page = as_persona("partner_admin").get(f"/programs/{enrolled.program.pk}/")
    assert page.status_code == 200
    assert page.context["versions"] is None


def test_the_api_refuses_an_unconfirmed_threshold_change_and_lists_versions(as_persona, world, may):
    client = as_persona("program_manager")
    url = f"{API}/programs/{world.program.pk}"
    response = client.patch(url, json.dumps({"coop_threshold": "5000.00"}), content_type="application/json")
    assert (response.status_code, response.json()["fields"]) == (422, {"confirm": [CONFIRM]})
    response = client.patch(
        url,
        json.dumps({"coop_threshold": "5000.00", "confirm": True, "reason": "Smaller partners"}),
        content_type="application/json",
    )
    assert response.status_code == 200
    assert (response.json()["coop_threshold"], response.json()["rules_version"]) == ("5000.00", 2)
    listed = client.get(f"{url}/rule-versions?page_size=1")
    body = listed.json()
    assert [(v["number"], v["changed"], v["reason"], v["created_by"]) for v in body["results"]] == [
        (2, ["coop_threshold"], "Smaller partners", "pat.manager@contoso.example")
    ]
    assert body["results"][0]["rules"]["coop_threshold"] == "5000.00"
    older = client.get(body["next"]).json()
    assert [(v["number"], v["rules"]["coop_threshold"]) for v in older["results"]] == [(1, "10000.00")]
    assert older["next"] is None
    assert RuleVersion.objects.count() == 2
    assert as_persona("partner_admin").get(f"{url}/rule-versions").status_code == 403


def test_a_version_is_in_force_from_its_moment(world, may):
    services.program_update(program=world.program, actor=world.program_manager, review_sla_business_days=3)
    assert rules.as_of(world.program, date(2026, 5, 3)).review_sla_business_days == 2
    ruled = rules.as_of(world.program, date(2026, 5, 4))
    assert (ruled.review_sla_business_days, ruled.rules_version) == (3, 2)
