"""The fund requests API over a real HTTP client: a partner files and submits, a reviewer approves and the money is
reserved; refusals are field errors that change nothing; another partner sees nothing."""

import json
from decimal import Decimal

import pytest

from coopfunds.funds.models import Allocation
from coopfunds.mdf.models import FundRequest
from coopfunds.mdf.tests.conftest import draft
from coopfunds.mdf.tests.test_requests import held, state
from coopfunds.programs import services as program_services

pytestmark = pytest.mark.django_db
API = "/api/v1"
D = Decimal


def send(client, method, url, body=None):  # type: ignore[no-untyped-def]
    if method == "get":
        return client.get(API + url)
    return getattr(client, method)(API + url, json.dumps(body or {}), content_type="application/json")


def body(world, **changes):  # type: ignore[no-untyped-def]
    return {
        "budget_id": world.budget.pk,
        "location_id": world.location.pk,
        "activity_type_id": world.activity().pk,
        "name": "Cloud security seminar",
        "description": "Two days in Berlin.",
        "starts_on": "2027-02-01",
        "ends_on": "2027-02-02",
        "expected_leads": 40,
        "expected_pipeline": "150000.00",
        "lines": [
            {"category": "event", "description": "Venue, two days", "amount": "1500.00"},
            {"category": "catering", "description": "Lunch for 40", "amount": "500.05"},
        ],
        **changes,
    }


def test_a_request_from_draft_to_reserved_money(mdf_world, api_as):
    partner, reviewer = api_as("partner_admin"), api_as("reviewer")
    created = send(partner, "post", "/fund-requests", body(mdf_world))
    assert created.status_code == 201, created.content
    got = created.json()
    pk = got["id"]
    assert {k: got[k] for k in ("status", "total_cost", "cost_share_percent", "requested", "reserved", "currency")} == {
        "status": "editing",
        "total_cost": "2000.05",
        "cost_share_percent": "50.00",
        "requested": "1000.03",  # 1000.025 rounds half up
        "reserved": "0.00",
        "currency": "USD",
    }
    assert got["lines"] == [
        {"category": "event", "description": "Venue, two days", "amount": "1500.00"},
        {"category": "catering", "description": "Lunch for 40", "amount": "500.05"},
    ]
    assert (got["partner_id"], got["budget_name"], got["activity_type_code"]) == (
        "FAB-001",
        "FY27 H2 MDF",
        "seminars-bootcamps",
    )
    assert send(reviewer, "get", f"/fund-requests/{pk}").status_code == 404  # a draft is the partner's
    submitted = send(partner, "post", f"/fund-requests/{pk}/submit")
    assert (submitted.status_code, submitted.json()["status"], submitted.json()["due_on"]) == (
        200,
        "submitted",
        "2026-11-24",
    )
    queue = send(reviewer, "get", "/review/fund-requests").json()
    assert [r["id"] for r in queue["results"]] == [pk]
    taken = send(reviewer, "post", f"/fund-requests/{pk}/assign", {})
    assert (taken.json()["status"], taken.json()["reviewer_id"]) == ("under_review", mdf_world.reviewer.pk)
    approved = send(reviewer, "post", f"/fund-requests/{pk}/approve", {})
    assert approved.status_code == 200, approved.content
    got = approved.json()
    assert (got["status"], got["approved_amount"], got["reserved"], got["claim_by"]) == (
        "approved",
        "1000.03",
        "1000.03",
        "2027-04-03",
    )
    assert got["allocation_id"] == mdf_world.allocation.pk
    again = send(reviewer, "post", f"/fund-requests/{pk}/assign", {"reviewer_id": mdf_world.reviewer.pk})
    assert (again.status_code, again.json()["message"]) == (
        409,
        "Only fund requests waiting for review can be assigned.",
    )
    allocation = send(partner, "get", f"/allocations/{mdf_world.allocation.pk}").json()
    assert (allocation["allocated"], allocation["reserved"]) == ("8999.97", "1000.03")
    history = send(partner, "get", f"/fund-requests/{pk}/history").json()["results"]
    assert [(e["old_status"], e["new_status"]) for e in history] == [
        ("", ""),
        ("editing", "submitted"),
        ("submitted", "under_review"),
        ("under_review", "approved"),
    ]
    assert history[1]["message"] == "Submitted for review: 1,000.03 USD (50% of 2,000.05 USD)."
    assert history[3]["message"] == "Approved: 1,000.03 USD reserved until 03 Apr 2027."
    back = send(partner, "post", f"/fund-requests/{pk}/give-back", {"reason": "Seminar cancelled."})
    assert (back.json()["reserved"], back.json()["returned"]) == ("0.00", "1000.03")
    assert held(mdf_world) == (D("10000.00"), D("0.00"))


