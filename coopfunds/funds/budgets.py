"""Market development funds (proposal-based money beside earned co-op): a program's budgets for a period, the
allocations of a budget to partner locations, and moves of money between allocations. What a budget has not
allocated is its pool.

All of it is ledger money (ADR 0015): the vendor's funding enters a budget's `unallocated` account from the
program's `funding` source (a BUDGET transfer), an allocation moves it to the location's `allocated` account
(ALLOCATE), and a move between two allocations of one budget is a REALLOCATE transfer. The ledger never lets an
account go below zero, so no allocation can take more than the pool holds, and no move more than the allocation
holds, however many requests run at once. Totals are set, not added: each service locks the row it sets (the
budget, the allocation) and posts the difference.

Those locks are FOR NO KEY UPDATE of that row alone: they exclude each other, but not the key-share lock with
which PostgreSQL checks, at commit, a new row that refers to the locked one (an allocation of the budget, an
account of the allocation). A FOR UPDATE lock would make such a commit wait on a transaction that waits on it.
"""

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import DecimalField, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from coopfunds.accounts.models import Location, User
from coopfunds.accounts.permissions import is_vendor_staff
from coopfunds.accounts.selectors import visible_to
from coopfunds.audit.services import audit_record
from coopfunds.core.countries import country_codes
from coopfunds.core.errors import NotFound, PermissionDenied, ValidationError
from coopfunds.core.money import DECIMAL_PLACES, MAX_DIGITS, money, quantize
from coopfunds.enrollments.models import Enrollment, EnrollmentStatus
from coopfunds.funds import ledger, permissions
from coopfunds.funds.models import Account, Allocation, Bucket, Budget, Entry, Transfer, TransferKind
from coopfunds.programs.models import Program

# --------------------------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class BudgetFigures:
    unallocated: Decimal  # the pool
    allocated: Decimal  # given to locations and not used
    reserved: Decimal = Decimal(0)  # held by approved fund requests

    @property
    def total(self) -> Decimal:
        return self.unallocated + self.allocated + self.reserved


_DECIMAL = DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)


def _held(bucket: Bucket) -> Subquery:
    """What the budget's allocations hold in `bucket`, summed."""
    return Subquery(
        Account.objects.filter(allocation__budget=OuterRef("pk"), bucket=bucket)
        .values("allocation__budget")
        .annotate(held=Sum("balance"))
        .values("held")[:1],
        output_field=_DECIMAL,
    )


def _with_money(qs: QuerySet[Budget]) -> QuerySet[Budget]:
    """Each budget with `unallocated` (its pool), `allocated` (what its allocations hold unused) and `reserved`
    (what approved fund requests hold), read from the cached balances of their accounts in the same query;
    `total` is their sum (`BudgetFigures.total`)."""
    pool = Account.objects.filter(budget=OuterRef("pk"), bucket=Bucket.UNALLOCATED).values("balance")[:1]
    zero = Value(Decimal(0), output_field=_DECIMAL)
    return qs.annotate(
        unallocated=Coalesce(Subquery(pool, output_field=_DECIMAL), zero),
        allocated=Coalesce(_held(Bucket.ALLOCATED), zero),
        reserved=Coalesce(_held(Bucket.RESERVED), zero),
    ).annotate(total=ExpressionWrapper(F("unallocated") + F("allocated") + F("reserved"), output_field=_DECIMAL))


def budgets_visible_to(user: User) -> QuerySet[Budget]:
    """Budgets are the vendor's: its staff see them all, with their money (`_with_money`); partners see their
    allocations (`allocations_visible_to`)."""
    qs = _with_money(Budget.objects.select_related("program"))
    return qs if is_vendor_staff(user) else qs.none()


def budget_for(user: User, pk: Any) -> Budget:
    try:
        return budgets_visible_to(user).get(pk=pk)
    except (Budget.DoesNotExist, ValueError, TypeError):
        raise NotFound(gettext("No such budget.")) from None


