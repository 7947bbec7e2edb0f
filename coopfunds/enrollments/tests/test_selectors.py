"""Who sees which enrollments and profiles, and what the two home pages are built from."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import PERSONAS
from coopfunds.core.errors import NotFound
from coopfunds.enrollments import selectors, services
from coopfunds.enrollments.models import TaxProfile
from coopfunds.enrollments.tests.helpers import (
    actor,
    invited,
    other_program,
    reviewing,
    scoped_user,
    submit_payout,
    submit_tax,
)

pytestmark = pytest.mark.django_db

VISIBLE = {
    "partner_admin": {"FAB-001", "FAB-002"},
    "partner_user": {"FAB-001"},
    "other_admin": {"NW-001"},
    "program_manager": {"FAB-001", "FAB-002", "NW-001"},
    "reviewer": {"FAB-001", "FAB-002", "NW-001"},
    "finance": {"FAB-001", "FAB-002", "NW-001"},
    "auditor": {"FAB-001", "FAB-002", "NW-001"},
    "anonymous": set(),
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_sees_only_the_enrollments_their_grants_cover(world, persona):
    for location in (world.location, world.second_location, world.other_location):
        invited(world, location)
    user = actor(world, persona)
    seen = {e.location.partner_id for e in selectors.enrollments_visible_to(user)}
    assert seen == VISIBLE[persona]
    other = selectors.enrollments_visible_to(world.other_admin).get()
    if "NW-001" in VISIBLE[persona]:
        assert selectors.enrollment_for(user, other.pk) == other
    else:
        with pytest.raises(NotFound):
            selectors.enrollment_for(user, other.pk)


def test_a_program_scoped_partner_user_sees_that_program_only(world):
    program = other_program(world)
    scoped = scoped_user(world, "incentives_user", program)
    invited(world)
    mine = services.enrollment_invite(location=world.location, program=program, actor=world.program_manager)
    assert list(selectors.enrollments_visible_to(scoped)) == [mine]


def test_an_inactive_user_sees_nothing(world):
    invited(world)
    world.partner_admin.is_active = False
    assert list(selectors.enrollments_visible_to(world.partner_admin)) == []
    assert list(selectors.enrollments_visible_to(actor(world, "anonymous"))) == []


@pytest.mark.parametrize("persona", PERSONAS)
def test_profiles_are_found_by_whoever_sees_their_location(world, persona):
    payout, tax = submit_payout(world), submit_tax(world)
    user = actor(world, persona)
    if persona in {"other_admin", "anonymous"}:
        with pytest.raises(NotFound):
            selectors.payout_profile_for(user, payout.pk)
        with pytest.raises(NotFound):
            selectors.tax_profile_for(user, tax.pk)
        return
    assert (selectors.payout_profile_for(user, payout.pk), selectors.tax_profile_for(user, tax.pk)) == (payout, tax)


def test_the_partner_home_lists_what_needs_the_admins_action(world):
    invitation = invited(world)
    waiting = services.enrollment_accept(enrollment=invited(world, world.second_location), actor=world.partner_admin)
    payout = submit_payout(world)
    services.profile_request_action(profile=payout, reason="Wrong holder.", actor=world.reviewer)
    tax = submit_tax(world, location=world.second_location)
    TaxProfile.objects.filter(pk=tax.pk).update(expires_on=timezone.localdate() + timedelta(days=30))
    submit_tax(world, expires_on=timezone.localdate() + timedelta(days=31))
    waiting.refresh_from_db()

    home = selectors.partner_home(world.partner_admin)

    assert list(home["enrollments"]) == [invitation, waiting]
    assert home["enrollment_count"] == 2
    assert home["invitations"] == [invitation]
    assert home["action_required"] == [waiting]
    assert waiting.status_reason == "Add a payout profile (the bank account to pay)."
    assert home["profiles_needing_action"] == [payout]
    assert [p.pk for p in home["tax_expiring"]] == [tax.pk]
    assert [(row["location"].partner_id, row["payout"], row["is_admin"]) for row in home["locations"]] == [
        ("FAB-001", payout, True),
        ("FAB-002", None, True),
    ]


def test_an_incentives_user_has_nothing_to_act_on(world):
    invited(world)
    home = selectors.partner_home(world.partner_user)
    assert (home["enrollment_count"], home["invitations"], home["action_required"], home["tax_expiring"]) == (
        1,
        [],
        [],
        [],
    )
    assert [row["is_admin"] for row in home["locations"]] == [False]


def test_the_vendor_home_shows_the_queues_and_counts(world):
    under_review = reviewing(world, approve_profiles=False)
    invited(world, world.other_location)
    home = selectors.vendor_home(world.reviewer)
    assert list(home["reviewing"]) == [under_review]
    assert (home["reviewing_count"], home["pending_payout_count"], home["pending_tax_count"]) == (1, 1, 1)
    assert [(status.value, n) for status, n in home["status_counts"]] == [
        ("invited", 1),
        ("action_required", 0),
        ("reviewing", 1),
        ("enrolled", 0),
        ("inactive", 0),
        ("ineligible", 0),
        ("no_longer_supported", 0),
    ]
    assert (home["can_validate"], home["can_invite"]) == (True, False)
    assert selectors.vendor_home(world.program_manager)["can_invite"] is True


def test_admins_to_email_are_the_active_incentives_admins_of_the_location(world):
    assert selectors.incentives_admin_emails(world.location, world.program) == ["ada.admin@fabrikam.example"]
    world.partner_admin.is_active = False
    world.partner_admin.save()
    assert selectors.incentives_admin_emails(world.location, world.program) == []
