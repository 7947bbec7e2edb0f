"""Claims: filing, checks, review, dispute, and the money each step moves (one service per transition).

Every transition re-reads the claim under lock, checks the transition table, the actor's right and the
business rules, stamps its time, writes the history event and the audit row, posts to the fund ledger and
schedules notifications, all in one durable transaction."""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from coopfunds.accounts.models import Location, Role, User
from coopfunds.accounts.permissions import holds
from coopfunds.accounts.selectors import people_holding, people_holding_each
from coopfunds.audit.models import AuditEvent
from coopfunds.audit.services import audit_entry, audit_record, audit_record_all
from coopfunds.claims import checks, permissions
from coopfunds.claims.models import (
    ApprovalLimit,
    Claim,
    ClaimDocument,
    ClaimEvent,
    ClaimReason,
    ClaimStatus,
    ReasonCode,
)
from coopfunds.core.db import assert_in_transaction
from coopfunds.core.errors import Conflict, DomainError, NotFound
from coopfunds.core.i18n import Amount, Said, day_lazy, money_lazy, said_of
from coopfunds.documents.models import Document
from coopfunds.documents.services import UploadPolicy, document_lock, documents_store
from coopfunds.funds import ledger, spending
from coopfunds.funds.models import Fund
from coopfunds.notifications import escalation
from coopfunds.notifications.models import NotificationKind
from coopfunds.notifications.services import Message, notify, notify_each
from coopfunds.programs import periods
from coopfunds.programs.models import ActivityType, Program
from coopfunds.review import workflow
from coopfunds.review.workflow import AWAITING_REVIEW, EDITABLE

S = ClaimStatus
EDITABLE_FIELDS = (
    "name",
    "description",
    "execution_start",
    "execution_end",
    "amount",
    "invoice_vendor",
    "invoice_vendor_tax_id",
    "invoice_number",
    "invoice_date",
    "invoice_amount",
    "invoice_currency",
    "attendees",
    "metrics",
    "comments",
)


@dataclass(frozen=True)
class Reason:
    """A reviewer's structured reason: a code from the program's catalogue, a note, optionally where."""

    code: str
    note: str = ""
    document_id: int | None = None
    field: str = ""


def invoice_key(vendor: str, number: str) -> str:
    """Vendor + invoice number, normalised so that spacing, case and punctuation do not make a new invoice."""
    if not vendor.strip() or not number.strip():
        return ""
    squash = lambda text: re.sub(r"[^0-9a-z]", "", text.casefold())  # noqa: E731
    return f"{squash(vendor)}|{squash(number)}"


def _lock(claim: Claim, viewer: User | None) -> Claim:
    """The claim, re-read and locked; not the rows it joins (locking its program would queue every decision of
    the program behind one). NotFound if it does not exist or `viewer` may not see it (None: a scheduled job)."""
    try:
        locked = (
            Claim.objects.select_for_update(of=("self",))
            .select_related("location", "program", "fund", "activity_type")
            .get(pk=claim.pk)
        )
    except Claim.DoesNotExist:
        raise NotFound(gettext("No such claim.")) from None
    if viewer is not None and not permissions.can_view(viewer, locked):
        raise NotFound(gettext("No such claim."))
    return locked


def _event(
    claim: Claim,
    actor: User | None,
    kind: str,
    message: str = "",
    *,
    internal: bool = False,
    old: str = "",
    new: str = "",
) -> ClaimEvent:
    return ClaimEvent.objects.create(
        claim=claim,
        actor=actor,
        kind=kind,
        message=message,
        said=said_of(message),
        internal=internal,
        old_status=old,
        new_status=new,
    )


Step = tuple[str, str]  # (new status, what the timeline says)


def _move(
    claim: Claim,
    to: str,
    actor: User | None,
    message: str = "",
    *,
    kind: str = ClaimEvent.Kind.STATUS,
    before: list[Step] | None = None,
) -> ClaimEvent:
    """Check the transition table, change the status, write the timeline event and the audit row. `before`:
    steps taken first (a decision straight from the queue starts the review), written in the same INSERTs."""
    events, audits = _steps(claim, to, actor, message, kind=kind, before=before)
    ClaimEvent.objects.bulk_create(events)
    audit_record_all(audits)
    return events[-1]


