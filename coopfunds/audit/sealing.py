"""The tamper-evident audit trail (docs/adr/0011-audit-hash-chain.md).

One chain over every audit row, in the order rows are sealed. `audit_seal` (a job, every few minutes, and in the
daily run) takes rows written at least `SETTLE` ago that are not sealed yet, in id order, and gives each the next
sequence number and `hash = sha256(previous hash + the row's canonical content)`; the head (last number and
hash) is kept in `AuditSeal`. Writing an audit row stays one INSERT with no lock: sealing later keeps the
service's write path free of a global lock, and rows whose transaction committed late are simply sealed in a
later run. `audit_verify` recomputes the chain: an edited row no longer matches its hash, a deleted one leaves a
gap in the numbers, rows deleted from the end leave the chain short of the head. Someone able to rewrite the
whole database could recompute every hash after an edit: the head printed by each run, kept outside the
database (logs, the auditor's records), is what proves the chain then."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from coopfunds.audit.models import AuditEvent, AuditSeal

SETTLE = timedelta(seconds=60)  # longer than any transaction that writes audit rows
BATCH = 2000
GENESIS = "0" * 64
FIELDS = (
    "id",
    "created_at",
    "actor_id",
    "actor_label",
    "verb",
    "target_type",
    "target_id",
    "target_repr",
    "organisation_id",
    "changes",
    "reason",
)


def canonical(row: AuditEvent) -> str:
    """The row's content as one string: the same on SQLite and PostgreSQL, whatever order JSON keys come back."""
    values = {name: getattr(row, name) for name in FIELDS}
    values["created_at"] = row.created_at.astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(previous: str, row: AuditEvent) -> str:
    return hashlib.sha256((previous + canonical(row)).encode()).hexdigest()


def _head() -> AuditSeal:
    head, _ = AuditSeal.objects.get_or_create(pk=1)
    return AuditSeal.objects.select_for_update().get(pk=head.pk)


def audit_seal(*, now: datetime | None = None) -> int:
    """Seal the rows settled since the last run; returns how many. One sealer at a time (the head's row lock),
    so running it on two machines at once, twice, or late seals each row once."""
    cutoff = (now or timezone.now()) - SETTLE
    sealed = 0
    while True:
        with transaction.atomic(durable=True):
            head = _head()
            rows = list(AuditEvent.objects.filter(seal_seq__isnull=True, created_at__lte=cutoff).order_by("id")[:BATCH])
            if not rows:
                return sealed
            seq, previous = head.last_seq, head.last_hash
            for row in rows:
                seq += 1
                previous = chain_hash(previous, row)
                row.seal_seq, row.seal_hash = seq, previous
            AuditEvent.objects.bulk_update(rows, ["seal_seq", "seal_hash"])
            head.last_seq, head.last_hash, head.sealed_at = seq, previous, timezone.now()
            head.save()
            sealed += len(rows)


@dataclass(frozen=True)
class Problem:
    seq: int
    event_id: int | None
    what: str

    def __str__(self) -> str:
        where = f"audit row {self.event_id}" if self.event_id is not None else "the chain"
        return f"#{self.seq} {where}: {self.what}"


def audit_verify() -> tuple[list[Problem], AuditSeal]:
    """Recompute the whole chain: every sealed row against its hash and its predecessor, no number missing, and
    the end at the recorded head. Returns the problems (none: the trail is intact) and the head."""
    head = AuditSeal.objects.filter(pk=1).first() or AuditSeal(last_seq=0, last_hash=GENESIS)
    problems: list[Problem] = []
    expected_seq, previous = 1, GENESIS
    previous_ok: str | None = GENESIS
    rows = AuditEvent.objects.filter(seal_seq__isnull=False).order_by("seal_seq")
    for row in rows.iterator(chunk_size=BATCH):
        assert row.seal_seq is not None
        if row.seal_seq != expected_seq:
            missing = row.seal_seq - expected_seq
            problems.append(
                Problem(expected_seq, None, f"{missing} sealed row(s) missing before #{row.seal_seq}: deleted")
            )
            previous_ok = None  # the link is broken: resume from this row's own hash
        if previous_ok is not None and chain_hash(previous_ok, row) != row.seal_hash:
            problems.append(Problem(row.seal_seq, row.pk, "its content or its hash was changed after it was sealed"))
        previous = previous_ok = row.seal_hash
        expected_seq = row.seal_seq + 1
    if expected_seq - 1 != head.last_seq:
        problems.append(
            Problem(
                expected_seq,
                None,
                f"the chain ends at #{expected_seq - 1} but the head says #{head.last_seq}: rows deleted from its end",
            )
        )
    elif head.last_seq and previous != head.last_hash:
        problems.append(Problem(head.last_seq, None, "the last row's hash is not the head's"))
    return problems, head
