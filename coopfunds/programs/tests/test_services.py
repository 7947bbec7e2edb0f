"""Program, holiday and catalogue services: what they write, what they audit, what they refuse and why."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from conftest import PERSONAS
from coopfunds.accounts.models import Role
from coopfunds.audit.models import AuditEvent
from coopfunds.programs import services
from coopfunds.programs.catalogue import CapSpec, DocumentSpec
from coopfunds.programs.models import ActivityType, Cap, CapKind, DocumentKind, Holiday, Program
from coopfunds.programs.tests.helpers import counts, state
from coopfunds.testing.factories import ProgramFactory, RoleFactory

pytestmark = pytest.mark.django_db


def errors_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def last_audit() -> AuditEvent:
    return AuditEvent.objects.order_by("-id").first()  # type: ignore[return-value]


# Programs --------------------------------------------------------------------------------------------------


def test_program_manager_creates_a_program_with_the_preset_rules_and_an_audit_row(world):
    program = services.program_create(
        code="mdf", name="Market Development", currency="eur", actor=world.program_manager
    )
    program.refresh_from_db()
    assert (program.code, program.name, program.currency, program.vendor) == (
        "mdf",
        "Market Development",
        "EUR",
        world.vendor,
    )
    assert (program.fiscal_year_start_month, program.period_months, program.claim_opens_month) == (7, 6, 2)
    assert (program.claim_opens_day, program.claim_closes_days_after_usage, program.payment_day) == (16, 45, 15)
    event = last_audit()
    assert (event.verb, event.actor, event.target_type, event.target_id) == (
        "program.create",
        world.program_manager,
        "programs.program",
        str(program.pk),
    )
    assert event.changes["code"] == [None, "mdf"]
    assert event.changes["coop_threshold"] == [None, "1500"]
    assert event.changes["period_months"] == [None, 6]


def test_program_create_with_rules(world):
    program = services.program_create(
        code="quarterly",
        name="Quarterly",
        currency="USD",
        actor=world.program_manager,
        fiscal_year_start_month=1,
        period_months=3,
        claim_opens_month=1,
        coop_threshold=Decimal("0"),
        rebate_percent=Decimal("50.5"),
        holiday_country=" de ",
    )
    program.refresh_from_db()
    assert (program.fiscal_year_start_month, program.period_months, program.claim_opens_month) == (1, 3, 1)
    assert (program.coop_threshold, program.rebate_percent, program.holiday_country) == (
        Decimal("0.00"),
        Decimal("50.50"),
        "DE",
    )


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"currency": "XXY"},
            {"currency": ["“XXY” is not an ISO 4217 currency code (for example USD, EUR, GBP)."]},
        ),
        (
            {"coop_threshold": Decimal("-5")},
            {"coop_threshold": ["The threshold can't be negative; 0 means co-op is never converted to rebate."]},
        ),
        (
            {"coop_threshold": Decimal("1.005")},
            {"coop_threshold": ["Write the threshold as an amount of at most 16 digits and two decimal places."]},
        ),
        (
            {"fiscal_year_start_month": 13},
            {"fiscal_year_start_month": ["The fiscal year starts in a month from 1 (January) to 12 (December)."]},
        ),
        (
            {"period_months": 5},
            {
                "period_months": [
                    "A period lasts 1, 2, 3, 4, 6 or 12 months, so that a fiscal year holds whole periods."
                ]
            },
        ),
        (
            {"claim_opens_month": 7},
            {
                "claim_opens_month": [
                    "Claims open in a month of the usage period: from 1 (its first month) to 6 (its last); it is now 7."
                ]
            },
        ),
        (
            {"period_months": 1},
            {
                "period_months": [
                    "Claims open in a month of the usage period: from 1 (its first month) to 1 (its last); it is now 2."
                ]
            },
        ),
        ({"claim_opens_day": 29}, {"claim_opens_day": ["Claims open on a day from 1 to 28 of the month."]}),
        ({"payment_day": 0}, {"payment_day": ["Payments run on a day from 1 to 28 of the month."]}),
        (
            {"rebate_percent": Decimal("100.01")},
            {"rebate_percent": ["The rebate share is a percentage from 0 to 100, with at most two decimals."]},
        ),
        (
            {"review_sla_business_days": 0},
            {"review_sla_business_days": ["Claims are reviewed within 1 to 365 business days."]},
        ),
        (
            {"holiday_country": "XX"},
            {
                "holiday_country": [
                    "“XX” is not a country whose public holidays we know; use an ISO code such as US, DE or GB, "
                    "or leave it empty."
                ]
            },
        ),
        (
            {"code": "Coop Fund!"},
            {
                "code": [
                    "A code has at most 32 characters: lowercase letters, digits, and single hyphens or underscores "
                    "between them."
                ]
            },
        ),
        ({"code": "coop"}, {"code": ["Another program already uses the code “coop”; choose another."]}),
        ({"name": "  "}, {"name": ["Give it a name."]}),
    ],
)
def test_program_create_refuses_bad_input_field_by_field(world, kwargs, expected):
    values = {"code": "new", "name": "New", "currency": "USD", **kwargs}
    before = state()
    with pytest.raises(ValidationError) as excinfo:
        services.program_create(actor=world.program_manager, **values)
    assert errors_of(excinfo) == expected
    assert state() == before


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p not in ("program_manager", "anonymous")])
def test_only_a_program_manager_creates_programs(world, persona):
    before = state()
    with pytest.raises(PermissionDenied):
        services.program_create(code="new", name="New", currency="USD", actor=world.persona(persona))
    assert state() == before


def test_a_program_manager_limited_to_one_program_cannot_create_or_configure_others(world):
    other = ProgramFactory.create(vendor=world.vendor)
    scoped = RoleFactory.create(role=Role.PROGRAM_MANAGER, program=other, user__organisation=world.vendor).user
    before = state()
    with pytest.raises(PermissionDenied):
        services.program_create(code="new", name="New", currency="USD", actor=scoped)
    with pytest.raises(PermissionDenied):
        services.program_update(program=world.program, name="Renamed", actor=scoped)
    assert state() == before
    assert services.program_update(program=other, name="Renamed", actor=scoped).name == "Renamed"


def test_program_update_changes_rules_and_audits_the_difference(world):
    program = services.program_update(
        program=world.program, actor=world.program_manager, name="Cloud Co-op", period_months=3, payment_day=10
    )
    assert (program.period_months, program.payment_day) == (3, 10)
    event = last_audit()
    assert (event.verb, event.changes) == (
        "program.update",
        {"period_months": [6, 3], "payment_day": [15, 10], "rules_version": [1, 2]},
    )


def test_program_update_without_changes_writes_nothing(world):
    before = counts()
    services.program_update(program=world.program, actor=world.program_manager, name="Cloud Co-op", period_months=6)
    assert counts() == before


def test_program_update_checks_claim_month_against_the_new_period_length(world):
    with pytest.raises(ValidationError) as excinfo:
        services.program_update(program=world.program, actor=world.program_manager, period_months=1)
    assert list(errors_of(excinfo)) == ["period_months"]
    services.program_update(program=world.program, actor=world.program_manager, period_months=1, claim_opens_month=1)
    world.program.refresh_from_db()
    assert (world.program.period_months, world.program.claim_opens_month) == (1, 1)


def test_program_update_refuses_values_of_the_wrong_type(world):
    with pytest.raises(ValidationError) as excinfo:
        services.program_update(
            program=world.program,
            actor=world.program_manager,
            payment_day=None,  # type: ignore[arg-type]
            is_active="yes",  # type: ignore[arg-type]
            coop_threshold="10",  # type: ignore[arg-type]
        )
    assert sorted(errors_of(excinfo)) == ["coop_threshold", "is_active", "payment_day"]


# Holidays --------------------------------------------------------------------------------------------------


def test_holidays_are_added_and_removed_with_audit_rows(world):
    holiday = services.holiday_add(
        program=world.program, day=date(2027, 3, 9), name=" Founders' day ", actor=world.program_manager
    )
    assert (holiday.date, holiday.name) == (date(2027, 3, 9), "Founders' day")
    assert (last_audit().verb, last_audit().changes) == (
        "holiday.add",
        {"date": [None, "2027-03-09"], "name": [None, "Founders' day"]},
    )
    services.holiday_remove(holiday=holiday, actor=world.program_manager)
    assert Holiday.objects.count() == 0
    assert (last_audit().verb, last_audit().target_id, last_audit().changes) == (
        "holiday.remove",
        str(holiday.pk),
        {"date": ["2027-03-09", None], "name": ["Founders' day", None]},
    )


def test_a_date_is_a_holiday_once(world):
    services.holiday_add(program=world.program, day=date(2027, 3, 9), name="Founders' day", actor=world.program_manager)
    with pytest.raises(ValidationError) as excinfo:
        services.holiday_add(program=world.program, day=date(2027, 3, 9), name="Again", actor=world.program_manager)
    assert errors_of(excinfo) == {"date": ["09 Mar 2027 is already a holiday of this program (Founders' day)."]}


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p not in ("program_manager", "anonymous")])
def test_only_a_program_manager_changes_holidays(world, persona):
    holiday = Holiday.objects.create(program=world.program, date=date(2027, 3, 9), name="Founders' day")
    before = state()
    with pytest.raises(PermissionDenied):
        services.holiday_add(program=world.program, day=date(2027, 3, 10), name="X", actor=world.persona(persona))
    with pytest.raises(PermissionDenied):
        services.holiday_remove(holiday=holiday, actor=world.persona(persona))
    assert state() == before


# Activity catalogue ----------------------------------------------------------------------------------------


def create_type(world, **kwargs):  # type: ignore[no-untyped-def]
    values = {
        "program": world.program,
        "fiscal_year": 2027,
        "code": "webinars",
        "name": "Webinars",
        "category": "demand_generation",
        "metrics": ["Registered guests", " "],
        "documents": [
            DocumentSpec(kind="invitation_agenda", note=" The agenda "),
            DocumentSpec(kind="event_photos", required=False),
        ],
        "caps": [CapSpec(kind="period_amount", amount=Decimal("5000"))],
        "actor": world.program_manager,
        **kwargs,
    }
    return services.activity_type_create(**values)


def test_activity_type_create_with_documents_caps_and_audit(world):
    activity_type = create_type(world)
    assert (activity_type.code, activity_type.fiscal_year, activity_type.metrics) == (
        "webinars",
        2027,
        ["Registered guests"],
    )
    assert [(d.kind, d.required, d.note) for d in activity_type.document_requirements.order_by("kind")] == [
        ("event_photos", False, ""),
        ("invitation_agenda", True, "The agenda"),
    ]
    assert [str(c) for c in activity_type.caps.all()] == ["5,000.00 per period"]
    event = last_audit()
    assert (event.verb, event.target_type) == ("activity_type.create", "programs.activitytype")
    assert event.changes["caps"] == [None, "['5,000.00 per period']"]
    assert event.changes["documents"] == [None, "['Invitation and agenda (required)', 'Event photos (optional)']"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"caps": [CapSpec(kind="period_percent", percent=Decimal("0"))]},
            {
                "caps": [
                    "Cap 1: (percentage of earned co-op per usage period) the percentage must be more than 0 and at most 100."
                ]
            },
        ),
        (
            {
                "caps": [
                    CapSpec(kind="period_percent", percent=Decimal("100")),
                    CapSpec(kind="period_percent", percent=Decimal("101")),
                ]
            },
            {
                "caps": [
                    "Cap 2: (percentage of earned co-op per usage period) the percentage must be more than 0 and at most 100."
                ]
            },
        ),
        (
            {"caps": [CapSpec(kind="period_amount", amount=Decimal("0"))]},
            {
                "caps": [
                    "Cap 1: (fixed amount per usage period) the amount must be more than zero, with at most two decimal places."
                ]
            },
        ),
        (
            {"caps": [CapSpec(kind="period_amount")]},
            {"caps": ["Cap 1: (fixed amount per usage period) give an amount greater than zero."]},
        ),
        (
            {"caps": [CapSpec(kind="per_person", amount=Decimal("10"), percent=Decimal("5"))]},
            {
                "caps": [
                    "Cap 1: (amount per person per event) a fixed amount takes no percentage and no number of attendees."
                ]
            },
        ),
        (
            {"caps": [CapSpec(kind="per_event_attendees")]},
            {"caps": ["Cap 1: (attendees per event) give the number of attendees, at least 1."]},
        ),
        (
            {"caps": [CapSpec(kind="per_event_attendees", count=3, amount=Decimal("1"))]},
            {"caps": ["Cap 1: (attendees per event) a number of attendees takes no amount and no percentage."]},
        ),
        ({"caps": [CapSpec(kind="monthly")]}, {"caps": ["Cap 1: choose what kind of limit it is."]}),
        (
            {"documents": [DocumentSpec(kind="selfie")]},
            {"documents": ["Document 1: “selfie” is not a kind of document we know."]},
        ),
        (
            {"documents": [DocumentSpec(kind="screenshot"), DocumentSpec(kind="screenshot", required=False)]},
            {"documents": ["Document 2: Screenshot of the activity is listed twice."]},
        ),
        ({"metrics": ["Reach", "reach"]}, {"metrics": ["A metric is listed twice."]}),
        (
            {"category": "fun"},
            {"category": ["Choose a category: demand generation, market development, partner skilling."]},
        ),
        ({"fiscal_year": 27}, {"fiscal_year": ["Give a fiscal year between 2000 and 2100 (FY27 is 2027)."]}),
        ({"code": ""}, {"code": ["Give a short code, e.g. digital-advertising."]}),
    ],
)
def test_activity_type_create_refuses_bad_input_field_by_field(world, kwargs, expected):
    before = state()
    with pytest.raises(ValidationError) as excinfo:
        create_type(world, **kwargs)
    assert errors_of(excinfo) == expected
    assert state() == before


def test_activity_type_codes_are_unique_per_program_and_year(world):
    create_type(world)
    with pytest.raises(ValidationError) as excinfo:
        create_type(world)
    assert errors_of(excinfo) == {"code": ["The FY27 catalogue already has an activity type with the code “webinars”."]}
    assert create_type(world, fiscal_year=2028).fiscal_year == 2028


def test_activity_type_update_replaces_documents_and_caps(world):
    activity_type = create_type(world)
    updated = services.activity_type_update(
        activity_type=activity_type,
        actor=world.program_manager,
        name="Webinars and online events",
        documents=[DocumentSpec(kind="screenshot")],
        caps=[CapSpec(kind="period_percent", percent=Decimal("10"), amount=Decimal("3000"))],
    )
    assert updated.name == "Webinars and online events"
    assert [d.kind for d in updated.document_requirements.all()] == ["screenshot"]
    assert [str(c) for c in updated.caps.all()] == ["the greater of 10% of earned co-op and 3,000.00 per period"]
    event = last_audit()
    assert (event.verb, event.changes) == (
        "activity_type.update",
        {
            "name": ["Webinars", "Webinars and online events"],
            "documents": [
                "['Invitation and agenda (required)', 'Event photos (optional)']",
                "['Screenshot of the activity (required)']",
            ],
            "caps": ["['5,000.00 per period']", "['the greater of 10% of earned co-op and 3,000.00 per period']"],
        },
    )


def test_activity_type_update_refuses_bad_caps_and_keeps_the_old_ones(world):
    activity_type = create_type(world)
    before = state()
    with pytest.raises(ValidationError) as excinfo:
        services.activity_type_update(
            activity_type=activity_type, actor=world.program_manager, name="", caps=[CapSpec(kind="per_event")]
        )
    assert errors_of(excinfo) == {
        "name": ["Give it a name."],
        "caps": ["Cap 1: (amount per event) give an amount greater than zero."],
    }
    assert state() == before


def test_cap_exemption_is_audited_with_its_reason(world):
    cap = create_type(world).caps.get()
    services.cap_set_exempt(cap=cap, exempt=True, actor=world.program_manager, reason="Launch quarter")
    cap.refresh_from_db()
    assert cap.exempt is True
    assert (last_audit().verb, last_audit().changes, last_audit().reason) == (
        "cap.exempt",
        {"exempt": [False, True]},
        "Launch quarter",
    )
    before = counts()
    services.cap_set_exempt(cap=cap, exempt=True, actor=world.program_manager)
    assert counts() == before
    services.cap_set_exempt(cap=cap, exempt=False, actor=world.program_manager)
    assert last_audit().verb == "cap.apply"


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p not in ("program_manager", "anonymous")])
def test_only_a_program_manager_changes_the_catalogue(world, persona):
    activity_type = create_type(world)
    cap = activity_type.caps.get()
    actor = world.persona(persona)
    before = state()
    with pytest.raises(PermissionDenied):
        create_type(world, code="other", actor=actor)
    with pytest.raises(PermissionDenied):
        services.activity_type_update(activity_type=activity_type, name="X", actor=actor)
    with pytest.raises(PermissionDenied):
        services.cap_set_exempt(cap=cap, exempt=True, actor=actor)
    with pytest.raises(PermissionDenied):
        services.catalogue_copy_to_fiscal_year(program=world.program, fiscal_year=2027, actor=actor)
    assert state() == before


def test_catalogue_copy_to_the_next_year_is_idempotent(world):
    create_type(world)
    create_type(world, code="retired", name="Retired")
    ActivityType.objects.filter(code="retired").update(is_active=False)
    copied = services.catalogue_copy_to_fiscal_year(
        program=world.program, fiscal_year=2027, actor=world.program_manager
    )
    assert [(t.code, t.fiscal_year) for t in copied] == [("webinars", 2028)]
    copy = ActivityType.objects.get(fiscal_year=2028)
    assert [d.kind for d in copy.document_requirements.order_by("kind")] == ["event_photos", "invitation_agenda"]
    assert [(c.kind, c.amount) for c in copy.caps.all()] == [(CapKind.PERIOD_AMOUNT, Decimal("5000.00"))]
    assert (last_audit().verb, last_audit().changes, last_audit().reason) == (
        "catalogue.copy",
        {"activity_types": [None, "['webinars']"]},
        "Copied from FY27 to FY28.",
    )
    before = state()
    assert (
        services.catalogue_copy_to_fiscal_year(program=world.program, fiscal_year=2027, actor=world.program_manager)
        == []
    )
    assert state() == before


def test_copying_an_empty_catalogue_says_so(world):
    with pytest.raises(ValidationError) as excinfo:
        services.catalogue_copy_to_fiscal_year(program=world.program, fiscal_year=2030, actor=world.program_manager)
    assert errors_of(excinfo) == {"fiscal_year": ["FY30 has no active activity types to copy."]}


def test_the_database_backs_the_rules_up(world):
    """Constraints refuse what the services would refuse, should anything write around them."""
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Program.objects.filter(pk=world.program.pk).update(claim_opens_month=7)
    activity_type = create_type(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        Cap.objects.create(activity_type=activity_type, kind=CapKind.PERIOD_PERCENT, percent=Decimal("120"))
    with pytest.raises(IntegrityError), transaction.atomic():
        activity_type.document_requirements.create(kind=DocumentKind.INVITATION_AGENDA)