def _steps(
    claim: Claim,
    to: str,
    actor: User | None,
    message: str = "",
    *,
    kind: str = ClaimEvent.Kind.STATUS,
    before: list[Step] | None = None,
) -> tuple[list[ClaimEvent], list[AuditEvent]]:
    """`_move` without the writing: the claim's new status, and its events and audit rows to save."""
    events, audits = [], []
    steps = [*(before or []), (to, message)]
    for n, (step_to, step_message) in enumerate(steps, start=1):
        workflow.check_transition(claim.status, step_to, "claim")
        old, claim.status = claim.status, step_to
        events.append(
            ClaimEvent(
                claim=claim,
                actor=actor,
                kind=kind if n == len(steps) else ClaimEvent.Kind.STATUS,
                message=step_message,
                said=said_of(step_message),
                old_status=old,
                new_status=step_to,
            )
        )
        audits.append(
            audit_entry(
                actor=actor,
                verb=f"claim.{step_to}",
                target=claim,
                changes={"status": (old, step_to)},
                reason=step_message,
                organisation_id=claim.location.organisation_id,
            )
        )
    return events, audits


def _reasons(claim: Claim, event: ClaimEvent, reasons: list[Reason]) -> None:
    codes = _check_reasons(claim, reasons)
    ClaimReason.objects.bulk_create(
        [
            ClaimReason(event=event, code=codes[r.code], note=r.note.strip(), document_id=r.document_id, field=r.field)
            for r in reasons
        ]
    )


def _check_reasons(claim: Claim, reasons: list[Reason]) -> dict[str, ReasonCode]:
    """ValidationError unless every reason is of the program's catalogue and points at the claim's documents;
    the codes by name."""
    if not reasons:
        raise ValidationError({"reasons": gettext("Give at least one reason, so the partner knows what to change.")})
    codes = {
        r.code: r for r in ReasonCode.objects.filter(Q(program=claim.program) | Q(program__isnull=True), is_active=True)
    }
    documents = set(ClaimDocument.objects.filter(claim=claim).values_list("document_id", flat=True))
    for r in reasons:
        if r.code not in codes:
            said = gettext("“%(code)s” is not a reason of this program's catalogue.") % {"code": r.code}
            raise ValidationError({"reasons": said})
        if r.document_id is not None and r.document_id not in documents:
            raise ValidationError({"reasons": gettext("A reason can only point at a document of this claim.")})
    return codes


def _partners_of(claim: Claim) -> list[User]:
    """The people who filed it and the location's incentives admins."""
    return people_holding(
        Role.INCENTIVES_ADMIN,
        program_id=claim.program_id,
        location_id=claim.location_id,
        also=(claim.created_by_id, claim.submitted_by_id),
    )


def reviewers_of(program: Program) -> list[User]:
    return people_holding(Role.REVIEWER, program_id=program.pk)


def _link(claim: Claim) -> str:
    return f"/claims/{claim.pk}/"


def _status(claim: Claim) -> str:
    """The claim's status in a sentence: "submitted", "under review"."""
    return str(claim.get_status_display()).lower()


def _clean_fields(claim: Claim, values: dict[str, Any]) -> dict[str, Any]:
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: gettext("This field cannot be changed here.") for name in sorted(unknown)})
    errors: dict[str, str] = {}
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"]:
            errors["name"] = gettext("Give the claim a name.")
    for name in ("amount", "invoice_amount"):
        if values.get(name) is not None:
            value = Decimal(values[name])
            if value <= 0 or value != value.quantize(Decimal("0.01")):
                errors[name] = gettext("Enter an amount above zero with at most two decimals.")
            values[name] = value
    if values.get("invoice_currency"):
        values["invoice_currency"] = values["invoice_currency"].strip().upper()
        from coopfunds.core.money import validate_currency

        try:
            validate_currency(values["invoice_currency"])
        except ValidationError as exc:
            errors["invoice_currency"] = exc.messages[0]
    start = values.get("execution_start", claim.execution_start)
    end = values.get("execution_end", claim.execution_end)
    if start and end and start > end:
        errors["execution_end"] = gettext("The end date is before the start date.")
    if "metrics" in values:
        metrics = values["metrics"] or {}
        if not isinstance(metrics, dict):
            errors["metrics"] = gettext("Metrics are name: value pairs.")
        else:
            known = set(claim.activity_type.metrics)
            extra = set(metrics) - known
            if extra:
                said = (
                    gettext("%(activity)s reports %(known)s; not %(extra)s.")
                    if known
                    else gettext("%(activity)s reports no metrics; not %(extra)s.")
                )
                errors["metrics"] = said % {
                    "activity": claim.activity_type.name,
                    "known": ", ".join(sorted(known)),
                    "extra": ", ".join(sorted(extra)),
                }
            values["metrics"] = {k: str(v).strip() for k, v in metrics.items()}
    if errors:
        raise ValidationError(errors)
    for name in ("description", "invoice_vendor", "invoice_vendor_tax_id", "invoice_number", "comments"):
        if name in values:
            values[name] = (values[name] or "").strip()
    return values


