"""Fund requests: the vendor's share to the cent, the lead time, the review, the reservation in the allocation
(or the pool), the deadline run that returns unclaimed money; refusals in words, changing nothing."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from coopfunds.audit.models import AuditEvent
from coopfunds.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from coopfunds.funds import budgets
from coopfunds.funds.models import Account, Allocation, Entry, Transfer
from coopfunds.funds.selectors import ledger_drift, unbalanced_transfers
from coopfunds.mdf import selectors, services
from coopfunds.mdf.models import ExpenseLine, FundRequest
from coopfunds.mdf.services import Line, vendor_share
from coopfunds.mdf.tests.conftest import TODAY, approved, draft, submitted
from coopfunds.notifications.models import Notification
from coopfunds.programs import services as program_services
from coopfunds.testing.concurrency import at_once

pytestmark = pytest.mark.django_db
D = Decimal


def held(world, location=None):  # type: ignore[no-untyped-def]
    """(allocated unused, reserved) of the location's allocation of the budget."""
    allocation = Allocation.objects.get(budget=world.budget, location=location or world.location)
    return (
        budgets.allocation_account(allocation).balance,
        budgets.allocation_account(allocation, budgets.Bucket.RESERVED).balance,
    )


def state():  # type: ignore[no-untyped-def]
    return (
        list(FundRequest.objects.values_list("status", "requested", "reserved", "approved_amount").order_by("pk")),
        ExpenseLine.objects.count(),
        Transfer.objects.count(),
        sorted(Account.objects.values_list("bucket", "balance")),
        AuditEvent.objects.count(),
    )


def assert_ledger_clean():  # type: ignore[no-untyped-def]
    assert ledger_drift() == []
    assert unbalanced_transfers() == []


# --- the vendor's share ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "percent", "share"),
    [
        ("2000.00", "50", "1000.00"),
        ("0.01", "50", "0.01"),  # 0.005 rounds half up
        ("0.03", "50", "0.02"),  # 0.015
        ("100.01", "33.33", "33.33"),  # 33.333333
        ("999.99", "12.5", "125.00"),  # 124.99875
        ("1234.56", "100", "1234.56"),
        ("1234.56", "0", "0.00"),
        ("9999999999999999.99", "99.99", "9998999999999999.99"),
    ],
)
def test_the_vendors_share_is_rounded_once_to_the_cent(total, percent, share):
    assert vendor_share(D(total), D(percent)) == D(share)


@given(
    cents=st.integers(min_value=1, max_value=10**12),
    basis_points=st.integers(min_value=0, max_value=10000),
)
def test_the_vendors_share_is_never_more_than_the_cost_nor_off_by_half_a_cent(cents, basis_points):
    total, percent = D(cents) / 100, D(basis_points) / 100
    share = vendor_share(total, percent)
    assert 0 <= share <= total
    assert abs(share - total * percent / 100) <= D("0.005")
    assert share == share.quantize(D("0.01"))


def test_a_draft_adds_its_lines_and_takes_the_programs_share(mdf_world):
    request = draft(
        mdf_world,
        lines=[
            Line("event", "Venue", D("333.33")),
            Line("catering", "Lunch", D("333.33")),
            Line("advertising", "Invitations", D("333.35")),
        ],
    )
    assert (request.status, request.total_cost, request.cost_share_percent, request.requested) == (
        "editing",
        D("1000.01"),
        D("50"),
        D("500.01"),  # 500.005 half up
    )
    assert [(line.category, line.amount) for line in selectors.lines_of(request)] == [
        ("event", D("333.33")),
        ("catering", D("333.33")),
        ("advertising", D("333.35")),
    ]
    assert request.currency == "USD"
    assert Transfer.objects.filter(reference=request.reference).count() == 0  # a draft holds no money


def test_the_activity_types_share_comes_before_the_programs(mdf_world):
    activity = mdf_world.activity()
    program_services.activity_type_update(
        activity_type=activity, actor=mdf_world.program_manager, cost_share_percent=D("75")
    )
    request = draft(mdf_world)
    assert (request.cost_share_percent, request.requested) == (D("75.00"), D("1500.00"))


