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

from coopfunds.core.db import assert_in_transaction, lock
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
        return (
            f"{activity_type.name} is capped at {money(self.limit, fund.currency)} for {fund.label} ({self.cap}); "
            f"{money(self.used, fund.currency)} is already claimed, so at most {money(self.left, fund.currency)} more."
        )


def period_caps(activity_type: ActivityType, caps_at: datetime | None = None) -> list[Cap]:
    """The activity type's caps that limit a period's spend, as in force at `caps_at` (None: now, and the
    prefetched `caps` are used when present)."""
    caps = rules.caps_as_of(activity_type, caps_at)
    return [c for c in caps if c.kind in (Cap.Kind.PERIOD_AMOUNT, Cap.Kind.PERIOD_PERCENT)]


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
    """Of what `reference` holds, `amount` becomes payable and `keep_held` stays held (a proof's excess carried
    above its plan's limit); the rest is released. Refused with `CapExceeded` if approving passes a cap (another
    spend took the room since this one was held); the caps are those in force at `caps_at`, its submission."""
    assert_in_transaction()
    spend = _spend(fund, activity_type, reference, "")
    if amount < 0 or keep_held < 0 or amount + keep_held > spend.held:
        raise ValueError(f"{reference} holds {spend.held}: it cannot approve {amount} and keep {keep_held}.")
    if amount:
        _enforce_caps(fund, activity_type, reference, spend.approved + amount + keep_held, caps_at)
    release = spend.held - amount - keep_held
    spend.held, spend.approved = keep_held, spend.approved + amount
    spend.save(update_fields=["held", "approved", "updated_at"])
    # the money last: the fund's balances stay locked from here to the commit
    if release:
        fund_release(fund=fund, amount=release, key=f"{key}:release", reference=reference, actor=actor)
    if amount:
        fund_approve(fund=fund, amount=amount, key=f"{key}:approve", reference=reference, actor=actor)
    return spend


def approved_within(within: str) -> Decimal:
    """What the spends limited by `within` ("plan:7") have had approved."""
    total = Spend.objects.filter(within=within).aggregate(total=Sum("approved"))["total"]
    return total if total is not None else ZERO
