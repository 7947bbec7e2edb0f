"""Reads of funds, balances and history, scoped to what the user may see."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from coopfunds.accounts import permissions
from coopfunds.accounts.models import PARTNER_ROLES, User
from coopfunds.core.errors import NotFound
from coopfunds.core.money import quantize
from coopfunds.funds.models import SOURCE_BUCKETS, Account, Bucket, EarningImport, Entry, Fund, Transfer

EXPIRY_WARNING_DAYS = 45


def _partner_scope(user: User) -> Q:
    """Locations (and programs) a partner user's grants cover."""
    q = Q(pk__in=[])
    for g in user.grants:
        if g.role in PARTNER_ROLES and g.location_id:
            q |= (
                Q(location_id=g.location_id)
                if g.program_id is None
                else Q(location_id=g.location_id, program_id=g.program_id)
            )
    return q & Q(location__organisation_id=user.organisation_id)


def funds_visible_to(user: User) -> QuerySet[Fund]:
    qs = Fund.objects.select_related("location", "program")
    if not user.is_authenticated:
        return qs.none()
    if permissions.is_vendor_staff(user):
        return qs
    return qs.filter(_partner_scope(user))


def fund_for(user: User, pk: int) -> Fund:
    try:
        return funds_visible_to(user).get(pk=pk)
    except (Fund.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such fund.") from None


@dataclass(frozen=True)
class Balances:
    fund_id: int
    currency: str
    earned: Decimal
    earned_rebate: Decimal
    accrued: Decimal
    available: Decimal
    reserved: Decimal
    payable: Decimal
    paid: Decimal
    forfeited: Decimal
    converted: Decimal
    rebate: Decimal
    rebate_paid: Decimal
    expires_on: date

    @property
    def claimed(self) -> Decimal:
        """Pending and approved claims, paid or not."""
        return self.reserved + self.payable + self.paid

    @property
    def remaining(self) -> Decimal:
        """What can still be claimed: available now, plus co-op still accruing in an open earning period."""
        return self.available + self.accrued

    def expires_soon(self, today: date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.remaining > 0 and today <= self.expires_on <= today + timedelta(days=EXPIRY_WARNING_DAYS)


def balances_of(funds: list[Fund]) -> dict[int, Balances]:
    """Current balances of many funds in one query: cached account balances, no summing of history."""
    by_fund: dict[int, dict[str, Decimal]] = {f.pk: {} for f in funds}
    rows = Account.objects.filter(fund_id__in=list(by_fund)).values_list(
        "fund_id", "bucket", "balance", "fund__earned", "fund__earned_rebate"
    )
    for fund_id, bucket, balance, earned, earned_rebate in rows:
        by_fund[fund_id] |= {bucket: balance, "earned": earned, "earned_rebate": earned_rebate}
    return {
        f.pk: Balances(
            fund_id=f.pk,
            currency=f.currency,
            expires_on=f.usage_end,
            earned=by_fund[f.pk].get("earned", Decimal(0)),
            earned_rebate=by_fund[f.pk].get("earned_rebate", Decimal(0)),
            **{b.value: by_fund[f.pk].get(b.value, Decimal(0)) for b in Bucket if b not in SOURCE_BUCKETS},
        )
        for f in funds
    }


def balances(fund: Fund) -> Balances:
    return balances_of([fund])[fund.pk]


def entries_visible_to(user: User) -> QuerySet[Entry]:
    """The fund-side entries (never the program-wide sources) of funds the user may see, newest first."""
    return (
        Entry.objects.filter(account__fund__in=funds_visible_to(user))
        .select_related("transfer", "account__fund__location", "account__fund__program")
        .order_by("-id")
    )


def transfers_of(fund: Fund) -> QuerySet[Transfer]:
    return Transfer.objects.filter(entries__account__fund=fund).distinct().order_by("-id")


def imports_visible_to(user: User) -> QuerySet[EarningImport]:
    if permissions.holds(user, {permissions.Role.PROGRAM_MANAGER, permissions.Role.FINANCE, permissions.Role.AUDITOR}):
        return EarningImport.objects.select_related("created_by")
    return EarningImport.objects.none()


def import_for(user: User, pk: int) -> EarningImport:
    try:
        return imports_visible_to(user).get(pk=pk)
    except (EarningImport.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such import.") from None


@dataclass(frozen=True)
class Drift:
    account_id: int
    label: str
    cached: Decimal
    recomputed: Decimal


def ledger_drift() -> list[Drift]:
    """Every account whose cached balance differs from the sum of its entries, and every fund whose cached
    earned figures differ from its accrual entries. Empty when the ledger is consistent."""
    sums = dict(Entry.objects.values("account_id").annotate(total=Sum("amount")).values_list("account_id", "total"))
    drift = []
    for account in Account.objects.exclude(bucket__in=list(SOURCE_BUCKETS)).select_related("fund"):
        recomputed = quantize(sums.get(account.pk) or Decimal(0))
        if recomputed != account.balance:
            drift.append(Drift(account.pk, str(account), account.balance, recomputed))
    earned = (
        Entry.objects.filter(transfer__kind="accrue", account__fund__isnull=False)
        .values("account__fund_id", "account__bucket")
        .annotate(total=Sum("amount"))
    )
    per_fund: dict[int, dict[str, Decimal]] = {}
    for row in earned:
        slot = per_fund.setdefault(row["account__fund_id"], {"coop": Decimal(0), "rebate": Decimal(0)})
        slot["rebate" if row["account__bucket"] == Bucket.REBATE else "coop"] += quantize(row["total"])
    for fund in Fund.objects.all():
        slot = per_fund.get(fund.pk, {"coop": Decimal(0), "rebate": Decimal(0)})
        if slot["coop"] != fund.earned:
            drift.append(Drift(0, f"fund {fund.pk} earned", fund.earned, slot["coop"]))
        if slot["rebate"] != fund.earned_rebate:
            drift.append(Drift(0, f"fund {fund.pk} earned rebate", fund.earned_rebate, slot["rebate"]))
    return drift


def unbalanced_transfers() -> list[int]:
    sums = Entry.objects.values("transfer_id").annotate(total=Sum("amount")).values_list("transfer_id", "total")
    return [transfer_id for transfer_id, total in sums if quantize(total) != 0]
