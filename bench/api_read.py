"""Authenticated API read of one object vs a bare Django view doing the same database read.

    uv run python bench/api_read.py [--seconds 10] [--clients 8]

Serves the app with gunicorn (2 workers) on PostgreSQL (BENCH_DATABASE_URL, default the local server's
`coopfunds_bench` database), then loads `GET /api/v1/locations/{id}` with a personal API token (token
lookup, role scoping, schema serialisation, full middleware) and the bare view, one after the other,
with the same client. Target: the API keeps >= 60% of the bare view's throughput.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import database_url, django_setup, ensure_database, gunicorn, load


def prepare() -> tuple[int, str]:
    from coopfunds.accounts.models import ApiToken, Location, Organisation, Role, RoleAssignment, User
    from coopfunds.accounts.services import api_token_create

    partner, _ = Organisation.objects.get_or_create(kind="partner", name="Bench Partner")
    location, _ = Location.objects.get_or_create(
        partner_id="BENCH-001", defaults={"organisation": partner, "name": "Bench Berlin", "country": "DE"}
    )
    user, created = User.objects.get_or_create(email="bench@partner.example", defaults={"organisation": partner})
    if created:
        RoleAssignment.objects.create(user=user, role=Role.INCENTIVES_ADMIN, location=location)
    ApiToken.objects.filter(user=user).delete()
    _, token = api_token_create(name="bench", actor=user)
    return location.pk, token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    url = database_url()
    ensure_database(url)
    django_setup(url)
    pk, token = prepare()

    with gunicorn("bench.bare_settings", 8781) as base:
        bare = load(base, f"/bare/locations/{pk}", {}, clients=args.clients, seconds=args.seconds)
    with gunicorn("coopfunds.settings", 8782) as base:
        api = load(
            base,
            f"/api/v1/locations/{pk}",
            {"Authorization": f"Bearer {token}"},
            clients=args.clients,
            seconds=args.seconds,
        )

    print(f"{'':28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for name, r in (("bare view (baseline)", bare), ("API, token + scoping", api)):
        print(f"{name:28} {r['rps']:9.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f}")
    ratio = api["rps"] / bare["rps"]
    print(f"throughput ratio API/bare: {ratio:.2f} (target >= 0.60) {'OK' if ratio >= 0.6 else 'BELOW TARGET'}")


if __name__ == "__main__":
    main()
