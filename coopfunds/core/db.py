"""Database helpers shared by every service: transactions, locks, and reads compiled once."""

import hashlib
import inspect
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler


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


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: list[Any]
    slots: list[int]  # where each argument goes in params
    compiler: SQLCompiler  # after as_sql: what each column of a row is
    fetch_mode: Any


class Prepared[M: Model]:
    """A read compiled once per database connection and run again with other values: for the hottest reads (an
    API's object read), where building and compiling a queryset costs several times what the database takes to
    answer it. `build` returns the queryset for its arguments; it is called once, with markers in place of the
    values, and each argument must end up as one parameter of the SQL as it is given (an id, not an object).
    Calling the Prepared runs that SQL with the values and returns the model instances, with their
    `select_related` rows, as the queryset would have."""

    def __init__(self, build: Callable[..., QuerySet[M]]) -> None:
        self._build = build
        self._arity = len(inspect.signature(build).parameters)
        # per connection object (one per thread and alias), as the compiler keeps its connection
        self._compiled: weakref.WeakKeyDictionary[Any, _Compiled] = weakref.WeakKeyDictionary()

    def _compile(self, alias: str) -> _Compiled:
        markers = [-(2**62) - n for n in range(self._arity)]  # values no column of ours holds
        qs = self._build(*markers)
        compiler = qs.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        params = list(params)
        if sorted(params.count(m) for m in markers) != [1] * self._arity:
            raise ValueError("Each argument of a prepared read must be one parameter of its SQL.")
        return _Compiled(sql, params, [params.index(m) for m in markers], compiler, qs._fetch_mode)  # type: ignore[attr-defined]

    def __call__(self, *values: Any, using: str = DEFAULT_DB_ALIAS) -> list[M]:
        wrapper = connections[using]
        compiled = self._compiled.get(wrapper)
        if compiled is None:
            compiled = self._compiled[wrapper] = self._compile(using)
        params = list(compiled.params)
        for slot, value in zip(compiled.slots, values, strict=True):
            params[slot] = value
        with wrapper.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        return _instances(compiled, rows, using)


def _instances(compiled: _Compiled, rows: list[Any], db: str) -> list[Any]:
    """The model instances of `rows`, as Django's ModelIterable builds them from the same compiler's rows."""
    compiler, fetch_mode = compiled.compiler, compiled.fetch_mode
    select, klass_info, annotations = compiler.select, compiler.klass_info, compiler.annotation_col_map
    assert klass_info is not None
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    init_list = [f[0].target.attname for f in select[start:end]]
    populators = get_related_populators(klass_info, select, db, fetch_mode)
    model = klass_info["model"]
    out = []
    for row in compiler.results_iter([rows]):
        obj = model.from_db(db, init_list, row[start:end], fetch_mode=fetch_mode)
        for populator in populators:
            populator.populate(row, obj)
        for name, position in (annotations or {}).items():
            setattr(obj, name, row[position])
        out.append(obj)
    return out
