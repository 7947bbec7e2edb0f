"""The pre-submission checker: deterministic findings, each explained in plain words.

`findings(claim)` gathers what it needs in a few queries and returns every finding; a blocking one prevents
submission. The partner's message never names another partner; the reviewer's says where a duplicate is."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone

from coopfunds.claims.models import Claim, ClaimDocument
from coopfunds.core.money import money, quantize
from coopfunds.funds import spending
from coopfunds.funds.models import Fund
from coopfunds.funds.selectors import balances
from coopfunds.programs.models import ActivityType, CapKind, DocumentKind
from coopfunds.programs.selectors import exchange_rate
from coopfunds.review.workflow import ACTIVE


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    field: str = ""
    blocking: bool = True
    reviewer_message: str = ""

    def for_reviewer(self) -> str:
        return self.reviewer_message or self.message


def _documents(claim: Claim) -> list[ClaimDocument]:
    return list(ClaimDocument.objects.filter(claim=claim, removed_at__isnull=True).select_related("document"))


def _document_findings(claim: Claim, attached: list[ClaimDocument]) -> list[Finding]:
    kinds = {a.document.kind for a in attached}
    out = []
    labels = dict(DocumentKind.choices)
    if not kinds & {DocumentKind.INVOICE, DocumentKind.CERTIFICATION_REPORT}:
        out.append(
            Finding(
                "missing_invoice",
                "Add the third-party invoice, or a certification report for in-house work.",
                "documents",
            )
        )
    for req in claim.activity_type.document_requirements.all():
        if (
            req.required
            and req.kind not in kinds
            and req.kind not in (DocumentKind.INVOICE, DocumentKind.CERTIFICATION_REPORT)
        ):
            note = f": {req.note}" if req.note else "."
            out.append(
                Finding(
                    "missing_document",
                    f"{claim.activity_type.name} requires “{labels.get(req.kind, req.kind)}”{note}",
                    "documents",
                )
            )
    for a in attached:
        if a.document.kind == "proof" and not a.document.note.strip():
            out.append(
                Finding(
                    "document_note",
                    f"Explain what “{a.document.original_name}” proves (a note is required).",
                    "documents",
                )
            )
    return out


def _date_findings(claim: Claim, today: date) -> list[Finding]:
    fund, out = claim.fund, []
    if claim.execution_start is None or claim.execution_end is None:
        out.append(
            Finding("execution_dates", "Enter when the activity was executed (start and end dates).", "execution_start")
        )
    elif claim.execution_start < fund.usage_start or claim.execution_end > fund.usage_end:
        out.append(
            Finding(
                "execution_dates",
                f"The activity must be executed within the usage period "
                f"{fund.label} ({fund.usage_start:%d %b %Y} – {fund.usage_end:%d %b %Y}).",
                "execution_start",
            )
        )
    if claim.execution_end is not None and claim.execution_end > today:
        out.append(
            Finding(
                "execution_dates",
                f"A claim is for work already done: the activity cannot end after today ({today:%d %b %Y}).",
                "execution_end",
            )
        )
    if claim.invoice_date is not None and claim.invoice_date > today:
        out.append(Finding("invoice_date", f"The invoice date lies after today ({today:%d %b %Y}).", "invoice_date"))
    if today < fund.claim_opens:
        out.append(Finding("claim_window", f"Claims for {fund.label} open on {fund.claim_opens:%d %b %Y}."))
    elif today > fund.claim_closes:
        out.append(Finding("claim_window", f"Claims for {fund.label} closed on {fund.claim_closes:%d %b %Y}."))
    return out


def fund_findings(
    fund: Fund, activity_type: ActivityType, reference: str, amount: Decimal, reserved: Decimal, noun: str
) -> list[Finding]:
    """What the fund can give a claim or proof (`reference`, holding `reserved` now) asking for `amount`: its
    balance, and the activity type's caps for the period across every claim and proof of the fund."""
    out = []
    can_use = balances(fund).available + reserved
    if amount > can_use:
        out.append(
            Finding(
                "over_balance",
                f"Only {money(can_use, fund.currency)} of {fund.label} co-op is left; this {noun} asks for "
                f"{money(amount, fund.currency)}.",
                "amount",
            )
        )
    refusals = spending.cap_refusals(fund=fund, activity_type=activity_type, reference=reference, amount=amount)
    return out + [Finding("over_cap", message, "amount") for message in refusals]