def draft_expiry(claim: Claim, today: date | None = None) -> date:
    """The last day a draft can be submitted: the program's age limit for drafts from its last change, and never
    after its claiming window closes (a draft cannot be submitted then either)."""
    today = today or timezone.localdate()
    return min(today + timedelta(days=claim.program.draft_expiry_days), claim.fund.claim_closes)


@transaction.atomic(durable=True)
def claim_create(*, fund: Fund, activity_type: ActivityType, name: str, actor: User, **fields: Any) -> Claim:
    """Start a claim (Editing) against one fund for one activity type."""
    fund = Fund.objects.select_related("location__organisation", "program").get(pk=fund.pk)
    claim = Claim(
        location=fund.location,
        program=fund.program,
        fund=fund,
        activity_type=activity_type,
        name=name,
        currency=fund.currency,
        created_by=actor,
    )
    if not permissions.can_file(actor, claim):
        raise PermissionDenied(gettext("Only the location's incentives admins and users can file its claims."))
    fiscal_year = periods.fiscal_year_of(fund.program, fund.usage_start)
    if (
        activity_type.program_id != fund.program_id
        or activity_type.fiscal_year != fiscal_year
        or not activity_type.is_active
    ):
        said = gettext("Choose an activity of %(program)s's FY%(year)s catalogue.")
        raise ValidationError(
            {"activity_type": said % {"program": fund.program.name, "year": f"{fiscal_year % 100:02d}"}}
        )
    if timezone.localdate() > fund.claim_closes:
        said = gettext("Claims for %(period)s closed on %(day)s: a new claim cannot be filed.")
        raise ValidationError({"fund": said % {"period": fund.label, "day": day_lazy(fund.claim_closes)}})
    values = _clean_fields(claim, {"name": name, **fields})
    for key, value in values.items():
        setattr(claim, key, value)
    claim.invoice_key = invoice_key(claim.invoice_vendor, claim.invoice_number)
    claim.expires_on = draft_expiry(claim)
    claim.save()
    _event(
        claim,
        actor,
        ClaimEvent.Kind.CREATED,
        Said(gettext_noop("Claim started for %(activity)s, %(fund)s."), activity=activity_type.name, fund=fund.label),
    )
    audit_record(
        actor=actor,
        verb="claim.create",
        target=claim,
        changes={"amount": (None, str(claim.amount))},
        organisation_id=claim.location.organisation_id,
    )
    return claim


@transaction.atomic(durable=True)
def claim_update(*, claim: Claim, actor: User, **fields: Any) -> Claim:
    claim = _lock(claim, actor)
    if not permissions.can_file(actor, claim):
        raise PermissionDenied(gettext("Only the location's incentives admins and users can change its claims."))
    if claim.status not in EDITABLE:
        said = gettext("A claim that is %(status)s cannot be changed.") % {"status": _status(claim)}
        raise Conflict(said, code="not_editable")
    values = _clean_fields(claim, fields)
    changes = {k: (getattr(claim, k), v) for k, v in values.items() if getattr(claim, k) != v}
    if not changes:
        return claim
    for key, value in values.items():
        setattr(claim, key, value)
    claim.invoice_key = invoice_key(claim.invoice_vendor, claim.invoice_number)
    if claim.status == S.EDITING:
        claim.expires_on = draft_expiry(claim)
        claim.expiry_warned_at = None
    claim.save()
    labels = ", ".join(k.replace("_", " ") for k in changes)
    _event(claim, actor, ClaimEvent.Kind.UPDATED, Said(gettext_noop("Changed %(fields)s."), fields=labels))
    audit_record(
        actor=actor,
        verb="claim.update",
        target=claim,
        changes={k: (str(a), str(b)) for k, (a, b) in changes.items()},
        organisation_id=claim.location.organisation_id,
    )
    return claim


def upload_policy(claim: Claim) -> UploadPolicy:
    held = Document.objects.filter(
        pk__in=ClaimDocument.objects.filter(claim=claim, removed_at__isnull=True).values("document_id")
    )
    return UploadPolicy(
        allowed=frozenset(claim.program.upload_types),
        max_file_bytes=claim.program.max_upload_mb * 1024 * 1024,
        max_total_bytes=claim.program.max_claim_upload_mb * 1024 * 1024,
        already_bytes=held.aggregate(total=Sum("size"))["total"] or 0,
    )


