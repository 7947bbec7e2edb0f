"""Claims benchmarks on PostgreSQL.

    uv run python bench/claims.py [--seconds 10] [--clients 32] [--queue-claims 1000000]

1. Claim approvals through the HTTP API (`POST /api/v1/claims/{id}/approve`, reviewer's token, gunicorn), with
   C concurrent clients, over 1,000 funds (spread) and over one hot fund. Printed beside the raw-SQL ceiling of
   the same money movement (a conditional UPDATE of reserved, an UPDATE of payable, per transaction) measured in
   the same run. After each run: nothing overspent (every fund's buckets >= 0, `ledger_verify` clean) and
   approvals = transfers of kind "approve". Target on a 2-core machine: >= 250/s, spread and hot.
   Then the same server and clients reading one claim (`GET /api/v1/claims/{id}`) beside the authenticated read
   of one location (`GET /api/v1/locations/{id}`, bench/api_read.py's API read), measured in the same run: the
   claim's read may cost at most 1.5 times the location's.
   Then one request approving 1,000 waiting claims at once (`POST /api/v1/review/approve`). Target: < 5 s.
2. The reviewers' queue page (`GET /review/`) with N claims in the database (5% waiting for review): server
   time (in-process, p50/p95 of 200 requests) and queries per request. Target: p95 <= 50 ms, a bounded number of
   queries.
The database (BENCH_DATABASE_URL, default the local server's `coopfunds_bench_claims`) is recreated each run.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import gunicorn, load  # noqa: E402
from bench.ledger import recreate_database, setup_django  # noqa: E402

FUNDS = 1000


def db_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coopfunds_bench_claims")


def make_world(spread_claims: int, hot_claims: int) -> dict:
    from django.db import transaction

    from coopfunds.accounts.models import Location, Organisation, Role, RoleAssignment, User
    from coopfunds.accounts.services import api_token_create
    from coopfunds.claims.models import Claim, ClaimStatus
    from coopfunds.funds import ledger
    from coopfunds.funds.models import Bucket, Spend, TransferKind
    from coopfunds.funds.services import _accounts, funds_accrue, funds_for_earnings, period_close
    from coopfunds.programs.models import ActivityType
    from coopfunds.programs.preset import preset_load

    vendor = Organisation.objects.create(kind="vendor", name="Bench Vendor")
    program = preset_load(vendor=vendor, code="coop", name="Bench Co-op", currency="USD", fiscal_year=2027, big=False)
    activity = ActivityType.objects.get(program=program, fiscal_year=2027, code="technical-training")
    partner = Organisation.objects.create(kind="partner", name="Bench Partner")
    locations = Location.objects.bulk_create(
        [Location(organisation=partner, partner_id=f"B{i:05d}", name=f"Bench {i}", country="DE") for i in range(FUNDS)]
    )
    filer = User.objects.create_user("filer@bench.example", organisation=partner)
    reviewer = User.objects.create_user("reviewer@bench.example", organisation=vendor)
    RoleAssignment.objects.create(user=reviewer, role=Role.REVIEWER)
    _, token = api_token_create(name="bench", actor=reviewer)
    with transaction.atomic():
        funds = list(
            funds_for_earnings(program=program, earned={(loc.pk, date(2026, 3, 1)) for loc in locations}).values()
        )
        funds_accrue(
            items=[(f, Decimal("1000000.00"), Decimal(0)) for f in funds],
            key="bench-seed",
            reference="bench",
            effective_on=date(2026, 3, 1),
        )
    period_close(program=program, today=date(2026, 7, 1))
    funds.sort(key=lambda f: f.pk)
    per_fund = {f.pk: spread_claims // FUNDS for f in funds}
    per_fund[funds[0].pk] += hot_claims
    claims = []
    with transaction.atomic():
        for fund in funds:
            n = per_fund[fund.pk]
            accounts = _accounts(fund)
            ledger.post(
                key=f"bench-reserve:{fund.pk}",
                kind=TransferKind.RESERVE,
                effective_on=date(2026, 9, 1),
                legs=[(accounts[Bucket.AVAILABLE], -Decimal(10) * n), (accounts[Bucket.RESERVED], Decimal(10) * n)],
            )
            claims += [
                Claim(
                    location_id=fund.location_id,
                    program=program,
                    fund=fund,
                    activity_type=activity,
                    name=f"Bench {i}",
                    amount=Decimal(10),
                    currency="USD",
                    reserved=Decimal(10),
                    status=ClaimStatus.SUBMITTED,
                    created_by=filer,
                    submitted_by=filer,
                    submissions=1,
                    due_on=date(2026, 12, 1),
                    execution_start=date(2026, 9, 1),
                    execution_end=date(2026, 9, 2),
                )
                for i in range(n)
            ]
        Claim.objects.bulk_create(claims, batch_size=5000)
        # what a claim's submission writes beside its reservation: its spend record
        Spend.objects.bulk_create(
            [
                Spend(fund_id=c.fund_id, activity_type=activity, reference=f"claim:{c.pk}", held=c.reserved)
                for c in claims
            ],
            batch_size=5000,
        )
    hot = list(Claim.objects.filter(fund=funds[0]).order_by("?").values_list("pk", flat=True))
    spread = list(Claim.objects.exclude(fund=funds[0]).order_by("?").values_list("pk", flat=True))
    return {
        "token": token,
        "hot": hot,
        "spread": spread,
        "program": program,
        "reviewer": reviewer,
        "location_id": locations[0].pk,
    }


def approve_all(base: str, token: str, ids: list[int], clients: int, seconds: float) -> dict:
    import http.client
    import json
    from urllib.parse import urlparse

    parsed = urlparse(base)
    lock = threading.Lock()
    queue = list(ids)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    stop_at = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        while time.perf_counter() < stop_at:
            with lock:
                if not queue:
                    break
                claim_id = queue.pop()
            began = time.perf_counter()
            conn.request("POST", f"/api/v1/claims/{claim_id}/approve", body=json.dumps({}), headers=headers)
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                statuses[response.status] = statuses.get(response.status, 0) + 1
        conn.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    latencies.sort()
    return {
        "rate": len(latencies) / wall,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "statuses": statuses,
    }


def raw_ceiling(url: str, clients: int, seconds: float, hot: bool) -> float:
    """The same money movement (reserved -> payable) as bare SQL, one transaction each."""
    import psycopg

    with psycopg.connect(url) as conn:
        pairs = conn.execute(
            "select r.id, p.id from funds_account r join funds_account p on p.fund_id = r.fund_id and p.bucket = 'payable'"
            " where r.bucket = 'reserved' and r.balance >= 100 order by r.fund_id"
        ).fetchall()
    if hot:
        pairs = pairs[:1]
    counts = [0] * clients
    stop_at = time.perf_counter() + seconds

    def worker(n: int) -> None:
        with psycopg.connect(url) as conn:
            i = 0
            while time.perf_counter() < stop_at:
                reserved, payable = pairs[(n * 31 + i) % len(pairs)]
                with conn.transaction():
                    conn.execute(
                        "update funds_account set balance = balance - 0.01 where id = %s and balance >= 0.01",
                        [reserved],
                    )
                    conn.execute("update funds_account set balance = balance + 0.01 where id = %s", [payable])
                i += 1
            counts[n] = i

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - began)


def approve_in_bulk(base: str, token: str, ids: list[int]) -> dict:
    """One request approving every claim of `ids` (POST /api/v1/review/approve)."""
    import http.client
    import json
    from urllib.parse import urlparse

    parsed = urlparse(base)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=300)
    body = json.dumps({"items": [f"claim:{pk}" for pk in ids]})
    began = time.perf_counter()
    conn.request(
        "POST",
        "/api/v1/review/approve",
        body=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    answer = json.loads(response.read())
    elapsed = time.perf_counter() - began
    conn.close()
    return {
        "status": response.status,
        "seconds": elapsed,
        "approved": answer.get("approved"),
        "refused": answer.get("refused"),
    }


def check_ledger() -> str:
    from coopfunds.funds.models import Account, Transfer
    from coopfunds.funds.selectors import ledger_drift, unbalanced_transfers

    negative = Account.objects.filter(fund__isnull=False, balance__lt=0).count()
    return (
        f"negative fund buckets: {negative}, drifting balances: {len(ledger_drift())}, "
        f"unbalanced transfers: {len(unbalanced_transfers())}, approve transfers: {Transfer.objects.filter(kind='approve').count()}"
    )


def bench_queue(total: int) -> None:
    import psycopg
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from coopfunds.accounts.models import User

    url = db_url()
    with psycopg.connect(url, autocommit=True) as conn:
        template = conn.execute(
            "select location_id, program_id, fund_id, activity_type_id, created_by_id from claims_claim limit 1"
        ).fetchone()
        existing = conn.execute("select count(*) from claims_claim").fetchone()[0]
        more = max(total - existing, 0)
        conn.execute(
            "insert into claims_claim (created_at, updated_at, location_id, program_id, fund_id, activity_type_id, name,"
            " description, amount, currency, invoice_vendor, invoice_vendor_tax_id, invoice_number, invoice_currency,"
            " invoice_key, metrics, comments, status, created_by_id, submissions, reserved, due_on)"
            " select now(), now(), %s, %s, %s, %s, 'Queued ' || g, '', 10, 'USD', '', '', '', '', '', '{}', '',"
            " case when g %% 20 = 0 then 'submitted' when g %% 2 = 0 then 'approved' else 'rejected' end,"
            " %s, 1, 0, date '2026-11-01' + (g %% 60)"
            " from generate_series(1, %s) g",
            [*template[:4], template[4], more],
        )
        conn.execute("analyze claims_claim")
    reviewer = User.objects.get(email="reviewer@bench.example")
    client = Client()
    client.force_login(reviewer)
    for _ in range(20):
        assert client.get("/review/").status_code == 200
    samples, queries = [], []
    for _ in range(200):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.get("/review/")
            samples.append(time.perf_counter() - began)
        assert response.status_code == 200
        queries.append(len(captured))
    samples.sort()
    print(f"2. review queue page with {total:,} claims in the database ({total // 20:,} waiting)")
    print(
        f"   server time p50 {statistics.median(samples) * 1000:.1f} ms, p95 {samples[int(len(samples) * 0.95)] * 1000:.1f} ms"
        f" (target <= 50 ms); queries per request: {min(queries)}–{max(queries)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--queue-claims", type=int, default=1_000_000)
    args = parser.parse_args()
    url = db_url()
    recreate_database(url)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.quiet_settings"
    setup_django(url, migrate=True)
    world = make_world(spread_claims=30_000, hot_claims=15_000)
    print(f"1. claim approvals through the HTTP API, {args.clients} clients")
    with gunicorn("bench.quiet_settings", 8783, workers=4) as base:
        spread = approve_all(base, world["token"], world["spread"], args.clients, args.seconds)
        hot = approve_all(base, world["token"], world["hot"], args.clients, args.seconds)
        # what the same server, clients and token do for a read of one claim: the cost of an API request
        # before any of the approval's own work
        auth = {"Authorization": f"Bearer {world['token']}"}
        read = load(base, f"/api/v1/claims/{world['hot'][0]}", auth, clients=args.clients, seconds=args.seconds)
        baseline = load(
            base, f"/api/v1/locations/{world['location_id']}", auth, clients=args.clients, seconds=args.seconds
        )
        from coopfunds.claims.models import Claim

        waiting = list(
            Claim.objects.filter(pk__in=world["spread"], status="submitted")
            .order_by("pk")
            .values_list("pk", flat=True)[:1000]
        )
        bulk = approve_in_bulk(base, world["token"], waiting)
    ledger_state = check_ledger()  # before the raw-SQL ceiling, which moves balances without entries
    ceiling_spread = raw_ceiling(url, args.clients, args.seconds, hot=False)
    ceiling_hot = raw_ceiling(url, args.clients, args.seconds, hot=True)
    for name, r, ceiling, target in (
        ("1,000 funds", spread, ceiling_spread, 250),
        ("one hot fund", hot, ceiling_hot, 250),
    ):
        print(
            f"   {name:13} {r['rate']:7.0f} approvals/s, p99 {r['p99_ms']:.0f} ms, statuses {r['statuses']};"
            f" raw-SQL ceiling {ceiling:.0f}/s ({r['rate'] / ceiling:.0%}); target >= {target}/s"
        )
    print(
        f"   GET /api/v1/claims/{{id}}: {read['rps']:.0f} reads/s, p99 {read['p99_ms']:.0f} ms; GET /api/v1/locations/{{id}}"
        f" (the authenticated bare read): {baseline['rps']:.0f}/s; a claim's read costs"
        f" {baseline['rps'] / read['rps']:.2f}x the location's (target <= 1.5x)"
    )
    print(
        f"   bulk approval of {len(waiting):,} claims in one request (POST /api/v1/review/approve): "
        f"{bulk['seconds']:.2f} s, status {bulk['status']}, approved {bulk['approved']}, refused {bulk['refused']};"
        " target < 5 s"
    )
    print(f"   ledger after the approvals: {ledger_state}")
    bench_queue(args.queue_claims)


if __name__ == "__main__":
    main()
