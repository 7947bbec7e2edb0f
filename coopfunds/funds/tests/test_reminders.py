"""Reminders that reach people: co-op about to be forfeited, claiming windows closing, payments past their
deadline; each once, to the right people, in the inbox always and by email as each person chose."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import transaction

from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.models import Bucket, Fund
from coopfunds.funds.reminders import run_reminders
from coopfunds.funds.services import fund_approve, fund_pay, fund_reserve, period_close
from coopfunds.funds.tests.conftest import csv_file
from coopfunds.notifications.models import Notification
from coopfunds.notifications.services import digests_send, email_settings_update
from coopfunds.programs import services as program_services

pytestmark = pytest.mark.django_db

D = Decimal
NOTHING = {"expiry": 0, "window": 0, "payment_late": 0}


def at(time_machine, day: date) -> None:
    time_machine.move_to(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), tick=False)


@pytest.fixture
def books(enrolled, time_machine):
    """Berlin: 12,000.00 co-op earned Jan–Jun 2026, available in FY27 H1 (usage Jul–Dec 2026, claims 16 Aug 2026 –
    15 Feb 2027);
    Paris: 8,000.00 converted to rebate (under the 10,000.00 threshold)."""
    at(time_machine, date(2026, 6, 30))
    batch = earnings_import(
        stream=csv_file("2026-03-15,FAB-001,coop,30000.00,USD,,,,A-1", "2026-03-15,FAB-002,coop,20000.00,USD,,,,B-1"),
        file_name="h2.csv",
        actor=enrolled.finance,
    )
    assert batch.status == "applied"
    period_close(program=enrolled.program, today=date(2026, 7, 1))
    enrolled.fund = Fund.objects.get(location=enrolled.location)
    return enrolled


def inbox(user):
    return list(Notification.objects.filter(user=user).values_list("kind", "subject", "link"))


def test_co_op_about_to_be_forfeited_is_reminded_once_to_the_location_admins(
    books, time_machine, mailoutbox, django_capture_on_commit_callbacks
):
    at(time_machine, date(2026, 11, 30))  # 31 days before the end: not yet (30 days)
    assert run_reminders() == NOTHING
    at(time_machine, date(2026, 12, 1))
    with django_capture_on_commit_callbacks(execute=True):
        assert run_reminders() == {**NOTHING, "expiry": 1}
    subject = "12,000.00 USD of co-op is forfeited after 31 Dec 2026"
    assert inbox(books.partner_admin) == [("reminder", subject, f"/funds/{books.fund.pk}/")]
    assert inbox(books.partner_user) == []  # incentives admins are reminded, not users
    assert [(m.to, m.subject) for m in mailoutbox] == [(["ada.admin@fabrikam.example"], subject)]
    assert mailoutbox[0].body == (
        "Fabrikam Berlin (FAB-001) has 12,000.00 USD of FY27 H1 co-op available. What is not claimed by the end "
        f"of 31 Dec 2026 is forfeited.\n\nhttp://127.0.0.1:8000/funds/{books.fund.pk}/\n"
    )
    at(time_machine, date(2026, 12, 2))
    assert run_reminders() == NOTHING  # once
    assert len(inbox(books.partner_admin)) == 1


def test_no_expiry_reminder_when_the_program_sets_none(books, time_machine):
    program_services.program_update(program=books.program, actor=books.program_manager, expiry_reminder_days=0)
    at(time_machine, date(2026, 12, 20))
    assert run_reminders() == NOTHING


def test_claiming_window_closing_is_reminded_for_funds_with_co_op(books, time_machine):
    at(time_machine, date(2027, 1, 31))  # 15 Feb is 15 days away: not yet (14 days)
    assert run_reminders() == NOTHING
    at(time_machine, date(2027, 2, 1))
    counts = run_reminders()
    assert counts == {**NOTHING, "window": 1}  # Berlin's; Paris's co-op was converted to rebate
    assert inbox(books.partner_admin) == [
        ("reminder", "Claims for FY27 H1 close on 15 Feb 2027", f"/funds/{books.fund.pk}/")
    ]
    assert run_reminders() == NOTHING


def test_approved_money_not_paid_by_its_deadline_is_escalated_once(books, time_machine):
    at(time_machine, date(2026, 9, 2))  # a Wednesday: 45 business days later is Wednesday 4 Nov
    with transaction.atomic():
        fund_reserve(fund=books.fund, amount=D("5000.00"), key="r1", reference="claim:1", actor=None)
        fund_approve(fund=books.fund, amount=D("5000.00"), key="a1", reference="claim:1", actor=None)
    # the deadline is the rule of the approval's day: a shorter one written later does not move it
    at(time_machine, date(2026, 9, 3))
    program_services.program_update(program=books.program, actor=books.program_manager, payment_sla_business_days=5)
    at(time_machine, date(2026, 11, 4))
    assert run_reminders() == NOTHING
    at(time_machine, date(2026, 11, 5))
    assert run_reminders() == {**NOTHING, "payment_late": 1}
    subject = "Payment overdue: Fabrikam Berlin (FAB-001) FY27 H1, due 04 Nov 2026"
    for person in (books.finance, books.program_manager):
        assert inbox(person) == [("escalation", subject, f"/funds/{books.fund.pk}/")]
    assert inbox(books.reviewer) == []
    assert Notification.objects.get(user=books.finance).body == (
        "5,000.00 USD approved for Fabrikam Berlin (FAB-001) (FY27 H1) is not paid; the oldest of it was approved "
        "on 02 Sep 2026 and was due by 04 Nov 2026 (45 business days)."
    )
    assert run_reminders() == NOTHING
    # paid: nothing more; a new approval has its own deadline (now 5 business days)
    with transaction.atomic():
        fund_pay(fund=books.fund, bucket=Bucket.PAYABLE, amount=D("5000.00"), key="p1", reference="run:1", actor=None)
        fund_reserve(fund=books.fund, amount=D("100.00"), key="r2", reference="claim:2", actor=None)
        fund_approve(fund=books.fund, amount=D("100.00"), key="a2", reference="claim:2", actor=None)
    at(time_machine, date(2026, 11, 12))  # Thu 5 Nov + 5 business days = Thu 12 Nov
    assert run_reminders() == NOTHING
    at(time_machine, date(2026, 11, 13))
    assert run_reminders() == {**NOTHING, "payment_late": 1}


def test_each_person_chooses_which_reminders_are_emailed_and_the_inbox_keeps_them_all(
    books, time_machine, mailoutbox, django_capture_on_commit_callbacks
):
    email_settings_update(user=books.partner_admin, muted=["reminder"], weekly_digest=False)
    at(time_machine, date(2026, 12, 1))
    with django_capture_on_commit_callbacks(execute=True):
        assert run_reminders()["expiry"] == 1
    assert len(inbox(books.partner_admin)) == 1
    assert mailoutbox == []


def test_a_weekly_digest_gathers_what_was_not_emailed(
    books, time_machine, mailoutbox, django_capture_on_commit_callbacks
):
    email_settings_update(user=books.partner_admin, muted=[], weekly_digest=True)
    at(time_machine, date(2026, 12, 1))
    with django_capture_on_commit_callbacks(execute=True):
        run_reminders()
    assert mailoutbox == []  # held for the digest
    with django_capture_on_commit_callbacks(execute=True):
        assert digests_send(today=date(2026, 12, 2)) == 1
        assert digests_send(today=date(2026, 12, 8)) == 0  # a week has not passed, and nothing new
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["ada.admin@fabrikam.example"], "Coopfunds: your week, 1 notification(s)")
    ]
    assert mailoutbox[0].body == (
        "Since your last digest:\n\n- 12,000.00 USD of co-op is forfeited after 31 Dec 2026: "
        f"http://127.0.0.1:8000/funds/{books.fund.pk}/\n\nhttp://127.0.0.1:8000/notifications/\n"
    )
