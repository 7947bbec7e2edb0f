"""The fund request pages, through the real app: a partner writes a request with its costs and submits it, a
reviewer takes and approves it, the partner gives the money back; mistakes come back on the page, by line."""

from decimal import Decimal

import pytest

from coopfunds.mdf.models import FundRequest
from coopfunds.mdf.tests.conftest import approved, draft, submitted
from coopfunds.mdf.tests.test_requests import held, state
from coopfunds.programs.preset import preset_load

pytestmark = pytest.mark.django_db
D = Decimal


def form(world, lines, **changes):  # type: ignore[no-untyped-def]
    data = {
        "location": world.location.pk,
        "budget": world.budget.pk,
        "activity_type": world.activity().pk,
        "name": "Cloud security seminar",
        "description": "Two days in Berlin.",
        "starts_on": "2027-02-01",
        "ends_on": "2027-02-02",
        "expected_leads": "40",
        "expected_pipeline": "150000.00",
        "lines-TOTAL_FORMS": "8",
        "lines-INITIAL_FORMS": "0",
        **changes,
    }
    for n, (category, description, amount) in enumerate(lines):
        data |= {f"lines-{n}-category": category, f"lines-{n}-description": description, f"lines-{n}-amount": amount}
    return data


def test_a_partner_writes_a_request_with_its_costs_and_submits_it(mdf_world, as_persona):
    for year in (2026, 2028):  # other years' catalogues, not offered for this budget
        preset_load(vendor=mdf_world.vendor, code="coop", name="x", currency="USD", fiscal_year=year, big=True)
    partner = as_persona("partner_admin")
    page = partner.get("/requests/new/")
    assert page.status_code == 200
    assert "FY27 H2 MDF" in page.content.decode()
    offered = {t.fiscal_year for t in page.context["form"].fields["activity_type"].queryset}
    assert offered == {2027}  # the budget's activities run in FY27: no other year's catalogue
    sent = partner.post(
        "/requests/new/", form(mdf_world, [("event", "Venue, two days", "1500.00"), ("catering", "Lunch", "500.00")])
    )
    request = FundRequest.objects.get()
    assert sent.status_code == 302
    assert sent["Location"] == f"/requests/{request.pk}/"
    assert (request.total_cost, request.requested, request.expected_pipeline) == (
        D("2000.00"),
        D("1000.00"),
        D("150000.00"),
    )
    shown = partner.get(f"/requests/{request.pk}/").content.decode()
    for text in ("Venue, two days", "Lunch", "2,000.00 USD", "1,000.00 USD", "Submit for review", "50%"):
        assert text in shown
    done = partner.post(f"/requests/{request.pk}/submit/", follow=True)
    assert "Submitted: 1,000.00 USD requested." in done.content.decode()
    request.refresh_from_db()
    assert request.status == "submitted"


def test_mistakes_come_back_on_the_page_by_line_and_nothing_is_saved(mdf_world, as_persona):
    partner = as_persona("partner_admin")
    before = state()
    page = partner.post(
        "/requests/new/",
        form(mdf_world, [("event", "Venue", "100.00"), ("", "Flowers", "20.00"), ("travel", "", "")]),
    )
    assert page.status_code == 400
    text = page.content.decode()
    assert "Line 2: choose an expense category." in text
    assert "Line 3: say what the cost is for." in text
    assert "Line 3: give an amount above zero." in text
    assert 'value="Flowers"' in text  # what was typed stays
    assert state() == before


def test_a_reviewer_takes_and_approves_and_the_allocation_holds_it(mdf_world, as_persona):
    request = submitted(mdf_world)
    reviewer = as_persona("reviewer")
    queue = reviewer.get("/requests/review/").content.decode()
    assert f"/requests/{request.pk}/" in queue
    page = reviewer.get(f"/requests/{request.pk}/").content.decode()
    assert "Assign to me" in page
    assert "Left in the location's allocation</dt><dd>10,000.00 USD" in page
    pooled = submitted(mdf_world, location=mdf_world.second_location)
    assert "Left in the budget's pool</dt><dd>40,000.00 USD" in reviewer.get(f"/requests/{pooled.pk}/").content.decode()
    assert "Left in" not in as_persona("partner_admin").get(f"/requests/{request.pk}/").content.decode()
    assert "Approve and reserve" in page
    reviewer.post(f"/requests/{request.pk}/take/")
    done = reviewer.post(f"/requests/{request.pk}/approve/", {"amount": "", "note": ""}, follow=True)
    assert "Approved: 1,000.00 USD is reserved." in done.content.decode()
    assert held(mdf_world) == (D("9000.00"), D("1000.00"))
    allocations = as_persona("partner_admin").get("/allocations/").content.decode()
    assert "9,000.00 USD" in allocations
    assert "1,000.00 USD" in allocations


