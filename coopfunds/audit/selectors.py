"""The auditor's reads of the audit log: search and a complete export (who may read it: `accounts.permissions`)."""

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from coopfunds.audit.models import AuditEvent
from coopfunds.core.csvlines import line_writer

CSV_HEADER = [
    "id",
    "at_utc",
    "actor",
    "verb",
    "target_type",
    "target_id",
    "target",
    "organisation_id",
    "changes_json",
    "reason",
    "seal_seq",
    "seal_hash",
]


def audit_search_of(values: dict[str, Any]) -> QuerySet[AuditEvent]:
    """`audit_search` from a form's or a query's values: text stripped, empty ones left out."""
    cleaned: dict[str, Any] = {k: v.strip() if isinstance(v, str) else v for k, v in values.items()}
    return audit_search(**{k: v for k, v in cleaned.items() if v not in (None, "")})


def audit_search(
    *,
    actor: str = "",
    verb: str = "",
    target_type: str = "",
    target_id: str = "",
    text: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """Audit rows, newest first: `actor` and `text` (the target's name or the reason) are contained, case
    insensitive; `verb` is a verb or its prefix ("claim." for every claim action); `target_type` and
    `target_id` exact; `since` and `until` whole days on the site's clock, both included."""
    qs = AuditEvent.objects.all()
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    if verb:
        qs = qs.filter(verb__startswith=verb) if verb.endswith(".") else qs.filter(verb=verb)
    if target_type:
        qs = qs.filter(target_type=target_type.lower())
    if target_id:
        qs = qs.filter(target_id=target_id)
    if text:
        qs = qs.filter(target_repr__icontains=text) | qs.filter(reason__icontains=text)
    if since:
        qs = qs.filter(created_at__gte=timezone.make_aware(datetime.combine(since, time.min)))
    if until:
        qs = qs.filter(created_at__lte=timezone.make_aware(datetime.combine(until, time.max)))
    return qs.order_by("-id")


def audit_csv_lines(qs: QuerySet[AuditEvent]) -> Iterator[str]:
    """Every row of `qs` as CSV, streamed (machine formats: ISO times in UTC, changes as JSON), UTF-8 with a
    byte-order mark for spreadsheet programs."""
    writer = line_writer()
    yield "\ufeff" + writer.writerow(CSV_HEADER)
    for row in qs.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                row.pk,
                row.created_at.astimezone(UTC).isoformat(timespec="seconds"),
                row.actor_label,
                row.verb,
                row.target_type,
                row.target_id,
                row.target_repr,
                "" if row.organisation_id is None else row.organisation_id,
                json.dumps(row.changes, sort_keys=True, ensure_ascii=False),
                row.reason,
                "" if row.seal_seq is None else row.seal_seq,
                row.seal_hash,
            ]
        )
