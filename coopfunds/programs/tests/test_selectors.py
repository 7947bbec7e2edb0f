"""Who sees which programs, catalogue entries, holidays and caps."""

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser

from conftest import PERSONAS
from coopfunds.accounts.models import Role
from coopfunds.core.errors import NotFound
from coopfunds.programs import selectors
from coopfunds.programs.models import Holiday
from coopfunds.testing.factories import ProgramFactory, RoleFactory

pytestmark = pytest.mark.django_db

SEES_THE_PROGRAM = {"partner_admin", "partner_user", "program_manager", "reviewer", "finance", "auditor"}


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "anonymous"])
def test_programs_visible_to(enrolled, persona):
    world = enrolled
    ProgramFactory.create(vendor=world.vendor, name="Zeta program")
    user = world.persona(persona)
    expected = {
        "partner_admin": ["Cloud Co-op"],
        "partner_user": ["Cloud Co-op"],
        "other_admin": [],
    }.get(persona, ["Cloud Co-op", "Zeta program"])
    assert [p.name for p in selectors.programs_visible_to(user)] == expected


@pytest.mark.parametrize("persona", sorted(SEES_THE_PROGRAM))
def test_program_for_finds_a_visible_program(enrolled, persona):
    assert selectors.program_for(enrolled.persona(persona), enrolled.program.pk) == enrolled.program


def test_program_for_another_partners_program_is_not_found(enrolled):
    with pytest.raises(NotFound):
        selectors.program_for(enrolled.other_admin, enrolled.program.pk)
    with pytest.raises(NotFound):
        selectors.program_for(enrolled.program_manager, 0)


def test_anonymous_sees_nothing(enrolled):
    assert list(selectors.programs_visible_to(AnonymousUser())) == []  # type: ignore[arg-type]


def test_a_partner_role_limited_to_another_program_does_not_show_this_one(enrolled):
    world = enrolled
    other = ProgramFactory.create(vendor=world.vendor, name="Other program")
    other.enrollments.create(location=world.second_location)
    scoped = RoleFactory.create(
        role=Role.INCENTIVES_USER, location=world.location, program=other, user__organisation=world.partner
    ).user
    assert list(selectors.programs_visible_to(scoped)) == []
    RoleFactory.create(user=scoped, role=Role.INCENTIVES_USER, location=world.second_location, program=other)
    del scoped.grants
    assert list(selectors.programs_visible_to(scoped)) == [other]


def test_a_program_with_two_enrolled_locations_is_listed_once(enrolled):
    world = enrolled
    world.program.enrollments.create(location=world.second_location)
    assert list(selectors.programs_visible_to(world.partner_admin)) == [world.program]


def test_catalogue_holidays_and_caps_follow_the_programs_visibility(catalogued, world):
    demo = catalogued.activity_types.get(code="demo-units")
    cap = demo.caps.get()
    holiday = Holiday.objects.create(program=catalogued, date=date(2027, 3, 9), name="Founders' day")
    assert selectors.activity_type_for(world.partner_user, demo.pk) == demo
    assert selectors.cap_for(world.partner_user, cap.pk) == cap
    assert selectors.holiday_for(world.partner_user, holiday.pk) == holiday
    for find, pk in (
        (selectors.activity_type_for, demo.pk),
        (selectors.cap_for, cap.pk),
        (selectors.holiday_for, holiday.pk),
    ):
        with pytest.raises(NotFound):
            find(world.other_admin, pk)
    with pytest.raises(NotFound):
        selectors.activity_type_for(world.program_manager, "nonsense")  # type: ignore[arg-type]
    assert selectors.catalogue_years(catalogued) == [2027]
    assert [t.code for t in selectors.activity_types_for(catalogued, 2027).filter(category="partner_skilling")] == [
        "certification-exams",
        "sales-enablement",
        "technical-training",
    ]
