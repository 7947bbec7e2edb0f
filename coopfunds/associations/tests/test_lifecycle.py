"""Every transition of an association: what it changes, the history and audit rows, who is told."""

from datetime import date

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from coopfunds.associations import services
from coopfunds.associations.models import Association, AssociationEvent, AssociationItem
from coopfunds.associations.tests.helpers import (
    DOMAIN,
    SUBSCRIPTION,
    TENANT,
    approved,
    draft,
    fields,
    pdf,
    rejected,
    submitted,
)
from coopfunds.audit.models import AuditEvent
from coopfunds.core.errors import Conflict
from coopfunds.documents.models import Document
from coopfunds.notifications.models import Notification

pytestmark = pytest.mark.django_db


def verbs(association: Association) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type="associations.association", target_id=str(association.pk))
        .order_by("id")
        .values_list("verb", flat=True)
    )


def items(association: Association) -> list[tuple[str, str, bool]]:
    return list(AssociationItem.objects.filter(association=association).values_list("kind", "value", "holds"))


def test_create_normalises_and_stores_the_proof(world_a):
    association = draft(
        world_a,
        customer_tenant_id="{72F988BF-86F1-41AF-91AB-2D7CD011DB47}",
        customer_domain=" Contoso.COM. ",
        subscription_ids=[SUBSCRIPTION.upper(), SUBSCRIPTION],
        customer_contact_email="Carla@Contoso.com",
    )
    assert (association.status, association.customer_tenant_id, association.customer_domain) == (
        "editing",
        TENANT,
        DOMAIN,
    )
    assert association.customer_contact_email == "carla@contoso.com"
    assert items(association) == [
        ("subscription", SUBSCRIPTION, False),
        ("workload", "exchange-online", False),
        ("workload", "teams", False),
    ]
    proof = association.proof
    assert (proof.kind, proof.note, proof.location_id, proof.is_locked) == (
        "proof",
        "Statement of work signed by the customer.",
        world_a.location.pk,
        False,
    )
    assert verbs(association) == ["association.create"]
    assert list(association.events.values_list("kind", "message")) == [("created", "Started for Contoso Ltd.")]


def test_bad_input_comes_back_by_field(world_a):
    with pytest.raises(ValidationError) as error:
        services.association_create(
            location=world_a.location,
            program=world_a.program,
            actor=world_a.partner_admin,
            **fields(
                customer_name=" ",
                customer_tenant_id="not-a-guid",
                customer_domain="contoso",
                solution_area="moon",
                workloads=["exchange-online", "fax"],
                subscription_ids=["abc"],
                customer_contact_email="carla(at)contoso",
            ),
        )
    assert error.value.message_dict == {
        "customer_name": ["Give the customer's name."],
        "customer_tenant_id": ["“not-a-guid” is not a tenant ID: it looks like 72f988bf-86f1-41af-91ab-2d7cd011db47."],
        "customer_domain": ["“contoso” is not a domain name such as contoso.com."],
        "solution_area": ["“moon” is not a solution area of Cloud Co-op."],
        "workloads": ["fax: not a workload of Cloud Co-op."],
        "subscription_ids": [
            "Not a subscription ID: abc. A subscription ID looks like 72f988bf-86f1-41af-91ab-2d7cd011db47."
        ],
        "customer_contact_email": ["“carla(at)contoso” is not an email address."],
    }
    assert Association.objects.count() == 0


def test_a_location_must_be_enrolled(world_a):
    world_a.location.enrollments.update(status="inactive")
    with pytest.raises(ValidationError) as error:
        draft(world_a)
    assert error.value.message_dict == {"program": ["Fabrikam Berlin is not enrolled in Cloud Co-op."]}


def test_a_refused_proof_keeps_nothing(world_a):
    with pytest.raises(ValidationError) as error:
        services.association_create(
            location=world_a.location,
            program=world_a.program,
            actor=world_a.partner_admin,
            proof=pdf(),
            proof_note="",
            **fields(),
        )
    assert error.value.message_dict == {"proof_note": ["Add a note that explains what this proof document shows."]}
    assert (Association.objects.count(), Document.objects.count()) == (0, 0)


def test_update_changes_fields_and_items_and_says_what(world_a):
    association = draft(world_a)
    services.association_update(
        association=association,
        actor=world_a.partner_user,
        workloads=["teams"],
        subscription_ids=[SUBSCRIPTION],
        comments=" Since 2024. ",
    )
    association.refresh_from_db()
    assert association.comments == "Since 2024."
    assert items(association) == [("subscription", SUBSCRIPTION, False), ("workload", "teams", False)]
    assert association.events.last().message == "Changed workloads, subscription ids, comments."
    event = AuditEvent.objects.get(verb="association.update")
    assert event.changes == {
        "comments": ["", "Since 2024."],
        "workloads": ["exchange-online, teams", "teams"],
        "subscription_ids": ["", SUBSCRIPTION],
    }


