"""Plans and proofs in every state, built through the services, and what an action may change."""

from datetime import date
from decimal import Decimal

from coopfunds.audit.models import AuditEvent
from coopfunds.claims.tests.conftest import colour_of, pdf, png
from coopfunds.claims.tests.helpers import PARTNERS, VENDOR, expected  # noqa: F401  (shared with the plans tests)
from coopfunds.funds.models import Transfer
from coopfunds.funds.selectors import balances
from coopfunds.plans import proofs, services
from coopfunds.plans.models import (
    Campaign,
    Plan,
    PlanActivity,
    PlanEvent,
    PlanReason,
    PlanVersion,
    Proof,
    ProofDocument,
)
from coopfunds.plans.services import Reason

D = Decimal
EVERYONE = PARTNERS | VENDOR | {"other_admin"}
DETAILS = [Reason(code="campaign_details", note="Say who the audience is.")]


def draft_plan(world, *, actor=None, amount="5000.00", location=None, code="syndicated-content", budget="8000.00"):
    """Fabrikam Berlin's FY27 plan: one campaign (1 Sep – 31 Oct 2026, budget 8,000) with one activity."""
    actor = actor or world.partner_admin
    plan = services.plan_create(
        location=location or world.location,
        program=world.program,
        fiscal_year=2027,
        name="FY27 launch plan",
        reviewer=world.reviewer,
        actor=actor,
    )
    campaign = services.campaign_add(
        plan=plan, actor=actor, name="Autumn launch", start=date(2026, 9, 1), end=date(2026, 10, 31), budget=budget
    )
    services.activity_add(
        campaign=campaign,
        actor=actor,
        activity_type=world.activity(code),
        countries=["DE"],
        planned_amount=amount,
        expected_reach=20000,
    )
    return Plan.objects.get(pk=plan.pk)


def submitted_plan(world, **kw):
    return services.plan_submit(plan=draft_plan(world, **kw), actor=kw.get("actor") or world.partner_admin)


def approved_plan(world, **kw):
    return services.plan_approve(plan=submitted_plan(world, **kw), actor=world.reviewer)


def activity_of(plan):
    return PlanActivity.objects.filter(version=Plan.objects.get(pk=plan.pk).in_force).order_by("id").first()


def ready_proof(world, plan, *, amount="3000.00", invoice="INV-1", actor=None, execution=date(2026, 9, 15)):
    """A proof that passes every check: executed in the campaign, the invoice with its details, and each document
    the activity requires (with a note)."""
    actor = actor or world.partner_admin
    proof = proofs.proof_create(
        activity=activity_of(plan),
        actor=actor,
        name="Syndication September",
        execution_date=execution,
        amount=D(amount),
        estimated_impressions=12000,
        invoice_vendor="Contoso Media",
        invoice_number=invoice,
        invoice_date=date(2026, 10, 1),
        invoice_amount=D(amount) + 100,
        invoice_currency="USD",
    )
    proofs.proof_add_documents(
        proof=proof, uploads=[pdf(f"{invoice}.pdf", colour=colour_of(invoice))], kind="invoice", note="", actor=actor
    )
    for req in proof.activity.activity_type.document_requirements.filter(required=True).exclude(kind="invoice"):
        proofs.proof_add_documents(
            proof=proof,
            uploads=[png(f"{req.kind}.png", colour=colour_of(invoice + req.kind))],
            kind=req.kind,
            note=f"What the {req.get_kind_display().lower()} shows.",
            actor=actor,
        )
    return Proof.objects.get(pk=proof.pk)


def submitted_proof(world, plan, **kw):
    return proofs.proof_submit(proof=ready_proof(world, plan, **kw), actor=kw.get("actor") or world.partner_admin)


def money(fund):
    b = balances(fund)
    return (b.available, b.reserved, b.payable)


def state() -> tuple:
    """Everything an action may change: plans, versions and their content, proofs, history, money, audit."""
    return (
        list(
            Plan.objects.order_by("id").values_list("id", "status", "name", "reviewer_id", "current_id", "in_force_id")
        ),
        list(PlanVersion.objects.order_by("id").values_list("id", "outcome", "submitted_at")),
        list(Campaign.objects.order_by("id").values_list("id", "name", "budget", "start", "end")),
        list(PlanActivity.objects.order_by("id").values_list("id", "planned_amount", "countries")),
        list(Proof.objects.order_by("id").values_list("id", "status", "name", "amount", "reserved", "reviewer_id")),
        ProofDocument.objects.filter(removed_at__isnull=True).count(),
        PlanEvent.objects.count(),
        PlanReason.objects.count(),
        Transfer.objects.count(),
        AuditEvent.objects.count(),
    )
