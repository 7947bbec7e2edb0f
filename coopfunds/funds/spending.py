"""The spend record and the caps it enforces (docs/adr/0008-spend-record-and-review-workflow.md).

Every amount that a claim or a proof of execution holds in a fund, or has had approved from it, is a `Spend` row
per (fund, reference), written here by the same call that moves its money on the ledger. Callers (claims, plans)
pass their reference ("claim:42") and the activity type; `funds` knows nothing else about them.

Caps: what a fund's spends of one activity type hold plus what they had approved may never pass the activity type's
per-period caps (a fixed amount, or a percentage of the fund's earned co-op). Every step that makes a spend grow
(`spend_hold` above what it held, `spend_approve`) takes a lock on (fund, activity type) first, re-reads the others'
spend, and refuses with a message that names the cap, what is used and what is left; two requests on the same
(fund, activity type) therefore never both pass. Steps that only shrink a spend (release, a partial approval's
rest) cannot break a cap and take no lock."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext

from coopfunds.core.db import assert_in_transaction, lock, lock_all
from coopfunds.core.money import money
from coopfunds.funds.models import Fund, Spend
from coopfunds.funds.services import fund_approve, fund_release, fund_reserve
from coopfunds.programs import rules
from coopfunds.programs.models import ActivityType, Cap

ZERO = Decimal("0.00")


class CapExceeded(ValidationError):
    """The amount would take an activity type past one of its caps for the period (field: amount)."""

    def __init__(self, messages: list[str]):
        super().__init__({"amount": messages})


@dataclass(frozen=True)
class CapRoom:
    """One per-period cap of an activity type in one fund: its limit, what other spends use of it, what is left."""

    cap: Cap
    limit: Decimal
    used: Decimal

    @property
    def left(self) -> Decimal:
        return max(self.limit - self.used, ZERO)

    def refusal(self, activity_type: ActivityType, fund: Fund, amount: Decimal) -> str | None:
        """The message for asking `amount` more, or None if it fits."""
        if self.used + amount <= self.limit:
            return None
        return gettext(
            "%(activity_type)s is capped at %(limit)s for %(period)s (%(cap)s); %(used)s is already claimed, so at "
            "most %(left)s more."
        ) % {
            "activity_type": activity_type.name,
            "limit": money(self.limit, fund.currency),
            "period": fund.label,
            "cap": self.cap,
            "used": money(self.used, fund.currency),
            "left": money(self.left, fund.currency),
        }


def period_caps(activity_type: ActivityType, caps_at: datetime | None = None) -> list[Cap]:
    """The activity type's caps that limit a period's spend, as in force at `caps_at` (None: now, and the
    prefetched `caps` are used when present)."""
    return _period(rules.caps_as_of(activity_type, caps_at))


def used_by_others(*, fund: Fund, activity_type: ActivityType, reference: str) -> Decimal:
    """What every other spend of the fund on this activity type holds or had approved."""
    total = (
        Spend.objects.filter(fund=fund, activity_type=activity_type)
        .exclude(reference=reference)
        .aggregate(total=Sum(F("held") + F("approved")))["total"]
    )
    return total if total is not None else ZERO


def cap_rooms(
    *, fund: Fund, activity_type: ActivityType, reference: str, caps_at: datetime | None = None
) -> list[CapRoom]:
    """Each per-period cap that applies (exempt caps do not), with what the others use of it."""
    return _rooms(fund, activity_type, reference, period_caps(activity_type, caps_at))


def _rooms(fund: Fund, activity_type: ActivityType, reference: str, period: list[Cap]) -> list[CapRoom]:
    caps = [(cap, cap.period_limit(fund.earned)) for cap in period]
    applying = [(cap, limit) for cap, limit in caps if limit is not None]
    if not applying:
        return []
    used = used_by_others(fund=fund, activity_type=activity_type, reference=reference)
    return [CapRoom(cap, limit, used) for cap, limit in applying]


def cap_refusals(
    *, fund: Fund, activity_type: ActivityType, reference: str, amount: Decimal, caps_at: datetime | None = None
) -> list[str]:
    """Why `reference` may not count `amount` against the caps in `fund` (empty: it may). For checkers."""
    return [
        m
        for room in cap_rooms(fund=fund, activity_type=activity_type, reference=reference, caps_at=caps_at)
        if (m := room.refusal(activity_type, fund, amount)) is not None
    ]


def _enforce_caps(
    fund: Fund, activity_type: ActivityType, reference: str, counted: Decimal, caps_at: datetime | None
) -> None:
    """Under the (fund, activity type) lock: refuse if `reference` counting `counted` passes a cap in force at
    `caps_at` (its submission)."""
    caps = period_caps(activity_type, caps_at)
    if not caps:
        return
    lock("spend", fund.pk, activity_type.pk)
    # the fund's earned co-op can grow (late earnings): read it under the lock, for percentage caps
    fund.earned = Fund.objects.values_list("earned", flat=True).get(pk=fund.pk)
    refused = [
        m
        for room in _rooms(fund, activity_type, reference, caps)
        if (m := room.refusal(activity_type, fund, counted)) is not None
    ]
    if refused:
        raise CapExceeded(refused)


def _spend(fund: Fund, activity_type: ActivityType, reference: str, within: str) -> Spend:
    spend, _ = Spend.objects.get_or_create(
        fund=fund, reference=reference, defaults={"activity_type": activity_type, "within": within}
    )
    return spend


def spend_of(*, fund: Fund, reference: str) -> Spend | None:
    return Spend.objects.filter(fund=fund, reference=reference).first()


def spend_hold(
    *,
    fund: Fund,
    activity_type: ActivityType,
    reference: str,
    amount: Decimal,
    key: str,
    actor: Any,
    within: str = "",
    caps_at: datetime | None = None,
) -> Spend:
    """Make what `reference` holds in `fund` exactly `amount` (reserving or releasing the difference). Holding
    more is refused with `CapExceeded` past a cap in force at `caps_at` (the submission; None: now), and with
    `ledger.InsufficientFunds` past the fund's balance."""
    assert_in_transaction()
    spend = _spend(fund, activity_type, reference, within)
    if amount > spend.held:
        _enforce_caps(fund, activity_type, reference, spend.approved + amount, caps_at)
        fund_reserve(fund=fund, amount=amount - spend.held, key=f"{key}:reserve", reference=reference, actor=actor)
    elif amount < spend.held:
        fund_release(fund=fund, amount=spend.held - amount, key=f"{key}:release", reference=reference, actor=actor)
    else:
        return spend
    spend.held = amount
    spend.save(update_fields=["held", "updated_at"])
    return spend


