"""Every enrollment transition: who may, what changes, the audit row, and nothing changes on denial."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from conftest import PERSONAS
from coopfunds.audit.models import AuditEvent
from coopfunds.core.errors import Conflict
from coopfunds.enrollments import services
from coopfunds.enrollments.models import TRANSITIONS, Enrollment, EnrollmentStatus, TaxProfile
from coopfunds.enrollments.requirements import earnings_start_for
from coopfunds.enrollments.tests.helpers import (
    actor,
    invited,
    other_program,
    reviewing,
    scoped_user,
    submit_payout,
    submit_tax,
)
from coopfunds.programs.models import Program

pytestmark = pytest.mark.django_db


def snapshot(enrollment: Enrollment) -> tuple:
    enrollment.refresh_from_db()
    return (enrollment.status, enrollment.status_reason, enrollment.updated_at, AuditEvent.objects.count())


# --- the transition table --------------------------------------------------------------------------------


def test_the_transition_table_covers_every_status_and_never_loops():
    assert set(TRANSITIONS) == set(EnrollmentStatus.values)
    assert all(status not in targets for status, targets in TRANSITIONS.items())
    assert TRANSITIONS[EnrollmentStatus.ENROLLED] == {
        EnrollmentStatus.INACTIVE,
        EnrollmentStatus.INELIGIBLE,
        EnrollmentStatus.NO_LONGER_SUPPORTED,
    }
    assert TRANSITIONS[EnrollmentStatus.INACTIVE] == {
        EnrollmentStatus.INVITED,
        EnrollmentStatus.ACTION_REQUIRED,
        EnrollmentStatus.REVIEWING,
        EnrollmentStatus.INELIGIBLE,
        EnrollmentStatus.NO_LONGER_SUPPORTED,
    }


# --- invite --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_a_program_manager_invites(world, persona):
    events = AuditEvent.objects.count()
    if persona != "program_manager":
        with pytest.raises(PermissionDenied):
            services.enrollment_invite(location=world.location, program=world.program, actor=actor(world, persona))
        assert Enrollment.objects.count() == 0
        assert AuditEvent.objects.count() == events
        return
    enrollment = services.enrollment_invite(location=world.location, program=world.program, actor=world.program_manager)
    assert (enrollment.status, enrollment.location, enrollment.program) == ("invited", world.location, world.program)
    assert enrollment.invited_at is not None
    event = AuditEvent.objects.get()
    assert (event.verb, event.actor, event.target_id, event.organisation_id, event.changes) == (
        "enrollment.invite",
        world.program_manager,
        str(enrollment.pk),
        world.partner.pk,
        {"status": [None, "invited"]},
    )


def test_inviting_twice_is_a_field_error(world):
    invited(world)
    with pytest.raises(ValidationError) as caught:
        invited(world)
    assert caught.value.message_dict == {
        "location": ["Fabrikam Berlin (FAB-001) already has an enrollment in Cloud Co-op (Invited)."]
    }
    assert Enrollment.objects.count() == 1


def test_a_closed_program_takes_no_invitations(world):
    Program.objects.filter(pk=world.program.pk).update(is_active=False)
    world.program.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        invited(world)
    assert caught.value.message_dict == {"program": ["Cloud Co-op is closed: it takes no new enrollments."]}


def test_the_invitation_emails_the_locations_admins_after_commit(world, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = invited(world)
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["ada.admin@fabrikam.example"], "Cloud Co-op: Fabrikam Berlin is invited to enroll")
    ]
    assert f"/enrollments/{enrollment.pk}/" in mailoutbox[0].body


def test_no_email_leaves_when_the_invitation_fails(world, mailoutbox, django_capture_on_commit_callbacks):
    invited(world)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        invited(world)
    assert mailoutbox == []


# --- accept --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_locations_incentives_admin_accepts(world, persona):
    enrollment = invited(world)
    before = snapshot(enrollment)
    if persona != "partner_admin":
        with pytest.raises(PermissionDenied):
            services.enrollment_accept(enrollment=enrollment, actor=actor(world, persona))
        assert snapshot(enrollment) == before
        return
    accepted = services.enrollment_accept(enrollment=enrollment, actor=world.partner_admin)
    assert accepted.status == "action_required"
    assert accepted.accepted_at is not None
    assert AuditEvent.objects.count() == before[3] + 1


def test_accepting_without_profiles_lists_what_is_missing(world):
    enrollment = services.enrollment_accept(enrollment=invited(world), actor=world.partner_admin)
    assert (enrollment.status, enrollment.status_reason) == (
        "action_required",
        "Add a payout profile (the bank account to pay). Add a tax profile.",
    )
    event = AuditEvent.objects.latest("id")
    assert (event.verb, event.changes) == (
        "enrollment.accept",
        {
            "status": ["invited", "action_required"],
            "status_reason": ["", "Add a payout profile (the bank account to pay). Add a tax profile."],
        },
    )


def test_accepting_with_an_expired_tax_profile_says_so(world):
    enrollment = invited(world)
    submit_payout(world)
    tax = submit_tax(world)
    TaxProfile.objects.filter(pk=tax.pk).update(expires_on=date(2020, 3, 31))
    enrollment = services.enrollment_accept(enrollment=enrollment, actor=world.partner_admin)
    assert (enrollment.status, enrollment.status_reason) == (
        "action_required",
        "Your tax profile expired on 31 Mar 2020: submit a current one.",
    )


def test_accepting_with_both_profiles_goes_to_review(world):
    enrollment = reviewing(world, approve_profiles=False)
    assert (enrollment.status, enrollment.status_reason) == ("reviewing", "")
    assert enrollment.review_started_at is not None


def test_an_invitation_is_accepted_once(world):
    enrollment = services.enrollment_accept(enrollment=invited(world), actor=world.partner_admin)
    with pytest.raises(Conflict) as caught:
        services.enrollment_accept(enrollment=enrollment, actor=world.partner_admin)
    assert caught.value.message == "This invitation has already been answered: the enrollment is Action required."


def test_a_program_scoped_admin_accepts_only_their_program(world):
    program = other_program(world)
    scoped = scoped_user(world, "incentives_admin", program)
    enrollment = invited(world)
    with pytest.raises(PermissionDenied):
        services.enrollment_accept(enrollment=enrollment, actor=scoped)
    mine = services.enrollment_invite(location=world.location, program=program, actor=world.program_manager)
    assert services.enrollment_accept(enrollment=mine, actor=scoped).status == "action_required"


# --- approve -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_reviewer_or_program_manager_approves(world, persona):
    enrollment = reviewing(world)
    before = snapshot(enrollment)
    if persona not in {"reviewer", "program_manager"}:
        with pytest.raises(PermissionDenied):
            services.enrollment_approve(enrollment=enrollment, actor=actor(world, persona))
        assert snapshot(enrollment) == before
        return
    approved = services.enrollment_approve(enrollment=enrollment, actor=actor(world, persona))
    assert approved.status == "enrolled"
    assert approved.earnings_start == timezone.localdate(approved.enrolled_at).replace(day=1)
    event = AuditEvent.objects.latest("id")
    assert (event.verb, event.actor, event.changes) == (
        "enrollment.approve",
        actor(world, persona),
        {"status": ["reviewing", "enrolled"], "earnings_start": [None, approved.earnings_start.isoformat()]},
    )


def test_approval_waits_for_validated_profiles(world):
    enrollment = reviewing(world, approve_profiles=False)
    before = snapshot(enrollment)
    with pytest.raises(Conflict) as caught:
        services.enrollment_approve(enrollment=enrollment, actor=world.reviewer)
    assert caught.value.code == "requirements_not_met"
    assert caught.value.message == (
        "It cannot be approved yet. The payout profile has not been validated yet. "
        "The tax profile has not been validated yet."
    )
    assert snapshot(enrollment) == before


def test_approval_refuses_an_expired_tax_profile(world):
    enrollment = reviewing(world)
    TaxProfile.objects.filter(location=world.location).update(expires_on=timezone.localdate() - timedelta(days=1))
    with pytest.raises(Conflict) as caught:
        services.enrollment_approve(enrollment=enrollment, actor=world.reviewer)
    assert caught.value.code == "requirements_not_met"
    assert Enrollment.objects.get(pk=enrollment.pk).status == "reviewing"


def test_only_an_enrollment_under_review_is_approved(world):
    enrollment = invited(world)
    with pytest.raises(Conflict) as caught:
        services.enrollment_approve(enrollment=enrollment, actor=world.reviewer)
    assert caught.value.message == "Only an enrollment under review can be approved; this one is Invited."


@pytest.mark.parametrize(
    ("met_at", "start"),
    [
        (datetime(2026, 11, 30, 23, 59, tzinfo=UTC), date(2026, 11, 1)),
        (datetime(2027, 1, 1, 0, 0, tzinfo=UTC), date(2027, 1, 1)),
        (datetime(2028, 2, 29, 12, 0, tzinfo=UTC), date(2028, 2, 1)),
        (date(2026, 7, 15), date(2026, 7, 1)),
    ],
)
def test_earnings_start_on_the_first_day_of_the_month_requirements_were_met(met_at, start):
    assert earnings_start_for(met_at) == start


# --- end and reactivate ----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_a_program_manager_ends_an_enrollment(world, persona):
    enrollment = invited(world)
    before = snapshot(enrollment)
    if persona != "program_manager":
        with pytest.raises(PermissionDenied):
            services.enrollment_set_status(
                enrollment=enrollment, status="inactive", reason="Dormant", actor=actor(world, persona)
            )
        assert snapshot(enrollment) == before
        return
    ended = services.enrollment_set_status(
        enrollment=enrollment,
        status="ineligible",
        reason="Outside the program's countries.",
        actor=world.program_manager,
    )
    assert (ended.status, ended.status_reason) == ("ineligible", "Outside the program's countries.")
    assert ended.ended_at is not None
    event = AuditEvent.objects.latest("id")
    assert (event.verb, event.reason, event.changes["status"]) == (
        "enrollment.set_status",
        "Outside the program's countries.",
        ["invited", "ineligible"],
    )


def test_ending_needs_an_ended_status_and_a_reason(world):
    enrollment = invited(world)
    with pytest.raises(ValidationError) as caught:
        services.enrollment_set_status(
            enrollment=enrollment, status="enrolled", reason=" ", actor=world.program_manager
        )
    assert caught.value.message_dict == {
        "status": ["Choose Inactive, Ineligible or No longer supported."],
        "reason": ["Say why, in words the partner will understand."],
    }


def test_ending_twice_in_the_same_status_is_a_conflict(world):
    enrollment = invited(world)
    services.enrollment_set_status(enrollment=enrollment, status="inactive", reason="x", actor=world.program_manager)
    with pytest.raises(Conflict):
        services.enrollment_set_status(
            enrollment=enrollment, status="inactive", reason="y", actor=world.program_manager
        )


def test_an_enrolled_location_can_be_ended_and_comes_back_through_review(world):
    enrollment = services.enrollment_approve(enrollment=reviewing(world), actor=world.reviewer)
    services.enrollment_set_status(
        enrollment=enrollment, status="no_longer_supported", reason="Program retired here.", actor=world.program_manager
    )
    back = services.enrollment_reactivate(enrollment=enrollment, actor=world.program_manager)
    assert (back.status, back.status_reason, back.ended_at) == ("reviewing", "", None)
    assert AuditEvent.objects.latest("id").verb == "enrollment.reactivate"


def test_an_invitation_never_accepted_is_reactivated_to_invited(world):
    enrollment = invited(world)
    services.enrollment_set_status(enrollment=enrollment, status="inactive", reason="x", actor=world.program_manager)
    assert services.enrollment_reactivate(enrollment=enrollment, actor=world.program_manager).status == "invited"


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_a_program_manager_reactivates(world, persona):
    enrollment = invited(world)
    services.enrollment_set_status(enrollment=enrollment, status="inactive", reason="x", actor=world.program_manager)
    before = snapshot(enrollment)
    if persona != "program_manager":
        with pytest.raises(PermissionDenied):
            services.enrollment_reactivate(enrollment=enrollment, actor=actor(world, persona))
        assert snapshot(enrollment) == before
        return
    assert services.enrollment_reactivate(enrollment=enrollment, actor=world.program_manager).status == "invited"


def test_only_an_ended_enrollment_is_reactivated(world):
    with pytest.raises(Conflict) as caught:
        services.enrollment_reactivate(enrollment=invited(world), actor=world.program_manager)
    assert caught.value.message == "Only an ended enrollment can be reactivated; this one is Invited."
