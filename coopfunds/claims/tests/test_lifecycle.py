import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from coopfunds.audit.models import AuditEvent
from coopfunds.claims import services
from coopfunds.claims.models import Claim, ClaimEvent, ClaimReason
from coopfunds.claims.services import Reason
from coopfunds.claims.tests.conftest import TODAY, ready_claim, set_limit
from coopfunds.core.errors import Conflict, NotFound
from coopfunds.funds.models import Transfer
from coopfunds.funds.selectors import balances, ledger_drift
from coopfunds.notifications.models import Notification

pytestmark = pytest.mark.django_db
D = Decimal
MISSING = [Reason(code="missing_proof_of_distribution", note="The screenshot does not show the ad.")]


def money(world):
    b = balances(world.fund)
    return (b.available, b.reserved, b.payable)


def submitted(world, **kw):
    return services.claim_submit(claim=ready_claim(world, **kw), actor=world.partner_admin)


def test_submit_reserves_the_amount_and_sets_the_review_due_date(claims_world):
    claim = submitted(claims_world)
    assert (claim.status, claim.reserved, claim.submissions) == ("submitted", D("1000.00"), 1)
    assert claim.due_on == date(2026, 11, 24)  # Friday 20 Nov + 2 business days
    assert money(claims_world) == (D("11000.00"), D("1000.00"), 0)
    assert Transfer.objects.filter(reference=f"claim:{claim.pk}", kind="reserve").count() == 1
    assert AuditEvent.objects.filter(verb="claim.submitted", target_id=str(claim.pk)).count() == 1
    assert (
        Notification.objects.filter(
            user=claims_world.reviewer, subject=f"Claim {claim.pk} to review: Autumn campaign"
        ).count()
        == 1
    )


def test_approval_makes_the_money_payable(claims_world):
    claim = submitted(claims_world)
    claim = services.claim_approve(claim=claim, actor=claims_world.reviewer)
    assert (claim.status, claim.approved_amount, claim.reserved) == ("approved", D("1000.00"), D("0"))
    assert money(claims_world) == (D("11000.00"), 0, D("1000.00"))
    assert ledger_drift() == []


def test_rejection_releases_and_a_dispute_reserves_again(claims_world):
    claim = submitted(claims_world)
    claim = services.claim_reject(claim=claim, actor=claims_world.reviewer, reasons=MISSING, message="Proof missing.")
    assert money(claims_world) == (D("12000.00"), 0, 0)
    assert ClaimReason.objects.get(event__claim=claim).note == "The screenshot does not show the ad."
    claim = services.claim_dispute(claim=claim, actor=claims_world.partner_admin, reason="The screenshot is on page 2.")
    assert (claim.status, claim.reserved, claim.due_on) == ("disputed", D("1000.00"), date(2026, 11, 27))
    assert money(claims_world) == (D("11000.00"), D("1000.00"), 0)
    claim = services.claim_approve(claim=claim, actor=claims_world.reviewer)
    assert money(claims_world) == (D("11000.00"), 0, D("1000.00"))


def test_action_required_keeps_the_money_and_a_resubmission_adjusts_it(claims_world):
    claim = submitted(claims_world)
    claim = services.claim_request_action(claim=claim, actor=claims_world.reviewer, reasons=MISSING)
    assert (claim.status, claim.reserved) == ("action_required", D("1000.00"))
    services.claim_update(claim=claim, actor=claims_world.partner_user, amount=D("800.00"))
    claim = services.claim_submit(claim=claim, actor=claims_world.partner_user)
    assert (claim.status, claim.reserved, claim.submissions) == ("submitted", D("800.00"), 2)
    assert money(claims_world) == (D("11200.00"), D("800.00"), 0)


def test_withdrawal_releases(claims_world):
    claim = submitted(claims_world)
    services.claim_withdraw(claim=claim, actor=claims_world.partner_user)
    assert money(claims_world) == (D("12000.00"), 0, 0)


