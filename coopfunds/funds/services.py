"""Money movements on co-op funds. Building blocks (`fund_reserve`, `fund_release`, `fund_approve`,
`fund_pay`) run inside their caller's transaction (a claim's submit, a payment run); entry points
(`period_close`, `fund_forfeit_expired`, `fund_adjust`) own theirs. Every one is idempotent by its key."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, F, When
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from coopfunds.accounts.models import Location
from coopfunds.audit.services import audit_record
from coopfunds.core.db import assert_in_transaction
from coopfunds.core.i18n import Said
from coopfunds.core.money import quantize
from coopfunds.funds import ledger, permissions
from coopfunds.funds.models import FUND_BUCKETS, Account, Bucket, Fund, Transfer, TransferKind
from coopfunds.programs import periods, rules
from coopfunds.programs.models import LateEarnings, Program


def funds_for_earnings(*, program: Program, earned: set[tuple[int, date]]) -> dict[tuple[int, date], Fund]:
    """The funds that co-op earned by (location id, earned date) goes to, keyed like the input; funds not
    there yet are opened (with their accounts) in two queries, whatever their number."""
    earning_of: dict[tuple[int, date], periods.Period] = {}
    by_start: dict[date, tuple[periods.Period, periods.Period]] = {}  # earning start -> (earning, usage)
    by_day: dict[date, periods.Period] = {}
    for location_id, day in earned:
        earning = by_day.get(day) or by_day.setdefault(day, periods.period_containing(program, day))
        earning_of[(location_id, day)] = earning
        if earning.start not in by_start:
            by_start[earning.start] = (earning, periods.next_period(program, earning))
    wanted = {(loc, earning_of[(loc, day)].start) for loc, day in earned}
    found = {
        (f.location_id, f.earning_start): f
        for f in Fund.objects.filter(
            program=program,
            earning_start__in={start for _, start in wanted},
            location_id__in={loc for loc, _ in wanted},
        )
    }
    missing = []
    for loc, start in sorted(wanted - set(found)):
        earning, usage = by_start[start]
        opens, closes = periods.claim_window(program, usage)
        missing.append(
            Fund(
                location_id=loc,
                program=program,
                currency=program.currency,
                label=usage.label,
                earning_start=earning.start,
                earning_end=earning.end,
                usage_start=usage.start,
                usage_end=usage.end,
                claim_opens=opens,
                claim_closes=closes,
            )
        )
    if missing:
        Fund.objects.bulk_create(missing)
        Account.objects.bulk_create(
            [Account(program=program, fund=f, bucket=b, currency=f.currency) for f in missing for b in FUND_BUCKETS]
        )
        found |= {(f.location_id, f.earning_start): f for f in missing}
    return {key: found[(key[0], earning_of[key].start)] for key in earned}


def fund_for_earning(*, location: Location, program: Program, earned_on: date) -> Fund:
    """The fund that co-op earned on `earned_on` goes to, opened with its accounts on first use."""
    return funds_for_earnings(program=program, earned={(location.pk, earned_on)})[(location.pk, earned_on)]


def _accounts(fund: Fund) -> dict[str, Account]:
    return {a.bucket: a for a in Account.objects.filter(fund=fund)}


def rebate_share(program: Program, amount: Decimal) -> Decimal:
    """The rebate share of an earning by the split of `program` (the rules in force on the day it was earned:
    `programs.rules`), exact: not rounded. A fund rounds the sum of its shares once (`fund_split`)."""
    return amount * program.rebate_percent / 100


MICRO = Decimal("0.000001")


def to_micros(share: Decimal) -> int:
    """An exact rebate share (at most six decimals: cents times hundredths of a percent) in millionths."""
    scaled = share / MICRO
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{share} has more than six decimals")
    return int(scaled)


def micros(value: int) -> Decimal:
    return Decimal(value) * MICRO


def fund_split(amount: Decimal, rebate: Decimal) -> tuple[Decimal, Decimal]:
    """(co-op, rebate) of earnings totalling `amount` whose exact rebate share is `rebate`: the rebate rounded
    once to the cent, half up, and the co-op the rest, so the two always add up to the earnings
    (docs/adr/0010-rules-as-of-their-date.md)."""
    rounded = quantize(rebate)
    return amount - rounded, rounded


def split(program: Program, amount: Decimal) -> tuple[Decimal, Decimal]:
    """(co-op, rebate) of one earning line on its own, as its line shows it. A fund's figures come from its
    exact totals (`fund_split`), not from the sum of these."""
    return fund_split(amount, rebate_share(program, amount))


def funds_accrue(
    *,
    items: list[tuple[Fund, Decimal, Decimal]],
    key: str,
    reference: str,
    effective_on: date,
    memo: str = "",
    actor: Any = None,
) -> Transfer:
    """Earnings into funds, as one transfer: for each (fund, earnings, their exact rebate share), what the fund's
    split on its new totals adds to rebate payable and to the fund's co-op (the split is rounded once per fund, on
    its totals, so the same earnings give the same co-op in one line or in many). Once a fund's earning period is
    closed, late co-op follows the close's outcome (available, or converted below the threshold) until the period
    jobs re-evaluate it (`funds_reevaluate`). The one place that posts earnings, so the funds' cached earned figures
    always move with the ledger."""
    assert_in_transaction()
    ids = sorted({f.pk for f, _, _ in items})
    funds = {f.pk: f for f in Fund.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    accounts: dict[int, dict[str, Account]] = {pk: {} for pk in ids}
    for account in Account.objects.filter(fund_id__in=ids):
        accounts[account.fund_id][account.bucket] = account  # type: ignore[index]
    first = next(iter(funds.values()))
    source = ledger.source_account(first.program_id, Bucket.EARNINGS, first.currency)
    gross_of = {pk: Decimal(0) for pk in ids}
    share_of = {pk: Decimal(0) for pk in ids}
    for fund_ref, amount, share in items:
        gross_of[fund_ref.pk] += amount
        share_of[fund_ref.pk] += share
    legs: list[ledger.Leg] = []
    coop_of: dict[int, Decimal] = {}
    rebate_of: dict[int, Decimal] = {}
    for pk in ids:
        fund = funds[pk]
        share = micros(fund.rebate_share_micros)
        coop_before, rebate_before = fund_split(fund.earned_gross, share)
        coop_after, rebate_after = fund_split(fund.earned_gross + gross_of[pk], share + share_of[pk])
        coop_of[pk], rebate_of[pk] = coop_after - coop_before, rebate_after - rebate_before
        if fund.closed_at is None:
            coop_bucket = Bucket.ACCRUED
        else:
            coop_bucket = Bucket.CONVERTED if fund.converted_to_rebate else Bucket.AVAILABLE
        legs += [
            (source, -gross_of[pk]),
            (accounts[pk][Bucket.REBATE], rebate_of[pk]),
            (accounts[pk][coop_bucket], coop_of[pk]),
        ]
    already = Transfer.objects.filter(idempotency_key=key).exists()
    transfer = ledger.post(
        key=key,
        kind=TransferKind.ACCRUE,
        effective_on=effective_on,
        reference=reference,
        memo=memo,
        actor=actor,
        legs=legs,
    )
    if not already:
        Fund.objects.filter(pk__in=ids).update(
            earned=Case(*[When(pk=pk, then=F("earned") + coop_of[pk]) for pk in ids]),
            earned_rebate=Case(*[When(pk=pk, then=F("earned_rebate") + rebate_of[pk]) for pk in ids]),
            earned_gross=Case(*[When(pk=pk, then=F("earned_gross") + gross_of[pk]) for pk in ids]),
            rebate_share_micros=Case(
                *[When(pk=pk, then=F("rebate_share_micros") + to_micros(share_of[pk])) for pk in ids]
            ),
        )
    return transfer


def fund_accrue(
    *,
    fund: Fund,
    amount: Decimal,
    rebate: Decimal,
    key: str,
    reference: str,
    effective_on: date,
    memo: str = "",
    actor: Any = None,
) -> Transfer:
    """Earnings of `amount` into one fund, `rebate` being their exact rebate share (`rebate_share`)."""
    return funds_accrue(
        items=[(fund, amount, rebate)], key=key, reference=reference, effective_on=effective_on, memo=memo, actor=actor
    )


def _move(
    fund: Fund,
    kind: TransferKind,
    src: Bucket,
    dst: Bucket,
    amount: Decimal,
    *,
    key: str,
    reference: str,
    actor: Any,
    memo: str = "",
    effective_on: date | None = None,
) -> Transfer:
    if amount <= 0:
        raise ValidationError({"amount": gettext("The amount must be more than zero.")})
    return ledger.move(
        fund_id=fund.pk,
        src=src,
        dst=dst,
        amount=amount,
        key=key,
        kind=kind,
        effective_on=effective_on or timezone.localdate(),
        reference=reference,
        memo=memo,
        actor=actor,
    )


def _expired(fund: Fund, today: date | None = None) -> bool:
    return (today or timezone.localdate()) > fund.usage_end


def fund_reserve(*, fund: Fund, amount: Decimal, key: str, reference: str, actor: Any) -> Transfer:
    """Hold money for a submitted claim. Refused (InsufficientFunds) if it would overdraw the fund."""
    assert_in_transaction()
    return _move(
        fund, TransferKind.RESERVE, Bucket.AVAILABLE, Bucket.RESERVED, amount, key=key, reference=reference, actor=actor
    )


def fund_release(*, fund: Fund, amount: Decimal, key: str, reference: str, actor: Any) -> Transfer:
    """Give back a reservation (rejection, withdrawal, partial approval). After the usage period it is forfeited."""
    assert_in_transaction()
    if _expired(fund):
        return _move(
            fund,
            TransferKind.FORFEIT,
            Bucket.RESERVED,
            Bucket.FORFEITED,
            amount,
            key=key,
            reference=reference,
            actor=actor,
            memo=Said(gettext_noop("Released after the usage period ended: forfeited.")),
        )
    return _move(
        fund, TransferKind.RELEASE, Bucket.RESERVED, Bucket.AVAILABLE, amount, key=key, reference=reference, actor=actor
    )


def fund_approve(*, fund: Fund, amount: Decimal, key: str, reference: str, actor: Any) -> Transfer:
    """Make reserved money payable (claim approved)."""
    assert_in_transaction()
    return _move(
        fund, TransferKind.APPROVE, Bucket.RESERVED, Bucket.PAYABLE, amount, key=key, reference=reference, actor=actor
    )


def fund_pay(*, fund: Fund, bucket: Bucket, amount: Decimal, key: str, reference: str, actor: Any) -> Transfer:
    """Mark payable co-op, rebate or converted co-op as paid (a payment run)."""
    assert_in_transaction()
    if bucket not in (Bucket.PAYABLE, Bucket.REBATE, Bucket.CONVERTED):
        raise ValueError(f"{bucket} is not payable")
    paid = Bucket.PAID if bucket == Bucket.PAYABLE else Bucket.REBATE_PAID
    return _move(fund, TransferKind.PAY, bucket, paid, amount, key=key, reference=reference, actor=actor)


PAYABLE_BUCKETS = (Bucket.PAYABLE, Bucket.REBATE, Bucket.CONVERTED)


def paid_bucket(bucket: str) -> Bucket:
    """Where paying a payable bucket moves its money: approved co-op to paid, rebate and converted co-op to
    rebate paid."""
    if bucket not in PAYABLE_BUCKETS:
        raise ValueError(f"{bucket} is not payable")
    return Bucket.PAID if bucket == Bucket.PAYABLE else Bucket.REBATE_PAID


def funds_pay(
    *,
    items: list[tuple[int, str, Decimal]],
    key: str,
    reference: str,
    effective_on: date,
    actor: Any,
    memo: str = "",
    back: bool = False,
) -> Transfer:
    """Pay many payable buckets as one transfer (a payment run): each (fund id, bucket, amount) moves from
    the bucket to paid (co-op) or rebate paid. With `back`, the mirror image (kind `reverse`): the bank gave
    the money back, so it is payable again. The funds' accounts are read in one query; idempotent by key."""
    assert_in_transaction()
    accounts = {(a.fund_id, a.bucket): a for a in Account.objects.filter(fund_id__in={f for f, _, _ in items})}
    legs: list[ledger.Leg] = []
    for fund_id, bucket, amount in items:
        if amount <= 0:
            raise ValueError("A payment moves a positive amount.")
        sign = -1 if back else 1
        legs += [
            (accounts[(fund_id, bucket)], -amount * sign),
            (accounts[(fund_id, paid_bucket(bucket))], amount * sign),
        ]
    return ledger.post(
        key=key,
        kind=TransferKind.REVERSE if back else TransferKind.PAY,
        legs=legs,
        effective_on=effective_on,
        reference=reference,
        memo=memo,
        actor=actor,
    )


