"""Reviewers approve many proofs of one plan at once: the plan's limit is never spent twice (PostgreSQL: real
row locks, real concurrency)."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection
from django.db.models import Sum

from coopfunds.core.errors import DomainError
from coopfunds.funds.selectors import ledger_drift
from coopfunds.plans import proofs
from coopfunds.plans.models import Proof
from coopfunds.plans.tests.helpers import approved_plan, money, submitted_proof

D = Decimal
PROOFS = 6


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database with row locks")
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_never_spend_the_limit_twice(plans_world):
    world = plans_world
    plan = approved_plan(world)  # limit 5,000.00
    ids = [submitted_proof(world, plan, amount="1000.00", invoice=f"INV-{n}").pk for n in range(PROOFS)]
    barrier = threading.Barrier(PROOFS)
    errors: list[Exception] = []

    def reviewer(proof_id: int) -> None:
        barrier.wait()
        try:
            proofs.proof_approve(proof=Proof(pk=proof_id), actor=world.reviewer)
        except (DomainError, ValidationError, DatabaseError) as error:  # collected, asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=reviewer, args=(pk,)) for pk in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert Proof.objects.filter(status="approved").count() == PROOFS
    assert Proof.objects.aggregate(total=Sum("payable"))["total"] == D("5000.00")
    assert sorted(Proof.objects.values_list("payable", flat=True)) == [D("0.00")] + [D("1000.00")] * 5
    assert money(world.fund) == (D("7000.00"), D("0.00"), D("5000.00"))
    assert ledger_drift() == []