def test_submit_locks_the_proof_sets_the_review_clock_and_tells_reviewers(world_a):
    association = submitted(world_a)
    assert (association.status, association.submissions, association.due_on) == ("submitted", 1, date(2026, 11, 24))
    assert association.submitted_by == world_a.partner_admin
    proof = Document.objects.get(pk=association.proof_id)
    assert (proof.is_locked, proof.retain_until) == (True, date(2028, 11, 20))
    assert verbs(association) == ["association.create", "association.submitted"]
    assert list(Notification.objects.filter(user=world_a.reviewer).values_list("subject", "body")) == [
        (
            f"Association {association.pk} to review: Contoso Ltd",
            "Fabrikam Berlin (FAB-001) claims to be partner of record for contoso.com. Review due 24 Nov 2026.",
        )
    ]


def test_submit_says_everything_that_is_missing(world_a):
    association = services.association_create(
        location=world_a.location,
        program=world_a.program,
        actor=world_a.partner_user,
        customer_name="Contoso Ltd",
        customer_tenant_id=TENANT,
        customer_domain=DOMAIN,
    )
    with pytest.raises(ValidationError) as error:
        services.association_submit(association=association, actor=world_a.partner_user)
    assert error.value.message_dict == {
        "customer_contact_name": ["Name the customer's contact, who confirms or declines the association."],
        "customer_contact_email": ["Give the customer contact's email: the consent link goes there."],
        "partner_contact_name": ["Name your contact for this customer."],
        "partner_contact_email": ["Give your contact's email."],
        "solution_area": ["Choose the solution area."],
        "partner_role": ["Choose your role for this customer."],
        "workloads": ["Claim at least one workload or subscription."],
        "proof": ["Attach the proof, e.g. a statement of work signed by the customer."],
    }
    association.refresh_from_db()
    assert association.status == "editing"


def test_taking_starts_the_review(world_a):
    association = services.association_take(association=submitted(world_a), actor=world_a.reviewer)
    assert (association.status, association.reviewer) == ("under_review", world_a.reviewer)
    assert association.review_started_at is not None


