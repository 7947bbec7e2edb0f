"""Who may do what with a fund request: pure predicates over the user's grants."""

from coopfunds.accounts.models import PARTNER_ROLES, Role, User
from coopfunds.accounts.permissions import holds, is_vendor_staff, may_review
from coopfunds.mdf.models import FundRequest


def _partner_covers(user: User, request: FundRequest) -> bool:
    return (
        holds(user, PARTNER_ROLES, location=request.location_id, program=request.program_id)
        and user.organisation_id == request.location.organisation_id
    )


def can_view(user: User, request: FundRequest) -> bool:
    return is_vendor_staff(user) or _partner_covers(user, request)


def can_file(user: User, request: FundRequest) -> bool:
    """Create, change, submit, withdraw, give back: the location's incentives admins and users."""
    return _partner_covers(user, request)


def can_review(user: User, request: FundRequest) -> bool:
    """A reviewer of the program, never of their own organisation's request, never of one they filed."""
    return may_review(user, request, request.location.organisation_id)


def can_give_back(user: User, request: FundRequest) -> bool:
    """Give an approved request's money back before its deadline: the partner, or a program manager."""
    return can_file(user, request) or holds(user, Role.PROGRAM_MANAGER, program=request.program_id)


def can_see_internal_notes(user: User) -> bool:
    return is_vendor_staff(user)
