"""Webhooks: endpoints (program managers), the fan-out of events from the sealed audit chain into deliveries, and
sending them with retries (docs/adr/0012-webhooks.md). Sending happens in a job, never in a request: a slow or
failing endpoint delays nothing but its own deliveries."""

import json
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from coopfunds.accounts.models import Role, User
from coopfunds.accounts.permissions import holds_anywhere, is_vendor_staff
from coopfunds.audit.models import AuditEvent
from coopfunds.audit.sealing import audit_seal
from coopfunds.audit.services import audit_record
from coopfunds.webhooks import signing
from coopfunds.webhooks.models import Delivery, DeliveryStatus, Endpoint, EventKind, FanOut

# Which audit rows are events, and of which kind: status changes of these objects, and the expiry reminder.
KIND_OF_TARGET = {
    "claims.claim": EventKind.CLAIM,
    "plans.proof": EventKind.PROOF,
    "plans.plan": EventKind.PLAN,
    "associations.association": EventKind.ASSOCIATION,
    "payments.payment": EventKind.PAYMENT,
    "payments.paymentrun": EventKind.PAYMENT,
    "enrollments.enrollment": EventKind.ENROLLMENT,
}
FUND_EXPIRING = "fund.expiring"
RETRY_AFTER = [
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
]  # then it has failed: 9 attempts over about a day
TIMEOUT = 5.0
ROTATION_OVERLAP = timedelta(hours=24)
BATCH = 500


def can_manage_webhooks(user: User) -> bool:
    return is_vendor_staff(user) and holds_anywhere(user, Role.PROGRAM_MANAGER)


def _require(user: User) -> None:
    if not can_manage_webhooks(user):
        raise PermissionDenied(gettext("Only program managers manage webhooks."))


def _clean(url: str, kinds: list[str]) -> tuple[str, list[str]]:
    errors: dict[str, str] = {}
    url = url.strip()
    schemes = ["https", "http"] if settings.WEBHOOKS_ALLOW_HTTP else ["https"]
    try:
        URLValidator(schemes=schemes)(url)
    except ValidationError:
        errors["url"] = (
            gettext("Give the endpoint's full address, starting with https://.")
            if "http" not in schemes
            else gettext("Give the endpoint's full address, starting with https:// or http://.")
        )
    unknown = sorted(set(kinds) - set(EventKind.values))
    if unknown:
        errors["kinds"] = gettext("“%(kind)s” is not an event kind; the kinds are %(kinds)s.") % {
            "kind": unknown[0],
            "kinds": ", ".join(EventKind.values),
        }
    elif not kinds:
        errors["kinds"] = gettext("Choose at least one kind of event.")
    if errors:
        raise ValidationError(errors)
    return url, [k for k in EventKind.values if k in set(kinds)]


@transaction.atomic(durable=True)
def endpoint_create(*, url: str, kinds: list[str], actor: User, description: str = "") -> tuple[Endpoint, str]:
    """Register an endpoint; returns it and its signing secret, shown this once."""
    _require(actor)
    url, kinds = _clean(url, kinds)
    secret = signing.new_secret()
    endpoint = Endpoint.objects.create(
        url=url, kinds=kinds, description=description.strip()[:200], secret=secret, created_by=actor
    )
    audit_record(
        actor=actor, verb="webhook.create", target=endpoint, changes={"url": (None, url), "kinds": (None, kinds)}
    )
    return endpoint, secret


@transaction.atomic(durable=True)
def endpoint_update(*, endpoint: Endpoint, actor: User, kinds: list[str], is_active: bool) -> Endpoint:
    _require(actor)
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    _, kinds = _clean(endpoint.url, kinds)
    changes = {
        k: (getattr(endpoint, k), v)
        for k, v in (("kinds", kinds), ("is_active", is_active))
        if getattr(endpoint, k) != v
    }
    if changes:
        endpoint.kinds, endpoint.is_active = kinds, is_active
        endpoint.save(update_fields=["kinds", "is_active"])
        audit_record(actor=actor, verb="webhook.update", target=endpoint, changes=changes)
    return endpoint


@transaction.atomic(durable=True)
def endpoint_rotate_secret(*, endpoint: Endpoint, actor: User) -> str:
    """A new signing secret, shown this once; the old one still signs (a second signature) for 24 hours."""
    _require(actor)
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = signing.new_secret()
    endpoint.previous_secret, endpoint.secret = endpoint.secret, secret
    endpoint.previous_until = timezone.now() + ROTATION_OVERLAP
    endpoint.save(update_fields=["secret", "previous_secret", "previous_until"])
    audit_record(
        actor=actor, verb="webhook.rotate_secret", target=endpoint, reason="The old secret signs for 24 hours."
    )
    return secret


