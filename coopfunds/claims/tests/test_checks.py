from datetime import date
from decimal import Decimal

import pytest

from coopfunds.claims import services
from coopfunds.claims.checks import findings
from coopfunds.claims.tests.conftest import TODAY, colour_of, png, ready_claim

pytestmark = pytest.mark.django_db
D = Decimal


def found(claim, today=TODAY):
    claim.refresh_from_db()
    return [(f.code, f.field, f.message) for f in findings(claim, today)]


def test_a_complete_claim_has_no_findings(claims_world):
    assert found(ready_claim(claims_world)) == []


def test_an_empty_claim_explains_everything_it_needs(claims_world):
    claim = services.claim_create(
        fund=claims_world.fund,
        activity_type=claims_world.activity("digital-advertising"),
        name="Banner ads",
        actor=claims_world.partner_user,
    )
    assert found(claim) == [
        ("amount", "amount", "Enter the amount claimed."),
        ("missing_invoice", "documents", "Add the third-party invoice, or a certification report for in-house work."),
        (
            "missing_document",
            "documents",
            "Digital advertising requires “Landing-page URL”: The URL of the landing page the ad leads to.",
        ),
        (
            "missing_document",
            "documents",
            "Digital advertising requires “Screenshot of the activity”: A screenshot of the ad as it ran.",
        ),
        ("execution_dates", "execution_start", "Enter when the activity was executed (start and end dates)."),
        ("missing_metrics", "metrics", "Report the metrics: Results summary."),
    ]


def test_execution_dates_outside_the_usage_period(claims_world):
    claim = ready_claim(claims_world)
    services.claim_update(claim=claim, actor=claims_world.partner_admin, execution_start=date(2026, 6, 30))
    assert found(claim) == [
        (
            "execution_dates",
            "execution_start",
            "The activity must be executed within the usage period FY27 H1 (01 Jul 2026 – 31 Dec 2026).",
        )
    ]


@pytest.mark.parametrize(
    ("today", "message"),
    [
        (date(2026, 8, 15), "Claims for FY27 H1 open on 16 Aug 2026."),
        (date(2027, 2, 16), "Claims for FY27 H1 closed on 15 Feb 2027."),
    ],
)
def test_outside_the_claiming_window(claims_world, today, message):
    assert found(july_claim(claims_world), today) == [("claim_window", "", message)]


def july_claim(world):
    """A ready claim for work done in July 2026, invoiced on 1 Aug 2026 (before the claiming window opens)."""
    return services.claim_update(
        claim=ready_claim(world),
        actor=world.partner_admin,
        execution_start=date(2026, 7, 1),
        execution_end=date(2026, 7, 31),
        invoice_date=date(2026, 8, 1),
    )


@pytest.mark.parametrize("today", [date(2026, 8, 16), date(2027, 2, 15)])
def test_the_claiming_window_includes_its_first_and_last_day(claims_world, today):
    assert found(july_claim(claims_world), today) == []


def test_more_than_the_fund_holds(claims_world):
    claim = ready_claim(claims_world, amount="12000.01")
    assert found(claim) == [
        ("over_balance", "amount", "Only 12,000.00 USD of FY27 H1 co-op is left; this claim asks for 12,000.01 USD.")
    ]


def test_fixed_cap_across_all_claims_of_the_period(claims_world):
    # 12,000 co-op available, plus 20,000 by adjustment: enough to reach the 18,750 syndicated-content cap
    from coopfunds.funds.services import fund_adjust

    fund_adjust(
        fund=claims_world.fund,
        amount=D("20000.00"),
        reason_code="policy_exception",
        memo="Bonus",
        key="adj:1",
        actor=claims_world.program_manager,
    )
    services.claim_submit(
        claim=ready_claim(claims_world, amount="18000.00", invoice="A"), actor=claims_world.partner_admin
    )
    claim = ready_claim(claims_world, amount="800.00", invoice="B")
    assert found(claim) == [
        (
            "over_cap",
            "amount",
            "Syndicated content is capped at 18,750.00 USD for FY27 H1 "
            "(18,750.00 per period); 18,000.00 USD is already claimed, so at most 750.00 USD more.",
        )
    ]


def test_percentage_cap_of_earned_coop(claims_world):
    claim = ready_claim(claims_world, code="customer-offers", amount="3000.01")
    assert found(claim) == [
        (
            "over_cap",
            "amount",
            "Customer offers is capped at 3,000.00 USD for FY27 H1 "
            "(25% of earned co-op per period); 0.00 USD is already claimed, so at most 3,000.00 USD more.",
        )
    ]


def test_greater_of_percentage_and_floor(claims_world):
    # demo units: the greater of 10% of 12,000 (1,200) and 3,000
    assert found(ready_claim(claims_world, code="demo-units", amount="3000.00")) == []
    assert [f[0] for f in found(ready_claim(claims_world, code="demo-units", amount="3000.01", invoice="X"))] == [
        "over_cap"
    ]


def test_per_person_and_attendee_caps(claims_world):
    claim = ready_claim(claims_world, code="vendor-conferences", amount="11000.00", attendees=2)
    assert found(claim) == [
        ("over_cap", "amount", "At most 5,000.00 USD per person for travel: 10,000.00 USD for 2 attendees.")
    ]
    services.claim_update(claim=claim, actor=claims_world.partner_admin, attendees=4)
    assert found(claim) == [("over_cap", "attendees", "At most 3 attendees per event; this claim has 4.")]


def test_invoice_smaller_than_the_claim(claims_world):
    claim = ready_claim(claims_world)
    services.claim_update(claim=claim, actor=claims_world.partner_admin, invoice_amount=D("999.99"))
    assert found(claim) == [
        ("invoice_amount", "invoice_amount", "The claim (1,000.00 USD) is more than the invoice (999.99 USD).")
    ]


def test_duplicate_invoice_tells_the_reviewer_where_but_not_the_partner(claims_world):
    other = ready_claim(claims_world, fund=claims_world.other_fund, actor=claims_world.other_admin, invoice="N-1")
    services.claim_submit(claim=other, actor=claims_world.other_admin)
    mine = ready_claim(claims_world, invoice="N-2")
    services.claim_update(claim=mine, actor=claims_world.partner_admin, invoice_number="n1")
    mine.refresh_from_db()
    [finding] = findings(mine, TODAY)
    assert finding.message == "This invoice (vendor and number) has already been claimed."
    assert (
        finding.for_reviewer()
        == f"Invoice already claimed on claim {other.pk} by Northwind, Northwind Oslo (NW-001) (Submitted)."
    )


def test_duplicate_file_anywhere(claims_world):
    other = ready_claim(claims_world, fund=claims_world.other_fund, actor=claims_world.other_admin, invoice="F-1")
    services.claim_submit(claim=other, actor=claims_world.other_admin)
    mine = ready_claim(claims_world, invoice="F-2")
    same_screenshot = png("copy.png", colour=colour_of("F-1screenshot"))
    services.claim_add_documents(
        claim=mine, uploads=[same_screenshot], kind="other", note="", actor=claims_world.partner_admin
    )
    [finding] = findings(mine, TODAY)
    assert (finding.code, finding.message) == ("duplicate_file", "“copy.png” has already been claimed.")
