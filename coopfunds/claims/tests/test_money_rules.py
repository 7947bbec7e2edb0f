"""The money rules of claims hold at every step: caps on every path that holds or approves money (dispute,
approve, partial approve), dates that cannot lie in the future, invoices compared in the claim's currency, drafts
that expire with their claiming window (issue: caps can be beaten)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from coopfunds.claims import services
from coopfunds.claims.checks import findings
from coopfunds.claims.models import Claim
from coopfunds.claims.tests.conftest import TODAY, ready_claim
from coopfunds.claims.tests.helpers import MISSING
from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.models import Spend
from coopfunds.funds.selectors import balances, ledger_drift
from coopfunds.funds.tests.conftest import csv_file
from coopfunds.notifications.models import Notification
from coopfunds.programs import services as program_services
from coopfunds.programs.catalogue import CapSpec
from coopfunds.programs.models import Cap, ExchangeRate

D = Decimal
SYNDICATION_FULL = (
    "Syndicated content is capped at 18,750.00 USD for FY27 H1 (18,750.00 per period); 10,000.00 USD is already "
    "claimed, so at most 8,750.00 USD more."
)


@pytest.fixture
def rich(claims_world):
    """Berlin's FY27 H1 fund holds 40,000.00 USD (a late 70,000.00 earning after the close), more than the
    syndicated-content cap of 18,750.00."""
    earnings_import(
        stream=csv_file("2026-03-20,FAB-001,coop,70000.00,USD,,,,A-2"), file_name="late.csv", actor=claims_world.finance
    )
    claims_world.fund.refresh_from_db()
    assert balances(claims_world.fund).available == D("40000.00")
    claims_world.program.partial_approval = True
    claims_world.program.save()
    return claims_world


def submitted(world, amount, invoice, code="syndicated-content"):
    return services.claim_submit(
        claim=ready_claim(world, amount=amount, invoice=invoice, code=code), actor=world.partner_admin
    )


def spends(world):
    return sorted(
        Spend.objects.filter(fund=world.fund).values_list("reference", "held", "approved"), key=lambda row: row[0]
    )


def test_a_dispute_cannot_reopen_what_another_claim_took_from_the_cap(rich):
    first = services.claim_reject(
        claim=submitted(rich, "10000.00", "INV-1"), actor=rich.reviewer, reasons=MISSING, message="No."
    )
    second = services.claim_approve(claim=submitted(rich, "10000.00", "INV-2"), actor=rich.reviewer)
    with pytest.raises(ValidationError) as error:
        services.claim_dispute(claim=first, actor=rich.partner_admin, reason="The screenshot is attached.")
    assert error.value.message_dict == {"amount": [SYNDICATION_FULL]}
    assert Claim.objects.get(pk=first.pk).status == "rejected"
    assert spends(rich) == sorted(
        [(first.reference, D("0.00"), D("0.00")), (second.reference, D("0.00"), D("10000.00"))]
    )
    b = balances(rich.fund)
    assert (b.available, b.reserved, b.payable) == (D("30000.00"), D("0.00"), D("10000.00"))


def test_a_disputed_claim_that_fits_is_held_again_and_approved(rich):
    first = services.claim_reject(
        claim=submitted(rich, "8000.00", "INV-1"), actor=rich.reviewer, reasons=MISSING, message="No."
    )
    services.claim_approve(claim=submitted(rich, "10000.00", "INV-2"), actor=rich.reviewer)
    disputed = services.claim_dispute(claim=first, actor=rich.partner_admin, reason="The screenshot is attached.")
    assert (disputed.status, disputed.reserved) == ("disputed", D("8000.00"))
    approved = services.claim_approve(claim=disputed, actor=rich.reviewer)
    assert approved.approved_amount == D("8000.00")
    b = balances(rich.fund)
    assert (b.available, b.reserved, b.payable) == (D("22000.00"), D("0.00"), D("18000.00"))


def lower_cap(world, amount):
    """The program manager lowers the syndicated-content cap from now: a new version of the caps."""
    activity = world.activity("syndicated-content")
    program_services.activity_type_update(
        activity_type=activity,
        actor=world.program_manager,
        caps=[CapSpec(kind="period_amount", amount=D(amount))],
    )


def test_a_cap_lowered_after_submission_holds_claims_submitted_after_it(rich, time_machine):
    claim = submitted(rich, "10000.00", "INV-1")
    services.claim_approve(claim=submitted(rich, "5000.00", "INV-2"), actor=rich.reviewer)
    time_machine.shift(60)
    lower_cap(rich, "12000.00")
    # submitted under the 18,750.00 cap: approved under it, with 15,000.00 used in all
    assert services.claim_approve(claim=claim, actor=rich.reviewer).approved_amount == D("10000.00")
    later = ready_claim(rich, amount="1000.00", invoice="INV-3")
    with pytest.raises(ValidationError) as error:
        services.claim_submit(claim=later, actor=rich.partner_admin)
    assert error.value.message_dict == {
        "amount": [
            "Syndicated content is capped at 12,000.00 USD for FY27 H1 (12,000.00 per period); 15,000.00 USD is "
            "already claimed, so at most 0.00 USD more."
        ]
    }
    retired, current = Cap.versions.filter(activity_type=claim.activity_type).order_by("id")
    assert (retired.amount, retired.retired_at is not None, current.amount, current.retired_at) == (
        D("18750.00"),
        True,
        D("12000.00"),
        None,
    )
    b = balances(rich.fund)
    assert (b.available, b.reserved, b.payable) == (D("25000.00"), D("0.00"), D("15000.00"))


def test_a_dispute_is_held_to_the_caps_of_its_submission(rich, time_machine):
    first = services.claim_reject(
        claim=submitted(rich, "8000.00", "INV-1"), actor=rich.reviewer, reasons=MISSING, message="No."
    )
    time_machine.shift(60)
    lower_cap(rich, "5000.00")
    disputed = services.claim_dispute(claim=first, actor=rich.partner_admin, reason="The screenshot is attached.")
    assert (disputed.status, disputed.reserved) == ("disputed", D("8000.00"))
    assert services.claim_approve(claim=disputed, actor=rich.reviewer).approved_amount == D("8000.00")


def test_the_dispute_window_is_the_one_in_force_at_the_rejection(rich, time_machine):
    rejected = services.claim_reject(
        claim=submitted(rich, "8000.00", "INV-1"), actor=rich.reviewer, reasons=MISSING, message="No."
    )
    time_machine.shift(60)
    program_services.program_update(program=rich.program, actor=rich.program_manager, dispute_window_days=5)
    time_machine.shift(10 * 86400)  # 10 days later: inside the 30 days in force at the rejection
    assert services.dispute_deadline(rejected) == TODAY + timedelta(days=30)
    disputed = services.claim_dispute(claim=rejected, actor=rich.partner_admin, reason="The screenshot is attached.")
    assert disputed.status == "disputed"


def test_after_a_partial_approval_the_cap_counts_what_was_approved(rich):
    partly = services.claim_approve(
        claim=submitted(rich, "15000.00", "INV-1"), actor=rich.reviewer, amount=D("5000.00"), note="Half is print."
    )
    assert partly.approved_amount == D("5000.00")
    too_much = ready_claim(rich, amount="13750.01", invoice="INV-2")
    assert [f.message for f in findings(too_much) if f.code == "over_cap"] == [
        "Syndicated content is capped at 18,750.00 USD for FY27 H1 (18,750.00 per period); 5,000.00 USD is already "
        "claimed, so at most 13,750.00 USD more."
    ]
    services.claim_update(claim=too_much, actor=rich.partner_admin, amount=D("13750.00"))
    fits = services.claim_submit(claim=too_much, actor=rich.partner_admin)
    assert (fits.status, fits.reserved) == ("submitted", D("13750.00"))
    assert spends(rich) == sorted(
        [(partly.reference, D("0.00"), D("5000.00")), (fits.reference, D("13750.00"), D("0.00"))]
    )


def test_a_percentage_cap_counts_partial_approvals_and_holds_alike(rich):
    """Customer offers: at most 25% of earned co-op (40,000.00) per period, 10,000.00."""
    services.claim_approve(
        claim=submitted(rich, "6000.00", "INV-1", code="customer-offers"),
        actor=rich.reviewer,
        amount=D("4000.00"),
        note="Part.",
    )
    submitted(rich, "5000.00", "INV-2", code="customer-offers")
    third = ready_claim(rich, amount="1000.01", invoice="INV-3", code="customer-offers")
    with pytest.raises(ValidationError) as error:
        services.claim_submit(claim=third, actor=rich.partner_admin)
    assert error.value.message_dict["amount"] == [
        "Customer offers is capped at 10,000.00 USD for FY27 H1 (25% of earned co-op per period); 9,000.00 USD is "
        "already claimed, so at most 1,000.00 USD more."
    ]


def test_withdrawn_and_rejected_claims_give_their_room_back(rich):
    services.claim_withdraw(claim=submitted(rich, "10000.00", "INV-1"), actor=rich.partner_admin)
    services.claim_reject(claim=submitted(rich, "8750.00", "INV-2"), actor=rich.reviewer, reasons=MISSING)
    full = submitted(rich, "18750.00", "INV-3")
    assert (full.status, full.reserved) == ("submitted", D("18750.00"))
    assert ledger_drift() == []


# --- dates ---------------------------------------------------------------------------------------------------


def test_an_activity_cannot_have_run_in_the_future(claims_world):
    claim = services.claim_update(
        claim=ready_claim(claims_world),
        actor=claims_world.partner_admin,
        execution_start=TODAY,
        execution_end=TODAY + timedelta(days=1),
        invoice_date=TODAY + timedelta(days=2),
    )
    with pytest.raises(ValidationError) as error:
        services.claim_submit(claim=claim, actor=claims_world.partner_admin)
    assert error.value.message_dict == {
        "execution_end": ["A claim is for work already done: the activity cannot end after today (20 Nov 2026)."],
        "invoice_date": ["The invoice date lies after today (20 Nov 2026)."],
    }
    services.claim_update(
        claim=claim, actor=claims_world.partner_admin, execution_end=TODAY, invoice_date=TODAY
    )  # today itself is fine
    assert services.claim_submit(claim=claim, actor=claims_world.partner_admin).status == "submitted"


# --- currency ------------------------------------------------------------------------------------------------


def yen_claim(world, invoice_amount: str) -> Claim:
    return services.claim_update(
        claim=ready_claim(world, amount="900.00"),
        actor=world.partner_admin,
        invoice_amount=D(invoice_amount),
        invoice_currency="JPY",
    )


def invoice_findings(claim):
    return [(f.code, f.field, f.message) for f in findings(claim) if f.code in ("invoice_amount", "exchange_rate")]


def test_an_invoice_in_another_currency_without_a_rate_is_refused_saying_why(claims_world):
    claim = yen_claim(claims_world, "1000.00")
    assert invoice_findings(claim) == [
        (
            "exchange_rate",
            "invoice_currency",
            "The invoice is in JPY and the claim in USD, and there is no exchange rate from JPY to USD for October "
            "2026 yet, so the two cannot be compared. The vendor's finance team adds each month's rates; submit once "
            "it is there.",
        )
    ]
    with pytest.raises(ValidationError):
        services.claim_submit(claim=claim, actor=claims_world.partner_admin)


def test_an_invoice_in_another_currency_is_converted_at_its_months_rate(claims_world):
    # finance enters rates from the funds' currency: 1 USD = 150 JPY in October 2026 (the invoice's month)
    ExchangeRate.objects.create(month=date(2026, 10, 1), source="USD", target="JPY", rate=D("150"))
    ExchangeRate.objects.create(month=date(2026, 11, 1), source="USD", target="JPY", rate=D("1"))
    small = yen_claim(claims_world, "1000.00")
    assert invoice_findings(small) == [
        (
            "invoice_amount",
            "invoice_amount",
            "The claim (900.00 USD) is more than the invoice (1,000.00 JPY, which is 6.67 USD at the rate for "
            "October 2026).",
        )
    ]
    services.claim_update(claim=small, actor=claims_world.partner_admin, invoice_amount=D("135000.00"))
    assert invoice_findings(Claim.objects.get(pk=small.pk)) == []
    assert services.claim_submit(claim=small, actor=claims_world.partner_admin).status == "submitted"


def test_a_rate_entered_in_the_other_direction_is_used_too(claims_world):
    ExchangeRate.objects.create(month=date(2026, 10, 1), source="JPY", target="USD", rate=D("0.00666667"))
    assert invoice_findings(yen_claim(claims_world, "1000.00"))[0][2] == (
        "The claim (900.00 USD) is more than the invoice (1,000.00 JPY, which is 6.67 USD at the rate for "
        "October 2026)."
    )


# --- drafts and the claiming window --------------------------------------------------------------------------


def test_a_draft_expires_at_its_age_limit_when_that_comes_first(claims_world, time_machine):
    claims_world.program.draft_expiry_days = 30
    claims_world.program.save()
    assert ready_claim(claims_world).expires_on == date(2026, 12, 20)


def test_a_draft_near_the_end_of_the_window_is_told_the_last_day_submission_works(claims_world, time_machine):
    time_machine.move_to(date(2027, 2, 10))
    claim = ready_claim(claims_world)
    assert claim.expires_on == date(2027, 2, 15)
    assert services.drafts_expire() == {"warned": 1, "expired": 0}
    warning = Notification.objects.get(user=claims_world.partner_admin, subject__startswith="Draft claim")
    assert (warning.subject, warning.body) == (
        f"Draft claim {claim.pk} expires after 15 Feb 2027",
        "Submit “Autumn campaign” by 15 Feb 2027 or it expires.",
    )
    time_machine.move_to(date(2027, 2, 15))
    assert services.claim_submit(claim=claim, actor=claims_world.partner_admin).status == "submitted"


def test_a_draft_not_submitted_by_the_window_close_expires(claims_world, time_machine):
    time_machine.move_to(date(2027, 2, 10))
    claim = ready_claim(claims_world)
    time_machine.move_to(date(2027, 2, 16))
    assert services.drafts_expire() == {"warned": 0, "expired": 1}
    assert Claim.objects.get(pk=claim.pk).status == "expired"


def test_no_claim_can_be_started_after_its_window_closed(claims_world, time_machine):
    time_machine.move_to(date(2027, 2, 16))
    with pytest.raises(ValidationError) as error:
        ready_claim(claims_world)
    assert error.value.message_dict == {
        "fund": ["Claims for FY27 H1 closed on 15 Feb 2027: a new claim cannot be filed."]
    }
    assert Claim.objects.count() == 0


def test_the_claim_page_says_which_rules_version_it_is_held_to(rich, time_machine, client):
    claim = submitted(rich, "1000.00", "INV-1")
    time_machine.shift(60)
    program_services.program_update(program=rich.program, actor=rich.program_manager, payment_day=20)
    client.force_login(rich.partner_admin)
    text = client.get(f"/claims/{claim.pk}/").content.decode()
    assert f"version 1, in force when it was submitted ({claim.submitted_at:%-d %b %Y %H:%M}): its caps" in text
    later = submitted(rich, "1000.00", "INV-2")
    assert later.rules_version == 2
