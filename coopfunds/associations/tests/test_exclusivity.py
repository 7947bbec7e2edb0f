"""One partner per (customer, workload) and per subscription: the database's constraints, the reviewer's
refusal in words, the flags each side sees, and the checks on the customer's tenant and domain."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from coopfunds.associations import selectors, services
from coopfunds.associations.models import Association, AssociationItem
from coopfunds.associations.tests.helpers import (
    OTHER_TENANT,
    SUBSCRIPTION,
    TENANT,
    approved,
    draft,
    state,
    submitted,
)
from coopfunds.core.errors import Conflict
from coopfunds.notifications.models import Notification

pytestmark = pytest.mark.django_db


def northwind(world, **kw):  # type: ignore[no-untyped-def]
    return submitted(world, location=world.other_location, actor=world.other_admin, colour="blue", **kw)


def test_the_database_holds_one_partner_per_customer_workload(world_a):
    berlin = approved(world_a, workloads=["teams"])
    oslo = northwind(world_a, workloads=["teams"])
    with pytest.raises(IntegrityError), transaction.atomic():
        AssociationItem.objects.filter(association=oslo).update(holds=True)
    assert list(AssociationItem.objects.filter(holds=True).values_list("association_id", flat=True)) == [berlin.pk]


def test_the_database_holds_one_partner_per_subscription(world_a):
    approved(world_a, workloads=[], subscription_ids=[SUBSCRIPTION])
    oslo = northwind(
        world_a,
        workloads=[],
        subscription_ids=[SUBSCRIPTION],
        customer_tenant_id=OTHER_TENANT,
        customer_domain="other.example",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        AssociationItem.objects.filter(association=oslo).update(holds=True)


def test_a_held_workload_cannot_be_approved_for_another_partner(world_a):
    berlin = approved(world_a)
    oslo = northwind(world_a, workloads=["teams", "defender"])
    before = state()
    with pytest.raises(Conflict) as error:
        services.association_approve(association=oslo, actor=world_a.reviewer)
    assert error.value.code == "already_associated"
    assert error.value.message == (
        f"Microsoft Teams is already associated with Fabrikam Berlin (FAB-001) (association {berlin.pk}). "
        "Reject this one, or the other must end first."
    )
    assert state() == before
    services.association_withdraw(association=berlin, actor=world_a.partner_admin)
    assert services.association_approve(association=oslo, actor=world_a.reviewer).status == "approved"


def test_other_workloads_or_other_tenants_do_not_compete(world_a):
    approved(world_a, workloads=["teams"])
    northwind(world_a, workloads=["defender"])
    northwind(world_a, workloads=["teams"], customer_tenant_id=OTHER_TENANT, customer_domain="other.example")
    assert [services.association_approve(association=a, actor=world_a.reviewer).status for a in _open()] == [
        "approved",
        "approved",
    ]


def _open():  # type: ignore[no-untyped-def]
    return list(Association.objects.filter(status="submitted").order_by("id"))


def test_competing_open_claims_are_flagged_in_each_side_s_words(world_a):
    berlin = submitted(world_a, workloads=["teams"])
    oslo = northwind(world_a, workloads=["teams"])
    assert selectors.flags_for(world_a.partner_admin, berlin) == [
        "Microsoft Teams: another partner claims it too; a reviewer decides on the proof."
    ]
    assert selectors.flags_for(world_a.reviewer, berlin) == [
        f"Microsoft Teams: also claimed by Northwind Oslo (NW-001) of Northwind, submitted 20 Nov 2026 "
        f"(association {oslo.pk}, submitted)."
    ]
    assert selectors.competition_counts([berlin, oslo]) == {berlin.pk: 1, oslo.pk: 1}
    services.association_approve(association=berlin, actor=world_a.reviewer)
    assert selectors.flags_for(world_a.other_admin, oslo) == [
        "Microsoft Teams: already associated with another partner."
    ]
    assert selectors.flags_for(world_a.auditor, oslo) == [
        f"Microsoft Teams: associated with Fabrikam Berlin (FAB-001) of Fabrikam since 20 Nov 2026 "
        f"(association {berlin.pk}, approved: customer consent window)."
    ]


def test_the_reviewer_is_told_of_competition_on_submission(world_a):
    submitted(world_a, workloads=["teams"])
    oslo = northwind(world_a, workloads=["teams"])
    body = Notification.objects.get(user=world_a.reviewer, subject__startswith=f"Association {oslo.pk} ").body
    assert body.endswith("It competes with 1 other claim(s) on the same customer.")


def test_the_same_partner_cannot_claim_a_subscription_twice(world_a):
    berlin = approved(world_a, workloads=[], subscription_ids=[SUBSCRIPTION])
    paris = draft(
        world_a, location=world_a.second_location, workloads=[], subscription_ids=[SUBSCRIPTION], colour="red"
    )
    assert selectors.flags_for(world_a.partner_admin, paris) == [
        f"Subscription {SUBSCRIPTION}: also claimed by your organisation's association {berlin.pk}."
    ]
    with pytest.raises(ValidationError) as error:
        services.association_submit(association=paris, actor=world_a.partner_admin)
    assert error.value.message_dict == {
        "subscription_ids": [
            f"Subscription {SUBSCRIPTION} is already claimed by your organisation's association {berlin.pk} "
            "(approved: customer consent window)."
        ]
    }


def test_a_domain_belongs_to_one_tenant(world_a):
    approved(world_a)
    oslo = draft(
        world_a,
        location=world_a.other_location,
        actor=world_a.other_admin,
        customer_tenant_id=OTHER_TENANT,
        workloads=["defender"],
    )
    with pytest.raises(ValidationError) as error:
        services.association_submit(association=oslo, actor=world_a.other_admin)
    assert error.value.message_dict == {
        "customer_domain": [
            "This domain belongs to another tenant ID. Check the tenant ID and the domain in the customer's admin "
            "centre."
        ]
    }
    services.association_update(
        association=oslo,
        actor=world_a.other_admin,
        customer_tenant_id=TENANT,
        customer_domain="contoso.onmicrosoft.com",
    )
    oslo = services.association_submit(association=oslo, actor=world_a.other_admin)
    assert oslo.status == "submitted"  # a tenant may have several domains


def test_a_race_between_two_approvals_is_caught_by_the_constraint(world_a, monkeypatch):
    """Two reviewers approve competing claims at the same moment: the second one's check saw nothing yet,
    and the database refuses the second holder."""
    berlin = approved(world_a, workloads=["teams"])
    oslo = northwind(world_a, workloads=["teams"])
    monkeypatch.setattr(services, "_holders", lambda association: [])
    before = state()
    with pytest.raises(Conflict) as error:
        services.association_approve(association=oslo, actor=world_a.reviewer)
    assert error.value.message == (
        "Another partner's association on the same customer was approved a moment ago; reload and decide again."
    )
    assert state() == before
    assert list(AssociationItem.objects.filter(holds=True).values_list("association_id", flat=True)) == [berlin.pk]


def test_a_customer_contact_outside_the_customer_s_domain_is_flagged(world_a):
    association = draft(world_a, customer_contact_email="friend@fabrikam.example")
    flag = (
        "The customer contact's email is not at contoso.com: the consent link should reach the customer, not a partner."
    )
    assert selectors.flags_for(world_a.partner_user, association) == [flag]
    assert selectors.flags_for(world_a.reviewer, association) == [flag]
    assert selectors.flags_for(world_a.reviewer, draft(world_a, customer_contact_email="it@eu.contoso.com")) == []
