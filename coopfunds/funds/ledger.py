"""Posting to the ledger. The only code that writes Transfer, Entry or Account.balance.

`post()` must run inside the caller's transaction. It is idempotent by key: a retry with the same key and
the same content returns the first transfer; the same key with other content is refused. Balances change
through compare-and-set updates (`balance = balance + x WHERE balance + x >= 0`) in a fixed account order,
so concurrent postings never overdraw and never deadlock; the check constraint on Account is the backstop.
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, When
from django.db.models.functions import Round
from django.utils import timezone

from coopfunds.core.db import assert_in_transaction
from coopfunds.core.errors import Conflict
from coopfunds.core.money import DECIMAL_PLACES, MAX_DIGITS, quantize
from coopfunds.funds.models import SOURCE_BUCKETS, Account, Bucket, Entry, Fund, Transfer, TransferKind


class InsufficientFunds(Conflict):
    code = "insufficient_funds"


class IdempotencyConflict(Conflict):
    code = "idempotency_key_reused"


Leg = tuple[Account, Decimal]


def fund_accounts(fund: Fund) -> dict[str, Account]:
    """The fund's buckets, by name (created with the fund)."""
    return {a.bucket: a for a in fund.accounts.all()}


def source_account(program_id: int, bucket: Bucket, currency: str) -> Account:
    account, _ = Account.objects.get_or_create(program_id=program_id, bucket=bucket, currency=currency, fund=None)
    return account


def _fingerprint(kind: str, legs: Sequence[Leg], reference: str, reverses: int | None) -> str:
    body = json.dumps(
        {
            "kind": kind,
            "reference": reference,
            "reverses": reverses,
            "legs": sorted([a.pk, str(quantize(x))] for a, x in legs),
        },
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
    reverses: Transfer | None = None,
) -> Transfer:
    assert_in_transaction()
    legs = [(account, quantize(amount)) for account, amount in legs if amount]
    if not legs:
        raise ValueError("A transfer needs at least one non-zero leg.")
    if sum(amount for _, amount in legs) != 0:
        raise ValueError(f"Transfer {key} does not balance: {[(str(a), str(x)) for a, x in legs]}")
    if len({a.currency for a, _ in legs}) != 1:
        raise ValueError(f"Transfer {key} mixes currencies.")
    fingerprint = _fingerprint(kind, legs, reference, reverses.pk if reverses else None)

    actor_id = actor.pk if actor is not None and actor.pk else None
    try:
        with transaction.atomic():  # a savepoint: a refused posting leaves nothing behind
            transfer = _insert_transfer(
                Transfer(
                    idempotency_key=key,
                    fingerprint=fingerprint,
                    kind=kind,
                    reference=reference,
                    memo=memo,
                    reason_code=reason_code,
                    actor_id=actor_id,
                    reverses=reverses,
                    effective_on=effective_on,
                    created_at=timezone.now(),
                )
            )
            _apply_to_balances(legs)
            _insert_entries(transfer.pk, legs)
            return transfer
    except IntegrityError:
        existing = Transfer.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise  # another constraint (a second reversal of the same transfer)
        if existing.fingerprint != fingerprint:
            raise IdempotencyConflict(f"The key {key} was already used for a different transfer.") from None
        return existing


# Posting is the hottest write path (every claim submission and decision): its three statements are written
# out rather than compiled by the ORM each time, which cost more than running them (bench/ledger.py).
_TRANSFER_COLUMNS = (
    "idempotency_key",
    "fingerprint",
    "kind",
    "reference",
    "reason_code",
    "memo",
    "actor_id",
    "reverses_id",
    "effective_on",
    "created_at",
)