def test_a_refused_approval_says_why_on_the_page(mdf_world, as_persona):
    from coopfunds.mdf.services import Line

    request = submitted(mdf_world, lines=[Line("event", "Expo", D("30000.00"))])
    page = as_persona("reviewer").post(f"/requests/{request.pk}/approve/", {"amount": "", "note": ""})
    assert page.status_code == 400
    assert (
        "The allocation of FAB-001 has 10,000.00 USD left: approve at most that, or allocate more first."
        in page.content.decode()
    )
    request.refresh_from_db()
    assert request.status == "submitted"


def test_the_partner_changes_a_draft_and_gives_approved_money_back(mdf_world, as_persona):
    partner = as_persona("partner_user")
    request = draft(mdf_world, actor=mdf_world.partner_user)
    page = partner.get(f"/requests/{request.pk}/edit/").content.decode()
    assert 'value="Venue, two days"' in page
    data = form(mdf_world, [("advertising", "Ads", "400.00")])
    data.pop("location"), data.pop("budget")
    assert partner.post(f"/requests/{request.pk}/edit/", data).status_code == 302
    request.refresh_from_db()
    assert (request.total_cost, request.requested) == (D("400.00"), D("200.00"))
    money = approved(mdf_world)
    done = partner.post(f"/requests/{money.pk}/give-back/", {"reason": "Cancelled"}, follow=True)
    assert "1,000.00 USD went back to the allocation." in done.content.decode()
    assert held(mdf_world) == (D("10000.00"), D("0.00"))


def test_another_partner_gets_404_and_vendor_staff_do_not_see_drafts(mdf_world, as_persona):
    request = draft(mdf_world)
    assert as_persona("other_admin").get(f"/requests/{request.pk}/").status_code == 404
    assert as_persona("reviewer").get(f"/requests/{request.pk}/").status_code == 404
    assert as_persona("other_admin").post(f"/requests/{request.pk}/submit/").status_code == 404
    assert as_persona("partner_admin").get("/requests/review/").status_code == 404
    assert as_persona("reviewer").get("/requests/new/").status_code == 404


def test_the_list_is_paginated_and_filtered_by_status(mdf_world, as_persona):
    for n in range(51):
        draft(mdf_world, name=f"Seminar {n}")
    partner = as_persona("partner_admin")
    first = partner.get("/requests/").content.decode()
    assert "Seminar 50" in first
    assert "Seminar 0<" not in first
    assert "Page 1 of 2" in first
    assert "Seminar 0<" in partner.get("/requests/?page=2").content.decode()
    assert "No fund requests." in partner.get("/requests/?status=approved").content.decode()


def test_the_partner_reports_results_on_the_page_once_the_activity_started(mdf_world, as_persona, time_machine):
    from datetime import date

    request = approved(mdf_world)
    partner = as_persona("partner_admin")
    assert "Save the results" not in partner.get(f"/requests/{request.pk}/").content.decode()
    time_machine.move_to(date(2027, 2, 3))
    partner = as_persona("partner_admin")  # signed in again: the session of November has expired
    assert "Save the results" in partner.get(f"/requests/{request.pk}/").content.decode()
    bad = partner.post(f"/requests/{request.pk}/results/", {"leads": "-4", "opportunities": "", "revenue": ""})
    assert bad.status_code == 400
    done = partner.post(
        f"/requests/{request.pk}/results/", {"leads": "55", "opportunities": "9", "revenue": "48250.50"}, follow=True
    )
    text = done.content.decode()
    assert "The results are saved." in text
    assert "48,250.50 USD" in text
    request.refresh_from_db()
    assert (request.reported_leads, request.reported_opportunities) == (55, 9)
