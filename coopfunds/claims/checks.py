"""The pre-submission checker: deterministic findings, each explained in plain words.

`findings(claim)` gathers what it needs in a few queries and returns every finding; a blocking one prevents
submission. The partner's message never names another partner; the reviewer's says where a duplicate is."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from coopfunds.claims.models import Claim, ClaimDocument
from coopfunds.core.i18n import day_lazy
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
                _("Add the third-party invoice, or a certification report for in-house work."),
                "documents",
            )
        )
    for req in claim.activity_type.document_requirements.all():
        if (
            req.required
            and req.kind not in kinds
            and req.kind not in (DocumentKind.INVOICE, DocumentKind.CERTIFICATION_REPORT)
        ):
            said = {"activity": claim.activity_type.name, "document": labels.get(req.kind, req.kind), "note": req.note}
            out.append(
                Finding(
                    "missing_document",
                    (
                        _("%(activity)s requires “%(document)s”: %(note)s")
                        if req.note
                        else _("%(activity)s requires “%(document)s”.")
                    )
                    % said,
                    "documents",
                )
            )
    for a in attached:
        if a.document.kind == "proof" and not a.document.note.strip():
            out.append(
                Finding(
                    "document_note",
                    _("Explain what “%(name)s” proves (a note is required).") % {"name": a.document.original_name},
                    "documents",
                )
            )
    return out


def _date_findings(claim: Claim, today: date) -> list[Finding]:
    fund, out = claim.fund, []
    if claim.execution_start is None or claim.execution_end is None:
        out.append(
            Finding(
                "execution_dates", _("Enter when the activity was executed (start and end dates)."), "execution_start"
            )
        )
    elif claim.execution_start < fund.usage_start or claim.execution_end > fund.usage_end:
        out.append(
            Finding(
                "execution_dates",
                _("The activity must be executed within the usage period %(period)s (%(start)s – %(end)s).")
                % {"period": fund.label, "start": day_lazy(fund.usage_start), "end": day_lazy(fund.usage_end)},
                "execution_start",
            )
        )
    out += past_findings(
        today,
        (
            claim.execution_end,
            "execution_dates",
            "execution_end",
            _("A claim is for work already done: the activity cannot end after today (%(today)s)."),
        ),
        (claim.invoice_date, "invoice_date", "invoice_date", _("The invoice date lies after today (%(today)s).")),
    )
    if today < fund.claim_opens:
        said = _("Claims for %(period)s open on %(day)s.") % {"period": fund.label, "day": day_lazy(fund.claim_opens)}
        out.append(Finding("claim_window", said))
    elif today > fund.claim_closes:
        said = _("Claims for %(period)s closed on %(day)s.") % {
            "period": fund.label,
            "day": day_lazy(fund.claim_closes),
        }
        out.append(Finding("claim_window", said))
    return out


def past_findings(today: date, *dated: tuple[date | None, str, str, str]) -> list[Finding]:
    """A finding for each (day, code, field, message naming %(today)s) whose day lies after today: work done and
    invoiced cannot be dated in the future (claims and proofs alike)."""
    return [
        Finding(code, message % {"today": day_lazy(today)}, field)
        for day, code, field, message in dated
        if day is not None and day > today
    ]


def fund_findings(
    fund: Fund, activity_type: ActivityType, reference: str, amount: Decimal, reserved: Decimal, noun: str
) -> list[Finding]:
    """What the fund can give a claim or proof (`reference`, holding `reserved` now) asking for `amount`: its
    balance, and the activity type's caps for the period across every claim and proof of the fund."""
    out = []
    can_use = balances(fund).available + reserved
    if amount > can_use:
        said = (
            _("Only %(left)s of %(period)s co-op is left; this claim asks for %(amount)s.")
            if noun == "claim"
            else _("Only %(left)s of %(period)s co-op is left; this proof asks for %(amount)s.")
        )
        values = {"left": money(can_use, fund.currency), "period": fund.label, "amount": money(amount, fund.currency)}
        out.append(Finding("over_balance", said % values, "amount"))
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
            said = _("At most %(amount)s per event.") % {"amount": money(cap.amount, currency)}
            out.append(Finding("over_cap", said, "amount"))
        if cap.kind in (CapKind.PER_PERSON, CapKind.PER_EVENT_ATTENDEES) and not claim.attendees:
            out.append(
                Finding(
                    "attendees", _("Enter the number of attendees: this activity has per-person limits."), "attendees"
                )
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
                    _("At most %(count)s attendees per event; this claim has %(attendees)s.")
                    % {"count": cap.count, "attendees": claim.attendees},
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
                    (
                        _("At most %(amount)s per person for %(expense)s: %(total)s for %(attendees)s attendees.")
                        if cap.expense
                        else _("At most %(amount)s per person: %(total)s for %(attendees)s attendees.")
                    )
                    % {
                        "amount": money(cap.amount, currency),
                        "expense": cap.expense,
                        "total": money(cap.amount * claim.attendees, currency),
                        "attendees": claim.attendees,
                    },
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
    with the monthly exchange rate of the invoice's month (refused, saying so, while there is none). `what`:
    "claim" or "proof"."""
    if invoice_amount is None:
        return []
    invoice_currency = invoice_currency or currency
    converted, said = invoice_amount, money(invoice_amount, invoice_currency)
    if invoice_currency != currency:
        day = invoice_date or today
        rate = exchange_rate(invoice_currency, currency, day)
        month = date_format(day, "F Y")
        if rate is None:
            no_rate = (
                _(
                    "The invoice is in %(invoice_currency)s and the claim in %(currency)s, and there is no exchange "
                    "rate from %(invoice_currency)s to %(currency)s for %(month)s yet, so the two cannot be compared. "
                    "The vendor's finance team adds each month's rates; submit once it is there."
                )
                if what == "claim"
                else _(
                    "The invoice is in %(invoice_currency)s and the proof in %(currency)s, and there is no exchange "
                    "rate from %(invoice_currency)s to %(currency)s for %(month)s yet, so the two cannot be compared. "
                    "The vendor's finance team adds each month's rates; submit once it is there."
                )
            )
            values = {"invoice_currency": invoice_currency, "currency": currency, "month": month}
            return [Finding("exchange_rate", no_rate % values, "invoice_currency")]
        converted = quantize(invoice_amount * rate)
        said = _("%(amount)s, which is %(converted)s at the rate for %(month)s") % {
            "amount": said,
            "converted": money(converted, currency),
            "month": month,
        }
    if converted >= amount:
        return []
    more = (
        _("The claim (%(amount)s) is more than the invoice (%(invoice)s).")
        if what == "claim"
        else _("The proof (%(amount)s) is more than the invoice (%(invoice)s).")
    )
    return [Finding("invoice_amount", more % {"amount": money(amount, currency), "invoice": said}, "invoice_amount")]


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
                    _("This invoice (vendor and number) has already been claimed."),
                    "invoice_number",
                    reviewer_message=_(
                        "Invoice already claimed on claim %(claim)s by %(organisation)s, %(location)s (%(status)s)."
                    )
                    % {
                        "claim": other.pk,
                        "organisation": other.location.organisation.name,
                        "location": other.location,
                        "status": other.get_status_display(),
                    },
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
                    _("“%(name)s” has already been claimed.") % {"name": mine.original_name},
                    "documents",
                    reviewer_message=_(
                        "“%(name)s” is the same file as one on claim %(claim)s by %(organisation)s, %(location)s."
                    )
                    % {
                        "name": mine.original_name,
                        "claim": clash.claim_id,
                        "organisation": clash.claim.location.organisation.name,
                        "location": clash.claim.location,
                    },
                )
            )
    return out


def findings(claim: Claim, today: date | None = None) -> list[Finding]:
    today = today or timezone.localdate()
    out: list[Finding] = []
    if not claim.name.strip():
        out.append(Finding("name", _("Give the claim a name."), "name"))
    amount = claim.amount
    if amount is None:
        out.append(Finding("amount", _("Enter the amount claimed."), "amount"))
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
        out.append(
            Finding("invoice_details", _("Enter the invoice's vendor, number, date and amount."), "invoice_vendor")
        )
    missing = [m for m in claim.activity_type.metrics if str(claim.metrics.get(m, "")).strip() == ""]
    if missing:
        said = _("Report the metrics: %(metrics)s.") % {"metrics": ", ".join(missing)}
        out.append(Finding("missing_metrics", said, "metrics"))
    out += _duplicate_findings(claim, attached)
    return out


def blocking(found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.blocking]