@dataclass(frozen=True)
class CloseOutcome:
    fund: Fund
    coop: Decimal
    converted: bool


def _close_fund(fund: Fund, book: rules.RuleBook, actor: Any) -> CloseOutcome | None:
    fund = Fund.objects.select_for_update().select_related("program").get(pk=fund.pk)
    if fund.closed_at is not None:
        return None
    ruled = book.on(fund.earning_end)  # the rules in force on the period's last day, whenever the close runs
    accounts = _accounts(fund)
    coop = accounts[Bucket.ACCRUED].balance
    threshold = ruled.coop_threshold
    converted = coop < threshold
    if coop:
        if converted:
            memo = Said(
                gettext_noop(
                    "Co-op of %(amount)s %(currency)s for %(start)s–%(end)s is below the program threshold of "
                    "%(threshold)s %(currency)s: paid as rebate instead."
                ),
                amount=coop,
                currency=fund.currency,
                start=fund.earning_start,
                end=fund.earning_end,
                threshold=threshold,
            )
            dst, kind = Bucket.CONVERTED, TransferKind.CONVERT
        else:
            memo = Said(
                gettext_noop("Earning period closed: %(amount)s %(currency)s co-op available until %(day)s."),
                amount=coop,
                currency=fund.currency,
                day=fund.usage_end,
            )
            dst, kind = Bucket.AVAILABLE, TransferKind.CLOSE
        ledger.post(
            key=f"close:{fund.pk}",
            kind=kind,
            legs=[(accounts[Bucket.ACCRUED], -coop), (accounts[dst], coop)],
            effective_on=fund.earning_end,
            reference=f"fund:{fund.pk}",
            memo=memo,
            actor=actor,
        )
    Fund.objects.filter(pk=fund.pk).update(
        closed_at=timezone.now(),
        threshold_applied=threshold,
        converted_to_rebate=converted,
        rules_version=ruled.rules_version,
    )
    return CloseOutcome(fund=fund, coop=coop, converted=converted)