def figures(budget: Budget) -> BudgetFigures:
    """The budget's money now."""
    money = _with_money(Budget.objects.filter(pk=budget.pk))
    row = money.values_list("unallocated", "allocated", "reserved")[0]  # type: ignore[misc]  # annotations
    return BudgetFigures(*(quantize(x) for x in row))


def _balance_now(bucket: Bucket) -> Coalesce:
    return Coalesce(
        Subquery(
            Account.objects.filter(allocation=OuterRef("pk"), bucket=bucket).values("balance")[:1],
            output_field=_DECIMAL,
        ),
        Value(Decimal(0), output_field=_DECIMAL),
    )


def _allocations() -> QuerySet[Allocation]:
    """Allocations, each with `allocated` (what it holds unused now) and `reserved` (what its approved fund
    requests hold)."""
    return Allocation.objects.select_related("budget", "location", "program").annotate(
        allocated=_balance_now(Bucket.ALLOCATED), reserved=_balance_now(Bucket.RESERVED)
    )


def allocations_visible_to(user: User) -> QuerySet[Allocation]:
    """Vendor staff: every allocation. Partner users: those of the locations (and programs) their roles cover."""
    return visible_to(user, _allocations())


def allocation_for(user: User, pk: Any) -> Allocation:
    try:
        return allocations_visible_to(user).get(pk=pk)
    except (Allocation.DoesNotExist, ValueError, TypeError):
        raise NotFound(gettext("No such allocation.")) from None


def history_of(budget: Budget) -> QuerySet[Entry]:
    """Every movement of the budget's money, newest first: one entry per account it touched (the pool or an
    allocation), with its transfer and who made it."""
    return (
        Entry.objects.filter(Q(account__budget=budget) | Q(account__allocation__budget=budget))
        .select_related("transfer__actor", "account__allocation__location")
        .order_by("-id")
    )


def allocations_of(budget: Budget) -> QuerySet[Allocation]:
    """The budget's allocations (the budget's reader sees them all), by partner ID."""
    return _allocations().filter(budget=budget).order_by("location__partner_id", "pk")


# --------------------------------------------------------------------------------------------- writes


def _require_manager(actor: User, program: Program) -> None:
    if not permissions.can_manage_budgets(actor, program.pk):
        raise PermissionDenied(gettext("Only a program manager of this program can set its budgets."))


def _amount(value: Decimal, field: str, errors: dict[str, str]) -> Decimal:
    amount = quantize(value)
    if amount < 0:
        errors[field] = gettext("The amount cannot be below zero.")
    elif len(amount.as_tuple().digits) > MAX_DIGITS:
        errors[field] = gettext("The amount is too large.")
    return amount


def _key(what: str) -> str:
    """A posting's idempotency key: each change of a total is a new posting (retries are answered above, by the
    request's Idempotency-Key)."""
    return f"{what}:{uuid.uuid4()}"


def _post(
    kind: TransferKind, src: Account, dst: Account, amount: Decimal, reference: str, actor: User, memo: str = ""
) -> Transfer:
    return ledger.post(
        key=_key(reference),
        kind=kind,
        legs=[(src, -amount), (dst, amount)],
        effective_on=timezone.localdate(),
        reference=reference,
        memo=memo,
        actor=actor,
    )


def pool_account(budget: Budget) -> Account:
    account, _ = Account.objects.get_or_create(
        budget=budget,
        bucket=Bucket.UNALLOCATED,
        defaults={"program_id": budget.program_id, "currency": budget.currency},
    )
    return account


def allocation_account(allocation: Allocation, bucket: Bucket = Bucket.ALLOCATED) -> Account:
    """One bucket of the allocation's money (created at first use)."""
    account, _ = Account.objects.get_or_create(
        allocation=allocation,
        bucket=bucket,
        defaults={"program_id": allocation.program_id, "currency": allocation.budget.currency},
    )
    return account


