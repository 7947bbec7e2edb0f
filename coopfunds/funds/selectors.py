"""Reads of funds, balances and history, scoped to what the user may see."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

from coopfunds.accounts.models import User
from coopfunds.accounts.selectors import visible_to
from coopfunds.core.errors import NotFound
from coopfunds.core.money import MoneyField, quantize
from coopfunds.funds.models import (
    FUND_BUCKETS,
    SOURCE_BUCKETS,
    Account,
    Bucket,
    EarningImport,
    Entry,
    Fund,
    Transfer,
    TransferKind,
)
from coopfunds.funds.permissions import can_run_period_jobs, can_see_imports  # noqa: F401 (re-exported)
from coopfunds.programs.models import Program

EXPIRY_WARNING_DAYS = 45

# What each movement means to a partner reconciling their funds, as pages and the API name it in the reader's
# language (the downloads keep `exports.KIND_LABELS`, in English).
MOVEMENT_LABELS: dict[str, Promise] = {
    TransferKind.ACCRUE: gettext_lazy("Earned"),
    TransferKind.CLOSE: gettext_lazy("Made available (earning period closed)"),
    TransferKind.CONVERT: gettext_lazy("Converted to rebate"),
    TransferKind.RESERVE: gettext_lazy("Claimed (reserved)"),
    TransferKind.RELEASE: gettext_lazy("Released"),
    TransferKind.APPROVE: gettext_lazy("Approved"),
    TransferKind.PAY: gettext_lazy("Paid"),
    TransferKind.FORFEIT: gettext_lazy("Forfeited"),
    TransferKind.ADJUST: gettext_lazy("Adjusted"),
    TransferKind.REVERSE: gettext_lazy("Reversed"),
}


def movement_label(kind: str) -> str:
    """A transfer kind as the history shows it, in the active language."""
    return str(MOVEMENT_LABELS.get(kind, kind))


def bucket_label(bucket: str) -> str:
    """A bucket's name, in the active language."""
    return str(Bucket(bucket).label)


def funds_visible_to(user: User) -> QuerySet[Fund]:
    return visible_to(user, Fund.objects.select_related("location", "program"))


def fund_for(user: User, pk: int) -> Fund:
    try:
        return funds_visible_to(user).get(pk=pk)
    except (Fund.DoesNotExist, ValueError, TypeError):
        raise NotFound(gettext("No such fund.")) from None


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
            **{b.value: by_fund[f.pk].get(b.value, Decimal(0)) for b in FUND_BUCKETS},
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


def _bucket_sum(*buckets: Bucket) -> Coalesce:
    return Coalesce(
        Sum("accounts__balance", filter=Q(accounts__bucket__in=[b.value for b in buckets])),
        Value(Decimal(0)),
        output_field=MoneyField(),
    )


def funds_with_balances(qs: QuerySet[Fund]) -> QuerySet[Fund]:
    """`qs` with each bucket's balance (`bal_<bucket>`) and `remaining` annotated, in one query."""
    return qs.annotate(
        remaining=_bucket_sum(Bucket.AVAILABLE, Bucket.ACCRUED),
        **{f"bal_{b.value}": _bucket_sum(b) for b in FUND_BUCKETS},
    )


def balances_from(fund: Fund) -> Balances:
    """The Balances of a fund read through `funds_with_balances`."""
    return Balances(
        fund_id=fund.pk,
        currency=fund.currency,
        expires_on=fund.usage_end,
        earned=fund.earned,
        earned_rebate=fund.earned_rebate,
        **{b.value: quantize(getattr(fund, f"bal_{b.value}")) for b in FUND_BUCKETS},
    )


def funds_filter(
    qs: QuerySet[Fund],
    *,
    location_id: int | None = None,
    program_id: int | None = None,
    label: str = "",
    query: str = "",
    expiring_within_days: int | None = None,
    today: date | None = None,
) -> QuerySet[Fund]:
    """Narrow a scoped queryset of funds. `query` searches partner IDs, location and partner names;
    `expiring_within_days` keeps funds with money left whose usage period ends within that many days."""
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    if program_id is not None:
        qs = qs.filter(program_id=program_id)
    if label:
        qs = qs.filter(label=label)
    if query.strip():
        q = query.strip()
        qs = qs.filter(
            Q(location__partner_id__icontains=q)
            | Q(location__name__icontains=q)
            | Q(location__organisation__name__icontains=q)
        )
    if expiring_within_days is not None:
        today = today or timezone.localdate()
        remaining = Account.objects.filter(bucket__in=[Bucket.AVAILABLE, Bucket.ACCRUED], balance__gt=0)
        qs = qs.filter(
            usage_end__gte=today,
            usage_end__lte=today + timedelta(days=expiring_within_days),
            pk__in=remaining.values("fund_id"),
        )
    return qs


@dataclass(frozen=True)
class ExpiryTotal:
    """Money still to be used (available or accruing) that expires on one day, in one currency."""

    expires_on: date
    currency: str
    amount: Decimal
    funds: int


