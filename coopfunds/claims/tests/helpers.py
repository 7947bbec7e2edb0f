"""Helpers of the claims interface tests (web pages, console, API)."""

from coopfunds.claims import services
from coopfunds.claims.models import Claim, ClaimDocument, ClaimEvent
from coopfunds.claims.services import Reason
from coopfunds.claims.tests.conftest import ready_claim
from coopfunds.documents.models import Document
from coopfunds.funds.models import Transfer

PARTNERS = {"partner_admin", "partner_user"}  # Fabrikam Berlin's people
VENDOR = {"program_manager", "reviewer", "finance", "auditor"}
MISSING = [Reason(code="missing_proof_of_distribution", note="The screenshot does not show the ad.")]


def submitted(world, **kw) -> Claim:  # type: ignore[no-untyped-def]
    return services.claim_submit(claim=ready_claim(world, **kw), actor=kw.get("actor") or world.partner_admin)


def rejected(world, **kw) -> Claim:  # type: ignore[no-untyped-def]
    return services.claim_reject(claim=submitted(world, **kw), actor=world.reviewer, reasons=MISSING, message="No.")


def state() -> tuple:
    """Everything an action may change: claims and their fields, money, history, documents."""
    return (
        list(Claim.objects.order_by("id").values_list("id", "status", "name", "amount", "reviewer_id")),
        Transfer.objects.count(),
        ClaimEvent.objects.count(),
        ClaimDocument.objects.filter(removed_at__isnull=True).count(),
        Document.objects.count(),
    )


def expected(persona: str, *, allowed: set[str], visible: set[str], ok: int, anonymous: int = 302) -> int:
    """The status an action answers: sign-in for the anonymous, 404 if unseen, `ok` if allowed, else 403."""
    if persona == "anonymous":
        return anonymous
    if persona not in visible:
        return 404
    return ok if persona in allowed else 403