@transaction.atomic(durable=True)
def budget_create(
    *,
    program: Program,
    name: str,
    starts_on: date,
    ends_on: date,
    total: Decimal,
    countries: Any = (),
    actor: User,
) -> Budget:
    """A budget of `total` for the program's activities from `starts_on` to `ends_on` (for the locations of
    `countries`, where given), all of it in its pool until allocated."""
    _require_manager(actor, program)
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = gettext("Give the budget a name.")
    elif Budget.objects.filter(program=program, name__iexact=name).exists():
        errors["name"] = gettext("This program already has a budget with this name.")
    if starts_on > ends_on:
        errors["ends_on"] = gettext("The period ends before it starts.")
    amount = _amount(total, "total", errors)
    codes = country_codes(countries, errors)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            budget = Budget.objects.create(
                program=program,
                name=name,
                currency=program.currency,
                starts_on=starts_on,
                ends_on=ends_on,
                countries=codes,
                created_by=actor,
            )
    except IntegrityError:  # the same name, created at the same moment
        raise ValidationError({"name": gettext("This program already has a budget with this name.")}) from None
    pool = pool_account(budget)
    if amount:
        funding = ledger.source_account(program.pk, Bucket.FUNDING, budget.currency)
        _post(TransferKind.BUDGET, funding, pool, amount, f"budget:{budget.pk}", actor)
    audit_record(
        actor=actor,
        verb="budget.create",
        target=budget,
        changes={"name": (None, name), "total": (None, str(amount)), "countries": (None, codes)},
        organisation_id=program.vendor_id,
    )
    return budget


@transaction.atomic(durable=True)
def budget_set_total(*, budget: Budget, total: Decimal, reason: str, actor: User) -> Budget:
    """Raise or lower what the vendor puts into the budget. Lowering takes money back from the pool only: what is
    allocated stays with the locations."""
    budget = Budget.objects.select_for_update(of=("self",), no_key=True).select_related("program").get(pk=budget.pk)
    _require_manager(actor, budget.program)
    errors: dict[str, str] = {}
    amount = _amount(total, "total", errors)
    if not reason.strip():
        errors["reason"] = gettext("Say why the budget changes.")
    if errors:
        raise ValidationError(errors)
    now = figures(budget)
    delta = amount - now.total
    if delta == 0:
        return budget
    funding, pool = ledger.source_account(budget.program_id, Bucket.FUNDING, budget.currency), pool_account(budget)
    reference = f"budget:{budget.pk}"
    try:
        if delta > 0:
            _post(TransferKind.BUDGET, funding, pool, delta, reference, actor, memo=reason.strip())
        else:
            _post(TransferKind.BUDGET, pool, funding, -delta, reference, actor, memo=reason.strip())
    except ledger.InsufficientFunds:  # an allocation took from the pool since it was read
        allocated = figures(budget).allocated
        raise ValidationError(
            {
                "total": gettext("%(allocated)s is allocated to locations: the total can go down to that at the least.")
                % {"allocated": money(allocated, budget.currency)}
            }
        ) from None
    audit_record(
        actor=actor,
        verb="budget.total",
        target=budget,
        changes={"total": (str(now.total), str(amount))},
        reason=reason.strip(),
        organisation_id=budget.program.vendor_id,
    )
    return budget


def eligibility(budget: Budget, location: Location) -> str:
    """Why the location cannot have money of this budget ("" if it can)."""
    if not Enrollment.objects.filter(
        location=location, program_id=budget.program_id, status=EnrollmentStatus.ENROLLED
    ).exists():
        return gettext("%(location)s is not enrolled in the program.") % {"location": location.partner_id}
    if budget.countries and location.country not in budget.countries:
        return gettext("%(location)s is in %(country)s; this budget is for %(countries)s.") % {
            "location": location.partner_id,
            "country": location.country,
            "countries": ", ".join(budget.countries),
        }
    return ""


