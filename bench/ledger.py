"""Ledger benchmarks on PostgreSQL, each beside a baseline measured in the same run.

    uv run python bench/ledger.py [--lines 100000] [--clients 16] [--seconds 10]

1. Import of N earning lines (CSV, 200 locations) through the real import service: wall time and the peak
   memory of the importing process, beside `psql \\copy` (or COPY) of the same rows into a plain table.
   Targets: <= 5 s and <= 300 MB for 100,000 lines.
2. Reservations per second with C concurrent clients (processes, each its own connection), each reserving 0.01 from
   one of 100 funds through `fund_reserve` in its own transaction, beside a raw-SQL loop doing the same work
   (a conditional UPDATE debiting available, an UPDATE crediting reserved, per reservation transaction).
   Target: >= 30% of the raw-SQL rate.
3. The balance read (`selectors.balances`) of a fund with 1,000,000 entries vs one with 10. Target ratio <= 1.5.
The database (BENCH_DATABASE_URL, default the local server's `coopfunds_bench_ledger`) is recreated each run.
"""

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LOCATIONS = 200


def db_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coopfunds_bench_ledger")


def recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
        conn.execute(f'create database "{name}"')


def setup_django(url: str, migrate: bool = False) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coopfunds.settings")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


def make_world() -> None:
    from coopfunds.accounts.models import Location, Organisation, Role, RoleAssignment, User
    from coopfunds.enrollments.models import Enrollment, EnrollmentStatus
    from coopfunds.programs.models import Program

    vendor = Organisation.objects.create(kind="vendor", name="Bench Vendor")
    program = Program.objects.create(vendor=vendor, code="coop", name="Bench Co-op", currency="USD")
    partner = Organisation.objects.create(kind="partner", name="Bench Partner")
    locations = Location.objects.bulk_create(
        [
            Location(organisation=partner, partner_id=f"B{i:05d}", name=f"Bench {i}", country="DE")
            for i in range(LOCATIONS)
        ]
    )
    Enrollment.objects.bulk_create(
        [
            Enrollment(
                location=loc,
                program=program,
                status=EnrollmentStatus.ENROLLED,
                enrolled_at=datetime(2025, 1, 1, tzinfo=UTC),
                earnings_start=date(2025, 1, 1),
            )
            for loc in locations
        ]
    )
    finance = User.objects.create_user("finance@bench.example", organisation=vendor)
    RoleAssignment.objects.create(user=finance, role=Role.FINANCE)
    manager = User.objects.create_user("pm@bench.example", organisation=vendor)
    RoleAssignment.objects.create(user=manager, role=Role.PROGRAM_MANAGER)


