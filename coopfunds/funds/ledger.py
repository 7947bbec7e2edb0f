"""Posting to the ledger. The only code that writes Transfer, Entry or Account.balance.

`post()` (any legs) and `move()` (two buckets of one fund: the hot path of every claim and plan decision) run
inside the caller's transaction and leave it usable whatever they refuse. Both are idempotent by key: the
transfer row is inserted first (`ON CONFLICT (idempotency_key) DO NOTHING`), so a retry with the same key and
content returns the first transfer without touching a balance, and the same key with other content is refused.
Balances change through compare-and-set updates (`balance = balance + x WHERE balance + x >= 0`) in a fixed
account order (account id; a fund's accounts are created in `FUND_BUCKETS` order, so within a fund that is the
bucket order), so concurrent postings never overdraw and never deadlock; the check constraint on Account is the
backstop. A refused posting undoes what it did in the same transaction (no savepoint: each one would cost two
more round trips on the hottest path), so nothing of it is left behind.
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Case, F, When
from django.db.models.functions import Round
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

from coopfunds.core.db import assert_in_transaction
from coopfunds.core.errors import Conflict
from coopfunds.core.i18n import said_of
from coopfunds.core.money import DECIMAL_PLACES, MAX_DIGITS, quantize
from coopfunds.funds.models import FUND_BUCKETS, SOURCE_BUCKETS, Account, Bucket, Entry, Transfer, TransferKind


class InsufficientFunds(Conflict):
    code = "insufficient_funds"


class IdempotencyConflict(Conflict):
    code = "idempotency_key_reused"


Leg = tuple[Account, Decimal]


def source_account(program_id: int, bucket: Bucket, currency: str) -> Account:
    account, _ = Account.objects.get_or_create(
        program_id=program_id, bucket=bucket, currency=currency, fund=None, budget=None, allocation=None
    )
    return account


def _name(account: Account) -> str:
    """How a fingerprint names an account: by what it is, so that `move()` can name it before reading its id."""
    if account.fund_id is not None:
        return _fund_name(account.fund_id, account.bucket)
    if account.budget_id is not None:
        return f"budget:{account.budget_id}:{account.bucket}"
    if account.allocation_id is not None:
        return f"allocation:{account.allocation_id}:{account.bucket}"
    return f"source:{account.program_id}:{account.currency}:{account.bucket}"


def _fund_name(fund_id: int, bucket: str) -> str:
    return f"fund:{fund_id}:{bucket}"


def _fingerprint(kind: str, legs: Sequence[tuple[str, Decimal]], reference: str) -> str:
    body = json.dumps(
        {"kind": kind, "reference": reference, "legs": sorted([name, str(x)] for name, x in legs)},
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def post(
    *,
    key: str,
    kind: TransferKind,
    legs: Sequence[Leg],
    effective_on: date,
    reference: str = "",
    memo: str = "",
    reason_code: str = "",
    actor: Any = None,
) -> Transfer:
    assert_in_transaction()
    legs = [(account, quantize(amount)) for account, amount in legs if amount]
    if not legs:
        raise ValueError("A transfer needs at least one non-zero leg.")
    if sum(amount for _, amount in legs) != 0:
        raise ValueError(f"Transfer {key} does not balance: {[(str(a), str(x)) for a, x in legs]}")
    if len({a.currency for a, _ in legs}) != 1:
        raise ValueError(f"Transfer {key} mixes currencies.")
    transfer = Transfer(
        idempotency_key=key,
        fingerprint=_fingerprint(kind, [(_name(a), x) for a, x in legs], reference),
        kind=kind,
        reference=reference,
        memo=memo,
        said=said_of(memo) or None,
        reason_code=reason_code,
        actor_id=_actor_id(actor),
        effective_on=effective_on,
        created_at=timezone.now(),
    )
    if not _insert_transfer(transfer):
        return _earlier(transfer)
    try:
        _apply_to_balances(legs)
    except InsufficientFunds:
        _forget(transfer)
        raise
    _insert_entries(transfer.pk, [(a.pk, x) for a, x in legs])
    return transfer


def move(
    *,
    fund_id: int,
    src: str,
    dst: str,
    amount: Decimal,
    key: str,
    kind: TransferKind,
    effective_on: date,
    reference: str = "",
    memo: str = "",
    actor: Any = None,
) -> Transfer:
    """`post()` of `amount` from one bucket of a fund to another, naming the accounts by fund and bucket rather
    than reading them first: one statement on PostgreSQL, four on SQLite."""
    assert_in_transaction()
    amount = quantize(amount)
    if amount <= 0 or src == dst or src not in FUND_BUCKETS or dst not in FUND_BUCKETS:
        raise ValueError(f"Transfer {key} must move a positive amount between two buckets of a fund.")
    transfer = Transfer(
        idempotency_key=key,
        fingerprint=_fingerprint(
            kind, [(_fund_name(fund_id, src), -amount), (_fund_name(fund_id, dst), amount)], reference
        ),
        kind=kind,
        reference=reference,
        memo=memo,
        said=said_of(memo) or None,
        actor_id=_actor_id(actor),
        effective_on=effective_on,
        created_at=timezone.now(),
    )
    # the lower bucket first: account-id order (see the module's note)
    first, second = sorted([(src, -amount), (dst, amount)], key=lambda leg: FUND_BUCKETS.index(leg[0]))
    one_statement = connection.vendor == "postgresql"
    ids = (_move_in_one_statement if one_statement else _move_step_by_step)(transfer, fund_id, first, second)
    transfer_pk, first_pk, second_pk = ids
    if transfer_pk is None:
        return _earlier(transfer)
    _saved_as(transfer, transfer_pk)
    if first_pk is None or second_pk is None:
        if first_pk is not None:
            _force_update(first_pk, -first[1])
        _forget(transfer)
        raise InsufficientFunds(_short(*(first if first_pk is None else second)))
    return transfer


def _actor_id(actor: Any) -> int | None:
    return actor.pk if actor is not None and actor.pk else None


def _earlier(transfer: Transfer) -> Transfer:
    """The transfer already posted under this key: returned if it has the same content, else refused."""
    existing = Transfer.objects.get(idempotency_key=transfer.idempotency_key)
    if existing.fingerprint != transfer.fingerprint:
        raise IdempotencyConflict(
            gettext("The key %(key)s was already used for a different transfer.") % {"key": transfer.idempotency_key}
        )
    return existing


def _forget(transfer: Transfer) -> None:
    """Take back the transfer row of a refused posting, and any entry of it (all inserted in this transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Entry._meta.db_table} WHERE transfer_id = %s", [transfer.pk])  # noqa: S608
        cursor.execute(f"DELETE FROM {Transfer._meta.db_table} WHERE id = %s", [transfer.pk])  # noqa: S608
    transfer.pk = None


