"""The shipped preset: DOMAIN.md's program and catalogue, loaded idempotently."""

from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command

from coopfunds.accounts.models import Organisation
from coopfunds.audit.models import AuditEvent
from coopfunds.programs.models import ActivityType, Program
from coopfunds.programs.preset import CATALOGUE, preset_load
from coopfunds.programs.tests.helpers import state
from coopfunds.testing.factories import OrganisationFactory, VendorFactory

pytestmark = pytest.mark.django_db


def load(**kwargs: Any) -> Program:
    values: dict[str, Any] = {
        "vendor": "Contoso",
        "code": "coop",
        "name": "Cloud Co-op",
        "currency": "USD",
        "fiscal_year": 2027,
        "big": True,
    }
    return preset_load(**(values | kwargs))


def catalogue_of(program: Program, fiscal_year: int = 2027) -> dict[str, dict[str, object]]:
    return {
        t.code: {
            "category": t.category,
            "metrics": t.metrics,
            "documents": [str(d) for d in t.document_requirements.all()],
            "caps": [str(c) for c in t.caps.all()],
        }
        for t in ActivityType.objects.filter(program=program, fiscal_year=fiscal_year).order_by("id")
    }


def test_the_preset_program_holds_domain_rules():
    program = load()
    program.refresh_from_db()
    assert program.vendor.name == "Contoso"
    assert program.vendor.kind == Organisation.Kind.VENDOR
    assert (program.fiscal_year_start_month, program.period_months) == (7, 6)
    assert (program.claim_opens_month, program.claim_opens_day, program.claim_closes_days_after_usage) == (2, 16, 45)
    assert (program.rebate_percent, program.coop_percent, program.coop_threshold) == (
        Decimal("60.00"),
        Decimal("40.00"),
        Decimal("10000.00"),
    )
    assert (
        program.review_sla_business_days,
        program.dispute_sla_business_days,
        program.payment_sla_business_days,
        program.payment_day,
    ) == (2, 5, 45, 15)


def test_the_threshold_of_other_programs_is_1500():
    assert load(code="small", big=False).coop_threshold == Decimal("1500.00")


def test_the_preset_catalogue_holds_every_domain_example():
    assert catalogue_of(load()) == {
        "digital-advertising": {
            "category": "demand_generation",
            "metrics": ["Results summary"],
            "documents": ["Landing-page URL (required)", "Screenshot of the activity (required)"],
            "caps": [],
        },
        "direct-marketing": {
            "category": "demand_generation",
            "metrics": ["Estimated reach"],
            "documents": ["Final piece (required)", "Proof of distribution (required)"],
            "caps": [],
        },
        "seminars-bootcamps": {
            "category": "demand_generation",
            "metrics": ["Registered guests"],
            "documents": ["Event photos (required)", "Invitation and agenda (required)", "Attendee list (optional)"],
            "caps": [],
        },
        "syndicated-content": {
            "category": "demand_generation",
            "metrics": ["Content views"],
            "documents": ["Screenshot of the activity (required)"],
            "caps": ["18,750.00 per period"],
        },
        "customer-offers": {
            "category": "demand_generation",
            "metrics": ["Customers who took the offer"],
            "documents": ["Other proof (required)"],
            "caps": ["25% of earned co-op per period"],
        },
        "internal-incentives": {
            "category": "market_development",
            "metrics": ["Staff rewarded"],
            "documents": ["Other proof (required)"],
            "caps": ["25% of earned co-op per period"],
        },
        "onsite-champ": {
            "category": "market_development",
            "metrics": ["Opportunities created"],
            "documents": ["Other proof (required)"],
            "caps": ["50% of earned co-op per period"],
        },
        "vendor-conferences": {
            "category": "market_development",
            "metrics": ["Attendees"],
            "documents": ["Attendee list (required)", "Travel receipts (required)"],
            "caps": ["5,000.00 per person per event (travel)", "3 attendees per event", "45,000.00 per period"],
        },
        "demo-units": {
            "category": "market_development",
            "metrics": ["Demonstrations given"],
            "documents": ["Other proof (required)"],
            "caps": ["the greater of 10% of earned co-op and 3,000.00 per period"],
        },
        "technical-training": {
            "category": "partner_skilling",
            "metrics": ["People trained"],
            "documents": ["Attendee list (required)"],
            "caps": [],
        },
        "certification-exams": {
            "category": "partner_skilling",
            "metrics": ["Certifications earned"],
            "documents": ["Other proof (required)"],
            "caps": [],
        },
        "sales-enablement": {
            "category": "partner_skilling",
            "metrics": ["Sellers enabled"],
            "documents": ["Attendee list (required)", "Invitation and agenda (required)"],
            "caps": [],
        },
    }