@transaction.atomic(durable=True)
def claim_add_documents(
    *, claim: Claim, uploads: list[UploadedFile], kind: str, note: str, actor: User
) -> list[Document]:
    """Attach files (all or none). Proof documents need an explanatory note."""
    claim = _lock(claim, actor)
    if not permissions.can_file(actor, claim):
        raise PermissionDenied(
            gettext("Only the location's incentives admins and users can add documents to its claims.")
        )
    if claim.status not in EDITABLE:
        raise Conflict(
            gettext("Documents can be added while the claim is being edited or action is required."),
            code="not_editable",
        )
    stored = documents_store(
        uploads=uploads,
        kind=kind,
        note=note,
        location=claim.location,
        policy=upload_policy(claim),
        actor=actor,
        retain_from=claim.execution_end or timezone.localdate(),
    )
    ClaimDocument.objects.bulk_create([ClaimDocument(claim=claim, document=d) for d in stored])
    names = ", ".join(f"“{d.original_name}”" for d in stored)
    _event(claim, actor, ClaimEvent.Kind.DOCUMENT, Said(gettext_noop("Added %(names)s."), names=names))
    return stored


@transaction.atomic(durable=True)
def claim_remove_document(*, claim: Claim, document: Document, actor: User) -> Claim:
    claim = _lock(claim, actor)
    if not permissions.can_file(actor, claim):
        raise PermissionDenied(
            gettext("Only the location's incentives admins and users can remove documents from its claims.")
        )
    if claim.status not in EDITABLE:
        raise Conflict(
            gettext("Documents can be removed while the claim is being edited or action is required."),
            code="not_editable",
        )
    updated = ClaimDocument.objects.filter(claim=claim, document=document, removed_at__isnull=True).update(
        removed_at=timezone.now()
    )
    if not updated:
        raise ValidationError({"document": gettext("That document is not on this claim.")})
    _event(
        claim,
        actor,
        ClaimEvent.Kind.DOCUMENT,
        Said(gettext_noop("Removed “%(name)s” (kept in the history)."), name=document.original_name),
    )
    return claim


def _hold(claim: Claim, amount: Decimal, actor: User, key: str) -> None:
    """Make the claim's reservation in its fund exactly `amount`; holding more is checked against the caps
    (`spending.CapExceeded`) and the fund's balance (`ledger.InsufficientFunds`)."""
    spend = spending.spend_hold(
        fund=claim.fund,
        activity_type=claim.activity_type,
        reference=claim.reference,
        amount=amount,
        key=key,
        actor=actor,
        caps_at=claim.submitted_at,
    )
    claim.reserved = spend.held


@transaction.atomic(durable=True)
def claim_submit(*, claim: Claim, actor: User) -> Claim:
    claim = _lock(claim, actor)
    if not permissions.can_file(actor, claim):
        raise PermissionDenied(gettext("Only the location's incentives admins and users can submit its claims."))
    if claim.status not in EDITABLE:
        said = gettext("A claim that is %(status)s cannot be submitted.") % {"status": _status(claim)}
        raise Conflict(said, code="invalid_transition")
    found = checks.blocking(checks.findings(claim))
    if found:
        errors: dict[str, list[str]] = {}
        for f in found:
            errors.setdefault(f.field or "__all__", []).append(f.message)
        raise ValidationError(errors)
    event = _move(
        claim,
        S.SUBMITTED,
        actor,
        Said(gettext_noop("Submitted for review."))
        if claim.submissions == 0
        else Said(gettext_noop("Resubmitted for review.")),
    )
    assert claim.amount is not None
    claim.submitted_by, claim.submitted_at = actor, timezone.now()  # held to the caps in force now
    try:
        _hold(claim, claim.amount, actor, f"claim:{claim.pk}:event:{event.pk}")
    except ledger.InsufficientFunds:
        raise ValidationError({"amount": gettext("The fund no longer holds enough for this claim.")}) from None
    document_lock(
        documents=[
            a.document
            for a in ClaimDocument.objects.filter(claim=claim, removed_at__isnull=True).select_related("document")
        ]
    )
    today = timezone.localdate()
    claim.submissions += 1
    claim.due_on = periods.add_business_days(claim.program, today, claim.program.review_sla_business_days)
    claim.expires_on = None
    claim.first_approver = None
    workflow.save_invoice_once(claim)
    notify(
        users=reviewers_of(claim.program),
        subject=format_lazy(gettext_lazy("Claim {pk} to review: {name}"), pk=claim.pk, name=claim.name),
        kind=NotificationKind.REVIEW,
        body=format_lazy(
            gettext_lazy("{location} claims {amount} for {activity}. Review due {day}."),
            location=str(claim.location),
            amount=money_lazy(claim.amount, claim.currency),
            activity=claim.activity_type.name,
            day=day_lazy(claim.due_on),
        ),
        link=_link(claim),
    )
    return claim