def period_close(*, program: Program, today: date | None = None, actor: Any = None) -> list[CloseOutcome]:
    """Close every earning period of `program` that has ended: apply the threshold in force on its last day to
    each fund. Running it again, late, or concurrently changes nothing more (each fund is closed once, under its
    row lock)."""
    today = today or timezone.localdate()
    book = rules.RuleBook(program)
    outcomes = []
    for fund_id in Fund.objects.filter(program=program, earning_end__lt=today, closed_at__isnull=True).values_list(
        "pk", flat=True
    ):
        with transaction.atomic(durable=True):
            outcome = _close_fund(Fund(pk=fund_id), book, actor)
        if outcome:
            outcomes.append(outcome)
    return outcomes


def funds_reevaluate(*, program: Program, today: date | None = None, actor: Any = None) -> list[CloseOutcome]:
    """Late earnings into closed funds, where the program's rule (in force on the period's last day) says to
    re-evaluate: a fund converted to rebate whose co-op now reaches the threshold its close applied becomes
    available, while its usage period runs and none of the converted co-op was paid as rebate (money paid stays
    paid: the close's outcome is kept then, and the transfer's memo would have nothing to move). Idempotent."""
    today = today or timezone.localdate()
    book = rules.RuleBook(program)
    outcomes = []
    candidates = Fund.objects.filter(
        program=program,
        closed_at__isnull=False,
        converted_to_rebate=True,
        usage_end__gte=today,
        earned__gte=F("threshold_applied"),
    )
    for fund_id in candidates.values_list("pk", flat=True):
        with transaction.atomic(durable=True):
            fund = Fund.objects.select_for_update().get(pk=fund_id)
            ruled = book.on(fund.earning_end)
            if not fund.converted_to_rebate or ruled.late_earnings != LateEarnings.REEVALUATE:
                continue
            accounts = _accounts(fund)
            converted = accounts[Bucket.CONVERTED].balance
            if converted != fund.earned or fund.threshold_applied is None or fund.earned < fund.threshold_applied:
                continue  # some of it was paid as rebate: the outcome stands
            ledger.post(
                key=f"reevaluate:{fund.pk}",
                kind=TransferKind.CLOSE,
                legs=[(accounts[Bucket.CONVERTED], -converted), (accounts[Bucket.AVAILABLE], converted)],
                effective_on=today,
                reference=f"fund:{fund.pk}",
                memo=Said(
                    gettext_noop(
                        "Late earnings took the period's co-op to %(amount)s %(currency)s, at or above the threshold "
                        "of %(threshold)s %(currency)s: available until %(day)s instead of paid as rebate."
                    ),
                    amount=converted,
                    currency=fund.currency,
                    threshold=fund.threshold_applied,
                    day=fund.usage_end,
                ),
                actor=actor,
            )
            Fund.objects.filter(pk=fund.pk).update(converted_to_rebate=False)
            outcomes.append(CloseOutcome(fund=fund, coop=converted, converted=False))
    return outcomes


