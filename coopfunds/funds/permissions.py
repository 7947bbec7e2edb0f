"""Who may do what with funds: pure predicates over the user's grants."""

from coopfunds.accounts.models import Role, User
from coopfunds.accounts.permissions import holds


def can_see_imports(user: User) -> bool:
    """Earnings imports are read by program managers, finance and auditors."""
    return holds(user, {Role.PROGRAM_MANAGER, Role.FINANCE, Role.AUDITOR})


def can_import_earnings(user: User) -> bool:
    return holds(user, {Role.PROGRAM_MANAGER, Role.FINANCE})


def can_run_period_jobs(user: User) -> bool:
    """The period jobs (close, forfeit) run over every program: a program manager of all programs."""
    return holds(user, Role.PROGRAM_MANAGER, program=None)


def can_adjust(user: User, program_id: int) -> bool:
    return holds(user, Role.PROGRAM_MANAGER, program=program_id)


def can_manage_budgets(user: User, program_id: int) -> bool:
    """Set a program's market development budgets and their allocations: its program managers."""
    return holds(user, Role.PROGRAM_MANAGER, program=program_id)