def test_submission_takes_the_share_in_force_then(mdf_world):
    request = draft(mdf_world)
    program_services.program_update(
        program=mdf_world.program,
        actor=mdf_world.program_manager,
        request_cost_share_percent=D("40"),
        reason="Tighter H2",
    )
    request = services.request_submit(request=request, actor=mdf_world.partner_admin)
    assert (request.status, request.cost_share_percent, request.requested) == ("submitted", D("40"), D("800.00"))
    assert request.due_on == date(2026, 11, 24)  # two business days after Friday 20 Nov
    subjects = set(Notification.objects.filter(user=mdf_world.reviewer).values_list("subject", flat=True))
    assert subjects == {f"Fund request {request.pk} to review: Cloud security seminar"}


# --- what a request may say -------------------------------------------------------------------------------------


def test_every_problem_is_named_at_once_with_its_line_and_nothing_is_saved(mdf_world):
    before = state()
    with pytest.raises(ValidationError) as refused:
        draft(
            mdf_world,
            name="  ",
            starts_on=date(2027, 7, 1),
            ends_on=date(2027, 7, 2),
            expected_leads=-1,
            lines=[
                Line("event", "Venue", D("100.00")),
                Line("yacht", "Boat trip", D("50.00")),
                Line("catering", "  ", D("0")),
            ],
        )
    assert refused.value.message_dict == {
        "name": ["Give the activity a name."],
        "starts_on": ["The budget is for activities from 01 Jan 2027 to 30 Jun 2027."],
        "expected_leads": ["Leads are a whole number from 0 up."],
        "lines": [
            "Line 2: choose an expense category. Line 3: say what the cost is for. Line 3: give an amount above zero."
        ],
    }
    assert state() == before


def test_a_category_the_activity_type_does_not_fund_is_refused(mdf_world):
    program_services.activity_type_update(
        activity_type=mdf_world.activity(), actor=mdf_world.program_manager, expense_categories=["event", "catering"]
    )
    with pytest.raises(ValidationError) as refused:
        draft(mdf_world, lines=[Line("event", "Venue", D("100.00")), Line("travel", "Flights", D("900.00"))])
    assert refused.value.message_dict == {
        "lines": ["Line 2: “Travel” costs are not funded for Seminars and boot camps."]
    }


def test_the_location_must_be_enrolled_and_in_the_budgets_region(mdf_world):
    regional = budgets.budget_create(
        program=mdf_world.program,
        name="DACH",
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 6, 30),
        total=D("1000.00"),
        countries=["DE", "AT", "CH"],
        actor=mdf_world.program_manager,
    )
    mdf_world.budget = regional
    with pytest.raises(ValidationError) as refused:
        draft(mdf_world, location=mdf_world.second_location)
    assert refused.value.message_dict == {"location": ["FAB-002 is in FR; this budget is for DE, AT, CH."]}


def test_the_lead_time_is_the_programs_rule(mdf_world, time_machine):
    time_machine.move_to(date(2026, 12, 21))
    request = draft(mdf_world, starts_on=date(2027, 1, 3), ends_on=date(2027, 1, 3))
    assert request.status == "editing"  # the budget's period is checked on filing; the lead time on submission
    before = state()
    with pytest.raises(ValidationError) as refused:
        services.request_submit(request=request, actor=mdf_world.partner_admin)
    assert refused.value.message_dict["starts_on"] == [
        "Cloud Co-op asks for fund requests 14 days before the activity starts: this one can start on "
        "04 Jan 2027 at the earliest."
    ]
    assert state() == before


def test_a_request_without_costs_cannot_be_submitted(mdf_world):
    request = draft(mdf_world, lines=[])
    with pytest.raises(ValidationError) as refused:
        services.request_submit(request=request, actor=mdf_world.partner_admin)
    assert refused.value.message_dict == {"lines": ["List the activity's expected costs."]}


# --- review and money -------------------------------------------------------------------------------------------


