"""Transaction helpers shared by every service."""

import hashlib
from collections.abc import Iterable

from django.db import connection


def assert_in_transaction() -> None:
    """Building blocks that lock rows or write several of them call this first."""
    if not connection.in_atomic_block:
        raise RuntimeError("This must run inside transaction.atomic(); call it from a service.")


def lock(namespace: str, *ids: int) -> None:
    """Serialise the transactions that take the same (namespace, ids) until they commit or roll back: a
    PostgreSQL transaction-level advisory lock, for what has no row of its own to lock (the spend of one fund on
    one activity type). On SQLite every writing transaction already holds the database's one write lock
    (`transaction_mode="IMMEDIATE"`), so there is nothing more to take."""
    assert_in_transaction()
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_key(namespace, ids)])


def lock_all(namespace: str, ids: Iterable[tuple[int, ...]]) -> None:
    """`lock` of many keys in one statement, in one order (the keys' own), so that two transactions taking
    overlapping sets never wait for each other in a circle."""
    assert_in_transaction()
    keys = sorted({_key(namespace, each) for each in ids})
    if connection.vendor != "postgresql" or not keys:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY k) AS ordered",
            [keys],
        )


def _key(namespace: str, ids: tuple[int, ...]) -> int:
    return int.from_bytes(hashlib.blake2b(repr((namespace, *ids)).encode(), digest_size=8).digest(), "big", signed=True)
