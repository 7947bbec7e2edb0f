"""Run callables at the same moment in threads (each with its own database connection), for tests of what
concurrent requests may and may not do together on PostgreSQL."""

import threading
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection

from coopfunds.core.errors import DomainError

EXPECTED = (DomainError, ValidationError, DatabaseError)


def at_once(actions: list[Callable[[], object]]) -> list[Exception]:
    """Start every action together (a barrier releases them at once) and wait for all; the refusals they raised
    (domain, validation and database errors), for the test to assert. Anything else fails the test."""
    barrier = threading.Barrier(len(actions))
    errors: list[Exception] = []

    def run(action: Callable[[], object]) -> None:
        barrier.wait()
        try:
            action()
        except EXPECTED as error:  # collected, asserted by the caller
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a,)) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors
