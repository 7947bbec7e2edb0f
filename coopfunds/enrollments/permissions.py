"""Who may do what with enrollments and profiles: pure predicates over `user.grants` (no queries).

Seeing is the selectors' business; these say what a user may *do* with what they can see.
"""

from coopfunds.accounts.models import Location, Role, User
from coopfunds.accounts.permissions import can_see_bank_details, holds
from coopfunds.enrollments.models import ENDED, Enrollment, EnrollmentStatus
from coopfunds.programs.models import Program

__all__ = [
    "can_accept_enrollment",
    "can_approve_enrollment",
    "can_invite",
    "can_invite_somewhere",
    "can_manage_profiles",
    "can_see_bank_details",
    "can_set_enrollment_status",
    "can_validate_profiles",
    "enrollment_actions",
]

VALIDATORS = frozenset({Role.REVIEWER, Role.PROGRAM_MANAGER})


def _is_partner_admin_of(user: User, location: Location, program: Program | None = None) -> bool:
    """An incentives admin of the location's own organisation (for `program`, or any program)."""
    if not user.is_authenticated or user.organisation_id != location.organisation_id:
        return False
    if program is None:
        return holds(user, Role.INCENTIVES_ADMIN, location=location)
    return holds(user, Role.INCENTIVES_ADMIN, location=location, program=program)


def can_invite(user: User, program: Program) -> bool:
    """A program manager covering the program invites locations to it."""
    return holds(user, Role.PROGRAM_MANAGER, program=program)


def can_invite_somewhere(user: User) -> bool:
    """Shows the invite form: a program manager of at least one program."""
    return holds(user, Role.PROGRAM_MANAGER)


def can_accept_enrollment(user: User, enrollment: Enrollment) -> bool:
    """Accept an invitation: an incentives admin of the location covering the program."""
    return _is_partner_admin_of(user, enrollment.location, enrollment.program)


def can_approve_enrollment(user: User, enrollment: Enrollment) -> bool:
    """Approve an enrollment under review: a reviewer or program manager covering the program."""
    return holds(user, VALIDATORS, program=enrollment.program)


def can_set_enrollment_status(user: User, enrollment: Enrollment) -> bool:
    """End an enrollment (Inactive, Ineligible, No longer supported) or reactivate it: a program manager."""
    return holds(user, Role.PROGRAM_MANAGER, program=enrollment.program)


def can_manage_profiles(user: User, location: Location) -> bool:
    """Submit payout and tax profiles: the location's incentives admins (the same people who see bank details)."""
    return _is_partner_admin_of(user, location)


def can_validate_profiles(user: User) -> bool:
    """Approve profiles or ask for action: a reviewer or program manager (of any program)."""
    return holds(user, VALIDATORS, location=None)


def enrollment_actions(user: User, enrollment: Enrollment) -> frozenset[str]:
    """The actions the UI offers this user on this enrollment now (services check everything again)."""
    actions = set()
    status = enrollment.status
    if status == EnrollmentStatus.INVITED and can_accept_enrollment(user, enrollment):
        actions.add("accept")
    if status == EnrollmentStatus.REVIEWING and can_approve_enrollment(user, enrollment):
        actions.add("approve")
    if can_set_enrollment_status(user, enrollment):
        actions.add("set_status")
        if status in ENDED:
            actions.add("reactivate")
    return frozenset(actions)