def test_field_errors_name_the_field_and_the_line_and_save_nothing(mdf_world, api_as):
    partner = api_as("partner_admin")
    program_services.activity_type_update(
        activity_type=mdf_world.activity(), actor=mdf_world.program_manager, expense_categories=["event"]
    )
    before = state()
    bad = body(mdf_world, ends_on="2027-01-15")
    response = send(partner, "post", "/fund-requests", bad)
    assert response.status_code == 422
    assert response.json()["fields"] == {
        "ends_on": ["The activity ends before it starts."],
        "lines": ["Line 2: “Catering” costs are not funded for Seminars and boot camps."],
    }
    unknown = send(
        partner,
        "post",
        "/fund-requests",
        body(mdf_world, lines=[{"category": "yacht", "description": "x", "amount": "1.00"}]),
    )
    assert unknown.status_code == 400
    wrong_type = send(partner, "post", "/fund-requests", body(mdf_world, activity_type_id=999999))
    assert (wrong_type.status_code, wrong_type.json()["fields"]) == (
        422,
        {"activity_type_id": ["No activity type of the budget's program with this id."]},
    )
    no_budget = send(partner, "post", "/fund-requests", body(mdf_world, budget_id=999999))
    assert (no_budget.status_code, no_budget.json()["fields"]) == (422, {"budget_id": ["No budget with this id."]})
    assert state() == before


def test_a_draft_is_replaced_whole_and_a_submitted_one_not_at_all(mdf_world, api_as):
    partner = api_as("partner_user")
    request = draft(mdf_world, actor=mdf_world.partner_user)
    replaced = send(
        partner,
        "put",
        f"/fund-requests/{request.pk}",
        {
            k: v
            for k, v in body(
                mdf_world, lines=[{"category": "advertising", "description": "Ads", "amount": "300.00"}]
            ).items()
            if k not in ("budget_id", "location_id")
        },
    )
    assert replaced.status_code == 200, replaced.content
    assert (replaced.json()["total_cost"], replaced.json()["requested"], len(replaced.json()["lines"])) == (
        "300.00",
        "150.00",
        1,
    )
    send(partner, "post", f"/fund-requests/{request.pk}/submit")
    again = send(
        partner,
        "put",
        f"/fund-requests/{request.pk}",
        {k: v for k, v in body(mdf_world).items() if k not in ("budget_id", "location_id")},
    )
    assert (again.status_code, again.json()["message"]) == (409, "A fund request that is submitted cannot be changed.")


def test_approval_beyond_the_allocation_is_422_and_the_request_stays_as_it_was(mdf_world, api_as):
    partner, reviewer = api_as("partner_admin"), api_as("reviewer")
    pk = send(
        partner,
        "post",
        "/fund-requests",
        body(mdf_world, lines=[{"category": "event", "description": "Expo", "amount": "30000.00"}]),
    ).json()["id"]
    send(partner, "post", f"/fund-requests/{pk}/submit")
    refused = send(reviewer, "post", f"/fund-requests/{pk}/approve", {})
    assert (refused.status_code, refused.json()["fields"]) == (
        422,
        {"amount": ["The allocation of FAB-001 has 10,000.00 USD left: approve at most that, or allocate more first."]},
    )
    assert FundRequest.objects.get(pk=pk).status == "submitted"
    assert held(mdf_world) == (D("10000.00"), D("0.00"))


