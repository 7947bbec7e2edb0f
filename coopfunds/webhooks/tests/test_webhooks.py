"""Webhooks against real HTTP receivers on loopback: signed deliveries after commit, retries with backoff for a
receiver that fails twice, a receiver that never answers, the delivery log, redelivery and secret rotation."""

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from coopfunds.audit.sealing import SETTLE, audit_seal
from coopfunds.claims import services as claims
from coopfunds.claims.tests.conftest import ready_claim
from coopfunds.webhooks import services, signing
from coopfunds.webhooks.models import Delivery

pytestmark = pytest.mark.django_db(transaction=False)


class Receiver:
    """A real HTTP server on 127.0.0.1: `answers` is the list of statuses it gives in turn (then 200); "hang"
    sleeps past the sender's timeout."""

    def __init__(self, answers=()):
        self.answers = list(answers)
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                answer = receiver.answers.pop(0) if receiver.answers else 200
                if answer == "hang":
                    time.sleep(1.5)
                    return
                self.send_response(answer)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    made = []

    def make(answers=()):
        made.append(Receiver(answers))
        return made[-1]

    yield make
    for r in made:
        r.close()


def submit_claim(world):
    return claims.claim_submit(claim=ready_claim(world), actor=world.partner_admin)


def settle():
    """What a worker's next run does, a minute later: seal, fan out."""
    audit_seal(now=timezone.now() + SETTLE + timedelta(seconds=1))
    return services.fan_out()


def test_a_status_change_is_delivered_signed_after_commit(claims_world, receivers):
    receiver = receivers()
    _, secret = services.endpoint_create(
        url=receiver.url, kinds=["claim"], actor=claims_world.program_manager, description="CRM"
    )
    claim = submit_claim(claims_world)
    assert receiver.requests == []  # nothing is sent from the request that made the change
    assert settle() == 1
    now = timezone.now()
    assert services.deliver_due(now=now) == {"delivered": 1, "retrying": 0, "failed": 0}
    ((headers, body),) = receiver.requests
    payload = json.loads(body)
    assert (payload["kind"], payload["event"], payload["object"], payload["changes"], payload["actor"]) == (
        "claim",
        "claim.submitted",
        {"type": "claims.claim", "id": str(claim.pk), "name": f"Claim {claim.pk}: Autumn campaign"},
        {"status": ["editing", "submitted"]},
        "ada.admin@fabrikam.example",
    )
    assert headers["Coopfunds-Event"] == "claim.submitted"
    assert signing.verify(secret, headers["Coopfunds-Signature"], body, now=int(now.timestamp()))
    assert not signing.verify(secret, headers["Coopfunds-Signature"], body, now=int(now.timestamp()) + 301)
    assert not signing.verify("whsec_other", headers["Coopfunds-Signature"], body, now=int(now.timestamp()))
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert settle() == 0  # each event once per endpoint


def test_a_receiver_that_fails_twice_is_retried_with_backoff(claims_world, receivers):
    receiver = receivers(answers=[500, 503])
    services.endpoint_create(url=receiver.url, kinds=["claim"], actor=claims_world.program_manager)
    submit_claim(claims_world)
    settle()
    start = timezone.now()
    assert services.deliver_due(now=start) == {"delivered": 0, "retrying": 1, "failed": 0}
    delivery = Delivery.objects.get()
    assert (delivery.attempts, delivery.last_error, delivery.next_attempt_at) == (
        1,
        "The endpoint answered 500.",
        start + timedelta(seconds=30),
    )
    assert services.deliver_due(now=start + timedelta(seconds=29)) == {"delivered": 0, "retrying": 0, "failed": 0}
    assert services.deliver_due(now=start + timedelta(seconds=30))["retrying"] == 1
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == start + timedelta(seconds=30) + timedelta(minutes=2)
    assert services.deliver_due(now=start + timedelta(minutes=3))["delivered"] == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(receiver.requests)) == ("delivered", 3, 3)
    # the same event, the same id, every attempt
    assert len({json.loads(body)["id"] for _, body in receiver.requests}) == 1