@transaction.atomic(durable=True)
def claim_assign(*, claim: Claim, reviewer: User, actor: User) -> Claim:
    """Assign a reviewer (“assign to me”, or reassign); a submitted claim goes under review."""
    claim = _lock(claim, actor)
    old = claim.reviewer_id

    def note(said: Said) -> None:
        _event(claim, actor, ClaimEvent.Kind.NOTE, said, internal=True)
        audit_record(
            actor=actor,
            verb="claim.assign",
            target=claim,
            changes={"reviewer": (old, reviewer.pk)},
            organisation_id=claim.location.organisation_id,
        )

    workflow.assign(
        claim,
        reviewer=reviewer,
        actor=actor,
        may_review=lambda user: permissions.can_review(user, claim),
        awaiting=AWAITING_REVIEW,
        noun="claim",
        start=lambda said: _move(claim, S.UNDER_REVIEW, actor, said),
        note=note,
    )
    claim.save()
    return claim


# What `_reviewable` and `_move` change, for saves that name their fields.
_REVIEW_FIELDS = ("status", "reviewer", "review_started_at", "updated_at")


def _reviewable(claim: Claim, actor: User) -> list[Step]:
    """Check that `actor` may decide the claim now; returns the step to take first, if any (deciding straight
    from the queue starts the review), for `_move(before=...)`."""
    if not permissions.can_review(actor, claim):
        raise PermissionDenied(gettext("Only reviewers of this program who did not file the claim can decide it."))
    workflow.check_awaiting_decision(claim.status, "claim")
    if claim.status != S.SUBMITTED:
        return []
    claim.reviewer, claim.review_started_at = actor, timezone.now()
    return [(S.UNDER_REVIEW, Said(gettext_noop("Review started by %(person)s."), person=actor.get_full_name()))]


def approval_limit(user: User, program: Program) -> Decimal | None:
    return ApprovalLimit.objects.filter(user=user, program=program).values_list("amount", flat=True).first()


@dataclass(frozen=True)
class Approval:
    """A reviewer's approval of one claim: in full (amount None) or of `amount`, with reasons for a part."""

    claim_id: int
    amount: Decimal | None = None
    reasons: list[Reason] | None = None


Refusal = ValidationError | PermissionDenied | DomainError


@transaction.atomic(durable=True)
def claim_approve(
    *, claim: Claim, actor: User, amount: Decimal | None = None, note: str = "", reasons: list[Reason] | None = None
) -> Claim:
    """Approve in full or in part; above the reviewer's approval limit, the first approval of two."""
    (done,) = claims_approve(approvals=[Approval(claim.pk, amount, reasons)], actor=actor, note=note)
    if not isinstance(done, Claim):
        raise done
    return done


def claims_approve(*, approvals: list[Approval], actor: User, note: str = "") -> list[Claim | Refusal]:
    """Each approval, in order, inside the caller's transaction: the claim as approved (or first-approved), or
    what refuses it, which leaves nothing of it behind and does not stop the others. Every claim is checked and
    audited as one approved on its own (`claim_approve` is this with one); the reads and writes are shared, so
    a thousand cost a few queries each rather than fifteen: one lock of all the claims, one read of the
    reviewer's limits, one of the spends and caps (`spending.spends_approve`), one INSERT each of the events,
    audit rows and notifications, one UPDATE of the claims, and a ledger posting per claim."""
    assert_in_transaction()
    locked = {
        c.pk: c
        for c in Claim.objects.select_for_update(of=("self",))
        .select_related("location", "program", "fund", "activity_type")
        .filter(pk__in=[a.claim_id for a in approvals])
        .order_by("pk")
    }
    limits = dict(
        ApprovalLimit.objects.filter(user=actor, program_id__in={c.program_id for c in locked.values()}).values_list(
            "program_id", "amount"
        )
    )
    out: list[Claim | Refusal] = []
    deciding: list[tuple[int, Claim, Decimal, list[Step], Approval]] = []
    reviewers: dict[int, list[User]] = {}  # per program: whom first approvals tell, read once
    for a in approvals:
        try:
            claim = locked.get(a.claim_id)
            if claim is None or not permissions.can_view(actor, claim):
                raise NotFound(gettext("No such claim."))
            start = _reviewable(claim, actor)
            amount = _decided(claim, a, note, limits.get(claim.program_id), actor)
            if a.reasons:
                _check_reasons(claim, a.reasons)
        except (ValidationError, PermissionDenied, DomainError) as refused:
            out.append(refused)
            continue
        out.append(claim)
        if amount is None:  # a first approval: the second reviewer decides
            if claim.program_id not in reviewers:
                reviewers[claim.program_id] = reviewers_of(claim.program)
            _first_approval(claim, actor, start, limits[claim.program_id], reviewers[claim.program_id])
        else:
            deciding.append((len(out) - 1, claim, amount, start, a))
    # the money: under the locks of the capped (fund, activity type)s, a refusal leaves its claim untouched
    spent = spending.spends_approve(
        [
            spending.Approval(
                fund=claim.fund,
                activity_type=claim.activity_type,
                reference=claim.reference,
                amount=amount,
                key=f"claim:{claim.pk}:approval",  # once: an approved claim never changes again
                caps_at=claim.submitted_at,
            )
            for _, claim, amount, _, _ in deciding
        ],
        actor=actor,
    )
    approved = []
    for (i, claim, amount, start, a), money in zip(deciding, spent, strict=True):
        if isinstance(money, spending.CapExceeded):
            out[i] = money
        else:
            approved.append((claim, amount, start, a))
    _record_approvals(approved, actor, note)
    return out


