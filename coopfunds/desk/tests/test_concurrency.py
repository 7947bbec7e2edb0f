"""Bulk decisions at the same moment (PostgreSQL: real row locks, real concurrency): two reviewers approving the
same claims in bulk approve each once, whatever order each chose."""

from decimal import Decimal

import pytest
from django.db import connection

from coopfunds.accounts.models import Role, RoleAssignment, User
from coopfunds.claims import services
from coopfunds.claims.models import Claim
from coopfunds.claims.tests.conftest import ready_claim
from coopfunds.desk import services as desk
from coopfunds.funds.models import Transfer
from coopfunds.funds.selectors import balances, ledger_drift
from coopfunds.testing.concurrency import at_once

D = Decimal


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database with concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approving_the_same_claims_in_bulk_approve_each_once(plans_world):
    world = plans_world
    other = User.objects.create_user("rex.reviewer@contoso.example", organisation=world.vendor, full_name="Rex")
    RoleAssignment.objects.create(user=other, role=Role.REVIEWER)
    claims = [
        services.claim_submit(
            claim=ready_claim(world, amount="1000.00", invoice=f"INV-{n}-{side}", fund=fund, actor=admin), actor=admin
        )
        for n in range(4)
        for side, fund, admin in (("b", world.fund, world.partner_admin), ("n", world.other_fund, world.other_admin))
    ]
    keys = [("claim", c.pk) for c in claims]
    answers: dict[str, list] = {}
    errors = at_once(
        [
            lambda: answers.__setitem__("rita", desk.review_approve_many(items=keys, actor=world.reviewer)),
            lambda: answers.__setitem__("rex", desk.review_approve_many(items=keys[::-1], actor=other)),
        ]
    )
    assert errors == []
    outcomes = {(o.id, who, o.outcome, o.code) for who, done in answers.items() for o in done}
    for c in claims:
        mine = sorted((outcome, code) for pk, _, outcome, code in outcomes if pk == c.pk)
        assert mine == [("approved", ""), ("refused", "invalid_transition")]
        assert Transfer.objects.filter(reference=c.reference, kind="approve").count() == 1
    assert set(Claim.objects.values_list("status", flat=True)) == {"approved"}
    for fund in (world.fund, world.other_fund):
        b = balances(fund)
        assert (b.reserved, b.payable) == (D("0.00"), D("4000.00"))
    assert ledger_drift() == []
