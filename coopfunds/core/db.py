"""Transaction helpers shared by every service."""

from django.db import connection


def assert_in_transaction() -> None:
    """Building blocks that lock rows or write several of them call this first."""
    if not connection.in_atomic_block:
        raise RuntimeError("This must run inside transaction.atomic(); call it from a service.")
