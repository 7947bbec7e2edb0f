"""Payment run benchmark on PostgreSQL, beside the raw-SQL time of the same aggregation measured in the same run.

    uv run python bench/payments.py [--items 10000]

N payable items: N/2 locations, each with approved co-op (bucket `payable`) and rebate in one fund, an approved
SEPA payout profile in EUR and a tax profile, and a USD->EUR rate for the month. Timed:
1. the run through the real services: prepare (collect, hold checks, conversion, payments and lines) and
   approve by a second finance user (ledger transfers payable -> paid, statuses, audit rows);
2. the baseline: one raw SQL statement doing the same aggregation (payable balances less what open payments
   hold, grouped per location, converted at the month's rate).
Target: the run over 10,000 payable items in <= 10 s. The database (BENCH_DATABASE_URL, default the local
server's `coopfunds_bench_payments`) is recreated each run.
"""

import argparse
import os
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ledger import recreate_database, setup_django  # noqa: E402

RUN_DATE = date(2026, 11, 30)

RAW = """
with held as (
    select l.fund_id, l.bucket, sum(l.source_amount) as amount
    from payments_paymentline l join payments_payment p on p.id = l.payment_id
    where p.status in ('unprocessed', 'upcoming', 'pending_tax_invoice', 'tax_invoice_review', 'tax_invoice_rejected')
    group by l.fund_id, l.bucket
)
select f.location_id, count(*), sum(round((a.balance - coalesce(h.amount, 0)) * r.rate, 2))
from funds_account a
join funds_fund f on f.id = a.fund_id
join payments_programpayer pp on pp.program_id = f.program_id
left join held h on h.fund_id = a.fund_id and h.bucket = a.bucket
join payments_exchangerate r on r.month = %s and r.source = a.currency and r.target = 'EUR'
where a.bucket in ('payable', 'rebate', 'converted') and a.balance - coalesce(h.amount, 0) > 0
group by f.location_id
"""


def db_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coopfunds_bench_payments")


def make_world(items: int) -> tuple:
    """Seeded with bulk inserts (the bench times the run, not the set-up)."""
    from coopfunds.accounts.models import Location, Organisation, Role, RoleAssignment, User
    from coopfunds.enrollments.models import PayoutProfile, TaxProfile
    from coopfunds.funds.models import FUND_BUCKETS, Account, Fund
    from coopfunds.payments.models import ExchangeRate, PayingEntity, ProgramPayer
    from coopfunds.programs.models import Program

    vendor = Organisation.objects.create(kind="vendor", name="Bench Vendor")
    program = Program.objects.create(vendor=vendor, code="coop", name="Bench Co-op", currency="USD")
    partner = Organisation.objects.create(kind="partner", name="Bench Partner")
    count = items // 2
    locations = Location.objects.bulk_create(
        [Location(organisation=partner, partner_id=f"B{i:06d}", name=f"Bench {i}", country="DE") for i in range(count)],
        batch_size=2000,
    )
    iban = "DE89370400440532013000"  # encrypted by the field on insert
    PayoutProfile.objects.bulk_create(
        [
            PayoutProfile(
                location=loc,
                status="approved",
                method="sepa",
                currency="EUR",
                beneficiary_name=f"Bench {n}",
                bank_country="DE",
                iban=iban,
                account_hint="3000",
            )
            for n, loc in enumerate(locations)
        ],
        batch_size=2000,
    )
    TaxProfile.objects.bulk_create(
        [
            TaxProfile(
                location=loc,
                status="approved",
                country="DE",
                tax_id=f"DE{n:09d}",
                legal_name=f"Bench {n}",
                expires_on=date(2028, 1, 1),
            )
            for n, loc in enumerate(locations)
        ],
        batch_size=2000,
    )
    funds = Fund.objects.bulk_create(
        [
            Fund(
                location=loc,
                program=program,
                currency="USD",
                label="FY27 H1",
                earning_start=date(2026, 1, 1),
                earning_end=date(2026, 6, 30),
                usage_start=date(2026, 7, 1),
                usage_end=date(2026, 12, 31),
                claim_opens=date(2026, 8, 16),
                claim_closes=date(2027, 2, 14),
                closed_at=datetime(2026, 7, 1, tzinfo=UTC),
            )
            for loc in locations
        ],
        batch_size=2000,
    )
    amounts = {"payable": Decimal("1000.00"), "rebate": Decimal("1500.00")}
    Account.objects.bulk_create(
        [
            Account(program=program, fund=f, bucket=b, currency="USD", balance=amounts.get(b.value, Decimal(0)))
            for f in funds
            for b in FUND_BUCKETS
        ],
        batch_size=5000,
    )
    first = User.objects.create_user("finance@bench.example", organisation=vendor)
    second = User.objects.create_user("finance2@bench.example", organisation=vendor)
    for user in (first, second):
        RoleAssignment.objects.create(user=user, role=Role.FINANCE)
    entity = PayingEntity.objects.create(
        vendor=vendor,
        code="bench",
        name="Bench Vendor Ltd",
        country="DE",
        iban="DE02120300000000202051",
        bic="BYLADEM1001",
    )
    ProgramPayer.objects.create(program=program, entity=entity)
    ExchangeRate.objects.create(month=date(2026, 11, 1), source="USD", target="EUR", rate=Decimal("0.9"))
    return entity, first, second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    args = parser.parse_args()
    url = db_url()
    recreate_database(url)
    setup_django(url, migrate=True)
    import psycopg
    from time_machine import travel

    from coopfunds.payments.models import Payment
    from coopfunds.payments.runs import payment_run_approve, payment_run_prepare

    entity, first, second = make_world(args.items)
    with psycopg.connect(url) as conn:
        conn.execute("analyze")
        began = time.perf_counter()
        rows = conn.execute(RAW, [date(2026, 11, 1)]).fetchall()
        raw = time.perf_counter() - began
    with travel(datetime(2026, 11, 20, tzinfo=UTC), tick=True):
        began = time.perf_counter()
        run = payment_run_prepare(entity=entity, run_date=RUN_DATE, actor=first)
        prepared = time.perf_counter() - began
        payment_run_approve(run=run, actor=second)
        total = time.perf_counter() - began
    paying = Payment.objects.filter(run=run, status="in_progress").count()
    assert paying == len(rows) == args.items // 2, (paying, len(rows))
    print(f"payment run over {args.items:,} payable items ({paying:,} locations, PostgreSQL)")
    print(f"   raw SQL aggregation (baseline):        {raw:6.2f} s")
    print(f"   prepare (collect, holds, conversion):  {prepared:6.2f} s")
    print(
        f"   prepare + approve (ledger, statuses):  {total:6.2f} s  ({total / raw:.0f}x the raw aggregation; target <= 10 s)"
    )


if __name__ == "__main__":
    main()
