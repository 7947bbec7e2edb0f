"""Who may do what with a customer association: pure predicates over the user's grants (no queries)."""

from coopfunds.accounts.models import PARTNER_ROLES, Location, Role, User
from coopfunds.accounts.permissions import holds, is_vendor_staff, may_review
from coopfunds.associations.models import Association
from coopfunds.programs.models import Program
from coopfunds.programs.permissions import can_configure_program


def can_file_for(user: User, location: Location, program: Program | int) -> bool:
    """Start, edit, submit, answer and withdraw the associations of a location: its incentives admins and
    users (for that program)."""
    return (
        user.is_authenticated
        and user.is_active
        and user.organisation_id == location.organisation_id
        and holds(user, PARTNER_ROLES, location=location, program=program)
    )


def can_view(user: User, association: Association) -> bool:
    return is_vendor_staff(user) or can_file(user, association)


def can_file(user: User, association: Association) -> bool:
    return can_file_for(user, association.location, association.program_id)


def can_dispute(user: User, association: Association) -> bool:
    """Dispute a rejection: the location's incentives admins."""
    return (
        user.is_authenticated
        and user.organisation_id == association.location.organisation_id
        and holds(user, Role.INCENTIVES_ADMIN, location=association.location_id, program=association.program_id)
    )


def can_review(user: User, association: Association) -> bool:
    """A reviewer of the program, never of their own organisation's association, never of one they filed."""
    return may_review(user, association, association.location.organisation_id)


def can_review_somewhere(user: User) -> bool:
    return is_vendor_staff(user) and holds(user, Role.REVIEWER)


def can_comment(user: User, association: Association) -> bool:
    return can_file(user, association) or can_review(user, association)


def can_see_internal(user: User) -> bool:
    """Internal notes, and who else claims the same customer: vendor staff only."""
    return is_vendor_staff(user)


def can_configure(user: User, program: Program) -> bool:
    """Solution areas, partner roles, workloads and the association deadlines: the program's managers."""
    return can_configure_program(user, program)