def _cap_findings(claim: Claim, amount: Decimal) -> list[Finding]:
    """The caps per person and per event (the period's caps are the fund's findings)."""
    out: list[Finding] = []
    currency = claim.currency
    for cap in claim.activity_type.caps.all():
        if cap.exempt:
            continue
        if cap.kind == CapKind.PER_EVENT and cap.amount is not None and amount > cap.amount:
            out.append(Finding("over_cap", f"At most {money(cap.amount, currency)} per event.", "amount"))
        if cap.kind in (CapKind.PER_PERSON, CapKind.PER_EVENT_ATTENDEES) and not claim.attendees:
            out.append(
                Finding("attendees", "Enter the number of attendees: this activity has per-person limits.", "attendees")
            )
        elif (
            cap.kind == CapKind.PER_EVENT_ATTENDEES
            and cap.count is not None
            and claim.attendees
            and claim.attendees > cap.count
        ):
            out.append(
                Finding(
                    "over_cap",
                    f"At most {cap.count} attendees per event; this claim has {claim.attendees}.",
                    "attendees",
                )
            )
        elif (
            cap.kind == CapKind.PER_PERSON
            and cap.amount is not None
            and claim.attendees
            and amount > cap.amount * claim.attendees
        ):
            out.append(
                Finding(
                    "over_cap",
                    f"At most {money(cap.amount, currency)} per person"
                    f"{' for ' + cap.expense if cap.expense else ''}: "
                    f"{money(cap.amount * claim.attendees, currency)} for {claim.attendees} attendees.",
                    "amount",
                )
            )
    return out


def invoice_findings(
    what: str,
    amount: Decimal,
    currency: str,
    invoice_amount: Decimal | None,
    invoice_currency: str,
    invoice_date: date | None,
    today: date,
) -> list[Finding]:
    """The amount asked for may not be more than the invoice; an invoice in another currency is converted first,
    with the monthly exchange rate of the invoice's month (refused, saying so, while there is none)."""
    if invoice_amount is None:
        return []
    invoice_currency = invoice_currency or currency
    converted, said = invoice_amount, money(invoice_amount, invoice_currency)
    if invoice_currency != currency:
        day = invoice_date or today
        rate = exchange_rate(invoice_currency, currency, day)
        if rate is None:
            return [
                Finding(
                    "exchange_rate",
                    f"The invoice is in {invoice_currency} and the {what} in {currency}, and there is no exchange rate "
                    f"from {invoice_currency} to {currency} for {day:%B %Y} yet, so the two cannot be compared. The "
                    "vendor's finance team adds each month's rates; submit once it is there.",
                    "invoice_currency",
                )
            ]
        converted = quantize(invoice_amount * rate)
        said += f", which is {money(converted, currency)} at the rate for {day:%B %Y}"
    if converted >= amount:
        return []
    return [
        Finding(
            "invoice_amount",
            f"The {what} ({money(amount, currency)}) is more than the invoice ({said}).",
            "invoice_amount",
        )
    ]


def _duplicate_findings(claim: Claim, attached: list[ClaimDocument]) -> list[Finding]:
    out = []
    if claim.invoice_key:
        other = (
            Claim.objects.filter(invoice_key=claim.invoice_key, status__in=ACTIVE)
            .exclude(pk=claim.pk)
            .select_related("location__organisation")
            .first()
        )
        if other:
            out.append(
                Finding(
                    "duplicate_invoice",
                    "This invoice (vendor and number) has already been claimed.",
                    "invoice_number",
                    reviewer_message=f"Invoice already claimed on claim {other.pk} by {other.location.organisation.name}, "
                    f"{other.location} ({other.get_status_display()}).",
                )
            )
    hashes = {a.document.sha256: a.document for a in attached}
    if hashes:
        clash = (
            ClaimDocument.objects.filter(
                document__sha256__in=list(hashes), removed_at__isnull=True, claim__status__in=ACTIVE
            )
            .exclude(claim=claim)
            .select_related("claim__location__organisation", "document")
            .first()
        )
        if clash:
            mine = hashes[clash.document.sha256]
            out.append(
                Finding(
                    "duplicate_file",
                    f"“{mine.original_name}” has already been claimed.",
                    "documents",
                    reviewer_message=f"“{mine.original_name}” is the same file as one on claim {clash.claim_id} by "
                    f"{clash.claim.location.organisation.name}, {clash.claim.location}.",
                )
            )
    return out


def findings(claim: Claim, today: date | None = None) -> list[Finding]:
    today = today or timezone.localdate()
    out: list[Finding] = []
    if not claim.name.strip():
        out.append(Finding("name", "Give the claim a name.", "name"))
    amount = claim.amount
    if amount is None:
        out.append(Finding("amount", "Enter the amount claimed.", "amount"))
    attached = _documents(claim)
    out += _document_findings(claim, attached)
    out += _date_findings(claim, today)
    if amount is not None:
        out += fund_findings(claim.fund, claim.activity_type, claim.reference, amount, claim.reserved, "claim")
        out += _cap_findings(claim, amount)
        out += invoice_findings(
            "claim", amount, claim.currency, claim.invoice_amount, claim.invoice_currency, claim.invoice_date, today
        )
    if {a.document.kind for a in attached} & {DocumentKind.INVOICE} and not (
        claim.invoice_vendor and claim.invoice_number and claim.invoice_date and claim.invoice_amount
    ):
        out.append(Finding("invoice_details", "Enter the invoice's vendor, number, date and amount.", "invoice_vendor"))
    missing = [m for m in claim.activity_type.metrics if str(claim.metrics.get(m, "")).strip() == ""]
    if missing:
        out.append(Finding("missing_metrics", f"Report the metrics: {', '.join(missing)}.", "metrics"))
    out += _duplicate_findings(claim, attached)
    return out


def blocking(found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.blocking]
