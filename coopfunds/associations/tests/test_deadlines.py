"""The scheduled deadlines: the partner's answer (business days) and the customer's consent window (days),
the day before, the day itself and the day after; the jobs are idempotent."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from coopfunds.associations import services
from coopfunds.associations.models import Association
from coopfunds.associations.tasks import association_jobs, run_association_jobs
from coopfunds.associations.tests.helpers import approved, state, submitted
from coopfunds.audit.models import AuditEvent
from coopfunds.core.errors import Conflict
from coopfunds.notifications.models import Notification
from coopfunds.programs.models import Holiday

pytestmark = pytest.mark.django_db


def asked(world):  # type: ignore[no-untyped-def]
    """Asked on Friday 20 Nov 2026: the answer is due Friday 27 Nov (5 business days)."""
    return services.association_request_action(association=submitted(world), actor=world.reviewer, message="Sign it.")


@pytest.mark.parametrize(
    ("day", "rejected"), [(date(2026, 11, 26), 0), (date(2026, 11, 27), 0), (date(2026, 11, 28), 1)]
)
def test_no_answer_by_the_deadline_rejects(world_a, at, day, rejected):
    association = asked(world_a)
    assert association.action_due_on == date(2026, 11, 27)
    at(day)
    assert run_association_jobs() == {"rejected": rejected, "in_force": 0, "escalated": 0}
    association.refresh_from_db()
    if rejected:
        assert (association.status, association.rejection_reason) == ("rejected", "no_partner_response")
        assert (
            association.events.filter(kind="status").last().message == "No partner response. No answer by 27 Nov 2026."
        )
        assert AuditEvent.objects.filter(verb="association.rejected", actor=None).count() == 1
        assert Notification.objects.filter(user=world_a.partner_admin, subject__contains="rejected").count() == 1
    else:
        assert association.status == "action_required"


@pytest.mark.parametrize(
    ("day", "allowed"), [(date(2026, 11, 26), True), (date(2026, 11, 27), True), (date(2026, 11, 28), False)]
)
def test_the_partner_can_answer_until_the_deadline(world_a, at, day, allowed):
    association = asked(world_a)
    at(day)
    if allowed:
        assert services.association_submit(association=association, actor=world_a.partner_user).status == "submitted"
        return
    before = state()
    with pytest.raises(Conflict) as error:
        services.association_submit(association=association, actor=world_a.partner_user)
    assert error.value.message == "Your answer was due by 27 Nov 2026; the association is being rejected."
    assert state() == before


def test_program_holidays_move_the_partner_deadline(world_a):
    Holiday.objects.create(program=world_a.program, date=date(2026, 11, 25), name="Founders' day")
    assert asked(world_a).action_due_on == date(2026, 11, 30)


@pytest.mark.parametrize(
    ("day", "in_force"), [(date(2026, 11, 26), 0), (date(2026, 11, 27), 0), (date(2026, 11, 28), 1)]
)
def test_the_consent_window_closes_into_force(world_a, at, day, in_force):
    association = approved(world_a)
    assert association.consent_closes_on == date(2026, 11, 27)
    at(day)
    assert run_association_jobs() == {"rejected": 0, "in_force": in_force, "escalated": 0}
    association.refresh_from_db()
    if in_force:
        assert (association.status, association.in_force_from, association.consent_answer) == (
            "in_force",
            date(2026, 11, 20),
            "lapsed",
        )
        assert association.consent_nonce_hash == ""
    else:
        assert (association.status, association.in_force_from) == ("approved", None)


def test_the_jobs_are_idempotent(world_a, at):
    asked(world_a)
    approved(world_a, customer_domain="northwind-traders.com", workloads=["defender"])
    at(date(2026, 12, 1))
    assert run_association_jobs() == {"rejected": 1, "in_force": 1, "escalated": 0}
    before = state()
    assert run_association_jobs() == {"rejected": 0, "in_force": 0, "escalated": 0}
    assert state() == before


def test_the_command_and_the_task(world_a, at):
    approved(world_a)
    out = StringIO()
    call_command("association_jobs", "--today", "2026-11-27", stdout=out)
    assert out.getvalue() == "Rejected 0 association(s) without partner response; 0 association(s) now in force.\n"
    at(date(2026, 11, 28))
    result = association_jobs.enqueue()
    assert result.return_value == {"rejected": 0, "in_force": 1, "escalated": 0}
    assert Association.objects.get().status == "in_force"


def test_an_association_review_past_its_due_date_is_escalated_once(world_a, at):
    at(date(2026, 11, 20))
    association = submitted(world_a)  # Friday: due Tuesday 24 Nov (2 business days)
    assert association.due_on == date(2026, 11, 24)
    at(date(2026, 11, 24))
    assert run_association_jobs()["escalated"] == 0
    at(date(2026, 11, 25))
    assert run_association_jobs()["escalated"] == 1
    assert services.associations_escalate() == 0
    assert list(
        Notification.objects.filter(user=world_a.program_manager, kind="escalation").values_list("subject", flat=True)
    ) == [f"Review of association {association.pk} is overdue"]