def remaining_by_expiry(
    qs: QuerySet[Fund], *, today: date | None = None, within_days: int | None = None
) -> list[ExpiryTotal]:
    """Remaining money of the funds of `qs` not yet expired, summed per expiry date and currency, soonest
    first. With `within_days`, only what expires by then (the expiry warning)."""
    today = today or timezone.localdate()
    funds = qs.filter(usage_end__gte=today)
    if within_days is not None:
        funds = funds.filter(usage_end__lte=today + timedelta(days=within_days))
    rows = (
        Account.objects.filter(
            fund__in=funds.values("pk"), bucket__in=[Bucket.AVAILABLE, Bucket.ACCRUED], balance__gt=0
        )
        .values("fund__usage_end", "fund__currency")
        .annotate(amount=Sum("balance"), funds=Count("fund_id", distinct=True))
        .order_by("fund__usage_end", "fund__currency")
    )
    return [
        ExpiryTotal(r["fund__usage_end"], r["fund__currency"], quantize(r["amount"]), r["funds"])
        for r in rows
        if r["amount"] > 0
    ]


def programs_of(qs: QuerySet[Fund]) -> QuerySet[Program]:
    """The programs the funds of `qs` belong to (for a filter's choices)."""
    return Program.objects.filter(pk__in=qs.values("program_id")).order_by("name", "id")


def fund_labels(qs: QuerySet[Fund]) -> list[str]:
    """The usage periods (labels) of the funds of `qs`, newest first."""
    return list(qs.order_by("-label").values_list("label", flat=True).distinct())


def rollover_targets(fund: Fund) -> QuerySet[Fund]:
    """Other funds of the same location and program: where a rollover may move money."""
    return Fund.objects.filter(location_id=fund.location_id, program_id=fund.program_id).exclude(pk=fund.pk)


def entries_filter(
    qs: QuerySet[Entry],
    *,
    location_id: int | None = None,
    program_id: int | None = None,
    fund_id: int | None = None,
    kind: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    query: str = "",
) -> QuerySet[Entry]:
    """Narrow a scoped queryset of entries; dates are the transfers' business dates (`effective_on`)."""
    if location_id is not None:
        qs = qs.filter(account__fund__location_id=location_id)
    if program_id is not None:
        qs = qs.filter(account__fund__program_id=program_id)
    if fund_id is not None:
        qs = qs.filter(account__fund_id=fund_id)
    if kind:
        qs = qs.filter(transfer__kind=kind)
    if date_from is not None:
        qs = qs.filter(transfer__effective_on__gte=date_from)
    if date_to is not None:
        qs = qs.filter(transfer__effective_on__lte=date_to)
    if query.strip():
        q = query.strip()
        qs = qs.filter(
            Q(account__fund__location__partner_id__icontains=q)
            | Q(account__fund__location__name__icontains=q)
            | Q(account__fund__location__organisation__name__icontains=q)
        )
    return qs


def adjustment_by_key(key: str) -> Transfer | None:
    return Transfer.objects.filter(idempotency_key=key, kind=TransferKind.ADJUST).first()


def earning_periods_summary(qs: QuerySet[Fund]) -> QuerySet[Any]:
    """One row per program and earning period: funds, how many closed and converted, co-op earned."""
    return (
        qs.order_by()
        .values("program_id", "program__name", "program__code", "currency", "earning_start", "earning_end", "label")
        .annotate(
            funds=Count("id"),
            closed=Count("id", filter=Q(closed_at__isnull=False)),
            converted=Count("id", filter=Q(converted_to_rebate=True)),
            coop=Sum("earned"),
        )
        .order_by("-earning_start", "program__name", "program_id")
    )


def forfeited_totals(program_ids: list[int], earning_starts: list[date]) -> dict[tuple[int, date], Decimal]:
    """Forfeited money per (program, earning period start), for the rows of a summary page."""
    rows = (
        Account.objects.filter(
            bucket=Bucket.FORFEITED,
            fund__program_id__in=program_ids,
            fund__earning_start__in=earning_starts,
        )
        .values("fund__program_id", "fund__earning_start")
        .annotate(total=Sum("balance"))
    )
    return {(r["fund__program_id"], r["fund__earning_start"]): quantize(r["total"]) for r in rows}


def imports_visible_to(user: User) -> QuerySet[EarningImport]:
    if can_see_imports(user):
        return EarningImport.objects.select_related("created_by")
    return EarningImport.objects.none()


def import_for(user: User, pk: int) -> EarningImport:
    try:
        return imports_visible_to(user).get(pk=pk)
    except (EarningImport.DoesNotExist, ValueError, TypeError):
        raise NotFound(gettext("No such import.")) from None


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
    for account in Account.objects.exclude(bucket__in=list(SOURCE_BUCKETS)).select_related(
        "fund", "budget", "allocation__budget", "allocation__location"
    ):
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