def fund_forfeit_expired(*, program: Program, today: date | None = None, actor: Any = None) -> list[Transfer]:
    """At the end of the usage period the available balance is forfeited. Reserved money waits for its
    claim's decision (`fund_release` forfeits it then). Idempotent: key per fund and amount forfeited so far."""
    today = today or timezone.localdate()
    transfers = []
    candidates = Fund.objects.filter(
        program=program,
        usage_end__lt=today,
        closed_at__isnull=False,
        accounts__bucket=Bucket.AVAILABLE,
        accounts__balance__gt=0,
    )
    for fund_id in candidates.values_list("pk", flat=True):
        with transaction.atomic(durable=True):
            fund = Fund.objects.select_for_update().get(pk=fund_id)
            accounts = _accounts(fund)
            amount = accounts[Bucket.AVAILABLE].balance
            if amount <= 0:
                continue
            forfeited_before = accounts[Bucket.FORFEITED].balance
            transfers.append(
                ledger.post(
                    key=f"forfeit:{fund.pk}:{forfeited_before}",
                    kind=TransferKind.FORFEIT,
                    legs=[(accounts[Bucket.AVAILABLE], -amount), (accounts[Bucket.FORFEITED], amount)],
                    effective_on=fund.usage_end,
                    reference=f"fund:{fund.pk}",
                    actor=actor,
                    memo=Said(
                        gettext_noop("Not used by the end of the usage period (%(day)s): forfeited."),
                        day=fund.usage_end,
                    ),
                )
            )
            Fund.objects.filter(pk=fund.pk).update(forfeited_at=timezone.now())
    return transfers


