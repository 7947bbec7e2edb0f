"""A decision on a claim reaches each partner in their own language: the inbox and the email alike."""

from decimal import Decimal

from coopfunds.accounts.models import Role, RoleAssignment, User
from coopfunds.claims import services
from coopfunds.claims.tests.conftest import ready_claim
from coopfunds.claims.tests.helpers import MISSING
from coopfunds.notifications.models import Notification

NBSP = "\xa0"


def swedish_admin(world):
    sven = User.objects.create_user(
        "sven.svensson@fabrikam.example", organisation=world.partner, full_name="Sven Svensson", language="sv"
    )
    RoleAssignment.objects.create(user=sven, role=Role.INCENTIVES_ADMIN, location=world.location)
    return sven


def told(claim):
    return sorted(
        Notification.objects.filter(link=f"/claims/{claim.pk}/")
        .exclude(subject__contains="to review")
        .values_list("user__email", "subject", "body")
    )


def test_an_approval_is_told_in_swedish_and_in_english(claims_world, mailoutbox, django_capture_on_commit_callbacks):
    world = claims_world
    swedish_admin(world)
    claim = services.claim_submit(claim=ready_claim(world, amount="1234.50"), actor=world.partner_admin)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.claim_approve(claim=claim, actor=world.reviewer)
    assert told(claim) == [
        (
            "ada.admin@fabrikam.example",
            f"Claim {claim.pk} approved: Autumn campaign",
            "1,234.50 USD approved. Approved.",
        ),
        (
            "sven.svensson@fabrikam.example",
            f"Anspråk {claim.pk} godkänt: Autumn campaign",
            f"1{NBSP}234,50 USD godkänt. Godkänt.",
        ),
    ]
    assert sorted((m.to, m.subject, m.body.splitlines()[0]) for m in mailoutbox) == [
        (
            ["ada.admin@fabrikam.example"],
            f"Claim {claim.pk} approved: Autumn campaign",
            "1,234.50 USD approved. Approved.",
        ),
        (
            ["sven.svensson@fabrikam.example"],
            f"Anspråk {claim.pk} godkänt: Autumn campaign",
            f"1{NBSP}234,50 USD godkänt. Godkänt.",
        ),
    ]


def test_a_rejection_and_a_request_for_action_are_told_in_swedish(claims_world):
    world = claims_world
    sven = swedish_admin(world)
    rejected = services.claim_reject(
        claim=services.claim_submit(claim=ready_claim(world, invoice="INV-R"), actor=world.partner_admin),
        actor=world.reviewer,
        reasons=MISSING,
        message="The screenshot is missing.",
    )
    mine = Notification.objects.get(user=sven, link=f"/claims/{rejected.pk}/")
    assert (mine.subject, mine.body) == (
        f"Anspråk {rejected.pk} avslaget: Autumn campaign",
        "The screenshot is missing. Du kan bestrida beslutet till och med 20 dec 2026.",
    )
    asked = services.claim_request_action(
        claim=services.claim_submit(claim=ready_claim(world, invoice="INV-A"), actor=world.partner_admin),
        actor=world.reviewer,
        reasons=MISSING,
    )
    mine = Notification.objects.get(user=sven, link=f"/claims/{asked.pk}/")
    assert (mine.subject, mine.body) == (
        f"Anspråk {asked.pk} kräver din åtgärd: Autumn campaign",
        "Granskaren ber om ändringar.",
    )
    english = Notification.objects.get(user=world.partner_admin, link=f"/claims/{rejected.pk}/")
    assert english.body == "The screenshot is missing. You can dispute the decision until 20 Dec 2026."
    assert Decimal(rejected.amount) == Decimal("1000.00")