def write_csv(path: Path, lines: int) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(
            "earned date,partner ID,program code,amount,currency,earning type,product,customer reference,external line ID\n"
        )
        for i in range(lines):
            day = 1 + i % 28
            month = 1 + (i // 28) % 6
            f.write(
                f"2026-{month:02d}-{day:02d},B{i % LOCATIONS:05d},coop,{100 + i % 900}.{i % 100:02d},USD,revenue,"
                f"Product {i % 17},CUST-{i % 5000},L-{i:07d}\n"
            )


def child_import(url: str, path: str) -> None:
    """Runs in its own process so that its peak memory is the import's."""
    setup_django(url)
    from coopfunds.accounts.models import User
    from coopfunds.funds.earnings import earnings_import

    actor = User.objects.get(email="finance@bench.example")
    began = time.perf_counter()
    with open(path, "rb") as stream:
        batch = earnings_import(stream=stream, file_name="bench.csv", actor=actor)
    elapsed = time.perf_counter() - began
    assert batch.status == "applied", batch.errors[:5]
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "applied": batch.applied,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def copy_baseline(url: str, path: Path) -> float:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("drop table if exists bench_copy")
        conn.execute(
            "create table bench_copy (earned date, partner_id text, program text, amount numeric(18,2), currency text,"
            " kind text, product text, customer text, external_id text unique)"
        )
    began = time.perf_counter()
    if shutil.which("psql"):
        subprocess.run(
            ["psql", url, "-q", "-c", f"\\copy bench_copy from '{path}' with (format csv, header true)"], check=True
        )
    else:
        sql = "copy bench_copy from stdin with (format csv, header true)"
        with psycopg.connect(url) as conn, conn.cursor() as cur, open(path, "rb") as f, cur.copy(sql) as copy:
            copy.write(f.read())
    return time.perf_counter() - began


def bench_import(url: str, lines: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "earnings.csv"
        write_csv(path, lines)
        baseline = copy_baseline(url, path)
        out = subprocess.run(
            [sys.executable, __file__, "--child-import", str(path)],
            check=True,
            capture_output=True,
            text=True,
            env=dict(os.environ, BENCH_DATABASE_URL=url),
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
    print(f"1. import of {lines:,} earning lines")
    print(f"   psql \\copy into a plain table (baseline): {baseline:6.2f} s")
    print(
        f"   Coopfunds import (check + apply + ledger): {result['seconds']:6.2f} s, peak memory {result['peak_mb']:.0f} MB"
        f"  ({result['seconds'] / baseline:.1f}x the copy; targets <= 5 s, <= 300 MB)"
    )


def bench_reservations(url: str, clients: int, seconds: float) -> None:
    import psycopg
    from django.db import connection, transaction

    from coopfunds.accounts.models import Location, User
    from coopfunds.funds.models import Account, Bucket, Fund
    from coopfunds.funds.services import fund_accrue, fund_for_earning, period_close
    from coopfunds.programs.models import Program

    program = Program.objects.get(code="coop")
    funds = []
    for loc in Location.objects.order_by("id")[:100]:
        with transaction.atomic():
            fund = fund_for_earning(location=loc, program=program, earned_on=date(2025, 3, 1))
            fund_accrue(
                fund=fund,
                amount=Decimal("1000000.00"),
                rebate=Decimal(0),
                key=f"bench-seed:{fund.pk}",
                reference="bench",
                effective_on=date(2025, 3, 1),
            )
        funds.append(fund)
    period_close(program=program, today=date(2025, 7, 1))
    actor = User.objects.get(email="pm@bench.example")
    accounts = {f.pk: {a.bucket: a.pk for a in Account.objects.filter(fund=f)} for f in funds}

    def run(worker) -> float:  # type: ignore[no-untyped-def]
        """`clients` processes (not threads: the ORM's Python work must not share one interpreter lock), each
        calling `worker` in a loop for `seconds`; returns operations per second over all of them."""
        connection.close()
        ctx = multiprocessing.get_context("fork")
        counts = ctx.Array("l", clients)
        start = ctx.Event()

        def loop(n: int) -> None:
            start.wait()
            stop = time.perf_counter() + seconds
            i = 0
            while time.perf_counter() < stop:
                worker(n, i, funds[(n * 7 + i) % len(funds)])
                i += 1
            counts[n] = i
            connection.close()

        procs = [ctx.Process(target=loop, args=(n,)) for n in range(clients)]
        for p in procs:
            p.start()
        time.sleep(1)
        began = time.perf_counter()
        start.set()
        for p in procs:
            p.join()
        return sum(counts) / (time.perf_counter() - began)

    local = threading.local()

    def raw(n: int, i: int, fund: Fund) -> None:
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(url)
        a = accounts[fund.pk]
        with local.conn.transaction():
            cur = local.conn.execute(
                "update funds_account set balance = balance - 0.01 where id = %s and balance >= 0.01",
                [a[Bucket.AVAILABLE]],
            )
            assert cur.rowcount == 1
            local.conn.execute("update funds_account set balance = balance + 0.01 where id = %s", [a[Bucket.RESERVED]])

    def ledger_reserve(n: int, i: int, fund: Fund) -> None:
        from coopfunds.funds.services import fund_reserve

        with transaction.atomic(durable=True):
            fund_reserve(
                fund=fund, amount=Decimal("0.01"), key=f"bench:{n}:{i}", reference=f"claim:{n}-{i}", actor=actor
            )

    raw_rate = run(raw)
    ledger_rate = run(ledger_reserve)
    print(f"2. reservations per second, {clients} concurrent clients over {len(funds)} funds")
    print(f"   raw-SQL conditional updates (baseline):   {raw_rate:8.0f} /s")
    print(
        f"   ledger fund_reserve (transfer + entries): {ledger_rate:8.0f} /s  ({ledger_rate / raw_rate:.0%} of raw; target >= 30%)"
    )


def bench_balance_read(url: str) -> None:
    import psycopg
    from django.db import transaction

    from coopfunds.accounts.models import Location
    from coopfunds.funds.selectors import balances
    from coopfunds.funds.services import fund_for_earning
    from coopfunds.programs.models import Program

    program = Program.objects.get(code="coop")
    big_loc, small_loc = Location.objects.order_by("-id")[:2]
    with transaction.atomic():
        big = fund_for_earning(location=big_loc, program=program, earned_on=date(2026, 9, 1))
        small = fund_for_earning(location=small_loc, program=program, earned_on=date(2026, 9, 1))
    with psycopg.connect(url) as conn:
        for fund, n in ((big, 500_000), (small, 5)):
            ids = dict(conn.execute("select bucket, id from funds_account where fund_id = %s", [fund.pk]).fetchall())
            # n transfers of 1.00 from available to reserved: 2n entries, balances cached accordingly
            conn.execute(
                "insert into funds_transfer (idempotency_key, fingerprint, kind, reference, reason_code, memo, effective_on, created_at)"
                " select 'bulk:' || %s || ':' || g, '', 'reserve', 'bench', '', '', now()::date, now() from generate_series(1, %s) g",
                [fund.pk, n],
            )
            conn.execute(
                "insert into funds_entry (transfer_id, account_id, amount) select t.id, a.account, a.amount from funds_transfer t,"
                " (values (%s::bigint, -1.00), (%s::bigint, 1.00)) a(account, amount) where t.idempotency_key like %s",
                [ids["available"], ids["reserved"], f"bulk:{fund.pk}:%"],
            )
            conn.execute("update funds_account set balance = %s where id = %s", [n, ids["reserved"]])
            conn.execute("update funds_account set balance = balance - %s + %s where id = %s", [n, n, ids["available"]])
        conn.execute("analyze")

    def timed(fund) -> float:  # type: ignore[no-untyped-def]
        samples = []
        for _ in range(3000):
            began = time.perf_counter()
            balances(fund)
            samples.append(time.perf_counter() - began)
        return statistics.median(samples)

    timed(small)
    t_small, t_big = timed(small), timed(big)
    print("3. balance read (median of 3,000)")
    print(f"   fund with 10 entries:        {t_small * 1e6:7.0f} µs")
    print(f"   fund with 1,000,000 entries: {t_big * 1e6:7.0f} µs  (ratio {t_big / t_small:.2f}; target <= 1.5)")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child-import":
        child_import(db_url(), sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    url = db_url()
    recreate_database(url)
    setup_django(url, migrate=True)
    make_world()
    bench_import(url, args.lines)
    bench_reservations(url, args.clients, args.seconds)
    bench_balance_read(url)


if __name__ == "__main__":
    main()