def test_another_partner_sees_nothing_and_partners_cannot_decide(mdf_world, api_as):
    request = draft(mdf_world)
    other = api_as("other_admin")
    assert send(other, "get", f"/fund-requests/{request.pk}").status_code == 404
    assert send(other, "get", "/fund-requests").json() == {"next": None, "results": []}
    assert send(other, "post", f"/fund-requests/{request.pk}/submit").status_code == 404
    assert send(api_as("partner_admin"), "post", f"/fund-requests/{request.pk}/approve", {}).status_code == 403
    assert send(api_as("reviewer"), "post", "/fund-requests", body(mdf_world)).status_code == 403
    assert send(api_as("partner_admin"), "get", "/review/fund-requests").status_code == 403
    assert FundRequest.objects.get().status == "editing"
    assert not Allocation.objects.filter(location=mdf_world.other_location).exists()


def test_the_list_is_paginated_and_filtered(mdf_world, api_as):
    made = [draft(mdf_world, name=f"Seminar {n}") for n in range(5)]
    partner = api_as("partner_admin")
    first = send(partner, "get", "/fund-requests?page_size=2").json()
    assert [r["name"] for r in first["results"]] == ["Seminar 0", "Seminar 1"]
    second = partner.get(first["next"]).json()
    assert [r["name"] for r in second["results"]] == ["Seminar 2", "Seminar 3"]
    third = partner.get(second["next"]).json()
    assert ([r["name"] for r in third["results"]], third["next"]) == (["Seminar 4"], None)
    send(partner, "post", f"/fund-requests/{made[2].pk}/withdraw")
    withdrawn = send(partner, "get", "/fund-requests?status=withdrawn").json()["results"]
    assert [r["id"] for r in withdrawn] == [made[2].pk]


def test_the_program_and_its_activity_types_set_the_share_lead_time_and_categories(mdf_world, api_as):
    pm = api_as("program_manager")
    program = mdf_world.program
    changed = send(
        pm,
        "patch",
        f"/programs/{program.pk}",
        {"request_cost_share_percent": "40", "request_lead_days": 21, "request_claim_days": 30, "reason": "H2 rules"},
    )
    assert changed.status_code == 200, changed.content
    got = changed.json()
    assert (got["request_cost_share_percent"], got["request_lead_days"], got["request_claim_days"]) == ("40.00", 21, 30)
    too_far = send(pm, "patch", f"/programs/{program.pk}", {"request_lead_days": 400, "reason": "x"})
    assert too_far.status_code == 400
    activity = mdf_world.activity()
    set_ = send(
        pm,
        "patch",
        f"/activity-types/{activity.pk}",
        {"cost_share_percent": "75", "expense_categories": ["travel", "event"]},
    )
    assert (set_.json()["cost_share_percent"], set_.json()["expense_categories"]) == ("75.00", ["event", "travel"])
    assert draft(mdf_world, lines=[services_line("event", "Venue", "1000.00")]).requested == D("750.00")
    back = send(pm, "patch", f"/activity-types/{activity.pk}", {"cost_share_percent": None})
    assert (back.json()["cost_share_percent"], back.json()["expense_categories"]) == (None, ["event", "travel"])
    assert draft(mdf_world, lines=[services_line("event", "Venue", "1000.00")]).requested == D("400.00")


def services_line(category, description, amount):  # type: ignore[no-untyped-def]
    from coopfunds.mdf.services import Line

    return Line(category, description, D(amount))


def test_results_over_the_api(mdf_world, api_as, time_machine):
    from datetime import date

    from coopfunds.mdf.tests.conftest import approved

    request = approved(mdf_world)
    partner = api_as("partner_admin")
    early = send(partner, "put", f"/fund-requests/{request.pk}/results", {"leads": 3})
    assert (early.status_code, early.json()["code"]) == (409, "too_early")
    time_machine.move_to(date(2027, 2, 3))
    done = send(
        partner, "put", f"/fund-requests/{request.pk}/results", {"leads": 55, "opportunities": 9, "revenue": "48250.50"}
    )
    got = done.json()
    assert (got["reported_leads"], got["reported_opportunities"], got["reported_revenue"]) == (55, 9, "48250.50")
    assert send(api_as("reviewer"), "put", f"/fund-requests/{request.pk}/results", {"leads": 1}).status_code == 403
    assert send(partner, "put", f"/fund-requests/{request.pk}/results", {"leads": -1}).status_code == 400