def test_approval_reserves_the_share_in_the_allocation_and_sets_the_deadline(mdf_world):
    request = submitted(mdf_world)
    services.request_assign(request=request, reviewer=mdf_world.reviewer, actor=mdf_world.reviewer)
    request = services.request_approve(request=request, actor=mdf_world.reviewer)
    assert (request.status, request.approved_amount, request.reserved) == ("approved", D("1000.00"), D("1000.00"))
    assert request.claim_by == date(2027, 4, 3)  # 60 days after 2 Feb 2027
    assert request.allocation_id == mdf_world.allocation.pk
    assert held(mdf_world) == (D("9000.00"), D("1000.00"))
    (transfer,) = Transfer.objects.filter(reference=request.reference)
    assert transfer.kind == "reserve"
    assert sorted((e.account.bucket, e.amount) for e in transfer.entries.all()) == [
        ("allocated", D("-1000.00")),
        ("reserved", D("1000.00")),
    ]
    f = budgets.figures(mdf_world.budget)
    assert (f.total, f.unallocated, f.allocated, f.reserved) == (
        D("50000.00"),
        D("40000.00"),
        D("9000.00"),
        D("1000.00"),
    )
    assert [(e.old_status, e.new_status) for e in selectors.history_of(request, mdf_world.reviewer)] == [
        ("", ""),
        ("editing", "submitted"),
        ("submitted", "under_review"),
        ("under_review", "approved"),
    ]
    subjects = set(Notification.objects.filter(user=mdf_world.partner_admin).values_list("subject", flat=True))
    assert f"Fund request {request.pk} approved: Cloud security seminar" in subjects
    assert_ledger_clean()


def test_a_location_without_an_allocation_is_given_one_from_the_pool(mdf_world):
    request = approved(mdf_world, location=mdf_world.second_location)
    assert request.reserved == D("1000.00")
    assert held(mdf_world, mdf_world.second_location) == (D("0.00"), D("1000.00"))
    (entries) = sorted(
        (e.account.bucket, e.amount) for e in Entry.objects.filter(transfer__reference=request.reference)
    )
    assert entries == [("reserved", D("1000.00")), ("unallocated", D("-1000.00"))]
    assert budgets.figures(mdf_world.budget).unallocated == D("39000.00")
    assert_ledger_clean()


def test_approval_beyond_the_allocation_is_refused_and_changes_nothing(mdf_world):
    request = submitted(mdf_world, lines=[Line("event", "Expo stand", D("20002.00"))])  # share 10,001.00
    before = state()
    with pytest.raises(ValidationError) as refused:
        services.request_approve(request=request, actor=mdf_world.reviewer)
    assert refused.value.message_dict == {
        "amount": ["The allocation of FAB-001 has 10,000.00 USD left: approve at most that, or allocate more first."]
    }
    assert state() == before
    assert_ledger_clean()


def test_a_part_approval_needs_the_programs_leave_and_a_reason(mdf_world):
    request = submitted(mdf_world)
    with pytest.raises(ValidationError) as refused:
        services.request_approve(request=request, actor=mdf_world.reviewer, amount=D("600.00"))
    assert refused.value.message_dict == {"amount": ["Cloud Co-op approves fund requests in full or not at all."]}
    mdf_world.program.partial_approval = True
    mdf_world.program.save()
    with pytest.raises(ValidationError) as refused:
        services.request_approve(request=request, actor=mdf_world.reviewer, amount=D("600.00"))
    assert refused.value.message_dict == {"reasons": ["Say why only part of the fund request is approved."]}
    request = services.request_approve(
        request=request, actor=mdf_world.reviewer, amount=D("600.00"), note="Catering is not funded."
    )
    assert (request.approved_amount, request.reserved) == (D("600.00"), D("600.00"))
    assert held(mdf_world) == (D("9400.00"), D("600.00"))