def _save_approved(approved: list[tuple[Claim, bool, bool]], actor: User, now: datetime) -> None:
    """UPDATE the approved claims (given as (claim, approved in full, its review started now)): one statement
    per kind, a partial approval on its own."""
    done = {"status": S.APPROVED, "reserved": Decimal(0), "decided_at": now, "closed_at": now, "updated_at": now}
    started = {"reviewer": actor, "review_started_at": now}
    for now_started in (False, True):
        whole = [c.pk for c, full, fresh in approved if full and fresh == now_started]
        if whole:
            more = started if now_started else {}
            Claim.objects.filter(pk__in=whole).update(**done, **more, approved_amount=F("amount"))
    for claim, full, fresh in approved:
        if not full:
            more = started if fresh else {}
            Claim.objects.filter(pk=claim.pk).update(**done, **more, approved_amount=claim.approved_amount)


def _decided(claim: Claim, a: Approval, note: str, limit: Decimal | None, actor: User) -> Decimal | None:
    """The amount approved now (None: only the first approval of two), or the refusal."""
    assert claim.amount is not None
    amount = workflow.decided_amount(
        asked=claim.amount,
        amount=a.amount,
        partial_allowed=claim.program.partial_approval,
        program_name=claim.program.name,
        currency=claim.currency,
        explained=bool(note.strip() or a.reasons),
        plural="claims",
        noun="claim",
    )
    second = workflow.approval_step(
        amount=amount, limit=limit, first_approver_id=claim.first_approver_id, actor_id=actor.pk, noun="claim"
    )
    if second is not None:
        return None
    if claim.reserved != claim.amount:
        raise Conflict(gettext("The claim's reservation does not match its amount."), code="reservation_mismatch")
    return amount


def _first_approval(claim: Claim, actor: User, start: list[Step], limit: Decimal, reviewers: list[User]) -> None:
    assert claim.amount is not None
    for step_to, step_message in start:
        _move(claim, step_to, actor, step_message)
    claim.first_approver = actor
    claim.save()
    _event(
        claim,
        actor,
        ClaimEvent.Kind.NOTE,
        Said(
            gettext_noop(
                "First approval of %(amount)s, above %(person)s's limit of %(limit)s: a second reviewer must approve."
            ),
            amount=Amount(claim.amount, claim.currency),
            person=actor.get_full_name(),
            limit=Amount(limit, claim.currency),
        ),
        internal=True,
    )
    audit_record(
        actor=actor,
        verb="claim.first_approval",
        target=claim,
        changes={"first_approver": (None, actor.pk)},
        organisation_id=claim.location.organisation_id,
    )
    others = [u for u in reviewers if u.pk != actor.pk]
    notify(
        users=others,
        subject=format_lazy(gettext_lazy("Claim {pk} needs a second approval"), pk=claim.pk),
        body=claim.name,
        link=_link(claim),
    )


def _record_approvals(approved: list[tuple[Claim, Decimal, list[Step], Approval]], actor: User, note: str) -> None:
    """The approved claims' new state, timeline events, reasons, audit rows and the partners' notifications,
    each kind in one statement."""
    if not approved:
        return
    now = timezone.now()
    events, audits, last = [], [], []
    for claim, amount, start, _ in approved:
        message = note.strip() or (
            Said(gettext_noop("Approved.")) if amount == claim.amount else Said(gettext_noop("Partly approved."))
        )
        steps, entries = _steps(claim, S.APPROVED, actor, message, before=start)
        events += steps
        audits += entries
        last.append(steps[-1])
        claim.reserved, claim.approved_amount = Decimal(0), amount
        claim.decided_at = claim.closed_at = claim.updated_at = now
        if start:
            claim.review_started_at = now
    ClaimEvent.objects.bulk_create(events)
    audit_record_all(audits)
    for (claim, _, _, a), event in zip(approved, last, strict=True):
        if a.reasons:
            _reasons(claim, event, a.reasons)
    _save_approved([(c, amount == c.amount, bool(start)) for c, amount, start, _ in approved], actor, now)
    partners = people_holding_each(
        Role.INCENTIVES_ADMIN,
        [(c.program_id, c.location_id, (c.created_by_id, c.submitted_by_id)) for c, _, _, _ in approved],
    )
    notify_each(
        [
            Message(
                people,
                format_lazy(gettext_lazy("Claim {pk} approved: {name}"), pk=claim.pk, name=claim.name),
                format_lazy(
                    gettext_lazy("{amount} approved. {note}"),
                    amount=money_lazy(amount, claim.currency),
                    note=note.strip()
                    or (gettext_lazy("Approved.") if amount == claim.amount else gettext_lazy("Partly approved.")),
                ),
                _link(claim),
            )
            for (claim, amount, _, _), people in zip(approved, partners, strict=True)
        ]
    )