def test_seminars_allow_catering_but_never_alcohol():
    seminars = ActivityType.objects.get(program=load(), code="seminars-bootcamps")
    assert "catering" in seminars.eligible_expenses
    assert seminars.ineligible_expenses == "Alcohol, never; gifts and prizes."


def test_loading_twice_changes_nothing():
    program = load()
    assert AuditEvent.objects.filter(verb="program.preset_load").count() == 1
    event = AuditEvent.objects.get()
    assert (event.actor, event.actor_label, event.target_id, event.reason) == (
        None,
        "system",
        str(program.pk),
        "Preset catalogue for FY27.",
    )
    assert event.changes["program"] == [None, "Cloud Co-op (coop)"]
    assert event.changes["vendor"] == [None, "Contoso"]
    before = state()
    assert load() == program
    assert state() == before
    assert Organisation.objects.filter(name="Contoso").count() == 1


def test_an_existing_programs_rules_are_kept_and_a_new_years_catalogue_added():
    program = load()
    Program.objects.filter(pk=program.pk).update(coop_threshold=Decimal("7500"))
    ActivityType.objects.filter(program=program, code="demo-units").delete()
    load(fiscal_year=2028, big=False)
    program.refresh_from_db()
    assert program.coop_threshold == Decimal("7500.00")
    assert ActivityType.objects.filter(program=program, fiscal_year=2028).count() == len(CATALOGUE)
    load()  # FY27 gets back only what it lacks
    assert ActivityType.objects.filter(program=program, fiscal_year=2027).count() == len(CATALOGUE)
    assert AuditEvent.objects.order_by("-id").first().changes == {"activity_types": [None, "['demo-units']"]}  # type: ignore[union-attr]


def test_the_code_of_another_vendors_program_is_refused():
    load()
    VendorFactory.create(name="Fabrikam Corp")
    before = state()
    with pytest.raises(ValidationError) as excinfo:
        load(vendor="Fabrikam Corp")
    assert excinfo.value.message_dict == {"code": ["The code “coop” belongs to another vendor's program."]}
    assert state() == before


def test_a_partner_organisation_cannot_own_a_program():
    with pytest.raises(ValidationError) as excinfo:
        load(vendor=OrganisationFactory.create(name="Fabrikam"))
    assert excinfo.value.message_dict == {"vendor": ["Fabrikam is a partner, not a vendor."]}


def test_people_need_to_be_program_managers_of_that_vendor(world):
    before = state()
    for persona in ("partner_admin", "reviewer", "auditor"):
        with pytest.raises(PermissionDenied):
            load(vendor=world.vendor, code="new", actor=world.persona(persona))
    with pytest.raises(PermissionDenied):
        load(vendor="Someone Else", code="new", actor=world.program_manager)
    assert state() == before
    program = load(vendor=world.vendor, code="new", actor=world.program_manager)
    assert AuditEvent.objects.get(verb="program.preset_load").actor == world.program_manager
    assert program.vendor == world.vendor


def test_the_load_preset_command():
    out = StringIO()
    call_command("load_preset", "--vendor", "Contoso", "--code", "coop", "--fiscal-year", "2027", "--big", stdout=out)
    assert out.getvalue() == "Coop program (coop): FY27 catalogue has 12 activity types, threshold 10000.00 USD.\n"
    call_command("load_preset", "--vendor", "Contoso", "--code", "coop", "--fiscal-year", "2027", stdout=out)
    assert Program.objects.count() == 1
    assert AuditEvent.objects.count() == 1


def test_the_load_preset_command_reports_bad_input():
    with pytest.raises(CommandError, match=r"^currency: “XXY” is not an ISO 4217 currency code"):
        call_command(
            "load_preset", "--vendor", "Contoso", "--code", "coop", "--fiscal-year", "2027", "--currency", "XXY"
        )
    assert Program.objects.count() == 0