def _insert_transfer(t: Transfer) -> Transfer:
    ops = connection.ops
    values = [
        t.idempotency_key,
        t.fingerprint,
        t.kind,
        t.reference,
        t.reason_code,
        t.memo,
        t.actor_id,
        t.reverses_id,
        ops.adapt_datefield_value(t.effective_on),
        ops.adapt_datetimefield_value(t.created_at),
    ]
    sql = (
        f"INSERT INTO {Transfer._meta.db_table} ({', '.join(_TRANSFER_COLUMNS)}) "  # noqa: S608 (names from the model)
        f"VALUES ({', '.join(['%s'] * len(values))}) RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        t.pk = cursor.fetchone()[0]
    t._state.adding, t._state.db = False, connection.alias
    return t


def _insert_entries(transfer_id: int, legs: Sequence[Leg]) -> None:
    ops = connection.ops
    rows = ", ".join(["(%s, %s, %s)"] * len(legs))
    params: list[Any] = []
    for account, amount in legs:
        params += [transfer_id, account.pk, ops.adapt_decimalfield_value(amount, MAX_DIGITS, DECIMAL_PLACES)]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {Entry._meta.db_table} (transfer_id, account_id, amount) VALUES {rows}", params)  # noqa: S608


def _cas_update(account_id: int, delta: Decimal) -> bool:
    """Compare-and-set: move one balance unless it would go below zero (ROUND keeps SQLite exact to the cent)."""
    delta_param = connection.ops.adapt_decimalfield_value(delta, MAX_DIGITS, DECIMAL_PLACES)
    sql = (
        f"UPDATE {Account._meta.db_table} SET balance = ROUND(balance + %s, {DECIMAL_PLACES}) "  # noqa: S608
        f"WHERE id = %s AND ROUND(balance + %s, {DECIMAL_PLACES}) >= 0"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [delta_param, account_id, delta_param])
        return cursor.rowcount == 1


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
    # ROUND keeps SQLite (which stores decimals as floating point) exact to the cent
    new = Case(*[When(pk=pk, then=Round(F("balance") + deltas[pk], DECIMAL_PLACES)) for pk in ids])
    return Account.objects.filter(pk__in=ids).alias(new_balance=new).filter(new_balance__gte=0).update(balance=new)


def _apply_to_balances(legs: Sequence[Leg]) -> None:
    """Move the cached balances, locking rows in account-id order (so concurrent postings never deadlock) and
    refusing any that would go below zero. Sources are not cached: their balance is minus all they gave."""
    deltas: dict[int, Decimal] = {}
    accounts: dict[int, Account] = {}
    for account, amount in legs:
        if account.bucket not in SOURCE_BUCKETS:
            deltas[account.pk] = deltas.get(account.pk, Decimal(0)) + amount
            accounts[account.pk] = account
    ids = sorted(pk for pk, delta in deltas.items() if delta)
    if len(ids) > 2:  # many accounts (an import, a payment run): lock them in order, then one UPDATE for all
        list(Account.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
        if _bulk_update(ids, deltas) == len(ids):
            return
        short = Account.objects.filter(pk__in=ids).order_by("pk")
        pk = next(a.pk for a in short if a.balance + deltas[a.pk] < 0)
        _refuse(accounts[pk], deltas[pk])
    for pk in ids:  # one or two accounts: a compare-and-set UPDATE each, in id order
        if not _cas_update(pk, deltas[pk]):
            _refuse(accounts[pk], deltas[pk])


def _refuse(account: Account, delta: Decimal) -> None:
    raise InsufficientFunds(f"Not enough money {BUCKET_PHRASE.get(account.bucket, account.bucket)}: {-delta} needed.")


BUCKET_PHRASE: dict[str, str] = {
    Bucket.AVAILABLE: "available in the fund",
    Bucket.RESERVED: "reserved for this",
    Bucket.PAYABLE: "approved and payable",
    Bucket.ACCRUED: "accrued in the earning period",
    Bucket.REBATE: "payable as rebate",
    Bucket.CONVERTED: "converted to rebate",
}


def reverse(
    *, transfer: Transfer, key: str, effective_on: date, memo: str, actor: Any, reason_code: str = ""
) -> Transfer:
    """Undo a transfer with its mirror image. The original stays; both show in the history."""
    legs = [(e.account, -e.amount) for e in transfer.entries.select_related("account")]
    return post(
        key=key,
        kind=TransferKind.REVERSE,
        legs=legs,
        effective_on=effective_on,
        reference=transfer.reference,
        memo=memo,
        reason_code=reason_code,
        actor=actor,
        reverses=transfer,
    )
