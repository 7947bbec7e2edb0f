"""Market development budgets: the money of a budget, its allocations and moves between them is ledger money, to
the cent; nothing is ever allocated beyond the pool or moved beyond an allocation; only the program's managers
set them; a refusal changes nothing."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection

from conftest import PERSONAS
from coopfunds.audit.models import AuditEvent
from coopfunds.core.errors import PermissionDenied, ValidationError
from coopfunds.enrollments.models import Enrollment
from coopfunds.funds import budgets
from coopfunds.funds.models import Account, Allocation, Budget, Entry, Transfer
from coopfunds.funds.selectors import ledger_drift, unbalanced_transfers
from coopfunds.testing.concurrency import at_once
from coopfunds.testing.factories import LocationFactory

pytestmark = pytest.mark.django_db
D = Decimal


def make(world, total="100000.00", countries=(), name="FY27 H1 MDF"):  # type: ignore[no-untyped-def]
    return budgets.budget_create(
        program=world.program,
        name=name,
        starts_on=date(2026, 7, 1),
        ends_on=date(2026, 12, 31),
        total=D(total),
        countries=list(countries),
        actor=world.program_manager,
    )


def money(budget):  # type: ignore[no-untyped-def]
    f = budgets.figures(budget)
    held = {a.location.partner_id: a.allocated for a in budgets.allocations_of(budget)}
    return (f.total, f.allocated, f.unallocated, held)


def ledger_state():  # type: ignore[no-untyped-def]
    return (
        Transfer.objects.count(),
        Entry.objects.count(),
        sorted(Account.objects.values_list("bucket", "balance")),
        Allocation.objects.count(),
        AuditEvent.objects.count(),
    )


def assert_ledger_clean():  # type: ignore[no-untyped-def]
    assert ledger_drift() == []
    assert unbalanced_transfers() == []


def test_a_new_budgets_total_is_its_pool_posted_from_the_vendors_funding(enrolled):
    budget = make(enrolled, total="100000.00", countries=["de", "FR", "DE"])
    assert budget.currency == enrolled.program.currency
    assert budget.countries == ["DE", "FR"]
    assert money(budget) == (D("100000.00"), D("0.00"), D("100000.00"), {})
    (transfer,) = Transfer.objects.filter(reference=f"budget:{budget.pk}")
    assert transfer.kind == "budget"
    assert sorted((e.account.bucket, e.amount) for e in transfer.entries.all()) == [
        ("funding", D("-100000.00")),
        ("unallocated", D("100000.00")),
    ]
    event = AuditEvent.objects.get(verb="budget.create")
    assert event.actor_id == enrolled.program_manager.pk
    assert event.changes["total"] == [None, "100000.00"]
    assert_ledger_clean()


def test_allocations_take_from_the_pool_and_give_back_to_it(enrolled):
    budget = make(enrolled, total="10000.00")
    budgets.allocation_set(
        budget=budget, location=enrolled.location, amount=D("6000.00"), actor=enrolled.program_manager
    )
    budgets.allocation_set(
        budget=budget, location=enrolled.second_location, amount=D("3999.99"), actor=enrolled.program_manager
    )
    assert money(budget) == (
        D("10000.00"),
        D("9999.99"),
        D("0.01"),
        {"FAB-001": D("6000.00"), "FAB-002": D("3999.99")},
    )
    budgets.allocation_set(
        budget=budget, location=enrolled.location, amount=D("2500.50"), actor=enrolled.program_manager
    )
    assert money(budget) == (
        D("10000.00"),
        D("6500.49"),
        D("3499.51"),
        {"FAB-001": D("2500.50"), "FAB-002": D("3999.99")},
    )
    kinds = list(Transfer.objects.filter(kind="allocate").order_by("id").values_list("reference", flat=True))
    first = Allocation.objects.get(location=enrolled.location).pk
    second = Allocation.objects.get(location=enrolled.second_location).pk
    assert kinds == [f"allocation:{first}", f"allocation:{second}", f"allocation:{first}"]
    changes = list(AuditEvent.objects.filter(verb="allocation.set").order_by("id").values_list("changes", flat=True))
    assert changes == [
        {"allocated": ["0.00", "6000.00"]},
        {"allocated": ["0.00", "3999.99"]},
        {"allocated": ["6000.00", "2500.50"]},
    ]
    assert_ledger_clean()


def test_setting_the_same_allocation_again_posts_nothing(enrolled):
    budget = make(enrolled, total="10000.00")
    for _ in range(2):
        budgets.allocation_set(
            budget=budget, location=enrolled.location, amount=D("1000.00"), actor=enrolled.program_manager
        )
    assert Transfer.objects.filter(kind="allocate").count() == 1
    assert AuditEvent.objects.filter(verb="allocation.set").count() == 1


def test_an_allocation_beyond_the_pool_is_refused_with_what_is_left_and_changes_nothing(enrolled):
    budget = make(enrolled, total="10000.00")
    budgets.allocation_set(
        budget=budget, location=enrolled.location, amount=D("7000.00"), actor=enrolled.program_manager
    )
    before = ledger_state()
    with pytest.raises(ValidationError) as refused:
        budgets.allocation_set(
            budget=budget, location=enrolled.second_location, amount=D("3000.01"), actor=enrolled.program_manager
        )
    assert refused.value.message_dict == {
        "amount": ["The budget has 3,000.00 USD left to allocate: FAB-002 can have 3,000.00 USD at most."]
    }
    assert ledger_state() == before  # no allocation row for FAB-002 either
    with pytest.raises(ValidationError) as raised:
        budgets.allocation_set(
            budget=budget, location=enrolled.location, amount=D("10000.01"), actor=enrolled.program_manager
        )
    assert raised.value.message_dict == {
        "amount": ["The budget has 3,000.00 USD left to allocate: FAB-001 can have 10,000.00 USD at most."]
    }
    assert money(budget)[3] == {"FAB-001": D("7000.00")}
    assert_ledger_clean()


def test_only_enrolled_locations_of_the_budgets_countries_get_money(enrolled, world):
    budget = make(enrolled, total="10000.00", countries=["DE"])
    with pytest.raises(ValidationError) as outside:
        budgets.allocation_set(
            budget=budget, location=enrolled.second_location, amount=D("10.00"), actor=enrolled.program_manager
        )
    assert outside.value.message_dict == {"location": ["FAB-002 is in FR; this budget is for DE."]}
    enrolled.location.enrollments.update(status="inactive")
    with pytest.raises(ValidationError) as not_enrolled:
        budgets.allocation_set(
            budget=budget, location=enrolled.location, amount=D("10.00"), actor=enrolled.program_manager
        )
    assert not_enrolled.value.message_dict == {"location": ["FAB-001 is not enrolled in the program."]}
    assert Allocation.objects.count() == 0
    assert money(budget) == (D("10000.00"), D("0.00"), D("10000.00"), {})


def test_money_moves_between_allocations_of_one_budget_within_what_the_source_holds(enrolled):
    budget = make(enrolled, total="10000.00")
    pm = enrolled.program_manager
    source = budgets.allocation_set(budget=budget, location=enrolled.location, amount=D("4000.00"), actor=pm)
    target = budgets.allocation_set(budget=budget, location=enrolled.second_location, amount=D("1000.00"), actor=pm)
    transfer = budgets.allocation_move(
        source=source, target=target, amount=D("1500.25"), reason="Berlin event moved", actor=pm
    )
    assert transfer.kind == "reallocate"
    assert transfer.memo == "Berlin event moved"
    assert money(budget) == (
        D("10000.00"),
        D("5000.00"),
        D("5000.00"),
        {"FAB-001": D("2499.75"), "FAB-002": D("2500.25")},
    )
    before = ledger_state()
    with pytest.raises(ValidationError) as short:
        budgets.allocation_move(source=source, target=target, amount=D("2499.76"), reason="more", actor=pm)
    assert short.value.message_dict == {"amount": ["FAB-001 has 2,499.75 USD left in its allocation."]}
    with pytest.raises(ValidationError) as wrong:
        budgets.allocation_move(source=source, target=source, amount=D("0"), reason=" ", actor=pm)
    assert wrong.value.message_dict == {
        "amount": ["Move an amount above zero."],
        "to": ["Choose another location's allocation."],
        "reason": ["Say why the money moves."],
    }
    other = make(enrolled, total="500.00", name="Other")
    elsewhere = budgets.allocation_set(budget=other, location=enrolled.other_location, amount=D("100.00"), actor=pm)
    with pytest.raises(ValidationError) as across:
        budgets.allocation_move(source=source, target=elsewhere, amount=D("1.00"), reason="x", actor=pm)
    assert across.value.message_dict == {"to": ["Money moves between allocations of one budget."]}
    assert ledger_state()[:2] == (before[0] + 2, before[1] + 4)  # only the other budget's two postings
    assert_ledger_clean()


def test_the_total_goes_up_and_down_but_never_below_what_is_allocated(enrolled):
    budget = make(enrolled, total="10000.00")
    pm = enrolled.program_manager
    budgets.allocation_set(budget=budget, location=enrolled.location, amount=D("6000.00"), actor=pm)
    budgets.budget_set_total(budget=budget, total=D("12500.00"), reason="Q3 top-up", actor=pm)
    assert money(budget)[:3] == (D("12500.00"), D("6000.00"), D("6500.00"))
    budgets.budget_set_total(budget=budget, total=D("6000.00"), reason="Cut", actor=pm)
    assert money(budget)[:3] == (D("6000.00"), D("6000.00"), D("0.00"))
    before = ledger_state()
    with pytest.raises(ValidationError) as refused:
        budgets.budget_set_total(budget=budget, total=D("5999.99"), reason="Cut more", actor=pm)
    assert refused.value.message_dict == {
        "total": ["6,000.00 USD is allocated to locations: the total can go down to that at the least."]
    }
    with pytest.raises(ValidationError) as unexplained:
        budgets.budget_set_total(budget=budget, total=D("7000.00"), reason="  ", actor=pm)
    assert unexplained.value.message_dict == {"reason": ["Say why the budget changes."]}
    assert ledger_state() == before
    reasons = list(AuditEvent.objects.filter(verb="budget.total").order_by("id").values_list("reason", "changes"))
    assert reasons == [
        ("Q3 top-up", {"total": ["10000.00", "12500.00"]}),
        ("Cut", {"total": ["12500.00", "6000.00"]}),
    ]
    assert_ledger_clean()


def test_a_new_budget_is_refused_with_every_reason_at_once(enrolled):
    make(enrolled, name="FY27 H1 MDF")
    with pytest.raises(ValidationError) as refused:
        budgets.budget_create(
            program=enrolled.program,
            name="fy27 h1 mdf",
            starts_on=date(2026, 7, 2),
            ends_on=date(2026, 7, 1),
            total=D("-1"),
            countries="DE; XX, Narnia",
            actor=enrolled.program_manager,
        )
    assert refused.value.message_dict == {
        "name": ["This program already has a budget with this name."],
        "ends_on": ["The period ends before it starts."],
        "total": ["The amount cannot be below zero."],
        "countries": ["Use two-letter country codes (DE, FR, US); not known: “XX”, “Narnia”."],
    }
    assert Budget.objects.count() == 1


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "anonymous"])
def test_only_the_programs_managers_set_budgets_and_a_refusal_changes_nothing(enrolled, persona):
    budget = make(enrolled, total="1000.00")
    pm = enrolled.program_manager
    source = budgets.allocation_set(budget=budget, location=enrolled.location, amount=D("100.00"), actor=pm)
    target = budgets.allocation_set(budget=budget, location=enrolled.second_location, amount=D("100.00"), actor=pm)
    actor = enrolled.persona(persona)
    calls = [
        lambda: budgets.budget_set_total(budget=budget, total=D("2000.00"), reason="more", actor=actor),
        lambda: budgets.allocation_set(budget=budget, location=enrolled.location, amount=D("200.00"), actor=actor),
        lambda: budgets.allocation_move(source=source, target=target, amount=D("1.00"), reason="x", actor=actor),
    ]
    before = ledger_state()
    for call in calls:
        if persona == "program_manager":
            call()
        else:
            with pytest.raises(
                PermissionDenied, match=r"^Only a program manager of this program can set its budgets\.$"
            ):
                call()
    if persona != "program_manager":
        with pytest.raises(PermissionDenied):
            budgets.budget_create(
                program=enrolled.program,
                name="Another",
                starts_on=date(2026, 7, 1),
                ends_on=date(2026, 7, 2),
                total=D("1.00"),
                actor=actor,
            )
        assert ledger_state() == before
    else:
        assert money(budget) == (
            D("2000.00"),
            D("300.00"),
            D("1700.00"),
            {"FAB-001": D("199.00"), "FAB-002": D("101.00")},
        )


def test_partners_see_their_own_locations_allocations_and_no_budget(enrolled):
    pm = enrolled.program_manager
    budget = make(enrolled, total="1000.00")
    budgets.allocation_set(budget=budget, location=enrolled.location, amount=D("100.00"), actor=pm)
    budgets.allocation_set(budget=budget, location=enrolled.second_location, amount=D("200.00"), actor=pm)
    budgets.allocation_set(budget=budget, location=enrolled.other_location, amount=D("300.00"), actor=pm)

    def seen(persona):  # type: ignore[no-untyped-def]
        user = enrolled.persona(persona)
        return sorted((a.location.partner_id, a.allocated) for a in budgets.allocations_visible_to(user))

    assert seen("partner_admin") == [("FAB-001", D("100.00")), ("FAB-002", D("200.00"))]
    assert seen("partner_user") == [("FAB-001", D("100.00"))]
    assert seen("other_admin") == [("NW-001", D("300.00"))]
    assert seen("auditor") == [("FAB-001", D("100.00")), ("FAB-002", D("200.00")), ("NW-001", D("300.00"))]
    assert list(budgets.budgets_visible_to(enrolled.partner_admin)) == []
    assert [b.pk for b in budgets.budgets_visible_to(enrolled.finance)] == [budget.pk]


# --- at the same moment, on PostgreSQL --------------------------------------------------------------------

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a server database with row locks")


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_allocations_never_take_more_than_the_budget(enrolled):
    budget = make(enrolled, total="10000.00")
    locations = LocationFactory.create_batch(16, organisation=enrolled.partner)
    for location in locations:
        Enrollment.objects.create(
            location=location,
            program=enrolled.program,
            status="enrolled",
            enrolled_at=datetime(2026, 1, 10, tzinfo=UTC),
            earnings_start=date(2026, 1, 1),
        )
    pm = enrolled.program_manager
    refusals = sorted_refusals(
        [
            lambda location=location: budgets.allocation_set(
                budget=budget, location=location, amount=D("700.00"), actor=pm
            )
            for location in locations
        ]
    )
    assert [e.message_dict for e in refusals] == [
        {"amount": [f"The budget has 200.00 USD left to allocate: {pid} can have 200.00 USD at most."]}
        for pid in sorted(
            {loc.partner_id for loc in locations}
            - set(Allocation.objects.values_list("location__partner_id", flat=True))
        )
    ]
    assert len(refusals) == 2
    f = budgets.figures(budget)
    assert (f.total, f.allocated, f.unallocated) == (D("10000.00"), D("9800.00"), D("200.00"))
    assert sorted(a.allocated for a in budgets.allocations_of(budget)) == [D("700.00")] * 14
    assert_ledger_clean()


def sorted_refusals(actions):  # type: ignore[no-untyped-def]
    return sorted(at_once(actions), key=lambda e: str(e.message_dict))


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_moves_both_ways_and_a_top_up_keep_every_cent(enrolled):
    pm = enrolled.program_manager
    budget = make(enrolled, total="10000.00")
    a = budgets.allocation_set(budget=budget, location=enrolled.location, amount=D("3000.00"), actor=pm)
    b = budgets.allocation_set(budget=budget, location=enrolled.second_location, amount=D("3000.00"), actor=pm)
    actions = []
    for _ in range(6):
        actions.append(lambda: budgets.allocation_move(source=a, target=b, amount=D("100.00"), reason="to B", actor=pm))
        actions.append(lambda: budgets.allocation_move(source=b, target=a, amount=D("100.00"), reason="to A", actor=pm))
    actions.append(lambda: budgets.budget_set_total(budget=budget, total=D("20000.00"), reason="top-up", actor=pm))
    assert at_once(actions) == []
    assert Transfer.objects.filter(kind="reallocate").count() == 12
    assert money(budget) == (
        D("20000.00"),
        D("6000.00"),
        D("14000.00"),
        {"FAB-001": D("3000.00"), "FAB-002": D("3000.00")},
    )
    assert_ledger_clean()


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_settings_of_one_allocation_end_at_one_of_them_with_the_rest_in_the_pool(enrolled):
    pm = enrolled.program_manager
    budget = make(enrolled, total="10000.00")
    a = budgets.allocation_set(budget=budget, location=enrolled.location, amount=D("3000.00"), actor=pm)
    b = budgets.allocation_set(budget=budget, location=enrolled.second_location, amount=D("1000.00"), actor=pm)
    amounts = [D(n) for n in ("500.00", "2500.00", "4000.00", "6000.00", "100.00", "0.00")]
    actions = [
        lambda amount=amount: budgets.allocation_set(budget=budget, location=enrolled.location, amount=amount, actor=pm)
        for amount in amounts
    ] + [lambda: budgets.allocation_move(source=b, target=a, amount=D("10.00"), reason="x", actor=pm)] * 3
    assert at_once(actions) == []
    held = money(budget)[3]
    # each setting and move ran whole, one after another: A holds a setting plus the moves after it
    assert held["FAB-001"] in {x + D("10.00") * k for x in amounts for k in range(4)}
    assert held["FAB-002"] == D("970.00")
    assert money(budget)[:3] == (D("10000.00"), held["FAB-001"] + D("970.00"), D("9030.00") - held["FAB-001"])
    assert_ledger_clean()
