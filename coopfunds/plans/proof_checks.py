"""The checker for proof of execution, the claims checker's way: every finding in plain words, blocking ones
prevent submission. Caps and duplicates count claims and proofs alike (both spend the same funds)."""

from datetime import date
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from coopfunds.claims.checks import Finding, fund_findings, invoice_findings, money, past_findings
from coopfunds.claims.models import Claim, ClaimDocument
from coopfunds.core.i18n import day_lazy
from coopfunds.funds.models import Fund
from coopfunds.plans import deadlines
from coopfunds.plans.models import ExcessPolicy, PlanSettings, Proof, ProofDocument
from coopfunds.plans.selectors import limit_left, plan_settings_of
from coopfunds.programs.models import CapKind, DocumentKind
from coopfunds.review.workflow import ACTIVE

INVOICE, CERTIFICATION = DocumentKind.INVOICE.value, DocumentKind.CERTIFICATION_REPORT.value


def fund_for_proof(proof: Proof) -> Fund | None:
    """The location's fund whose usage period holds the execution date."""
    if proof.execution_date is None:
        return None
    return Fund.objects.filter(
        location_id=proof.location_id,
        program_id=proof.program_id,
        usage_start__lte=proof.execution_date,
        usage_end__gte=proof.execution_date,
    ).first()


def _attached(proof: Proof) -> list[ProofDocument]:
    if proof.pk is None:
        return []
    return list(ProofDocument.objects.filter(proof=proof, removed_at__isnull=True).select_related("document"))


def _document_findings(proof: Proof, attached: list[ProofDocument]) -> list[Finding]:
    kinds = {a.document.kind for a in attached}
    out = []
    if INVOICE in kinds and CERTIFICATION in kinds:
        out.append(
            Finding(
                "invoice_or_certification",
                _("Attach either the third-party invoice or a certification report, not both."),
                "documents",
            )
        )
    elif not kinds & {INVOICE, CERTIFICATION}:
        out.append(
            Finding(
                "missing_invoice",
                _("Add the third-party invoice, or a certification report for in-house work."),
                "documents",
            )
        )
    labels = dict(DocumentKind.choices)
    kind = proof.activity.activity_type
    for req in kind.document_requirements.all():
        if req.required and req.kind not in kinds and req.kind not in (INVOICE, CERTIFICATION):
            words = (
                _("%(activity)s requires “%(document)s”: %(note)s")
                if req.note
                else _("%(activity)s requires “%(document)s”.")
            ) % {"activity": kind.name, "document": labels.get(req.kind, req.kind), "note": req.note}
            out.append(Finding("missing_document", words, "documents"))
    for a in attached:
        if a.document.kind not in (INVOICE, CERTIFICATION) and not a.document.note.strip():
            out.append(
                Finding(
                    "document_note",
                    _("Explain what “%(name)s” proves (a note is required).") % {"name": a.document.original_name},
                    "documents",
                )
            )
    if INVOICE in kinds and not (
        proof.invoice_vendor
        and proof.invoice_number
        and proof.invoice_date
        and proof.invoice_amount
        and proof.invoice_currency
    ):
        out.append(
            Finding(
                "invoice_details",
                _("Enter the invoice's vendor, number, date, amount and currency."),
                "invoice_vendor",
            )
        )
    return out


def _date_findings(proof: Proof, settings: PlanSettings, today: date) -> list[Finding]:
    out = []
    campaign = proof.activity.campaign
    if proof.execution_date is None:
        out.append(Finding("execution_date", _("Enter the date the activity was executed."), "execution_date"))
    elif not campaign.start <= proof.execution_date <= campaign.end:
        out.append(
            Finding(
                "execution_date",
                _("The activity must be executed during “%(campaign)s” (%(start)s – %(end)s).")
                % {"campaign": campaign.name, "start": day_lazy(campaign.start), "end": day_lazy(campaign.end)},
                "execution_date",
            )
        )
    elif proof.execution_date > today:
        out.append(
            Finding(
                "execution_date",
                _("Proof of execution is for work already done: the execution date cannot be after today (%(today)s).")
                % {"today": day_lazy(today)},
                "execution_date",
            )
        )
    out += past_findings(
        today, (proof.invoice_date, "invoice_date", "invoice_date", _("The invoice date lies after today (%(today)s)."))
    )
    due = deadlines.proof_due(settings, campaign.start)
    if proof.submissions == 0 and today > due:
        out.append(
            Finding(
                "proof_due",
                _(
                    "Proof of execution for “%(campaign)s” was due by %(day)s (%(days)s days after the campaign "
                    "started)."
                )
                % {"campaign": campaign.name, "day": day_lazy(due), "days": settings.proof_due_days},
            )
        )
    return out