def test_a_receiver_that_never_answers_times_out_and_fails_after_the_last_retry(claims_world, receivers, monkeypatch):
    monkeypatch.setattr(services, "TIMEOUT", 0.3)
    receiver = receivers(answers=["hang"] * 20)
    services.endpoint_create(url=receiver.url, kinds=["claim"], actor=claims_world.program_manager)
    submit_claim(claims_world)
    settle()
    now = timezone.now()
    began = time.monotonic()
    assert services.deliver_due(now=now) == {"delivered": 0, "retrying": 1, "failed": 0}
    assert time.monotonic() - began < 1.2  # the sender gives up after its timeout
    delivery = Delivery.objects.get()
    assert delivery.last_error.startswith("ReadTimeout")
    for _ in services.RETRY_AFTER:
        now = delivery.next_attempt_at
        services.deliver_due(now=now)
        delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 9, None)
    # redelivery sends it again
    services.delivery_redeliver(delivery=delivery, actor=claims_world.program_manager)
    receiver.answers = []
    assert services.deliver_due(now=timezone.now() + timedelta(seconds=1))["delivered"] == 1


def test_only_the_kinds_an_endpoint_asked_for_and_a_rotated_secret_signs_beside_the_new_one(claims_world, receivers):
    claims_only, plans_only = receivers(), receivers()
    endpoint, old = services.endpoint_create(url=claims_only.url, kinds=["claim"], actor=claims_world.program_manager)
    services.endpoint_create(url=plans_only.url, kinds=["plan"], actor=claims_world.program_manager)
    new = services.endpoint_rotate_secret(endpoint=endpoint, actor=claims_world.program_manager)
    submit_claim(claims_world)
    settle()
    now = timezone.now()
    services.deliver_due(now=now)
    assert plans_only.requests == []
    ((headers, body),) = claims_only.requests
    for secret in (old, new):
        assert signing.verify(secret, headers["Coopfunds-Signature"], body, now=int(now.timestamp()))
    assert headers["Coopfunds-Signature"].count("v1=") == 2


def test_http_endpoints_are_refused_in_production(claims_world, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    with pytest.raises(ValidationError) as error:
        services.endpoint_create(url="http://example.com/x", kinds=["claim"], actor=claims_world.program_manager)
    assert error.value.message_dict == {"url": ["Give the endpoint's full address, starting with https://."]}


def test_the_api_registers_lists_and_redelivers(claims_world, receivers, api_as):
    receiver = receivers()
    client = api_as("program_manager")
    created = client.post(
        "/api/v1/webhooks",
        json.dumps({"url": receiver.url, "kinds": ["claim", "payment"]}),
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["kinds"], body["secret"].startswith("whsec_")) == (["claim", "payment"], True)
    submit_claim(claims_world)
    settle()
    services.deliver_due()
    log = client.get(f"/api/v1/webhooks/{body['id']}/deliveries").json()
    assert [(d["event"], d["status"], d["attempts"]) for d in log["results"]] == [("claim.submitted", "delivered", 1)]
    again = client.post(f"/api/v1/webhook-deliveries/{log['results'][0]['id']}/redeliver")
    assert (again.status_code, again.json()["status"]) == (200, "pending")
    assert api_as("reviewer").get("/api/v1/webhooks").status_code == 403
    bad = client.post(
        "/api/v1/webhooks", json.dumps({"url": "ftp://x", "kinds": ["claim"]}), content_type="application/json"
    )
    assert (bad.status_code, list(bad.json()["fields"])) == (422, ["url"])


def test_the_pages_register_show_the_log_and_redeliver(claims_world, receivers, as_persona):
    receiver = receivers()
    client = as_persona("program_manager")
    response = client.post("/webhooks/", {"url": receiver.url, "kinds": ["claim"], "description": "CRM"})
    assert response.status_code == 200
    assert response.context["secret"].startswith("whsec_")
    endpoint = services.Endpoint.objects.get()
    submit_claim(claims_world)
    settle()
    services.deliver_due()
    page = client.get(f"/webhooks/{endpoint.pk}/")
    assert [(d.event, d.status) for d in page.context["page"].object_list] == [("claim.submitted", "delivered")]
    delivery = Delivery.objects.get()
    assert client.post(f"/webhooks/deliveries/{delivery.pk}/redeliver/").status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert as_persona("reviewer").get("/webhooks/").status_code == 404
