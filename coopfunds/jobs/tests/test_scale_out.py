"""The distributed shape, for real, on this machine: two app servers (gunicorn, separate OS processes) on one
PostgreSQL database, files in an S3-compatible server on loopback (moto's server mode), the cache and the
lockout counters in Redis, and task workers (`db_worker`) in their own processes executing emails, previews
and the daily jobs. Nothing here is mocked: the app servers and workers are the production entry points."""

import contextlib
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
import redis
from django.conf import settings
from django.db import connection
from PIL import Image

from coopfunds.documents.models import Document

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="app servers and workers share a server database"),
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[3]
# one Redis database per test process (pytest-xdist workers run these side by side)
REDIS_DB = 11 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0) % 4
BUCKET = "coopfunds-scale-out"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check, seconds: float = 30, what: str = "it") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {seconds} s")


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603  # our own commands
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def shape(tmp_path, world):  # type: ignore[no-untyped-def]
    """moto's S3 server, two gunicorn app servers and the environment they share; yields their addresses."""
    db = connection.settings_dict
    s3_port, a_port, b_port = free_port(), free_port(), free_port()
    redis.Redis(db=REDIS_DB).flushdb()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="coopfunds.settings",
        PYTHONPATH=str(ROOT),
        DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}",
        SECRET_KEY=settings.SECRET_KEY,
        FIELD_ENCRYPTION_KEYS=",".join(settings.FIELD_ENCRYPTION_KEYS),
        S3_BUCKET=BUCKET,
        S3_ENDPOINT_URL=f"http://127.0.0.1:{s3_port}",
        S3_REGION="us-east-1",
        S3_ACCESS_KEY_ID="testing",
        S3_SECRET_ACCESS_KEY="testing",
        REDIS_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
        TASK_BACKEND="database",
        CLAMAV_REQUIRED="false",
        COOPFUNDS_DATA_DIR=str(tmp_path / "data"),
        LOGIN_FAILURE_LIMIT="5",
    )
    moto = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)]
    with process(moto, env, tmp_path / "s3.log"):
        wait_for(lambda: httpx.get(env["S3_ENDPOINT_URL"]).status_code == 200, what="the S3 server starting")
        s3 = boto3.client(
            "s3",
            endpoint_url=env["S3_ENDPOINT_URL"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        s3.create_bucket(Bucket=BUCKET)
        servers = []
        with contextlib.ExitStack() as stack:
            for name, port in (("a", a_port), ("b", b_port)):
                args = [sys.executable, "-m", "gunicorn", "coopfunds.wsgi", "-w", "1", "-b", f"127.0.0.1:{port}"]
                stack.enter_context(process(args, env, tmp_path / f"app-{name}.log"))
                servers.append(f"http://127.0.0.1:{port}")
            for base in servers:
                wait_for(lambda base=base: httpx.get(f"{base}/login/").status_code == 200, what=f"{base} starting")
            yield {"a": servers[0], "b": servers[1], "s3": s3, "env": env, "logs": tmp_path}


def worker(shape):  # type: ignore[no-untyped-def]
    args = [sys.executable, "manage.py", "db_worker", "--interval", "0.2"]
    return process(args, shape["env"], shape["logs"] / "worker.log")


def pdf_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "teal").save(buffer, "PDF")
    return buffer.getvalue()


def test_a_document_uploaded_through_one_server_is_in_s3_previewed_by_a_worker_and_downloaded_through_the_other(
    shape, world, api_as
):
    api_as("partner_admin")  # makes the persona's API token
    headers = {"Authorization": "Bearer cf_test-token-of-partner_admin"}
    content = pdf_bytes()
    uploaded = httpx.post(
        f"{shape['a']}/api/v1/locations/{world.location.pk}/documents",
        headers=headers,
        data={"kind": "invoice"},
        files={"files": ("invoice.pdf", content, "application/pdf")},
        timeout=30,
    )
    assert uploaded.status_code == 201, uploaded.text
    document = Document.objects.get(pk=uploaded.json()[0]["id"])
    stored = shape["s3"].get_object(Bucket=BUCKET, Key=document.file.name)["Body"].read()
    assert stored == content  # in the object store, not on either server's disk
    assert document.preview_state == "pending"  # queued for a worker: the app servers do not make previews
    with worker(shape):
        wait_for(lambda: Document.objects.get(pk=document.pk).preview_state == "ready", seconds=60, what="the preview")
    document.refresh_from_db()
    preview = shape["s3"].get_object(Bucket=BUCKET, Key=document.preview.name)["Body"].read()
    assert preview.startswith(b"\x89PNG")
    downloaded = httpx.get(f"{shape['b']}/api/v1/documents/{document.pk}/download", headers=headers, timeout=30)
    assert (downloaded.status_code, downloaded.content) == (200, content)


def test_workers_in_their_own_processes_send_emails_and_run_the_daily_jobs(shape, world, settings):
    from coopfunds.core.tasks import send_email
    from coopfunds.jobs.daily import daily_jobs

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # queue here as the servers do

    mail = send_email.enqueue(to=["ada.admin@fabrikam.example"], subject="Scale-out check", body="Sent by a worker.")
    jobs = daily_jobs.enqueue()
    assert (mail.status, jobs.status) == ("READY", "READY")
    with worker(shape):
        wait_for(lambda: (mail.refresh(), jobs.refresh(), mail.status == jobs.status == "SUCCESSFUL")[-1], seconds=90)
    assert "Subject: Scale-out check" in (shape["logs"] / "worker.log").read_text()
    assert jobs.return_value["audit: seal new audit rows into the hash chain"] == 0


def test_the_lockout_counts_failures_on_every_app_server_through_redis(shape, world):
    def attempt(base: str, password: str) -> int:
        with httpx.Client(base_url=base) as client:
            client.get("/login/")
            token = client.cookies["csrftoken"]
            response = client.post(
                "/login/",
                data={"login": world.partner_admin.email, "password": password, "csrfmiddlewaretoken": token},
                headers={"Referer": f"{base}/login/"},
            )
            return response.status_code

    statuses = [attempt(shape["a"] if n % 2 else shape["b"], "wrong password") for n in range(5)]
    assert statuses[:4] == [200, 200, 200, 200]  # the form again, with its error
    # five failures in all, three on one server and two on the other: locked on both
    assert attempt(shape["a"], "wrong password") == 429
    assert attempt(shape["b"], "wrong password") == 429
    assert any(k.startswith(b":1:axes") for k in redis.Redis(db=REDIS_DB).keys("*"))