class AdjustmentReason:
    POLICY_EXCEPTION = "policy_exception"
    PREVIOUS_PERIOD = "previous_period"
    OPERATIONS = "operations_adjustment"
    ROLLOVER = "rollover"
    CHOICES = [
        (POLICY_EXCEPTION, gettext_lazy("Policy exception")),
        (PREVIOUS_PERIOD, gettext_lazy("Previous period")),
        (OPERATIONS, gettext_lazy("Operations adjustment")),
        (ROLLOVER, gettext_lazy("Rollover to another period")),
    ]


@transaction.atomic(durable=True)
def fund_adjust(
    *, fund: Fund, amount: Decimal, reason_code: str, memo: str, key: str, actor: Any, to_fund: Fund | None = None
) -> Transfer:
    """A program manager's manual credit (amount > 0) or debit (amount < 0) of a fund's available balance,
    or a rollover of available money to another fund of the same location and program."""
    if not permissions.can_adjust(actor, fund.program_id):
        raise PermissionDenied(gettext("Only a program manager of this program can adjust funds."))
    errors = {}
    if reason_code not in dict(AdjustmentReason.CHOICES):
        errors["reason_code"] = gettext("Choose a reason: %(reasons)s.") % {
            "reasons": ", ".join(str(label).lower() for _, label in AdjustmentReason.CHOICES)
        }
    if not memo.strip():
        errors["memo"] = gettext("Say why, in a sentence the partner will read.")
    if not amount:
        errors["amount"] = gettext("The amount must not be zero.")
    if (reason_code == AdjustmentReason.ROLLOVER) != (to_fund is not None):
        errors["to_fund"] = gettext("A rollover names the fund it moves to; other adjustments do not.")
    if to_fund is not None and (to_fund.location_id, to_fund.program_id) != (fund.location_id, fund.program_id):
        errors["to_fund"] = gettext("A rollover stays within one location and program.")
    if to_fund is not None and amount <= 0:
        errors["amount"] = gettext("A rollover moves a positive amount.")
    if errors:
        raise ValidationError(errors)
    accounts = _accounts(fund)
    if to_fund is not None:
        legs = [(accounts[Bucket.AVAILABLE], -amount), (_accounts(to_fund)[Bucket.AVAILABLE], amount)]
    else:
        source = ledger.source_account(fund.program_id, Bucket.ADJUSTMENTS, fund.currency)
        legs = [(source, -amount), (accounts[Bucket.AVAILABLE], amount)]
    replay = Transfer.objects.filter(idempotency_key=key).exists()
    transfer = ledger.post(
        key=key,
        kind=TransferKind.ADJUST,
        legs=legs,
        effective_on=timezone.localdate(),
        reference=f"fund:{fund.pk}",
        memo=memo.strip(),
        reason_code=reason_code,
        actor=actor,
    )
    if replay:  # the same request again (a double submit, a client's retry): already posted and audited
        return transfer
    audit_record(
        actor=actor,
        verb="fund.adjust",
        target=fund,
        reason=memo.strip(),
        changes={"available": (None, str(amount)), "reason_code": (None, reason_code)},
        organisation_id=fund.location.organisation_id,
    )
    return transfer


def run_fund_jobs(today: date | None = None, actor: Any = None) -> dict[str, int]:
    """Close ended earning periods, re-evaluate closed ones that late earnings changed, and forfeit expired
    funds, for every active program."""
    closed = reevaluated = forfeited = 0
    for program in Program.objects.filter(is_active=True):
        closed += len(period_close(program=program, today=today, actor=actor))
        reevaluated += len(funds_reevaluate(program=program, today=today, actor=actor))
        forfeited += len(fund_forfeit_expired(program=program, today=today, actor=actor))
    return {"closed": closed, "reevaluated": reevaluated, "forfeited": forfeited}


def period_jobs_run(*, actor: Any) -> dict[str, int]:
    """A program manager runs the period jobs now instead of waiting for the schedule; recorded as theirs."""
    if not permissions.can_run_period_jobs(actor):
        raise PermissionDenied(gettext("Only a program manager of every program can run the period jobs."))
    counts = run_fund_jobs(actor=actor)
    with transaction.atomic(durable=True):
        audit_record(
            actor=actor,
            verb="funds.period_jobs",
            target=actor,
            changes={name: (None, count) for name, count in counts.items()},
        )
    return counts
