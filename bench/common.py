"""Shared benchmark plumbing: a PostgreSQL database of its own, real servers, a load generator."""

import contextlib
import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coopfunds_bench")


def ensure_database(url: str) -> None:
    """Create the bench database if it does not exist (it is kept between runs)."""
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone():
            conn.execute(f'create database "{name}"')


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coopfunds.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


@contextlib.contextmanager
def gunicorn(settings_module: str, port: int, workers: int = 2) -> Iterator[str]:
    """Serve coopfunds.wsgi with gunicorn (the production server) under the given settings."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=settings_module, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "coopfunds.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--keep-alive",
            "30",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", "/nonexistent-warmup")
                conn.getresponse().read()
                break
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def load(base: str, path: str, headers: dict[str, str], *, clients: int, seconds: float) -> dict[str, float]:
    """`clients` keep-alive connections request `path` as fast as they can for `seconds`; returns rate and latency."""
    parsed = urlparse(base)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop_at = time.perf_counter() + seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
        while (start := time.perf_counter()) < stop_at:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            latencies[i].append(time.perf_counter() - start)
            if response.status != 200:
                errors[i] += 1
        conn.close()

    # warm-up: every worker process connects and loads its code
    for _ in range(20):
        c = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
        c.request("GET", path, headers=headers)
        c.getresponse().read()
        c.close()
    began = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    flat = sorted(x for lane in latencies for x in lane)
    if sum(errors):
        raise SystemExit(f"{sum(errors)} requests to {path} did not answer 200")
    return {
        "requests": len(flat),
        "rps": len(flat) / elapsed,
        "p50_ms": statistics.median(flat) * 1000,
        "p99_ms": flat[int(len(flat) * 0.99) - 1] * 1000,
    }