def spend_release(*, fund: Fund, reference: str, key: str, actor: Any) -> Spend | None:
    """Give back all that `reference` holds in `fund` (forfeited instead once the usage period has ended)."""
    assert_in_transaction()
    spend = spend_of(fund=fund, reference=reference)
    if spend is None or not spend.held:
        return spend
    fund_release(fund=fund, amount=spend.held, key=f"{key}:release", reference=reference, actor=actor)
    spend.held = ZERO
    spend.save(update_fields=["held", "updated_at"])
    return spend


@dataclass(frozen=True)
class Approval:
    """Of what `reference` holds in `fund`, `amount` becomes payable and `keep_held` stays held (a proof's excess
    carried above its plan's limit); the rest is released. Held to the caps in force at `caps_at` (its
    submission)."""

    fund: Fund
    activity_type: ActivityType
    reference: str
    amount: Decimal
    key: str
    keep_held: Decimal = ZERO
    caps_at: datetime | None = None


def spend_approve(
    *,
    fund: Fund,
    activity_type: ActivityType,
    reference: str,
    amount: Decimal,
    key: str,
    actor: Any,
    keep_held: Decimal = ZERO,
    caps_at: datetime | None = None,
) -> Spend:
    """One `Approval` (see `spends_approve`); `CapExceeded` if approving passes a cap (another spend took the
    room since this one was held)."""
    (done,) = spends_approve([Approval(fund, activity_type, reference, amount, key, keep_held, caps_at)], actor=actor)
    if isinstance(done, CapExceeded):
        raise done
    return done