def test_partial_approval_is_off_by_default_and_needs_a_reason(claims_world):
    claim = submitted(claims_world)
    with pytest.raises(ValidationError) as error:
        services.claim_approve(claim=claim, actor=claims_world.reviewer, amount=D("600.00"))
    assert error.value.message_dict == {"amount": ["Cloud Co-op approves claims in full or not at all."]}
    claims_world.program.partial_approval = True
    claims_world.program.save()
    with pytest.raises(ValidationError) as error:
        services.claim_approve(claim=claim, actor=claims_world.reviewer, amount=D("600.00"))
    assert error.value.message_dict == {"reasons": ["Say why only part of the claim is approved."]}
    claim = services.claim_approve(
        claim=claim, actor=claims_world.reviewer, amount=D("600.00"), note="Catering is not eligible."
    )
    assert (claim.status, claim.approved_amount) == ("approved", D("600.00"))
    assert money(claims_world) == (D("11400.00"), 0, D("600.00"))


def test_above_the_approval_limit_a_second_reviewer_approves(claims_world, world):
    from coopfunds.accounts.models import Role
    from coopfunds.testing.factories import RoleFactory, UserFactory

    second = UserFactory(email="sam.second@contoso.example", organisation=claims_world.vendor)
    RoleFactory(user=second, role=Role.REVIEWER)
    set_limit(claims_world.reviewer, claims_world.program, "500.00")
    claim = submitted(claims_world)
    claim = services.claim_approve(claim=claim, actor=claims_world.reviewer)
    assert (claim.status, claim.first_approver_id) == ("under_review", claims_world.reviewer.pk)
    with pytest.raises(Conflict, match=re.escape("A second reviewer must approve")):
        services.claim_approve(claim=claim, actor=claims_world.reviewer)
    claim = services.claim_approve(claim=claim, actor=second)
    assert claim.status == "approved"
    assert money(claims_world) == (D("11000.00"), 0, D("1000.00"))


def test_the_same_invoice_is_never_claimed_twice(claims_world):
    submitted(claims_world, invoice="INV-7")
    second = ready_claim(claims_world, invoice="inv 7", amount="10.00")
    with pytest.raises(ValidationError) as error:
        services.claim_submit(claim=second, actor=claims_world.partner_admin)
    assert error.value.message_dict["invoice_number"] == ["This invoice (vendor and number) has already been claimed."]
    assert money(claims_world) == (D("11000.00"), D("1000.00"), 0)


def test_rejected_invoice_may_be_claimed_again(claims_world):
    first = submitted(claims_world, invoice="INV-8")
    services.claim_reject(claim=first, actor=claims_world.reviewer, reasons=MISSING)
    again = ready_claim(claims_world, invoice="INV-8-b")
    services.claim_update(claim=again, actor=claims_world.partner_admin, invoice_number="INV-8")
    assert services.claim_submit(claim=again, actor=claims_world.partner_admin).status == "submitted"


def test_a_claim_is_editable_only_in_editing_and_action_required(claims_world):
    claim = submitted(claims_world)
    with pytest.raises(Conflict, match=re.escape("A claim that is submitted cannot be changed.")):
        services.claim_update(claim=claim, actor=claims_world.partner_admin, name="New name")
    assert Claim.objects.get(pk=claim.pk).name == "Autumn campaign"


def test_transitions_out_of_order_are_refused(claims_world):
    claim = submitted(claims_world)
    services.claim_approve(claim=claim, actor=claims_world.reviewer)
    with pytest.raises(Conflict, match=re.escape("A claim that is approved is not waiting for a decision.")):
        services.claim_reject(claim=claim, actor=claims_world.reviewer, reasons=MISSING)
    with pytest.raises(Conflict, match=re.escape("A claim that is approved cannot become disputed.")):
        services.claim_dispute(claim=claim, actor=claims_world.partner_admin, reason="x")


def test_dispute_window_closes(claims_world, time_machine):
    claim = submitted(claims_world)
    services.claim_reject(claim=claim, actor=claims_world.reviewer, reasons=MISSING)
    time_machine.move_to(TODAY + timedelta(days=31))
    with pytest.raises(Conflict, match=re.escape("The rejection could be disputed until 20 Dec 2026.")):
        services.claim_dispute(claim=claim, actor=claims_world.partner_admin, reason="Late")