# Posting is the hottest write path (every claim submission and decision): its statements are written out
# rather than compiled by the ORM each time, which cost more than running them (bench/ledger.py).
_TRANSFER_COLUMNS = (
    "idempotency_key",
    "fingerprint",
    "kind",
    "reference",
    "reason_code",
    "memo",
    "said",
    "actor_id",
    "effective_on",
    "created_at",
)


# ROUND keeps SQLite (which stores decimals as floating point) exact to the cent.
_NEW_BALANCE = f"ROUND(balance + %s, {DECIMAL_PLACES})"
# Compare-and-set of a fund's bucket named by (fund id, bucket); parameters: delta, fund id, bucket, delta.
_CAS_BUCKET = (
    f"UPDATE {Account._meta.db_table} SET balance = {_NEW_BALANCE} "  # noqa: S608 (names from the model)
    f"WHERE fund_id = %s AND bucket = %s AND {_NEW_BALANCE} >= 0"
)


def _transfer_insert(t: Transfer) -> tuple[str, list[Any]]:
    """INSERT of the transfer unless its key is taken (`RETURNING id` gives nothing then), and its parameters."""
    ops = connection.ops
    values = [
        t.idempotency_key,
        t.fingerprint,
        t.kind,
        t.reference,
        t.reason_code,
        t.memo,
        ops.adapt_json_value(t.said, None) if t.said else None,
        t.actor_id,
        ops.adapt_datefield_value(t.effective_on),
        ops.adapt_datetimefield_value(t.created_at),
    ]
    sql = (
        f"INSERT INTO {Transfer._meta.db_table} ({', '.join(_TRANSFER_COLUMNS)}) "  # noqa: S608 (names from the model)
        f"VALUES ({', '.join(['%s'] * len(values))}) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
    )
    return sql, values


