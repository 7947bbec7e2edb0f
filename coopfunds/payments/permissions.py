"""Who may do what with payments: pure predicates over the user's grants (no queries).

Finance runs payments for every program an entity pays, so the finance role must cover all programs. Partner
incentives admins of the paid location submit tax invoices and dispute payments; users only read.
"""

from coopfunds.accounts.models import PARTNER_ROLES, Location, Role, User
from coopfunds.accounts.permissions import holds, is_vendor_staff
from coopfunds.payments.models import Payment, PaymentRun


def can_run_payments(user: User) -> bool:
    """Prepare, approve, export runs; record bank statuses; review tax invoices; resolve disputes; keep the
    exchange-rate table and paying entities."""
    return holds(user, Role.FINANCE, program=None)


def can_approve_run(user: User, run: PaymentRun) -> bool:
    """Four eyes: a finance user who did not prepare the run."""
    return can_run_payments(user) and user.pk != run.prepared_by_id


def can_see_runs(user: User) -> bool:
    return is_vendor_staff(user)


def can_see_location_payments(user: User, location: Location) -> bool:
    if is_vendor_staff(user):
        return True
    return (
        user.is_authenticated
        and user.organisation_id == location.organisation_id
        and holds(user, PARTNER_ROLES, location=location)
    )


def can_act_for_partner(user: User, payment: Payment) -> bool:
    """Submit the tax invoice, dispute the payment: an incentives admin of the paid location."""
    location = payment.location
    return (
        user.is_authenticated
        and user.organisation_id == location.organisation_id
        and holds(user, Role.INCENTIVES_ADMIN, location=location)
    )
