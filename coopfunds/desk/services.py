"""Decisions on many items at once. Each item is decided by its own service in its own transaction, so each is
checked (transition, the reviewer's right and approval limit, caps, the fund's balance) and audited exactly as
a decision taken on its page; one refusal never undoes or blocks the others."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError

from coopfunds.accounts.models import User
from coopfunds.claims import services as claim_services
from coopfunds.claims.models import Claim
from coopfunds.core.errors import DomainError
from coopfunds.plans import proofs
from coopfunds.plans.models import Proof

MAX_ITEMS = 1000


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
            raise ValidationError({"items": f"Item {n} (“{key}”) is not a claim or proof reference, e.g. claim:12."})
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
    """Approve each (kind, id) in full, in the order given; the outcome of each. Items above the reviewer's
    approval limit get their first approval; items that cannot be approved say why."""
    if not items:
        raise ValidationError({"items": "Choose at least one claim or proof to approve."})
    if len(items) > MAX_ITEMS:
        raise ValidationError({"items": f"Approve at most {MAX_ITEMS:,} items at once; {len(items):,} were chosen."})
    if len(set(items)) != len(items):
        raise ValidationError({"items": "Each claim or proof can be chosen once."})
    out = []
    for kind, pk in items:
        try:
            if kind == "claim":
                done: Claim | Proof = claim_services.claim_approve(claim=Claim(pk=pk), actor=actor, note=note)
            else:
                done = proofs.proof_approve(proof=Proof(pk=pk), actor=actor, note=note)
        except (ValidationError, PermissionDenied, DomainError) as error:
            code, message = _refusal(error)
            out.append(Outcome(kind, pk, "refused", code, message))
            continue
        if done.status == "approved":
            out.append(Outcome(kind, pk, "approved", approved_amount=done.approved_amount))
        else:
            out.append(Outcome(kind, pk, "first_approval", message="A second reviewer must approve."))
    return out