def _insert_transfer(t: Transfer) -> bool:
    """Insert the transfer unless its key is taken (then False: a retry, or a reuse of the key)."""
    sql, values = _transfer_insert(t)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    _saved_as(t, row[0])
    return True


def _saved_as(t: Transfer, pk: int) -> None:
    t.pk = pk
    t._state.adding, t._state.db = False, connection.alias


FundLeg = tuple[str, Decimal]  # (bucket, amount)


def _move_in_one_statement(
    t: Transfer, fund_id: int, first: FundLeg, second: FundLeg
) -> tuple[int | None, int | None, int | None]:
    """PostgreSQL: the transfer, both compare-and-set updates and both entries in one statement; returns the
    ids of the transfer and of the two accounts (None: key taken, or that update refused). Each step runs only
    if the one before gave a row (an `EXISTS` on its output, which PostgreSQL evaluates once, before the step
    scans anything), so the buckets are locked in the order given and nothing runs after a refusal."""
    insert, params = _transfer_insert(t)
    d1, d2 = (connection.ops.adapt_decimalfield_value(x, MAX_DIGITS, DECIMAL_PLACES) for _, x in (first, second))
    sql = (
        f"WITH t AS ({insert}), "  # noqa: S608 (names from the models)
        f"a AS ({_CAS_BUCKET} AND EXISTS (SELECT 1 FROM t) RETURNING id), "
        f"b AS ({_CAS_BUCKET} AND EXISTS (SELECT 1 FROM a) RETURNING id), "
        f"e AS (INSERT INTO {Entry._meta.db_table} (transfer_id, account_id, amount) "
        "SELECT t.id, a.id, %s FROM t, a UNION ALL SELECT t.id, b.id, %s FROM t, b) "
        "SELECT (SELECT id FROM t), (SELECT id FROM a), (SELECT id FROM b)"
    )
    params += [d1, fund_id, first[0], d1, d2, fund_id, second[0], d2, d1, d2]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()  # type: ignore[no-any-return]


def _move_step_by_step(
    t: Transfer, fund_id: int, first: FundLeg, second: FundLeg
) -> tuple[int | None, int | None, int | None]:
    """SQLite (no INSERT or UPDATE inside WITH): the same, statement by statement."""
    if not _insert_transfer(t):
        return None, None, None
    first_pk = _cas_update_bucket(fund_id, *first)
    if first_pk is None:
        return t.pk, None, None
    second_pk = _cas_update_bucket(fund_id, *second)
    if second_pk is None:
        return t.pk, first_pk, None
    _insert_entries(t.pk, [(first_pk, first[1]), (second_pk, second[1])])
    return t.pk, first_pk, second_pk


def _insert_entries(transfer_id: int, legs: Sequence[tuple[int, Decimal]]) -> None:
    ops = connection.ops
    rows = ", ".join(["(%s, %s, %s)"] * len(legs))
    params: list[Any] = []
    for account_id, amount in legs:
        params += [transfer_id, account_id, ops.adapt_decimalfield_value(amount, MAX_DIGITS, DECIMAL_PLACES)]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {Entry._meta.db_table} (transfer_id, account_id, amount) VALUES {rows}", params)  # noqa: S608


def _cas_update(account_id: int, delta: Decimal) -> bool:
    """Compare-and-set: move one balance unless it would go below zero."""
    d = connection.ops.adapt_decimalfield_value(delta, MAX_DIGITS, DECIMAL_PLACES)
    sql = f"UPDATE {Account._meta.db_table} SET balance = {_NEW_BALANCE} WHERE id = %s AND {_NEW_BALANCE} >= 0"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [d, account_id, d])
        return cursor.rowcount == 1


def _cas_update_bucket(fund_id: int, bucket: str, delta: Decimal) -> int | None:
    """`_cas_update` of a fund's bucket, named by fund and bucket; returns the account's id, None if refused."""
    d = connection.ops.adapt_decimalfield_value(delta, MAX_DIGITS, DECIMAL_PLACES)
    with connection.cursor() as cursor:
        cursor.execute(f"{_CAS_BUCKET} RETURNING id", [d, fund_id, bucket, d])
        row = cursor.fetchone()
    return row[0] if row else None


