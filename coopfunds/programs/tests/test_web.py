"""The programs pages: who may open and post what, what they show, and how bad input comes back."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from conftest import PERSONAS
from coopfunds.programs import periods
from coopfunds.programs.models import ActivityType, Cap, DocumentKind, Holiday, Program
from coopfunds.programs.tests.helpers import state
from coopfunds.testing.factories import ProgramFactory

pytestmark = pytest.mark.django_db

READERS = {"partner_admin", "partner_user", "program_manager", "reviewer", "finance", "auditor"}


def program_data(**overrides: Any) -> dict[str, Any]:
    return {
        "code": "mdf",
        "name": "Market Development",
        "currency": "USD",
        "fiscal_year_start_month": "7",
        "period_months": "6",
        "claim_opens_month": "2",
        "claim_opens_day": "16",
        "claim_closes_days_after_usage": "45",
        "rebate_percent": "60",
        "coop_threshold": "1500",
        "review_sla_business_days": "2",
        "dispute_sla_business_days": "5",
        "payment_sla_business_days": "45",
        "payment_day": "15",
        "holiday_country": "",
        "dispute_window_days": "30",
        "late_earnings": "reevaluate",
        "expiry_reminder_days": "30",
        "window_reminder_days": "14",
        "request_cost_share_percent": "50",
        "request_lead_days": "14",
        "request_claim_days": "60",
        "is_active": "on",
        **overrides,
    }


def caps_data(*rows: dict[str, str], initial: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = {
        "caps-TOTAL_FORMS": str(len(rows)),
        "caps-INITIAL_FORMS": str(initial),
        "caps-MIN_NUM_FORMS": "0",
        "caps-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"caps-{i}-{k}": v for k, v in row.items()})
    return data


def activity_data(*caps: dict[str, str], **overrides: Any) -> dict[str, Any]:
    docs = {f"doc_{k.value}": "" for k in DocumentKind} | {f"note_{k.value}": "" for k in DocumentKind}
    return {
        "code": "webinars",
        "name": "Webinars",
        "category": "demand_generation",
        "core_requirements": "Online events.",
        "metrics": "Registered guests\nAttendees",
        "eligible_expenses": "",
        "ineligible_expenses": "",
        "is_active": "on",
        **docs,
        "doc_invitation_agenda": "required",
        "note_invitation_agenda": "The agenda",
        "doc_event_photos": "optional",
        **caps_data(*caps),
        **overrides,
    }


def expected_status(persona: str, kind: str, ok: int) -> int:
    if persona == "anonymous":
        return 302  # to the sign-in page
    if kind == "list":
        return ok
    if kind == "read":
        return ok if persona in READERS else 404
    if persona == "program_manager":
        return ok
    if kind == "create":
        return 403
    return 403 if persona in READERS else 404


# What each page needs: (name, method, kind, ok status, url(program, entry, cap, holiday), data)
PAGES: list[tuple[str, str, str, int, Any, Any]] = [
    ("program_list", "get", "list", 200, lambda p, t, c, h: "/programs/", None),
    ("program_detail", "get", "read", 200, lambda p, t, c, h: f"/programs/{p.pk}/", None),
    ("catalogue_current", "get", "read", 302, lambda p, t, c, h: f"/programs/{p.pk}/catalogue/", None),
    ("catalogue", "get", "read", 200, lambda p, t, c, h: f"/programs/{p.pk}/catalogue/2027/", None),
    ("program_create", "get", "create", 200, lambda p, t, c, h: "/programs/new/", None),
    ("program_edit", "get", "configure", 200, lambda p, t, c, h: f"/programs/{p.pk}/edit/", None),
    ("activity_type_create", "get", "configure", 200, lambda p, t, c, h: f"/programs/{p.pk}/catalogue/2027/new/", None),
    ("activity_type_edit", "get", "configure", 200, lambda p, t, c, h: f"/activity-types/{t.pk}/edit/", None),
]
ACTIONS: list[tuple[str, str, str, int, Any, Any]] = [
    ("program_create", "post", "create", 302, lambda p, t, c, h: "/programs/new/", program_data()),
    (
        "program_edit",
        "post",
        "configure",
        302,
        lambda p, t, c, h: f"/programs/{p.pk}/edit/",
        program_data(name="Renamed", coop_threshold="10000"),
    ),
    (
        "holiday_add",
        "post",
        "configure",
        302,
        lambda p, t, c, h: f"/programs/{p.pk}/holidays/",
        {"date": "2027-03-10", "name": "Day off"},
    ),
    ("holiday_remove", "post", "configure", 302, lambda p, t, c, h: f"/holidays/{h.pk}/remove/", {}),
    ("catalogue_copy", "post", "configure", 302, lambda p, t, c, h: f"/programs/{p.pk}/catalogue/2027/copy/", {}),
    (
        "activity_type_create",
        "post",
        "configure",
        302,
        lambda p, t, c, h: f"/programs/{p.pk}/catalogue/2027/new/",
        activity_data(),
    ),
    (
        "activity_type_edit",
        "post",
        "configure",
        302,
        lambda p, t, c, h: f"/activity-types/{t.pk}/edit/",
        activity_data(name="Demo units (renamed)"),
    ),
    ("cap_exempt", "post", "configure", 302, lambda p, t, c, h: f"/caps/{c.pk}/exempt/", {"exempt": "1"}),
]


@pytest.fixture
def objects(catalogued):  # type: ignore[no-untyped-def]
    entry = ActivityType.objects.get(program=catalogued, code="demo-units")
    holiday = Holiday.objects.create(program=catalogued, date=date(2027, 3, 9), name="Founders' day")
    return catalogued, entry, entry.caps.get(), holiday


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("name", "method", "kind", "ok", "url", "data"), PAGES, ids=[p[0] for p in PAGES])
def test_page_authorisation(as_persona, objects, persona, name, method, kind, ok, url, data):
    response = as_persona(persona).get(url(*objects))
    assert response.status_code == expected_status(persona, kind, ok)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("name", "method", "kind", "ok", "url", "data"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_action_authorisation_and_denials_change_nothing(
    as_persona, objects, persona, name, method, kind, ok, url, data
):
    before = state()
    response = as_persona(persona).post(url(*objects), data)
    status = expected_status(persona, kind, ok)
    assert response.status_code == status
    assert (state() != before) is (persona == "program_manager")


@pytest.mark.parametrize(("name", "method", "kind", "ok", "url", "data"), PAGES + ACTIONS)
def test_anonymous_is_sent_to_sign_in(client, objects, name, method, kind, ok, url, data):
    response = getattr(client, method)(url(*objects), data)
    assert response["Location"].startswith("/login/?next=/")


@pytest.mark.parametrize("persona", PERSONAS)
def test_nothing_changes_on_get(as_persona, objects, persona):
    before = state()
    for _, _, _, _, url, _ in ACTIONS:
        as_persona(persona).get(url(*objects))
    assert state() == before


def test_program_list_is_paginated(as_persona, world):
    for n in range(30):
        ProgramFactory.create(vendor=world.vendor, name=f"Program {n:02d}")
    client = as_persona("auditor")
    first, second = client.get("/programs/"), client.get("/programs/?page=2")
    assert [p.name for p in first.context["page"].object_list][:2] == ["Cloud Co-op", "Program 00"]
    assert len(first.context["page"].object_list) == 25
    assert [p.name for p in second.context["page"].object_list] == [f"Program {n:02d}" for n in range(24, 30)]
    assert "Page 1 of 2" in first.content.decode()


def test_partners_see_only_programs_they_are_enrolled_in(as_persona, enrolled):
    ProgramFactory.create(vendor=enrolled.vendor, name="Not for them")
    assert [p.name for p in as_persona("partner_user").get("/programs/").context["page"].object_list] == ["Cloud Co-op"]
    assert list(as_persona("other_admin").get("/programs/").context["page"].object_list) == []


def test_program_detail_shows_rules_in_words_periods_and_holidays(as_persona, objects):
    program = objects[0]
    response = as_persona("partner_user").get(f"/programs/{program.pk}/")
    text = response.content.decode()
    today = timezone.localdate()
    fiscal_year = periods.fiscal_year_of(program, today)
    assert [r.topic for r in response.context["rules"]] == [
        "Fiscal year",
        "Periods",
        "Claiming window",
        "Rebate and co-op",
        "Threshold",
        "Late earnings",
        "Disputes",
        "Reminders",
        "Service levels",
        "Payments",
        "Business days",
    ]
    assert (
        "Earnings that arrive after their period closed: the threshold is applied again to the new total of the period "
        "(converted co-op becomes available once it reaches the threshold, unless it was paid as rebate)." in text
    )
    assert "A rejection can be disputed for 30 days after it." in text
    assert (
        "Location admins are reminded 30 days before available co-op is forfeited and 14 days before a claiming "
        "window closes." in text
    )
    assert "60% of earnings are paid as rebate; 40% become co-op funds." in text
    assert "Co-op below 10,000.00 USD for an earning period is converted to rebate instead." in text
    assert "Claims for a usage period open on the 16th of its 2nd month and close 45 days after it ends." in text
    assert "Monday to Friday, except the program&#x27;s own 1 holiday." in text
    assert [label for label, _ in response.context["years"]] == [
        periods.fiscal_year_label(fiscal_year),
        periods.fiscal_year_label(fiscal_year + 1),
    ]
    h1 = periods.period_at(program, fiscal_year, 1)
    assert f"{h1.claim_opens:%-d %b %Y} – {h1.claim_closes:%-d %b %Y}" in text
    assert "Founders&#x27; day" in text
    assert "Edit rules" not in text
    assert "Remove" not in text
    assert "Edit rules" in as_persona("program_manager").get(f"/programs/{program.pk}/").content.decode()


def test_catalogue_page_shows_requirements_and_caps_in_words(as_persona, objects):
    program = objects[0]
    response = as_persona("partner_admin").get(f"/programs/{program.pk}/catalogue/2027/")
    text = response.content.decode()
    assert response.status_code == 200
    assert [t.code for t in response.context["page"].object_list][:3] == [
        "customer-offers",
        "digital-advertising",
        "direct-marketing",
    ]
    assert "At most 18,750.00 per period" in text
    assert "At most the greater of 10% of earned co-op and 3,000.00 per period" in text
    assert "Screenshot of the activity (required): A screenshot of the ad as it ran." in text
    assert "Attendee list (optional)" in text
    assert "Add an activity type" not in text
    assert "Waive this cap" not in text
    assert as_persona("partner_admin").get(f"/programs/{program.pk}/catalogue/1999/").status_code == 404


def test_program_create_page_creates_and_redirects(as_persona, world):
    response = as_persona("program_manager").post("/programs/new/", program_data(holiday_country="us"))
    program = Program.objects.get(code="mdf")
    assert response["Location"] == f"/programs/{program.pk}/"
    assert (program.holiday_country, program.coop_threshold, program.vendor) == ("US", Decimal("1500.00"), world.vendor)


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"currency": "XXY"}, {"currency": ["“XXY” is not an ISO 4217 currency code (for example USD, EUR, GBP)."]}),
        (
            {"coop_threshold": "-5"},
            {"coop_threshold": ["The threshold can't be negative; 0 means co-op is never converted to rebate."]},
        ),
        (
            {"coop_threshold": "1500,50"},
            {
                "coop_threshold": [
                    "“1500,50” uses a comma; write amounts with a dot as decimal separator, e.g. 1234.50."
                ]
            },
        ),
        (
            {"fiscal_year_start_month": "13"},
            {"fiscal_year_start_month": ["Select a valid choice. 13 is not one of the available choices."]},
        ),
        ({"code": "coop"}, {"code": ["Another program already uses the code “coop”; choose another."]}),
        ({"payment_day": ""}, {"payment_day": ["Payments run on a day from 1 to 28 of the month."]}),
        ({"claim_opens_day": "soon"}, {"claim_opens_day": ["Enter a whole number."]}),
    ],
)
def test_program_create_page_shows_errors_under_their_fields(as_persona, world, overrides, errors):
    before = state()
    response = as_persona("program_manager").post("/programs/new/", program_data(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert state() == before


def test_program_edit_page_saves_rules(as_persona, world):
    response = as_persona("program_manager").post(
        f"/programs/{world.program.pk}/edit/", program_data(period_months="3", payment_day="10", coop_threshold="10000")
    )
    assert response.status_code == 302
    world.program.refresh_from_db()
    assert (world.program.period_months, world.program.payment_day, world.program.code) == (3, 10, "coop")


def test_a_duplicate_holiday_comes_back_with_the_reason(as_persona, objects):
    program = objects[0]
    before = state()
    response = as_persona("program_manager").post(
        f"/programs/{program.pk}/holidays/", {"date": "2027-03-09", "name": "X"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "date": ["09 Mar 2027 is already a holiday of this program (Founders' day)."]
    }
    assert state() == before


def test_activity_type_create_page_saves_documents_and_caps(as_persona, objects):
    program = objects[0]
    data = activity_data(
        {"kind": "period_percent", "percent": "25", "amount": "", "count": "", "expense": ""},
        {"kind": "", "percent": "", "amount": "", "count": "", "expense": ""},
    )
    response = as_persona("program_manager").post(f"/programs/{program.pk}/catalogue/2027/new/", data)
    assert response.status_code == 302
    entry = ActivityType.objects.get(program=program, code="webinars")
    assert entry.metrics == ["Registered guests", "Attendees"]
    assert [str(d) for d in entry.document_requirements.all()] == [
        "Invitation and agenda (required)",
        "Event photos (optional)",
    ]
    assert [str(c) for c in entry.caps.all()] == ["25% of earned co-op per period"]


def test_activity_type_form_shows_cap_errors(as_persona, objects):
    program = objects[0]
    before = state()
    data = activity_data({"kind": "period_percent", "percent": "120", "amount": "", "count": "", "expense": ""})
    response = as_persona("program_manager").post(f"/programs/{program.pk}/catalogue/2027/new/", data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Cap 1: (percentage of earned co-op per usage period) the percentage must be more than 0 and at most 100."
    ]
    assert state() == before


def test_activity_type_edit_page_removes_a_cap(as_persona, objects):
    _, entry, cap, _ = objects
    data = activity_data({"kind": "", "percent": "10", "amount": "3000", "count": "", "expense": ""}, name="Demo units")
    data["caps-INITIAL_FORMS"] = "1"
    response = as_persona("program_manager").post(f"/activity-types/{entry.pk}/edit/", data)
    assert response.status_code == 302
    assert Cap.objects.filter(pk=cap.pk).exists() is False
    entry.refresh_from_db()
    assert (entry.name, entry.code) == ("Demo units", "demo-units")


def test_the_catalogue_copy_button_copies_once(as_persona, objects):
    program = objects[0]
    client = as_persona("program_manager")
    response = client.post(f"/programs/{program.pk}/catalogue/2027/copy/")
    assert response["Location"] == f"/programs/{program.pk}/catalogue/2028/"
    assert ActivityType.objects.filter(program=program, fiscal_year=2028).count() == 12
    before = state()
    client.post(f"/programs/{program.pk}/catalogue/2027/copy/")
    assert state() == before


def test_waiving_a_cap(as_persona, objects):
    _, _, cap, _ = objects
    as_persona("program_manager").post(f"/caps/{cap.pk}/exempt/", {"exempt": "1"})
    cap.refresh_from_db()
    assert cap.exempt is True
    as_persona("program_manager").post(f"/caps/{cap.pk}/exempt/", {"exempt": "0"})
    cap.refresh_from_db()
    assert cap.exempt is False
