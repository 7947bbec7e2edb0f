"""Pure predicates: who may do what with programs and their catalogue. No queries of their own."""

from coopfunds.accounts.models import Organisation, Role, User
from coopfunds.accounts.permissions import holds
from coopfunds.programs.models import Program


def can_create_program(user: User) -> bool:
    """A program manager of the vendor for every program (not one limited to some programs)."""
    return (
        user.is_authenticated
        and user.organisation.kind == Organisation.Kind.VENDOR
        and holds(user, Role.PROGRAM_MANAGER, program=None)
    )


def can_configure_program(user: User, program: Program) -> bool:
    """Change the program's rules, holidays and catalogue: a program manager of its vendor covering it."""
    return (
        user.is_authenticated
        and user.organisation_id == program.vendor_id
        and holds(user, Role.PROGRAM_MANAGER, program=program)
    )
