"""Who may do what with a claim: pure predicates over the user's grants."""

from coopfunds.accounts.models import PARTNER_ROLES, Role, User
from coopfunds.accounts.permissions import holds, is_vendor_staff, may_review
from coopfunds.claims.models import Claim


def _partner_covers(user: User, claim: Claim, roles: frozenset[Role] | set[Role]) -> bool:
    return (
        holds(user, roles, location=claim.location_id, program=claim.program_id)
        and user.organisation_id == claim.location.organisation_id
    )


def can_view(user: User, claim: Claim) -> bool:
    return is_vendor_staff(user) or _partner_covers(user, claim, PARTNER_ROLES)


def can_file(user: User, claim: Claim) -> bool:
    """Create, edit, attach documents, submit, withdraw: incentives admins and users of the location."""
    return _partner_covers(user, claim, PARTNER_ROLES)


def can_dispute(user: User, claim: Claim) -> bool:
    return _partner_covers(user, claim, {Role.INCENTIVES_ADMIN})


def can_review(user: User, claim: Claim) -> bool:
    """A reviewer of the program, never of their own organisation's claim, never of a claim they filed."""
    return may_review(user, claim, claim.location.organisation_id)


def can_comment(user: User, claim: Claim) -> bool:
    return can_file(user, claim) or can_review(user, claim)


def can_see_internal_notes(user: User) -> bool:
    return is_vendor_staff(user)