@transaction.atomic(durable=True)
def allocation_set(*, budget: Budget, location: Location, amount: Decimal, actor: User) -> Allocation:
    """Set what the location is given of the budget (what it holds unused and what its approved fund requests
    hold): more comes from the pool, less goes back to it from what is unused."""
    budget = Budget.objects.select_related("program").get(pk=budget.pk)
    _require_manager(actor, budget.program)
    errors: dict[str, str] = {}
    amount = _amount(amount, "amount", errors)
    why = eligibility(budget, location)
    if why:
        errors["location"] = why
    if errors:
        raise ValidationError(errors)
    allocation, _ = Allocation.objects.get_or_create(
        budget=budget, location=location, defaults={"program_id": budget.program_id}
    )
    allocation = (
        Allocation.objects.select_for_update(of=("self",), no_key=True).select_related("budget").get(pk=allocation.pk)
    )
    # read under the allocation's lock: its money now (0 if just created); approved fund requests hold part of it
    account = allocation_account(allocation)
    held = quantize(Decimal(allocation_account(allocation, Bucket.RESERVED).balance))
    before = quantize(Decimal(account.balance)) + held
    delta = amount - before
    if delta == 0:
        return allocation
    pool = pool_account(budget)
    try:
        if delta > 0:
            _post(TransferKind.ALLOCATE, pool, account, delta, f"allocation:{allocation.pk}", actor)
        else:
            _post(TransferKind.ALLOCATE, account, pool, -delta, f"allocation:{allocation.pk}", actor)
    except ledger.InsufficientFunds:
        if delta < 0:  # fund requests hold what would go back
            raise ValidationError(
                {
                    "amount": gettext(
                        "Approved fund requests of %(location)s hold %(held)s: its allocation can go down to that at "
                        "the least."
                    )
                    % {"location": location.partner_id, "held": money(held, budget.currency)}
                }
            ) from None
        left = Account.objects.get(pk=pool.pk).balance
        raise ValidationError(
            {
                "amount": gettext("The budget has %(left)s left to allocate: %(location)s can have %(most)s at most.")
                % {
                    "left": money(left, budget.currency),
                    "location": location.partner_id,
                    "most": money(before + left, budget.currency),
                }
            }
        ) from None
    audit_record(
        actor=actor,
        verb="allocation.set",
        target=allocation,
        changes={"allocated": (str(before), str(amount))},
        organisation_id=location.organisation_id,
    )
    return allocation


@transaction.atomic(durable=True)
def allocation_move(*, source: Allocation, target: Allocation, amount: Decimal, reason: str, actor: User) -> Transfer:
    """Move money from one location's allocation to another's, within one budget."""
    # both rows locked, in id order: a move and a setting of the same allocation never interleave
    locked = {
        a.pk: a
        for a in Allocation.objects.select_for_update(of=("self",), no_key=True)
        .select_related("budget__program", "location")
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    source, target = locked[source.pk], locked[target.pk]
    _require_manager(actor, source.budget.program)
    errors: dict[str, str] = {}
    amount = _amount(amount, "amount", errors)
    if amount == 0 and "amount" not in errors:
        errors["amount"] = gettext("Move an amount above zero.")
    if target.budget_id != source.budget_id:
        errors["to"] = gettext("Money moves between allocations of one budget.")
    elif target.pk == source.pk:
        errors["to"] = gettext("Choose another location's allocation.")
    if not reason.strip():
        errors["reason"] = gettext("Say why the money moves.")
    if errors:
        raise ValidationError(errors)
    src, dst = allocation_account(source), allocation_account(target)
    try:
        transfer = _post(
            TransferKind.REALLOCATE, src, dst, amount, f"allocation:{source.pk}", actor, memo=reason.strip()
        )
    except ledger.InsufficientFunds:
        left = Account.objects.get(pk=src.pk).balance
        raise ValidationError(
            {
                "amount": gettext("%(location)s has %(left)s left in its allocation.")
                % {"location": source.location.partner_id, "left": money(left, source.budget.currency)}
            }
        ) from None
    audit_record(
        actor=actor,
        verb="allocation.move",
        target=source,
        changes={"to": (None, target.pk), "amount": (None, str(amount))},
        reason=reason.strip(),
        organisation_id=source.location.organisation_id,
    )
    return transfer