@transaction.atomic(durable=True)
def claim_request_action(*, claim: Claim, actor: User, reasons: list[Reason], message: str = "") -> Claim:
    """Send the claim back to the partner to fix; the money stays reserved."""
    claim = _lock(claim, actor)
    start = _reviewable(claim, actor)
    event = _move(claim, S.ACTION_REQUIRED, actor, message.strip(), kind=ClaimEvent.Kind.FEEDBACK, before=start)
    _reasons(claim, event, reasons)
    claim.first_approver = None
    claim.decided_at = timezone.now()
    claim.save()
    notify(
        users=_partners_of(claim),
        subject=format_lazy(gettext_lazy("Claim {pk} needs your action: {name}"), pk=claim.pk, name=claim.name),
        body=message.strip() or gettext_lazy("The reviewer asks for changes."),
        link=_link(claim),
    )
    return claim


@transaction.atomic(durable=True)
def claim_reject(*, claim: Claim, actor: User, reasons: list[Reason], message: str = "") -> Claim:
    """Reject; the reservation goes back to the fund (or is forfeited if the usage period has ended)."""
    claim = _lock(claim, actor)
    start = _reviewable(claim, actor)
    event = _move(claim, S.REJECTED, actor, message.strip(), kind=ClaimEvent.Kind.FEEDBACK, before=start)
    _reasons(claim, event, reasons)
    _hold(claim, Decimal(0), actor, f"claim:{claim.pk}:event:{event.pk}")
    claim.decided_at = timezone.now()
    claim.first_approver = None
    claim.save()
    deadline = timezone.localdate() + timedelta(days=claim.program.dispute_window_days)
    notify(
        users=_partners_of(claim),
        subject=format_lazy(gettext_lazy("Claim {pk} rejected: {name}"), pk=claim.pk, name=claim.name),
        body=workflow.rejection_notice(message, deadline),
        link=_link(claim),
    )
    return claim


def dispute_deadline(claim: Claim) -> date | None:
    return workflow.dispute_deadline(claim.status, claim.decided_at, claim.program)


@transaction.atomic(durable=True)
def claim_dispute(*, claim: Claim, actor: User, reason: str) -> Claim:
    claim = _lock(claim, actor)
    if not permissions.can_dispute(actor, claim):
        raise PermissionDenied(gettext("Only the location's incentives admins can dispute a rejection."))
    reason = workflow.check_dispute(
        status=claim.status,
        decided_at=claim.decided_at,
        program=claim.program,
        reason=reason,
    )
    event = _move(claim, S.DISPUTED, actor, reason)
    assert claim.amount is not None
    try:
        _hold(claim, claim.amount, actor, f"claim:{claim.pk}:event:{event.pk}")
    except ledger.InsufficientFunds:
        raise ValidationError({"reason": gettext("The fund no longer holds enough to reopen this claim.")}) from None
    claim.disputed_at = timezone.now()
    claim.due_on = periods.add_business_days(
        claim.program, timezone.localdate(), claim.program.dispute_sla_business_days
    )
    claim.save()
    notify(
        users=reviewers_of(claim.program),
        subject=format_lazy(gettext_lazy("Claim {pk} disputed: {name}"), pk=claim.pk, name=claim.name),
        body=reason.strip(),
        link=_link(claim),
    )
    return claim


@transaction.atomic(durable=True)
def claim_withdraw(*, claim: Claim, actor: User, reason: str = "") -> Claim:
    claim = _lock(claim, actor)
    if not permissions.can_file(actor, claim):
        raise PermissionDenied(gettext("Only the location's incentives admins and users can withdraw its claims."))
    event = _move(claim, S.WITHDRAWN, actor, reason.strip() or Said(gettext_noop("Withdrawn.")))
    _hold(claim, Decimal(0), actor, f"claim:{claim.pk}:event:{event.pk}")
    claim.closed_at = timezone.now()
    claim.save()
    return claim


