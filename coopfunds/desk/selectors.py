"""One review queue over claims and proofs of execution, oldest due first."""

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Literal

from django.db.models import CharField, QuerySet, Value
from django.utils import timezone

from coopfunds.accounts.models import User
from coopfunds.claims import permissions as claim_permissions
from coopfunds.claims import selectors as claim_selectors
from coopfunds.claims.models import Claim
from coopfunds.plans import permissions as plan_permissions
from coopfunds.plans import selectors as plan_selectors
from coopfunds.plans.models import Proof
from coopfunds.review.workflow import Clock, clocks

Kind = Literal["claim", "proof"]
KINDS: tuple[Kind, ...] = ("claim", "proof")


@dataclass(frozen=True)
class QueueItem:
    """A claim or a proof in the queue, with its review clock and whether the viewer may decide it."""

    kind: Kind
    item: Claim | Proof
    clock: Clock
    can_review: bool

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.item.pk}"

    @property
    def overdue(self) -> int:
        """Business days past the due date (0 when not overdue)."""
        return -self.clock.days_left if self.clock.breached and self.clock.days_left is not None else 0


def _claims(user: User, *, mine: bool, program_id: int | None, overdue: bool) -> QuerySet[Claim]:
    return claim_selectors.review_queue(user, mine=mine, program_id=program_id, overdue=overdue)


def _proofs(user: User, *, mine: bool, program_id: int | None, overdue: bool) -> QuerySet[Proof]:
    qs = plan_selectors.proof_review_queue(user, mine=mine, program_id=program_id)
    return qs.filter(due_on__lt=timezone.localdate()) if overdue else qs


Row = tuple[str, int, date | None]  # (kind, id, due on)


class Queue:
    """What waits for a decision, oldest due first, as a sliceable sequence (for a paginator): each kind's own
    queue is read from its partial queue index with a LIMIT of the slice's end, and the two are merged by (due
    date, id). However long the queues grow, a page costs one short indexed read per kind."""

    def __init__(self, parts: list[QuerySet]) -> None:  # type: ignore[type-arg]
        self.parts = parts

    def __getitem__(self, wanted: slice) -> list[Row]:
        start, stop = wanted.start or 0, wanted.stop
        assert stop is not None, "the queue is read a page at a time"
        rows = heapq.merge(*(list(p[:stop]) for p in self.parts), key=lambda r: (r[2] or date.max, r[1], r[0]))
        return list(itertools.islice(rows, start, stop))

    def __len__(self) -> int:
        return sum(p.count() for p in self.parts)

    def __iter__(self) -> Iterator[Row]:
        return iter(self[0 : len(self)])


def queue(
    user: User,
    *,
    kind: Kind | None = None,
    mine: bool = False,
    program_id: int | None = None,
    overdue: bool = False,
    status: str = "",
) -> Queue:
    """Claims and proofs of execution waiting for a decision, as (kind, id, due_on) rows, oldest due first."""
    parts = []
    for name, qs in (
        ("claim", _claims(user, mine=mine, program_id=program_id, overdue=overdue)),
        ("proof", _proofs(user, mine=mine, program_id=program_id, overdue=overdue)),
    ):
        if kind and kind != name:
            continue
        if status:
            qs = qs.filter(status=status)
        rows = qs.select_related(None).annotate(kind=Value(name, output_field=CharField()))
        parts.append(rows.order_by("due_on", "pk").values_list("kind", "pk", "due_on"))
    return Queue(parts)


def items_of(user: User, rows: list[tuple[str, int, date | None]], today: date | None = None) -> list[QueueItem]:
    """The page's claims and proofs, read in one query each, in the queue's order."""
    today = today or timezone.localdate()
    claim_ids = [pk for kind, pk, _ in rows if kind == "claim"]
    proof_ids = [pk for kind, pk, _ in rows if kind == "proof"]
    found: dict[tuple[str, int], Claim | Proof] = {}
    if claim_ids:
        claims = claim_selectors.claims_visible_to(user).filter(pk__in=claim_ids).select_related("reviewer")
        found |= {("claim", c.pk): c for c in claims}
    if proof_ids:
        proofs = (
            plan_selectors.proofs_visible_to(user)
            .filter(pk__in=proof_ids)
            .select_related("reviewer", "location__organisation")
        )
        found |= {("proof", p.pk): p for p in proofs}
    ordered = [(kind, found[(kind, pk)]) for kind, pk, _ in rows if (kind, pk) in found]
    times = clocks([item for _, item in ordered], today)
    out = []
    for (kind, item), time in zip(ordered, times, strict=True):
        if isinstance(item, Claim):
            allowed = claim_permissions.can_review(user, item)
        else:
            allowed = plan_permissions.can_review_proof(user, item)
        out.append(QueueItem(kind, item, time, allowed))  # type: ignore[arg-type]
    return out