@transaction.atomic(durable=True)
def delivery_redeliver(*, delivery: Delivery, actor: User) -> Delivery:
    """Send a delivery again, now (whatever became of it: delivered, failed or still retrying)."""
    _require(actor)
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at"])
    audit_record(
        actor=actor, verb="webhook.redeliver", target=delivery.endpoint, changes={"delivery": (None, delivery.pk)}
    )
    return delivery


def kind_of(row: AuditEvent) -> str | None:
    if row.verb == FUND_EXPIRING:
        return EventKind.FUND_EXPIRING
    kind = KIND_OF_TARGET.get(row.target_type)
    return kind if kind and "status" in (row.changes or {}) else None


def payload_of(row: AuditEvent, kind: str) -> dict[str, Any]:
    """What a delivery says (documented in docs/webhooks.md)."""
    return {
        "id": row.pk,
        "kind": kind,
        "event": row.verb,
        "occurred_at": row.created_at.isoformat(),
        "object": {"type": row.target_type, "id": row.target_id, "name": row.target_repr},
        "changes": row.changes,
        "reason": row.reason,
        "actor": row.actor_label,
    }


def fan_out() -> int:
    """Turn sealed audit rows not looked at yet into deliveries for the active endpoints of their kind. It follows
    the sealed chain, so an event is delivered only once its transaction committed (and at most once per
    endpoint). Returns how many deliveries it made."""
    made = 0
    while True:
        with transaction.atomic(durable=True):
            cursor, _ = FanOut.objects.get_or_create(pk=1)
            cursor = FanOut.objects.select_for_update().get(pk=1)
            rows = list(AuditEvent.objects.filter(seal_seq__gt=cursor.last_seq).order_by("seal_seq")[:BATCH])
            if not rows:
                return made
            endpoints = list(Endpoint.objects.filter(is_active=True))
            now = timezone.now()
            new = [
                Delivery(
                    endpoint=e,
                    event_id=row.pk,
                    kind=kind,
                    event=row.verb,
                    payload=payload_of(row, kind),
                    next_attempt_at=now,
                )
                for row in rows
                if (kind := kind_of(row))
                for e in endpoints
                if kind in e.kinds
            ]
            Delivery.objects.bulk_create(new, ignore_conflicts=True)
            cursor.last_seq = rows[-1].seal_seq or cursor.last_seq
            cursor.save(update_fields=["last_seq"])
            made += len(new)


def _attempt(delivery: Delivery, client: httpx.Client, now: datetime) -> None:
    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, sort_keys=True, separators=(",", ":")).encode()
    timestamp = int(now.timestamp())
    keys = [str(endpoint.secret)]
    if endpoint.previous_secret and endpoint.previous_until and endpoint.previous_until > now:
        keys.append(str(endpoint.previous_secret))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Coopfunds-Webhooks/1",
        "Coopfunds-Event": delivery.event,
        "Coopfunds-Delivery": str(delivery.pk),
        "Coopfunds-Timestamp": str(timestamp),
        "Coopfunds-Signature": signing.signature_header(keys, timestamp, body),
    }
    delivery.attempts += 1
    delivery.last_attempt_at = now
    try:
        response = client.post(endpoint.url, content=body, headers=headers)
        delivery.last_status_code, delivery.last_error = response.status_code, ""
        ok = 200 <= response.status_code < 300
        if not ok:
            delivery.last_error = f"The endpoint answered {response.status_code}."
    except httpx.HTTPError as error:
        delivery.last_status_code, ok = None, False
        delivery.last_error = f"{type(error).__name__}: {error}"[:300] or type(error).__name__
    if ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.DELIVERED, now, None
    elif delivery.attempts > len(RETRY_AFTER):
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
    else:
        delivery.next_attempt_at = now + RETRY_AFTER[delivery.attempts - 1]


def deliver_due(*, now: datetime | None = None, transport: httpx.BaseTransport | None = None) -> dict[str, int]:
    """Send every delivery that is due, each once; a delivery is locked while it is sent (SKIP LOCKED on
    PostgreSQL), so workers on several machines never send one twice at the same time."""
    now = now or timezone.now()
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    with httpx.Client(timeout=TIMEOUT, transport=transport, follow_redirects=False) as client:
        due = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now).order_by("id")
        for pk in list(due.values_list("pk", flat=True)[:BATCH]):
            with transaction.atomic(durable=True):
                delivery = (
                    Delivery.objects.select_for_update(skip_locked=True)
                    .select_related("endpoint")
                    .filter(pk=pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
                    .first()
                )
                if delivery is None:
                    continue
                _attempt(delivery, client, now)
                delivery.save()
                key = {"delivered": "delivered", "failed": "failed"}.get(delivery.status, "retrying")
                counts[key] += 1
    return counts


def run_webhooks(now: datetime | None = None) -> dict[str, int]:
    """Seal what settled, turn it into deliveries, send what is due: what a worker or cron runs every minute."""
    return {"sealed": audit_seal(), "made": fan_out(), **deliver_due(now=now)}