def test_changes_asked_then_resubmitted_then_rejected(mdf_world):
    request = submitted(mdf_world)
    with pytest.raises(ValidationError) as refused:
        services.request_changes(request=request, actor=mdf_world.reviewer, message=" ")
    assert refused.value.message_dict == {"message": ["Say why, so the partner knows what to do."]}
    request = services.request_changes(request=request, actor=mdf_world.reviewer, message="Split the venue cost.")
    assert request.status == "action_required"
    request = services.request_update(
        request=request,
        activity_type=mdf_world.activity(),
        name="Cloud security seminar",
        starts_on=date(2027, 2, 1),
        ends_on=date(2027, 2, 2),
        lines=[Line("event", "Venue day 1", D("750.00")), Line("event", "Venue day 2", D("750.00"))],
        actor=mdf_world.partner_user,
    )
    assert (request.total_cost, request.requested) == (D("1500.00"), D("750.00"))
    request = services.request_submit(request=request, actor=mdf_world.partner_user)
    assert (request.status, request.submissions) == ("submitted", 2)
    request = services.request_reject(request=request, actor=mdf_world.reviewer, message="Out of budget scope.")
    assert (request.status, request.reserved) == ("rejected", D("0.00"))
    with pytest.raises(Conflict) as late:
        services.request_update(
            request=request,
            activity_type=mdf_world.activity(),
            name="x",
            starts_on=date(2027, 2, 1),
            ends_on=date(2027, 2, 2),
            lines=[],
            actor=mdf_world.partner_admin,
        )
    assert str(late.value) == "A fund request that is rejected cannot be changed."
    assert held(mdf_world) == (D("10000.00"), D("0.00"))


def test_a_draft_or_a_submitted_request_can_be_withdrawn_but_not_one_under_review(mdf_world):
    first = services.request_withdraw(request=draft(mdf_world), actor=mdf_world.partner_admin)
    assert first.status == "withdrawn"
    second = submitted(mdf_world)
    services.request_assign(request=second, reviewer=mdf_world.reviewer, actor=mdf_world.reviewer)
    with pytest.raises(Conflict) as refused:
        services.request_withdraw(request=second, actor=mdf_world.partner_admin)
    assert str(refused.value) == "A fund request that is under review cannot become withdrawn."


def test_who_may_do_what(mdf_world):
    with pytest.raises(PermissionDenied):
        draft(mdf_world, actor=mdf_world.other_admin)
    with pytest.raises(PermissionDenied):
        draft(mdf_world, actor=mdf_world.reviewer)
    request = submitted(mdf_world)
    for outsider in (mdf_world.partner_admin, mdf_world.program_manager, mdf_world.finance):
        with pytest.raises(PermissionDenied):
            services.request_approve(request=request, actor=outsider)
    with pytest.raises(PermissionDenied):
        services.request_submit(request=request, actor=mdf_world.other_admin)
    with pytest.raises(NotFound):
        selectors.request_for(mdf_world.other_admin, request.pk)
    assert selectors.request_for(mdf_world.auditor, request.pk) == request
    hidden = draft(mdf_world)  # a partner's draft is theirs until submitted
    assert list(selectors.requests_visible_to(mdf_world.reviewer)) == [request]
    assert set(selectors.requests_visible_to(mdf_world.partner_user)) == {request, hidden}


# --- giving money back ------------------------------------------------------------------------------------------


def test_the_deadline_run_returns_what_was_not_claimed_once(mdf_world, time_machine):
    request = approved(mdf_world)
    other = approved(mdf_world, starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 1))
    assert held(mdf_world) == (D("8000.00"), D("2000.00"))
    assert services.requests_return_unclaimed(date(2027, 4, 3)) == 0  # the last day to claim it
    time_machine.move_to(date(2027, 4, 4))
    assert services.requests_return_unclaimed() == 1
    assert services.requests_return_unclaimed() == 0  # twice is once
    request.refresh_from_db()
    other.refresh_from_db()
    assert (request.reserved, request.returned, request.closed_at is not None) == (D("0.00"), D("1000.00"), True)
    assert (other.reserved, other.returned) == (D("1000.00"), D("0.00"))
    assert held(mdf_world) == (D("9000.00"), D("1000.00"))
    (back,) = Transfer.objects.filter(reference=request.reference, kind="release")
    assert back.actor_id is None
    last = selectors.history_of(request, mdf_world.partner_admin).last()
    assert last.text == "1,000.00 USD not claimed by 03 Apr 2027 went back to the allocation."
    subjects = set(Notification.objects.filter(user=mdf_world.partner_admin).values_list("subject", flat=True))
    assert f"Fund request {request.pk}: unclaimed money returned" in subjects
    assert_ledger_clean()


