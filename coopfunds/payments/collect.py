"""What a run collects and why a payment waits: reads and pure decisions, no writes (the run services write).

Everything payable (approved claims and proofs, plan payouts: bucket `payable`; rebate; converted co-op) in the
funds of the programs an entity pays, less what open payments already hold, grouped per location. Each
payment is in its payout profile's currency at the month's rate; a location without an approved current payout
profile and a valid approved tax profile is held with the reason, in words the partner reads.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Sum
from django.utils import translation
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.translation import gettext_noop

from coopfunds.core.i18n import Said
from coopfunds.enrollments.models import PayoutProfile, TaxProfile
from coopfunds.enrollments.requirements import missing_requirements
from coopfunds.funds.models import Account
from coopfunds.funds.services import PAYABLE_BUCKETS
from coopfunds.payments.models import OPEN, PayingEntity, PaymentLine, ProgramPayer
from coopfunds.payments.rates import convert, month_of
from coopfunds.programs.models import ExchangeRate

Key = tuple[int, str]  # (fund id, bucket)


@dataclass
class Payable:
    """New payable money of one location: (fund id, bucket) -> (amount, currency)."""

    location_id: int
    items: dict[Key, tuple[Decimal, str]] = field(default_factory=dict)


def program_ids_of(entity: PayingEntity) -> list[int]:
    return list(ProgramPayer.objects.filter(entity=entity).values_list("program_id", flat=True))


def payable_by_location(program_ids: list[int]) -> dict[int, Payable]:
    """Money in payable buckets of these programs' funds not yet held by an open payment, per location
    (two queries, whatever the number of funds)."""
    held: dict[Key, Decimal] = {
        (row["fund_id"], row["bucket"]): row["total"]
        for row in PaymentLine.objects.filter(payment__status__in=list(OPEN), fund__program_id__in=program_ids)
        .values("fund_id", "bucket")
        .annotate(total=Sum("source_amount"))
        .order_by()
    }
    out: dict[int, Payable] = {}
    rows = (
        Account.objects.filter(fund__program_id__in=program_ids, bucket__in=list(PAYABLE_BUCKETS), balance__gt=0)
        .values_list("fund_id", "bucket", "balance", "currency", "fund__location_id")
        .order_by("fund__location_id", "fund_id", "bucket")
    )
    for fund_id, bucket, balance, currency, location_id in rows:
        free = balance - held.get((fund_id, bucket), Decimal(0))
        if free > 0:
            out.setdefault(location_id, Payable(location_id)).items[(fund_id, bucket)] = (free, currency)
    return out


def current_profiles(location_ids: set[int]) -> tuple[dict[int, PayoutProfile], dict[int, TaxProfile]]:
    payouts = {p.location_id: p for p in PayoutProfile.objects.filter(location_id__in=location_ids, is_current=True)}
    taxes = {t.location_id: t for t in TaxProfile.objects.filter(location_id__in=location_ids, is_current=True)}
    return payouts, taxes


def profile_holds(payout: PayoutProfile | None, tax: TaxProfile | None, run_date: date) -> list[str]:
    """Why a location cannot be paid on `run_date` (empty: it can): stored as the payment's hold reason, so in
    English (pages write it in the reader's language: `Payment.hold_text`)."""
    with translation.override("en"):
        return missing_requirements(payout, tax, today=run_date, need_approval=True)


class RateBook:
    """The month's rates, read once per run."""

    def __init__(self, day: date) -> None:
        self.month = month_of(day)
        self.rates = {(r.source, r.target): r.rate for r in ExchangeRate.objects.filter(month=self.month)}

    def rate(self, source: str, target: str) -> Decimal | None:
        return Decimal(1) if source == target else self.rates.get((source, target))

    def missing_message(self, source: str, target: str) -> str:
        """A hold reason: stored in English, read in the reader's language where it is one of the product's sentences."""
        return Said(
            gettext_noop(
                "No exchange rate from %(source)s to %(target)s for %(month)s yet: the payment waits until finance "
                "adds it."
            ),
            source=source,
            target=target,
            month=_month(self.month),
        )


# "November 2026" in the language active when it is read (a month name, as Django's "F Y" writes it).
_month = lazy(lambda day: date_format(day, "F Y"), str)


def lines_converted(lines: list[PaymentLine], target: str, book: RateBook) -> tuple[list[PaymentLine], list[str]]:
    """Set each line's rate, rate month and amount in `target`; the reasons for missing rates, if any."""
    missing: dict[tuple[str, str], str] = {}
    for line in lines:
        rate = book.rate(line.source_currency, target)
        if rate is None:
            missing[(line.source_currency, target)] = book.missing_message(line.source_currency, target)
            continue
        line.rate, line.rate_month, line.amount = rate, book.month, convert(line.source_amount, rate)
    return lines, list(missing.values())


def needs_tax_invoice(entity: PayingEntity, country: str) -> bool:
    return country in set(entity.tax_invoice_countries or [])


def group_lines(lines: list[PaymentLine]) -> dict[int, list[PaymentLine]]:
    by_payment: dict[int, list[PaymentLine]] = defaultdict(list)
    for line in lines:
        by_payment[line.payment_id].append(line)
    return by_payment