def test_reasons_are_required_and_from_the_catalogue(claims_world):
    claim = submitted(claims_world)
    with pytest.raises(ValidationError) as error:
        services.claim_reject(claim=claim, actor=claims_world.reviewer, reasons=[])
    assert error.value.message_dict == {"reasons": ["Give at least one reason, so the partner knows what to change."]}
    with pytest.raises(ValidationError) as error:
        services.claim_reject(claim=claim, actor=claims_world.reviewer, reasons=[Reason(code="because")])
    assert error.value.message_dict == {"reasons": ["“because” is not a reason of this program's catalogue."]}
    assert Claim.objects.get(pk=claim.pk).status == "submitted"


PERSONAS = ["partner_admin", "partner_user", "other_admin", "program_manager", "reviewer", "finance", "auditor"]


def refusal(persona: str) -> type[Exception]:
    """Another partner's user may not even see the claim: for them it does not exist."""
    return NotFound if persona == "other_admin" else PermissionDenied


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_approve(claims_world, persona):
    claim = submitted(claims_world)
    before = (Transfer.objects.count(), ClaimEvent.objects.count())
    actor = getattr(claims_world, persona)
    if persona == "reviewer":
        assert services.claim_approve(claim=claim, actor=actor).status == "approved"
        return
    with pytest.raises(refusal(persona)):
        services.claim_approve(claim=claim, actor=actor)
    assert (Transfer.objects.count(), ClaimEvent.objects.count()) == before
    assert Claim.objects.get(pk=claim.pk).status == "submitted"


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_submit(claims_world, persona):
    claim = ready_claim(claims_world)
    before = (Transfer.objects.count(), ClaimEvent.objects.count())
    actor = getattr(claims_world, persona)
    if persona in ("partner_admin", "partner_user"):
        assert services.claim_submit(claim=claim, actor=actor).status == "submitted"
        return
    with pytest.raises(refusal(persona)):
        services.claim_submit(claim=claim, actor=actor)
    assert (Transfer.objects.count(), ClaimEvent.objects.count()) == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_dispute(claims_world, persona):
    claim = submitted(claims_world)
    services.claim_reject(claim=claim, actor=claims_world.reviewer, reasons=MISSING)
    before = (Transfer.objects.count(), ClaimEvent.objects.count())
    if persona == "partner_admin":
        assert services.claim_dispute(claim=claim, actor=claims_world.partner_admin, reason="x").status == "disputed"
        return
    with pytest.raises(refusal(persona)):
        services.claim_dispute(claim=claim, actor=getattr(claims_world, persona), reason="x")
    assert (Transfer.objects.count(), ClaimEvent.objects.count()) == before


def test_nobody_reviews_a_claim_of_their_own_organisation(claims_world):
    from coopfunds.accounts.models import Role
    from coopfunds.testing.factories import RoleFactory

    RoleFactory(user=claims_world.partner_user, role=Role.REVIEWER)  # a grant no service would give
    claim = submitted(claims_world)
    with pytest.raises(PermissionDenied):
        services.claim_approve(claim=claim, actor=claims_world.partner_user)
    assert Claim.objects.get(pk=claim.pk).status == "submitted"


def test_drafts_expire_after_a_warning(claims_world, time_machine):
    claim = ready_claim(claims_world)
    # 90 days from 20 Nov 2026 would be 18 Feb 2027, but FY27 H1's claiming window closes on 15 Feb 2027 first
    assert claim.expires_on == date(2027, 2, 15)
    time_machine.move_to(claim.expires_on - timedelta(days=7))
    assert services.drafts_expire() == {"warned": 1, "expired": 0}
    assert services.drafts_expire() == {"warned": 0, "expired": 0}
    time_machine.move_to(claim.expires_on + timedelta(days=1))
    assert services.drafts_expire() == {"warned": 0, "expired": 1}
    assert Claim.objects.get(pk=claim.pk).status == "expired"


def test_overdue_reviews_are_escalated_once(claims_world, time_machine):
    claim = submitted(claims_world)
    time_machine.move_to(date(2026, 11, 25))
    assert services.reviews_escalate() == 1
    assert services.reviews_escalate() == 0
    assert (
        Notification.objects.filter(
            user=claims_world.program_manager, subject=f"Review of claim {claim.pk} is overdue"
        ).count()
        == 1
    )