def test_the_partner_gives_money_back_before_the_deadline(mdf_world):
    request = approved(mdf_world)
    with pytest.raises(ValidationError):
        services.request_give_back(request=request, actor=mdf_world.partner_admin, reason="")
    with pytest.raises(PermissionDenied):
        services.request_give_back(request=request, actor=mdf_world.other_admin, reason="x")
    request = services.request_give_back(request=request, actor=mdf_world.partner_admin, reason="Seminar cancelled.")
    assert (request.reserved, request.returned) == (D("0.00"), D("1000.00"))
    assert held(mdf_world) == (D("10000.00"), D("0.00"))
    with pytest.raises(Conflict) as again:
        services.request_give_back(request=request, actor=mdf_world.partner_admin, reason="again")
    assert str(again.value) == "This fund request holds no money to give back."


def test_an_allocation_cannot_go_below_what_its_requests_hold(mdf_world):
    approved(mdf_world, lines=[Line("event", "Expo", D("12000.00"))])  # 6,000.00 held
    pm = mdf_world.program_manager
    with pytest.raises(ValidationError) as refused:
        budgets.allocation_set(budget=mdf_world.budget, location=mdf_world.location, amount=D("5999.99"), actor=pm)
    assert refused.value.message_dict == {
        "amount": [
            "Approved fund requests of FAB-001 hold 6,000.00 USD: its allocation can go down to that at the least."
        ]
    }
    budgets.allocation_set(budget=mdf_world.budget, location=mdf_world.location, amount=D("6000.00"), actor=pm)
    assert held(mdf_world) == (D("0.00"), D("6000.00"))
    (row,) = budgets.allocations_of(mdf_world.budget)
    assert (row.allocated, row.reserved) == (D("0.00"), D("6000.00"))
    assert_ledger_clean()


# --- at the same moment, on PostgreSQL --------------------------------------------------------------------------

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database with row locks")


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_never_take_more_than_the_allocation(mdf_world):
    requests = [submitted(mdf_world, name=f"Seminar {n}") for n in range(12)]  # 1,000.00 each, 10,000.00 there
    reviewer = mdf_world.reviewer
    refusals = at_once(
        [lambda request=request: services.request_approve(request=request, actor=reviewer) for request in requests]
    )
    assert [e.message_dict for e in refusals] == [
        {"amount": ["The allocation of FAB-001 has 0.00 USD left: approve at most that, or allocate more first."]}
    ] * 2
    assert sorted(FundRequest.objects.values_list("status", flat=True)) == ["approved"] * 10 + ["submitted"] * 2
    assert held(mdf_world) == (D("0.00"), D("10000.00"))
    assert_ledger_clean()


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_from_the_pool_and_a_lowering_of_the_allocation_keep_every_cent(mdf_world):
    pm = mdf_world.program_manager
    budgets.budget_set_total(budget=mdf_world.budget, total=D("15000.00"), reason="Smaller", actor=pm)  # pool 5,000
    pool_requests = [submitted(mdf_world, location=mdf_world.second_location, name=f"P{n}") for n in range(9)]
    own = [submitted(mdf_world, name=f"B{n}") for n in range(4)]
    reviewer = mdf_world.reviewer
    refusals = at_once(
        [lambda r=r: services.request_approve(request=r, actor=reviewer) for r in pool_requests + own]
        + [
            lambda: budgets.allocation_set(
                budget=mdf_world.budget, location=mdf_world.location, amount=D("7000.00"), actor=pm
            )
        ]
    )
    # the pool had 5,000.00, and 3,000.00 more once Berlin's allocation went down: five to eight approvals
    taken = FundRequest.objects.filter(location=mdf_world.second_location, status="approved").count()
    assert 5 <= taken <= 8
    assert len(refusals) == 9 - taken, [str(e) for e in refusals]
    second = Allocation.objects.get(location=mdf_world.second_location)
    assert budgets.allocation_account(second, budgets.Bucket.RESERVED).balance == D(1000 * taken)
    unused, reserved = held(mdf_world)
    assert (unused + reserved, reserved) == (D("7000.00"), D("4000.00"))
    f = budgets.figures(mdf_world.budget)
    assert (f.total, f.unallocated) == (D("15000.00"), D(8000 - 1000 * taken))
    assert_ledger_clean()


