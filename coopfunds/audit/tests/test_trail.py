"""The tamper-evident audit trail: rows sealed into one hash chain, `audit_verify` finding an UPDATE and a
DELETE done behind the application's back; the auditor's search and complete export."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from coopfunds.audit.models import AuditEvent, AuditSeal
from coopfunds.audit.sealing import SETTLE, audit_seal, audit_verify, chain_hash
from coopfunds.audit.services import audit_record

pytestmark = pytest.mark.django_db


def later():
    return timezone.now() + SETTLE + timedelta(seconds=1)


@pytest.fixture
def trail(world):
    """Five actions on the program, sealed."""
    with transaction.atomic():
        for n in range(5):
            audit_record(
                actor=world.program_manager,
                verb="program.update" if n % 2 else "claim.approve",
                target=world.program,
                changes={"payment_day": (n, n + 1)},
                reason=f"Change {n}",
            )
    assert audit_seal(now=later()) == 5
    return list(AuditEvent.objects.order_by("id"))


def problems():
    found, _ = audit_verify()
    return [str(p) for p in found]


def test_sealed_rows_form_one_chain_and_sealing_again_seals_nothing(trail):
    assert [e.seal_seq for e in trail] == [1, 2, 3, 4, 5]
    previous = "0" * 64
    for event in trail:
        assert event.seal_hash == chain_hash(previous, event)
        previous = event.seal_hash
    head = AuditSeal.objects.get()
    assert (head.last_seq, head.last_hash) == (5, trail[-1].seal_hash)
    assert audit_seal(now=later()) == 0
    assert problems() == []


def test_rows_wait_a_minute_before_they_are_sealed(world):
    with transaction.atomic():
        audit_record(actor=None, verb="x.y", target=world.program)
    assert audit_seal() == 0
    assert audit_seal(now=later()) == 1


def test_an_update_behind_the_applications_back_is_found(trail):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = %s WHERE id = %s", ["Nothing to see", trail[2].pk])
    assert problems() == [f"#3 audit row {trail[2].pk}: its content or its hash was changed after it was sealed"]
    with pytest.raises(CommandError, match=r"The audit trail was tampered with: 1 problem\(s\)\."):
        call_command("audit_verify", stderr=io.StringIO())


def test_an_update_that_also_rewrites_the_hash_breaks_the_next_link(trail):
    forged = AuditEvent.objects.get(pk=trail[1].pk)
    forged.reason = "Nothing to see"
    forged_hash = chain_hash(trail[0].seal_hash, forged)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET reason = %s, seal_hash = %s WHERE id = %s",
            ["Nothing to see", forged_hash, trail[1].pk],
        )
    assert problems() == [f"#3 audit row {trail[2].pk}: its content or its hash was changed after it was sealed"]


def test_a_delete_behind_the_applications_back_is_found(trail):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [trail[1].pk])
    assert problems() == ["#2 the chain: 1 sealed row(s) missing before #3: deleted"]


def test_deleting_the_newest_rows_is_found_too(trail):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id IN (%s, %s)", [trail[3].pk, trail[4].pk])
    assert problems() == ["#4 the chain: the chain ends at #3 but the head says #5: rows deleted from its end"]


def test_the_commands_say_what_they_did(trail, capsys):
    call_command("audit_verify")
    assert capsys.readouterr().out == f"The audit trail is intact: 5 sealed row(s), head {trail[-1].seal_hash}.\n"
    call_command("audit_seal")
    assert capsys.readouterr().out == f"Sealed 0 audit row(s); the chain's head is #5 {trail[-1].seal_hash}.\n"


def test_the_auditor_searches_and_exports_everything_that_matches(trail, as_persona):
    client = as_persona("auditor")
    page = client.get("/audit/", {"verb": "claim."})
    assert page.status_code == 200
    assert [e.reason for e in page.context["page"].object_list] == ["Change 4", "Change 2", "Change 0"]
    export = client.get("/audit/export.csv", {"verb": "claim."})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["id", "at_utc", "actor", "verb"]
    assert [(r[3], r[9], r[10]) for r in rows[1:]] == [
        ("claim.approve", "Change 4", "5"),
        ("claim.approve", "Change 2", "3"),
        ("claim.approve", "Change 0", "1"),
    ]
    assert rows[1][8] == '{"payment_day": [4, 5]}'
    bad = client.get("/audit/", {"since": "2026-12-05", "until": "2026-12-01"})
    assert bad.context["form"].errors == {"until": ["The last day comes on or after the first."]}
    for persona in ("partner_admin", "reviewer", "finance"):
        assert as_persona(persona).get("/audit/").status_code == 404
    assert as_persona("program_manager").get("/audit/").status_code == 200


def test_the_api_searches_with_a_cursor_and_exports(trail, api_as):
    client = api_as("auditor")
    first = client.get("/api/v1/audit-events", {"verb": "program.update", "page_size": 1}).json()
    assert [(e["reason"], e["seal_seq"], e["actor"]) for e in first["results"]] == [
        ("Change 3", 4, "pat.manager@contoso.example")
    ]
    second = client.get(first["next"]).json()
    assert [e["reason"] for e in second["results"]] == ["Change 1"]
    assert second["next"] is None
    export = client.get("/api/v1/audit-events/export", {"text": "change"})
    assert export["Content-Type"] == "text/csv; charset=utf-8"
    assert len(b"".join(export.streaming_content).decode("utf-8-sig").strip().splitlines()) == 6
    assert api_as("reviewer").get("/api/v1/audit-events").status_code == 403
    bad = client.get("/api/v1/audit-events", {"since": "2026-12-05", "until": "2026-12-01"})
    assert (bad.status_code, bad.json()["fields"]) == (422, {"until": ["The last day comes on or after the first."]})