def test_approval_holds_the_items_and_emails_the_customer_a_link(world_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        association = approved(world_a)
    assert (association.status, association.approved_on, association.consent_closes_on) == (
        "approved",
        date(2026, 11, 20),
        date(2026, 11, 27),
    )
    assert [h for _, _, h in items(association)] == [True, True]
    assert len(association.consent_nonce_hash) == 64
    customer = [m for m in mail.outbox if m.to == ["carla@contoso.com"]]
    assert len(customer) == 1
    assert customer[0].subject == "Please confirm your partner of record: Fabrikam"
    body = customer[0].body
    assert "Fabrikam says it is the partner of record for Contoso Ltd (contoso.com)" in body
    assert "for: Exchange Online, Microsoft Teams." in body
    assert "open this link by 27 Nov 2026; it works once:\n\nhttp://127.0.0.1:8000/consent/" in body
    assert verbs(association)[-2:] == ["association.under_review", "association.approved"]
    token_events = AuditEvent.objects.filter(changes__icontains=association.consent_nonce_hash)
    assert token_events.count() == 0  # no secret in the audit
    assert Notification.objects.filter(user=world_a.partner_admin, subject__contains="approved").count() == 1


def test_request_action_gives_the_partner_business_days_and_the_answer_goes_back_to_review(world_a):
    association = services.association_request_action(
        association=submitted(world_a), actor=world_a.reviewer, message=" The SOW is not signed. "
    )
    assert (association.status, association.action_due_on, association.decision_note) == (
        "action_required",
        date(2026, 11, 27),
        "The SOW is not signed.",
    )
    body = Notification.objects.get(user=world_a.partner_admin, subject__contains="needs your answer").body
    assert body == (
        "The SOW is not signed. Answer by 27 Nov 2026, or the association is rejected (reason: no partner response)."
    )
    services.association_attach_proof(
        association=association,
        upload=pdf("signed.pdf", colour="green"),
        note="Signed SOW.",
        actor=world_a.partner_user,
    )
    association = services.association_submit(association=association, actor=world_a.partner_user)
    assert (association.status, association.submissions, association.action_due_on) == ("submitted", 2, None)
    assert association.events.filter(kind="status").last().message == "Answer sent; back to review."


def test_a_new_proof_replaces_an_unsubmitted_one_and_keeps_a_submitted_one(world_a):
    association = draft(world_a)
    first = association.proof_id
    association = services.association_attach_proof(
        association=association, upload=pdf("signed.pdf", colour="green"), note="Signed.", actor=world_a.partner_admin
    )
    assert not Document.objects.filter(pk=first).exists()  # never submitted: deleted
    services.association_submit(association=association, actor=world_a.partner_admin)
    association = services.association_request_action(association=association, actor=world_a.reviewer, message="More.")
    second = association.proof_id
    services.association_attach_proof(
        association=association,
        upload=pdf("third.pdf", colour="red"),
        note="Both signatures.",
        actor=world_a.partner_admin,
    )
    assert Document.objects.get(pk=second).is_locked  # submitted: kept


def test_reject_with_a_reason_of_the_catalogue(world_a):
    association = rejected(world_a)
    assert (association.status, association.rejection_reason, association.decision_note) == (
        "rejected",
        "insufficient_proof",
        "Unsigned.",
    )
    assert [h for _, _, h in items(association)] == [False, False]
    event = association.events.filter(kind="status").last()
    assert (event.message, event.reason) == ("Insufficient proof. Unsigned.", "insufficient_proof")
    body = Notification.objects.get(user=world_a.partner_admin, subject__contains="rejected").body
    assert body == "Reason: Insufficient proof. Unsigned. You can dispute the rejection until 20 Dec 2026."


def test_a_reviewer_cannot_give_the_partner_or_customer_reasons(world_a):
    association = submitted(world_a)
    with pytest.raises(ValidationError) as error:
        services.association_reject(association=association, actor=world_a.reviewer, reason="customer_decline")
    assert error.value.message_dict == {
        "reason": [
            "Choose a reason: insufficient_proof (insufficient proof), already_associated (already associated "
            "with another partner), customer_mismatch (customer details do not match)."
        ]
    }
    association.refresh_from_db()
    assert association.status == "submitted"


def test_dispute_within_the_window_then_a_new_decision(world_a, at):
    association = rejected(world_a)
    at(date(2026, 12, 20))
    association = services.association_dispute(
        association=association, actor=world_a.partner_admin, reason=" It is signed on page 3. "
    )
    assert (association.status, association.due_on) == ("disputed", date(2026, 12, 25))
    association = services.association_approve(association=association, actor=world_a.reviewer, note="Found it.")
    assert (association.status, association.rejection_reason, association.consent_closes_on) == (
        "approved",
        "",
        date(2026, 12, 27),
    )


@pytest.mark.parametrize(
    ("day", "allowed"), [(date(2026, 12, 19), True), (date(2026, 12, 20), True), (date(2026, 12, 21), False)]
)
def test_the_dispute_window_is_thirty_days(world_a, at, day, allowed):
    association = rejected(world_a)
    at(day)
    if allowed:
        assert (
            services.association_dispute(association=association, actor=world_a.partner_admin, reason="No.").status
            == "disputed"
        )
        return
    with pytest.raises(Conflict) as error:
        services.association_dispute(association=association, actor=world_a.partner_admin, reason="No.")
    assert error.value.message == "The rejection could be disputed until 20 Dec 2026; start a new association instead."
    association.refresh_from_db()
    assert association.status == "rejected"


def test_withdrawal_is_a_partner_request_and_cannot_be_disputed(world_a):
    association = approved(world_a)
    association = services.association_withdraw(association=association, actor=world_a.partner_user, note="Lost it.")
    assert (association.status, association.rejection_reason, association.consent_nonce_hash) == (
        "rejected",
        "partner_request",
        "",
    )
    assert [h for _, _, h in items(association)] == [False, False]
    with pytest.raises(Conflict) as error:
        services.association_dispute(association=association, actor=world_a.partner_admin, reason="Oops.")
    assert error.value.code == "not_disputable"


def test_revoking_an_association_in_force_ends_its_period(world_a, at):
    association = approved(world_a)
    at(date(2026, 11, 28))
    services.consent_windows_close()
    at(date(2026, 12, 3))
    association.refresh_from_db()
    with pytest.raises(ValidationError) as error:
        services.association_reject(association=association, actor=world_a.reviewer, reason="insufficient_proof")
    assert error.value.message_dict == {"note": ["Say why an approved association is revoked."]}
    association = services.association_reject(
        association=association, actor=world_a.reviewer, reason="customer_mismatch", note="Wrong tenant."
    )
    assert (association.status, association.in_force_from, association.in_force_until) == (
        "rejected",
        date(2026, 11, 20),
        date(2026, 12, 3),
    )


def test_transitions_out_of_order_are_conflicts(world_a):
    association = draft(world_a)
    with pytest.raises(Conflict) as error:
        services.association_approve(association=association, actor=world_a.reviewer)
    assert error.value.message == "An association that is editing is not waiting for a decision."
    association = approved(world_a, customer_domain="fabrikam-customer.com", workloads=["defender"])
    with pytest.raises(Conflict) as error:
        services.association_submit(association=association, actor=world_a.partner_admin)
    assert error.value.message == "An association that is approved: customer consent window cannot be submitted."


def test_comments_and_internal_notes(world_a):
    association = submitted(world_a)
    services.association_comment(association=association, actor=world_a.partner_user, message="Call me.")
    services.association_comment(association=association, actor=world_a.auditor, message="Odd.", internal=True)
    kinds = list(
        AssociationEvent.objects.filter(association=association, kind__in=["comment", "note"]).values_list(
            "kind", "internal"
        )
    )
    assert kinds == [("comment", False), ("note", True)]
    with pytest.raises(ValidationError) as error:
        services.association_comment(association=association, actor=world_a.reviewer, message="  ")
    assert error.value.message_dict == {"message": ["Write a comment."]}