def _money_findings(proof: Proof, fund: Fund | None, settings: PlanSettings, today: date) -> list[Finding]:
    out: list[Finding] = []
    amount, currency = proof.amount, proof.currency
    if amount is None:
        return [Finding("amount", _("Enter the amount this proof asks for."), "amount")]
    out += invoice_findings(
        "proof", amount, currency, proof.invoice_amount, proof.invoice_currency, proof.invoice_date, today
    )
    if fund is None or fund.converted_to_rebate:
        if proof.execution_date is not None:
            out.append(
                Finding(
                    "no_fund",
                    _("No co-op is available for the period of %(day)s: there is nothing to pay this proof from.")
                    % {"day": day_lazy(proof.execution_date)},
                    "execution_date",
                )
            )
        return out
    kind = proof.activity.activity_type
    held = proof.reserved if proof.fund_id == fund.pk else Decimal(0)
    out += fund_findings(fund, kind, proof.reference, amount, held, "proof")
    for cap in kind.caps.all():
        if cap.kind == CapKind.PER_EVENT and not cap.exempt and cap.amount is not None and amount > cap.amount:
            out.append(
                Finding(
                    "over_cap", _("At most %(amount)s per event.") % {"amount": money(cap.amount, currency)}, "amount"
                )
            )
    left = limit_left(proof.plan)
    if amount > left:
        rest = amount - left
        words = (
            _(
                "Only %(left)s is left of the plan's limit; if approved, the rest of this proof (%(rest)s) would be "
                "carried and paid in a later month if the plan's limit has room again."
            )
            if settings.excess == ExcessPolicy.CARRY
            else _(
                "Only %(left)s is left of the plan's limit; if approved, the rest of this proof (%(rest)s) would not "
                "be paid."
            )
        )
        out.append(
            Finding(
                "over_limit",
                words % {"left": money(left, currency), "rest": money(rest, currency)},
                "amount",
                blocking=False,
            )
        )
    return out


def _duplicate_findings(proof: Proof, attached: list[ProofDocument]) -> list[Finding]:
    out = []
    if proof.invoice_key:
        claim = (
            Claim.objects.filter(invoice_key=proof.invoice_key, status__in=ACTIVE).select_related("location").first()
        )
        other = (
            Proof.objects.filter(invoice_key=proof.invoice_key, status__in=ACTIVE)
            .exclude(pk=proof.pk)
            .select_related("location")
            .first()
        )
        if claim or other:
            said = (
                _("Invoice already used on claim %(pk)s of %(location)s.")
                % {"pk": claim.pk, "location": claim.location}
                if claim
                else _("Invoice already used on proof %(pk)s of %(location)s.")
                % {"pk": other.pk, "location": other.location}  # type: ignore[union-attr]
            )
            out.append(
                Finding(
                    "duplicate_invoice",
                    _("This invoice (vendor and number) has already been claimed."),
                    "invoice_number",
                    reviewer_message=said,
                )
            )
    hashes = {a.document.sha256: a.document for a in attached}
    if hashes:
        in_claims = ClaimDocument.objects.filter(
            document__sha256__in=list(hashes), removed_at__isnull=True, claim__status__in=ACTIVE
        ).select_related("document", "claim__location")
        in_proofs = (
            ProofDocument.objects.filter(
                document__sha256__in=list(hashes), removed_at__isnull=True, proof__status__in=ACTIVE
            )
            .exclude(proof=proof)
            .select_related("document", "proof__location")
        )
        clash_claim, clash_proof = in_claims.first(), in_proofs.first()
        if clash_claim or clash_proof:
            sha = (clash_claim or clash_proof).document.sha256  # type: ignore[union-attr]
            name = hashes[sha].original_name
            said = (
                _("“%(name)s” is the same file as one on claim %(pk)s of %(location)s.")
                % {"name": name, "pk": clash_claim.claim_id, "location": clash_claim.claim.location}
                if clash_claim
                else _("“%(name)s” is the same file as one on proof %(pk)s of %(location)s.")
                % {"name": name, "pk": clash_proof.proof_id, "location": clash_proof.proof.location}  # type: ignore[union-attr]
            )
            out.append(
                Finding(
                    "duplicate_file",
                    _("“%(name)s” has already been claimed.") % {"name": name},
                    "documents",
                    reviewer_message=said,
                )
            )
    return out


def proof_findings(proof: Proof, today: date | None = None, settings: PlanSettings | None = None) -> list[Finding]:
    today = today or timezone.localdate()
    settings = settings or plan_settings_of(proof.plan.program)
    out: list[Finding] = []
    if not proof.name.strip():
        out.append(Finding("name", _("Give the proof a name."), "name"))
    if proof.activity.version_id != proof.plan.in_force_id:
        out.append(Finding("not_in_force", _("This activity is not part of the plan in force any more.")))
    out += _date_findings(proof, settings, today)
    if proof.estimated_impressions is None:
        out.append(
            Finding("estimated_impressions", _("Enter the estimated impressions (the reach)."), "estimated_impressions")
        )
    attached = _attached(proof)
    out += _document_findings(proof, attached)
    out += _money_findings(proof, fund_for_proof(proof), settings, today)
    out += _duplicate_findings(proof, attached)
    return out


def blocking(found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.blocking]