def test_the_deadline_run_passes_over_requests_already_closed_by_another_machine(mdf_world, time_machine):
    request = approved(mdf_world)
    services.request_give_back(request=request, actor=mdf_world.partner_admin, reason="Cancelled")
    time_machine.move_to(TODAY + timedelta(days=400))
    assert services.requests_return_unclaimed() == 0
    assert Transfer.objects.filter(reference=request.reference, kind="release").count() == 1


# --- results and late reviews -----------------------------------------------------------------------------------


def test_results_are_reported_once_the_activity_has_started_and_can_be_corrected(mdf_world, time_machine):
    request = approved(mdf_world)
    with pytest.raises(Conflict) as early:
        services.results_report(
            request=request, leads=3, opportunities=1, revenue=D("10"), actor=mdf_world.partner_admin
        )
    assert str(early.value) == "Results are reported once the activity has started, on 01 Feb 2027."
    time_machine.move_to(date(2027, 2, 3))
    with pytest.raises(ValidationError) as refused:
        services.results_report(
            request=request, leads=-1, opportunities=2, revenue=D("-5"), actor=mdf_world.partner_admin
        )
    assert refused.value.message_dict == {
        "leads": ["Give a whole number from 0 up."],
        "revenue": ["Give the revenue as an amount from 0 up."],
    }
    with pytest.raises(PermissionDenied):
        services.results_report(request=request, leads=1, opportunities=1, revenue=None, actor=mdf_world.reviewer)
    services.results_report(
        request=request, leads=52, opportunities=9, revenue=D("48250.5"), actor=mdf_world.partner_user
    )
    request = services.results_report(
        request=request, leads=55, opportunities=9, revenue=D("48250.50"), actor=mdf_world.partner_admin
    )
    assert (request.reported_leads, request.reported_opportunities, request.reported_revenue) == (
        55,
        9,
        D("48250.50"),
    )
    last = selectors.history_of(request, mdf_world.partner_admin).last()
    assert last.text == "Results: 55 leads, 9 opportunities, 48,250.50 USD won."
    assert AuditEvent.objects.filter(verb="fundrequest.results").count() == 2


def test_results_belong_to_approved_requests_only(mdf_world, time_machine):
    request = submitted(mdf_world)
    time_machine.move_to(date(2027, 2, 3))
    with pytest.raises(Conflict) as refused:
        services.results_report(request=request, leads=1, opportunities=0, revenue=None, actor=mdf_world.partner_admin)
    assert str(refused.value) == "Results are reported for approved fund requests."


def test_overdue_reviews_are_escalated_to_program_managers_once_per_due_date(mdf_world, time_machine):
    request = submitted(mdf_world)  # due 24 Nov 2026
    time_machine.move_to(date(2026, 11, 24))
    assert services.requests_escalate() == 0
    time_machine.move_to(date(2026, 11, 25))
    assert services.run_request_jobs() == {"returned": 0, "escalated": 1}
    time_machine.move_to(date(2026, 11, 26))
    assert services.requests_escalate() == 0
    subjects = list(Notification.objects.filter(user=mdf_world.program_manager).values_list("subject", flat=True))
    assert subjects == [f"Review of fund request {request.pk} is overdue"]
    note = selectors.history_of(request, mdf_world.reviewer).last()
    assert (note.internal, note.text) == (True, "Review overdue since 24 Nov 2026: escalated.")
    assert selectors.history_of(request, mdf_world.partner_admin).filter(internal=True).count() == 0


def test_assigning_says_why_it_cannot_in_words(mdf_world):
    request = approved(mdf_world)
    with pytest.raises(Conflict) as decided:
        services.request_assign(request=request, reviewer=mdf_world.reviewer, actor=mdf_world.reviewer)
    assert str(decided.value) == "Only fund requests waiting for review can be assigned."
    waiting = submitted(mdf_world)
    with pytest.raises(PermissionDenied) as outsider:
        services.request_assign(request=waiting, reviewer=mdf_world.program_manager, actor=mdf_world.reviewer)
    assert str(outsider.value) == "Only reviewers of this program who did not file the fund request can take it."
    with pytest.raises(Conflict) as twice:
        services.request_approve(request=request, actor=mdf_world.reviewer)
    assert str(twice.value) == "A fund request that is approved is not waiting for a decision."