@transaction.atomic(durable=True)
def claim_comment(*, claim: Claim, actor: User, message: str, internal: bool = False) -> ClaimEvent:
    claim = _lock(claim, actor)
    allowed = permissions.can_see_internal_notes(actor) if internal else permissions.can_comment(actor, claim)
    if not allowed:
        raise PermissionDenied(
            gettext("Only vendor staff write internal notes.")
            if internal
            else gettext("You cannot comment on this claim.")
        )
    if not message.strip():
        raise ValidationError({"message": gettext("Write a comment.")})
    return _event(
        claim, actor, ClaimEvent.Kind.NOTE if internal else ClaimEvent.Kind.COMMENT, message.strip(), internal=internal
    )


@transaction.atomic(durable=True)
def claim_request_documents(*, claim: Claim, colleague: User, message: str, actor: User) -> ClaimEvent:
    """Ask a colleague of the same organisation to add documents to the claim."""
    claim = _lock(claim, actor)
    if not permissions.can_file(actor, claim):
        raise PermissionDenied(gettext("Only the location's incentives admins and users can ask for documents."))
    if colleague.pk == actor.pk or not permissions.can_file(colleague, claim):
        raise ValidationError({"colleague": gettext("Choose a colleague who can work on this location's claims.")})
    event = _event(
        claim,
        actor,
        ClaimEvent.Kind.REQUEST,
        Said(
            gettext_noop("Asked %(person)s to add documents: %(request)s"),
            person=colleague.get_full_name(),
            request=message.strip(),
        ),
    )
    notify(
        users=[colleague],
        subject=format_lazy(gettext_lazy("Please add documents to claim {pk}: {name}"), pk=claim.pk, name=claim.name),
        body=format_lazy(
            gettext_lazy("{person} asks: {message}"), person=actor.get_full_name(), message=message.strip()
        ),
        link=_link(claim),
    )
    return event


def drafts_expire(*, today: date | None = None) -> dict[str, int]:
    """Warn about drafts that expire soon; expire drafts past their date. Idempotent."""
    today = today or timezone.localdate()
    warned = expired = 0
    soon = Claim.objects.filter(status=S.EDITING, expiry_warned_at__isnull=True, expires_on__isnull=False)
    for claim_id in soon.values_list("pk", flat=True):
        with transaction.atomic(durable=True):
            claim = _lock(Claim(pk=claim_id), None)
            assert claim.expires_on is not None
            if claim.status != S.EDITING or claim.expires_on - timedelta(days=claim.program.draft_warning_days) > today:
                continue
            if claim.expires_on >= today:
                claim.expiry_warned_at = timezone.now()
                claim.save(update_fields=["expiry_warned_at"])
                notify(
                    users=_partners_of(claim),
                    subject=format_lazy(
                        gettext_lazy("Draft claim {pk} expires after {day}"),
                        pk=claim.pk,
                        day=day_lazy(claim.expires_on),
                    ),
                    kind=NotificationKind.REMINDER,
                    body=format_lazy(
                        gettext_lazy("Submit “{name}” by {day} or it expires."),
                        name=claim.name,
                        day=day_lazy(claim.expires_on),
                    ),
                    link=_link(claim),
                )
                warned += 1
    for claim_id in Claim.objects.filter(status=S.EDITING, expires_on__lt=today).values_list("pk", flat=True):
        with transaction.atomic(durable=True):
            claim = _lock(Claim(pk=claim_id), None)
            if claim.status == S.EDITING and claim.expires_on and claim.expires_on < today:
                _move(
                    claim,
                    S.EXPIRED,
                    None,
                    Said(gettext_noop("Not submitted by %(day)s: expired."), day=claim.expires_on),
                )
                claim.closed_at = timezone.now()
                claim.save()
                expired += 1
    return {"warned": warned, "expired": expired}


def reviews_escalate(*, today: date | None = None) -> int:
    """Tell program managers about reviews past their service level (once per claim)."""
    return escalation.escalate_overdue(
        Claim.objects.all(),
        today or timezone.localdate(),
        lock=lambda pk: _lock(Claim(pk=pk), None),
        note=lambda claim, text: _event(claim, None, ClaimEvent.Kind.NOTE, text, internal=True),
        noun="claim",
        link=_link,
        awaiting=workflow.AWAITING_REVIEW,
    )


def can_start_claim(user: User, location: Location, program: Program) -> bool:
    return user.organisation_id == location.organisation_id and holds(
        user, {Role.INCENTIVES_ADMIN, Role.INCENTIVES_USER}, location=location, program=program
    )
