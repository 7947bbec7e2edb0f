"""Decisions on many items at once. Each item is checked (transition, the reviewer's right and approval limit,
caps, the fund's balance) and audited exactly as a decision taken on its page, by the same service; one refusal
never undoes or blocks the others. Claims are approved CHUNK at a time (`claims_approve`: shared reads and
writes, one transaction per chunk; should a chunk fail as a whole, its claims are approved one by one so that
each failure is the claim's own); proofs one by one."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils.formats import number_format
from django.utils.translation import gettext

from coopfunds.accounts.models import User
from coopfunds.claims import services as claim_services
from coopfunds.claims.models import Claim
from coopfunds.core.errors import DomainError
from coopfunds.plans import proofs
from coopfunds.plans.models import Proof

MAX_ITEMS = 1000
CHUNK = 200


@dataclass(frozen=True)
class Outcome:
    kind: str
    id: int
    outcome: str  # approved | first_approval | refused
    code: str = ""
    message: str = ""
    approved_amount: Decimal | None = None


def parse_keys(keys: list[str]) -> list[tuple[str, int]]:
    """ "claim:12", "proof:7" -> [("claim", 12), ("proof", 7)]; ValidationError naming the first bad one."""
    out: list[tuple[str, int]] = []
    for n, key in enumerate(keys, start=1):
        kind, _, pk = key.partition(":")
        if kind not in ("claim", "proof") or not pk.isdigit():
            said = gettext("Item %(n)s (“%(key)s”) is not a claim or proof reference, e.g. claim:12.")
            raise ValidationError({"items": said % {"n": n, "key": key}})
        out.append((kind, int(pk)))
    return out


def _refusal(error: Exception) -> tuple[str, str]:
    if isinstance(error, ValidationError):
        return "invalid", " ".join(error.messages)
    if isinstance(error, PermissionDenied):
        return "forbidden", str(error)
    assert isinstance(error, DomainError)
    return error.code, error.message


def review_approve_many(*, items: list[tuple[str, int]], actor: User, note: str = "") -> list[Outcome]:
    """Approve each (kind, id) in full; the outcome of each, in the order given (claims are decided first, in their
    order, then proofs). Items above the reviewer's approval limit get their first approval; items that cannot
    be approved say why."""
    if not items:
        raise ValidationError({"items": gettext("Choose at least one claim or proof to approve.")})
    if len(items) > MAX_ITEMS:
        said = gettext("Approve at most %(max)s items at once; %(n)s were chosen.") % {
            "max": number_format(MAX_ITEMS, force_grouping=True),
            "n": number_format(len(items), force_grouping=True),
        }
        raise ValidationError({"items": said})
    if len(set(items)) != len(items):
        raise ValidationError({"items": gettext("Each claim or proof can be chosen once.")})
    outcomes: dict[tuple[str, int], Outcome] = {}
    claims = [pk for kind, pk in items if kind == "claim"]
    for at in range(0, len(claims), CHUNK):
        outcomes |= _claims(claims[at : at + CHUNK], actor, note)
    for kind, pk in items:
        if kind == "proof":
            try:
                done: Claim | Proof | Exception = proofs.proof_approve(proof=Proof(pk=pk), actor=actor, note=note)
            except (ValidationError, PermissionDenied, DomainError) as error:
                done = error
            outcomes[kind, pk] = _outcome(kind, pk, done)
    return [outcomes[item] for item in items]


def _claims(pks: list[int], actor: User, note: str) -> dict[tuple[str, int], Outcome]:
    approvals = [claim_services.Approval(pk) for pk in pks]
    try:
        with transaction.atomic(durable=True):
            done = claim_services.claims_approve(approvals=approvals, actor=actor, note=note)
    except (DatabaseError, DomainError):  # e.g. a deadlock with another reviewer's bulk: each on its own
        done = []
        for pk in pks:
            try:
                done.append(claim_services.claim_approve(claim=Claim(pk=pk), actor=actor, note=note))
            except (ValidationError, PermissionDenied, DomainError) as error:
                done.append(error)
    return {("claim", pk): _outcome("claim", pk, d) for pk, d in zip(pks, done, strict=True)}


def _outcome(kind: str, pk: int, done: Claim | Proof | Exception) -> Outcome:
    if isinstance(done, Exception):
        code, message = _refusal(done)
        return Outcome(kind, pk, "refused", code, message)
    if done.status == "approved":
        return Outcome(kind, pk, "approved", approved_amount=done.approved_amount)
    return Outcome(kind, pk, "first_approval", message=gettext("A second reviewer must approve."))
