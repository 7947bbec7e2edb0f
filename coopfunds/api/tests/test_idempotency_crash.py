"""Idempotency-Keys survive a crash (PostgreSQL, a real gunicorn serving the test database): a burst of keyed
approvals is cut short by `kill -9` of the server (master and workers); retried against a new server, every key
yields exactly one approval, each retry answers what the first request answered when its client got that
answer, and a second retry replays the first retry."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from coopfunds.accounts.models import ApiToken
from coopfunds.accounts.selectors import token_digest
from coopfunds.audit.models import AuditEvent
from coopfunds.claims import services
from coopfunds.claims.models import Claim
from coopfunds.claims.tests.conftest import ready_claim
from coopfunds.funds.models import Transfer
from coopfunds.funds.selectors import ledger_drift

ROOT = Path(__file__).resolve().parents[3]
CLAIMS = 24
TOKEN = "cf_crash-test-token-of-the-reviewer"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    d = connection.settings_dict
    return f"postgres://{d['USER']}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}"


def start_server(port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        DATABASE_URL=database_url(),
        DJANGO_SETTINGS_MODULE="coopfunds.settings",
        COOPFUNDS_DATA_DIR=str(data_dir),
        SECRET_KEY=settings.SECRET_KEY,
        FIELD_ENCRYPTION_KEYS=",".join(settings.FIELD_ENCRYPTION_KEYS),
        PYTHONPATH=str(ROOT),
    )
    server = subprocess.Popen(  # noqa: S603  (our own server, our own arguments)
        [sys.executable, "-m", "gunicorn", "coopfunds.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: one kill takes master and workers
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/openapi.json")
            conn.getresponse().read()
            conn.close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def approve(port: int, claim_id: int, key: str) -> tuple[int, bytes] | None:
    """POST the approval with its key; None when the connection died with the server."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            f"/api/v1/claims/{claim_id}/approve",
            body=json.dumps({"note": "Fine."}),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", "Idempotency-Key": key},
        )
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a server process shares the test database")
@pytest.mark.django_db(transaction=True)
def test_every_key_yields_one_effect_after_the_server_is_killed_mid_burst(claims_world, tmp_path):
    world = claims_world
    ApiToken.objects.create(user=world.reviewer, name="crash", digest=token_digest(TOKEN), prefix=TOKEN[:10])
    ids = [
        services.claim_submit(
            claim=ready_claim(world, amount="100.00", invoice=f"INV-{n}"), actor=world.partner_admin
        ).pk
        for n in range(CLAIMS)
    ]
    keys = {pk: f"approve-{pk}" for pk in ids}
    port = free_port()
    server = start_server(port, tmp_path)
    first: dict[int, tuple[int, bytes] | None] = {}

    def client(pk: int) -> None:
        first[pk] = approve(port, pk, keys[pk])

    threads = [threading.Thread(target=client, args=(pk,)) for pk in ids]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while sum(1 for answer in list(first.values()) if answer is not None) < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(server.pid, signal.SIGKILL)  # some approvals answered, some running, some not started
    server.wait()
    for t in threads:
        t.join()

    port = free_port()
    server = start_server(port, tmp_path)
    try:
        retried = {pk: approve(port, pk, keys[pk]) for pk in ids}
        again = {pk: approve(port, pk, keys[pk]) for pk in ids}
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()

    answered = [pk for pk in ids if first[pk] is not None]
    lost = [pk for pk in ids if first[pk] is None]
    assert answered, "the server was killed before it answered anything: the burst proves nothing"
    assert lost, "the server finished every request before it was killed: the burst proves nothing"
    for pk in ids:
        status, body = retried[pk]  # type: ignore[misc]
        assert (status, json.loads(body)["status"]) == (200, "approved")
        assert again[pk] == retried[pk]
        if first[pk] is not None:
            assert first[pk] == retried[pk]
    assert set(Claim.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"approved"}
    for pk in ids:
        assert Transfer.objects.filter(reference=f"claim:{pk}", kind="approve").count() == 1
        assert AuditEvent.objects.filter(verb="claim.approved", target_id=str(pk)).count() == 1
    assert ledger_drift() == []
