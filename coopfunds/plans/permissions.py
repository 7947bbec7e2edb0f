"""Who may do what with plans and proofs of execution: pure predicates over the user's grants (no queries).

- Plans are made, changed, submitted and amended by the location's incentives admins (DOMAIN.md); its
  incentives users read them and, like claims, file proofs of execution.
- A plan is decided by its named reviewer (a reviewer of the program who may take it over by assigning it);
  proofs by any reviewer of the program, like claims. Nobody reviews their own organisation's work or what
  they filed themselves.
- Vendor staff read everything; program managers set the program's plan rules."""

from typing import Any

from coopfunds.accounts.models import PARTNER_ROLES, Location, Role, User
from coopfunds.accounts.permissions import holds, is_vendor_staff, may_review
from coopfunds.plans.models import Plan, Proof
from coopfunds.programs.models import Program
from coopfunds.programs.permissions import can_configure_program


def _partner_covers(user: User, location: Location | Any, organisation_id: int, program_id: int, roles: Any) -> bool:
    return (
        user.is_authenticated
        and user.organisation_id == organisation_id
        and holds(user, roles, location=location, program=program_id)
    )


def can_create_plan(user: User, location: Location, program: Program) -> bool:
    return _partner_covers(user, location.pk, location.organisation_id, program.pk, {Role.INCENTIVES_ADMIN})


def can_view_plan(user: User, plan: Plan) -> bool:
    return is_vendor_staff(user) or _partner_covers(
        user, plan.location_id, plan.location.organisation_id, plan.program_id, PARTNER_ROLES
    )


def can_edit_plan(user: User, plan: Plan) -> bool:
    """Change, submit, reopen and amend: the location's incentives admins."""
    return _partner_covers(
        user, plan.location_id, plan.location.organisation_id, plan.program_id, {Role.INCENTIVES_ADMIN}
    )


def can_review_plan(user: User, plan: Plan) -> bool:
    """Take or assign the plan: a reviewer of the program from outside the partner who did not file it."""
    return may_review(user, plan, plan.location.organisation_id)


def can_decide_plan(user: User, plan: Plan) -> bool:
    """Approve, request changes or reject: the plan's named reviewer."""
    return can_review_plan(user, plan) and plan.reviewer_id == user.pk


def can_comment_plan(user: User, plan: Plan) -> bool:
    return can_file_proofs(user, plan) or can_review_plan(user, plan)


def can_file_proofs(user: User, plan: Plan) -> bool:
    """Create, change, document, submit and withdraw proofs: the location's incentives admins and users."""
    return _partner_covers(user, plan.location_id, plan.location.organisation_id, plan.program_id, PARTNER_ROLES)


def can_view_proof(user: User, proof: Proof) -> bool:
    return can_view_plan(user, proof.plan)


def can_file_proof(user: User, proof: Proof) -> bool:
    return can_file_proofs(user, proof.plan)


def can_dispute_proof(user: User, proof: Proof) -> bool:
    return _partner_covers(
        user, proof.location_id, proof.plan.location.organisation_id, proof.program_id, {Role.INCENTIVES_ADMIN}
    )


def can_review_proof(user: User, proof: Proof) -> bool:
    return may_review(user, proof, proof.plan.location.organisation_id)


def can_see_internal_notes(user: User) -> bool:
    return is_vendor_staff(user)


def can_set_plan_rules(user: User, program: Program) -> bool:
    return can_configure_program(user, program)