def spends_approve(approvals: list[Approval], *, actor: Any) -> list[Spend | CapExceeded]:
    """Approve each of `approvals`, in order: its spend, or the `CapExceeded` that refuses it (which leaves nothing
    of it behind and does not stop the others). One read of their spends, caps and usage, the locks of every
    capped (fund, activity type) taken together in one order, one write of the spends; then the money, one
    posting each (the fund's balances stay locked from there to the commit)."""
    assert_in_transaction()
    if not approvals:
        return []
    spends = {
        (s.fund_id, s.reference): s
        for s in Spend.objects.filter(
            fund_id__in={a.fund.pk for a in approvals}, reference__in={a.reference for a in approvals}
        )
    }
    for a in approvals:
        if (a.fund.pk, a.reference) not in spends:  # held before spends were recorded
            spends[a.fund.pk, a.reference] = _spend(a.fund, a.activity_type, a.reference, "")
        held = spends[a.fund.pk, a.reference].held
        if a.amount < 0 or a.keep_held < 0 or a.amount + a.keep_held > held:
            raise ValueError(f"{a.reference} holds {held}: it cannot approve {a.amount} and keep {a.keep_held}.")
    versions = rules.cap_versions({a.activity_type.pk for a in approvals if a.amount})
    capped = {
        i: caps
        for i, a in enumerate(approvals)
        if a.amount
        and (caps := _period(rules.caps_in_force(versions[a.activity_type.pk], a.caps_at or timezone.now())))
    }
    used = _usage_under_lock([approvals[i] for i in capped])
    out: list[Spend | CapExceeded] = []
    approved: list[tuple[Approval, Spend, Decimal]] = []
    for i, a in enumerate(approvals):
        spend = spends[a.fund.pk, a.reference]
        if i in capped:
            pair = (a.fund.pk, a.activity_type.pk)
            mine = spend.held + spend.approved if spend.activity_type_id == a.activity_type.pk else ZERO
            others = used[pair] - mine
            counted = spend.approved + a.amount + a.keep_held
            refused = [
                m
                for cap in capped[i]
                if (limit := cap.period_limit(a.fund.earned)) is not None
                and (m := CapRoom(cap, limit, others).refusal(a.activity_type, a.fund, counted)) is not None
            ]
            if refused:
                out.append(CapExceeded(refused))
                continue
            used[pair] = others + counted
        release = spend.held - a.amount - a.keep_held
        spend.held, spend.approved = a.keep_held, spend.approved + a.amount
        spend.updated_at = timezone.now()
        out.append(spend)
        approved.append((a, spend, release))
    _save(approved)
    # postings in fund order (each posting already locks its accounts in account order), so that two batches
    # over the same funds never wait for each other in a circle
    for a, _, release in sorted(approved, key=lambda done: done[0].fund.pk):
        if release:
            fund_release(fund=a.fund, amount=release, key=f"{a.key}:release", reference=a.reference, actor=actor)
        if a.amount:
            fund_approve(fund=a.fund, amount=a.amount, key=f"{a.key}:approve", reference=a.reference, actor=actor)
    return out


def _save(approved: list[tuple[Approval, Spend, Decimal]]) -> None:
    """Write the approved spends: those approved whole (nothing kept, nothing released) in one UPDATE, each
    other on its own."""
    now = timezone.now()
    whole = [s.pk for a, s, release in approved if not a.keep_held and not release]
    if whole:
        # every SET reads the row as it was: `approved + held` is the old held
        Spend.objects.filter(pk__in=whole).update(held=ZERO, approved=F("approved") + F("held"), updated_at=now)
    for a, spend, release in approved:
        if a.keep_held or release:
            Spend.objects.filter(pk=spend.pk).update(held=spend.held, approved=spend.approved, updated_at=now)


def _period(caps: list[Cap]) -> list[Cap]:
    return [c for c in caps if c.kind in (Cap.Kind.PERIOD_AMOUNT, Cap.Kind.PERIOD_PERCENT)]


def _usage_under_lock(approvals: list[Approval]) -> dict[tuple[int, int], Decimal]:
    """Lock each (fund, activity type) of `approvals`, then read what all spends of each hold plus had approved,
    and the funds' earned co-op (it can grow with late earnings: percentage caps need it as it is now)."""
    pairs = {(a.fund.pk, a.activity_type.pk) for a in approvals}
    if not pairs:
        return {}
    lock_all("spend", pairs)
    earned = dict(Fund.objects.filter(pk__in={f for f, _ in pairs}).values_list("pk", "earned"))
    for a in approvals:
        a.fund.earned = earned[a.fund.pk]
    used = dict.fromkeys(pairs, ZERO)
    rows = (
        Spend.objects.filter(fund_id__in={f for f, _ in pairs}, activity_type_id__in={t for _, t in pairs})
        .values_list("fund_id", "activity_type_id")
        .annotate(total=Sum(F("held") + F("approved")))
    )
    for fund_id, type_id, total in rows:
        if (fund_id, type_id) in used:
            used[fund_id, type_id] = total
    return used


def approved_within(within: str) -> Decimal:
    """What the spends limited by `within` ("plan:7") have had approved."""
    total = Spend.objects.filter(within=within).aggregate(total=Sum("approved"))["total"]
    return total if total is not None else ZERO