def _force_update(account_id: int, delta: Decimal) -> None:
    """Undo a compare-and-set of this transaction (the row is still locked by it, so it cannot go negative)."""
    d = connection.ops.adapt_decimalfield_value(delta, MAX_DIGITS, DECIMAL_PLACES)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Account._meta.db_table} SET balance = {_NEW_BALANCE} WHERE id = %s", [d, account_id])  # noqa: S608


def _bulk_update(ids: list[int], deltas: dict[int, Decimal]) -> int:
    """Move many balances in one statement, each only if it stays at or above zero; returns how many moved."""
    if connection.vendor == "postgresql":
        ops = connection.ops
        values = ", ".join(["(%s::bigint, %s::numeric)"] * len(ids))
        params: list[Any] = []
        for pk in ids:
            params += [pk, ops.adapt_decimalfield_value(deltas[pk], MAX_DIGITS, DECIMAL_PLACES)]
        table = Account._meta.db_table
        sql = (
            f"UPDATE {table} AS a SET balance = ROUND(a.balance + v.delta, {DECIMAL_PLACES}) "  # noqa: S608
            f"FROM (VALUES {values}) AS v(id, delta) WHERE a.id = v.id AND ROUND(a.balance + v.delta, {DECIMAL_PLACES}) >= 0"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount
    new = Case(*[When(pk=pk, then=Round(F("balance") + deltas[pk], DECIMAL_PLACES)) for pk in ids])
    return Account.objects.filter(pk__in=ids).alias(new_balance=new).filter(new_balance__gte=0).update(balance=new)


def _apply_to_balances(legs: Sequence[Leg]) -> None:
    """Move the cached balances, locking rows in account-id order (so concurrent postings never deadlock) and
    refusing, with nothing changed, any posting that would take one below zero. Sources are not cached: their
    balance is minus all they gave."""
    deltas: dict[int, Decimal] = {}
    accounts: dict[int, Account] = {}
    for account, amount in legs:
        if account.bucket not in SOURCE_BUCKETS:
            deltas[account.pk] = deltas.get(account.pk, Decimal(0)) + amount
            accounts[account.pk] = account
    ids = sorted(pk for pk, delta in deltas.items() if delta)
    if len(ids) > 2:  # many accounts (an import, a payment run): lock them in order, check, then one UPDATE
        locked = Account.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", "balance")
        for pk, balance in locked:
            if balance + deltas[pk] < 0:
                raise InsufficientFunds(_short(accounts[pk].bucket, deltas[pk]))
        if _bulk_update(ids, deltas) != len(ids):
            raise RuntimeError("A locked balance changed under its lock.")  # cannot happen; the transaction aborts
        return
    done: list[int] = []
    for pk in ids:  # one or two accounts: a compare-and-set UPDATE each, in id order
        if not _cas_update(pk, deltas[pk]):
            for undo in done:
                _force_update(undo, -deltas[undo])
            raise InsufficientFunds(_short(accounts[pk].bucket, deltas[pk]))
        done.append(pk)


def _short(bucket: str, delta: Decimal) -> str:
    """Why a posting is refused, in the reader's language; the amount as the ledger holds it ("12000.01" in
    English, "12000,01" in Swedish)."""
    needed = {"amount": number_format(-delta)}
    if bucket in SHORT_OF:
        return str(SHORT_OF[bucket]) % needed
    return gettext("Not enough money %(bucket)s: %(amount)s needed.") % {"bucket": bucket, **needed}


SHORT_OF: dict[str, Promise] = {
    Bucket.AVAILABLE: gettext_lazy("Not enough money available in the fund: %(amount)s needed."),
    Bucket.RESERVED: gettext_lazy("Not enough money reserved for this: %(amount)s needed."),
    Bucket.PAYABLE: gettext_lazy("Not enough money approved and payable: %(amount)s needed."),
    Bucket.ACCRUED: gettext_lazy("Not enough money accrued in the earning period: %(amount)s needed."),
    Bucket.REBATE: gettext_lazy("Not enough money payable as rebate: %(amount)s needed."),
    Bucket.CONVERTED: gettext_lazy("Not enough money converted to rebate: %(amount)s needed."),
    Bucket.UNALLOCATED: gettext_lazy("Not enough money left to allocate in the budget: %(amount)s needed."),
    Bucket.ALLOCATED: gettext_lazy("Not enough money left in the allocation: %(amount)s needed."),
}
