"""Proof of execution (PoE) per activity of the plan in force: filed and reviewed like a claim (the same states,
reasons, documents and checks), and moving money through the fund ledger like a claim, within the plan's limit
(docs/adr/0006-plan-limits.md):

- submit: the amount is reserved in the fund of the execution date's usage period (available -> reserved);
- approve: min(approved, what is left of the plan's limit) becomes payable (reserved -> payable); the excess is
  dropped (released to the fund) or carried (kept reserved, paid by `proofs_settle` when the limit has room);
- request action keeps the reservation; reject and withdraw release it; a dispute reserves again.

Locks: the plan row first, then the proof row, always in that order (approvals of one plan's proofs queue on
the plan, so two of them never spend the same room of its limit)."""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from coopfunds.accounts.models import User
from coopfunds.audit.services import audit_record
from coopfunds.claims import certification
from coopfunds.claims.services import approval_limit, invoice_key, reviewers_of
from coopfunds.core.errors import Conflict, NotFound
from coopfunds.core.i18n import Amount, Said, day_lazy, money_lazy
from coopfunds.core.money import validate_currency
from coopfunds.documents.models import Document
from coopfunds.documents.services import UploadPolicy, document_lock, documents_store
from coopfunds.funds import ledger, spending
from coopfunds.funds.models import Fund
from coopfunds.notifications import escalation
from coopfunds.notifications.models import NotificationKind
from coopfunds.notifications.services import notify
from coopfunds.plans import deadlines, permissions, proof_checks, selectors
from coopfunds.plans.models import Campaign, ExcessPolicy, PlanActivity, PlanEvent, Proof, ProofDocument, ProofStatus
from coopfunds.plans.services import Reason, event, lock_plan, partners_of, reasons_record
from coopfunds.programs import periods
from coopfunds.programs.models import DocumentKind
from coopfunds.review import workflow
from coopfunds.review.workflow import ACTIVE, AWAITING_REVIEW, EDITABLE

S = ProofStatus
FIELDS = (
    "name",
    "execution_date",
    "amount",
    "estimated_impressions",
    "pre_approval_id",
    "invoice_vendor",
    "invoice_number",
    "invoice_date",
    "invoice_amount",
    "invoice_currency",
)
NO_NOTE_NEEDED = frozenset({DocumentKind.INVOICE.value, DocumentKind.CERTIFICATION_REPORT.value})
KINDS = frozenset(DocumentKind.values) | {"proof"}
MAX_AMOUNT = Decimal("10000000000000000")
NOUN = "proof of execution"
FILERS_ONLY = gettext_lazy("Only the location's incentives admins and users can do this with its proofs of execution.")


def link(proof: Proof) -> str:
    return f"/plans/proofs/{proof.pk}/"


def review_link(proof: Proof) -> str:
    return f"/plans/proofs/{proof.pk}/review/"


def _lock(proof: Proof) -> Proof:
    """The proof's plan, then the proof, under lock (always in this order)."""
    plan_id = Proof.objects.values_list("plan_id", flat=True).filter(pk=proof.pk).first()
    if plan_id is None:
        raise NotFound(_("No such proof of execution."))
    plan = lock_plan(plan_id)
    locked = (
        Proof.objects.select_for_update(of=("self",))
        .select_related("activity__campaign", "activity__activity_type", "fund", "location")
        .get(pk=proof.pk)
    )
    locked.plan = plan
    return locked


def _audit(proof: Proof, actor: User | None, verb: str, changes: dict[str, Any], reason: str = "") -> None:
    audit_record(
        actor=actor,
        verb=verb,
        target=proof,
        changes=changes,
        reason=reason,
        organisation_id=proof.plan.location.organisation_id,
    )


def _move(
    proof: Proof, to: str, actor: User | None, message: str = "", changes: dict[str, Any] | None = None
) -> PlanEvent:
    workflow.check_transition(proof.status, to, NOUN)
    old, proof.status = proof.status, to
    done = event(proof.plan, actor, PlanEvent.Kind.STATUS, message, proof=proof, old=old, new=to)
    _audit(proof, actor, f"proof.{to}", {"status": (old, to), **(changes or {})}, message)
    return done


def clean_fields(values: dict[str, Any]) -> dict[str, Any]:
    """A proof's fields as typed -> cleaned values, or a ValidationError naming each field."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    errors: dict[str, str] = {}
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not values["name"]:
            errors["name"] = _("Give the proof a name.")
        elif len(values["name"]) > 200:
            errors["name"] = _("Keep the name to 200 characters or fewer.")
    for name in ("amount", "invoice_amount"):
        if name in values and str(values[name] or "").strip() == "":
            values[name] = None
        if values.get(name) is not None:
            try:
                value = Decimal(str(values[name]).strip())
            except InvalidOperation:
                errors[name] = _("Enter an amount above zero with at most two decimals.")
                continue
            if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")) or value >= MAX_AMOUNT:
                errors[name] = _("Enter an amount above zero with at most two decimals.")
            values[name] = value
    impressions = values.get("estimated_impressions")
    if impressions is not None and (
        isinstance(impressions, bool) or not isinstance(impressions, int) or impressions < 0
    ):
        errors["estimated_impressions"] = _("Give the estimated impressions as a whole number.")
    if "invoice_currency" in values:
        values["invoice_currency"] = (values["invoice_currency"] or "").strip().upper()
    if values.get("invoice_currency"):
        try:
            validate_currency(values["invoice_currency"])
        except ValidationError as exc:
            errors["invoice_currency"] = exc.messages[0]
    for name, limit in (("pre_approval_id", 64), ("invoice_vendor", 200), ("invoice_number", 64)):
        if name in values:
            values[name] = (values[name] or "").strip()
            if len(values[name]) > limit:
                errors[name] = _("Keep it to %(limit)s characters or fewer.") % {"limit": limit}
    if errors:
        raise ValidationError(errors)
    return values


def _filer(proof: Proof, actor: User) -> None:
    if not permissions.can_file_proof(actor, proof):
        raise PermissionDenied(str(FILERS_ONLY))


def _editable(proof: Proof) -> None:
    if not proof.is_editable:
        raise Conflict(
            _("A proof of execution that is %(status)s cannot be changed.")
            % {"status": proof.get_status_display().lower()},
            code="not_editable",
        )


# --- filing ------------------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def proof_create(*, activity: PlanActivity, actor: User, name: str, **fields: Any) -> Proof:
    """Start proof of execution (Editing) for an activity of the plan in force, before its due date."""
    plan = lock_plan(activity.version.plan_id)
    if not permissions.can_file_proofs(actor, plan):
        raise PermissionDenied(str(FILERS_ONLY))
    activity = PlanActivity.objects.select_related("campaign", "activity_type").get(pk=activity.pk)
    if plan.in_force_id is None or activity.version_id != plan.in_force_id:
        raise ValidationError(
            {"activity": _("Proof of execution is filed for activities of the approved plan in force.")}
        )
    rules = selectors.plan_settings_of(plan.program)
    due = deadlines.proof_due(rules, activity.campaign.start)
    if timezone.localdate() > due:
        raise Conflict(
            _("Proof of execution for “%(campaign)s” was due by %(day)s.")
            % {"campaign": activity.campaign.name, "day": day_lazy(due)},
            code="proof_overdue",
        )
    proof = Proof(
        plan=plan,
        activity=activity,
        location_id=plan.location_id,
        program_id=plan.program_id,
        currency=plan.currency,
        name=name,
        created_by=actor,
    )
    values = clean_fields({"name": name, **fields})
    for key, value in values.items():
        setattr(proof, key, value)
    proof.invoice_key = invoice_key(proof.invoice_vendor, proof.invoice_number)
    proof.save()
    event(
        plan,
        actor,
        PlanEvent.Kind.CREATED,
        Said(
            gettext_noop("Proof of execution started for “%(activity)s” in “%(campaign)s”; due by %(day)s."),
            activity=activity.activity_type.name,
            campaign=activity.campaign.name,
            day=due,
        ),
        proof=proof,
    )
    _audit(proof, actor, "proof.create", {"activity": (None, activity.pk)})
    return proof


@transaction.atomic(durable=True)
def proof_update(*, proof: Proof, actor: User, **fields: Any) -> Proof:
    proof = _lock(proof)
    _filer(proof, actor)
    _editable(proof)
    values = clean_fields(fields)
    changes = {k: (getattr(proof, k), v) for k, v in values.items() if getattr(proof, k) != v}
    if not changes:
        return proof
    for key, value in values.items():
        setattr(proof, key, value)
    proof.invoice_key = invoice_key(proof.invoice_vendor, proof.invoice_number)
    proof.save()
    event(
        proof.plan,
        actor,
        PlanEvent.Kind.UPDATED,
        Said(gettext_noop("Changed %(fields)s."), fields=", ".join(k.replace("_", " ") for k in changes)),
        proof=proof,
    )
    _audit(proof, actor, "proof.update", {k: (str(a), str(b)) for k, (a, b) in changes.items()})
    return proof


def upload_policy(proof: Proof) -> UploadPolicy:
    held = Document.objects.filter(
        pk__in=ProofDocument.objects.filter(proof=proof, removed_at__isnull=True).values("document_id")
    )
    program = proof.plan.program
    return UploadPolicy(
        allowed=frozenset(program.upload_types),
        max_file_bytes=program.max_upload_mb * 1024 * 1024,
        max_total_bytes=program.max_claim_upload_mb * 1024 * 1024,
        already_bytes=held.aggregate(total=Sum("size"))["total"] or 0,
    )


def _store(proof: Proof, uploads: list[UploadedFile], kind: str, note: str, actor: User) -> list[Document]:
    if kind not in KINDS:
        raise ValidationError({"kind": _("Choose what the document is: the invoice, a certification report or proof.")})
    if kind not in NO_NOTE_NEEDED and not note.strip():
        raise ValidationError({"note": _("Add a note that explains what this document shows.")})
    stored = documents_store(
        uploads=uploads,
        kind=kind,
        note=note,
        location=proof.location,
        policy=upload_policy(proof),
        actor=actor,
        retain_from=proof.execution_date or timezone.localdate(),
    )
    ProofDocument.objects.bulk_create([ProofDocument(proof=proof, document=d) for d in stored])
    names = ", ".join(f"“{d.original_name}”" for d in stored)
    event(proof.plan, actor, PlanEvent.Kind.DOCUMENT, Said(gettext_noop("Added %(names)s."), names=names), proof=proof)
    return stored


@transaction.atomic(durable=True)
def proof_add_documents(
    *, proof: Proof, uploads: list[UploadedFile], kind: str, note: str, actor: User
) -> list[Document]:
    """Attach files (all or none): the invoice or a certification report, and proof documents, each with a note."""
    proof = _lock(proof)
    _filer(proof, actor)
    _editable(proof)
    return _store(proof, uploads, kind.strip(), note.strip(), actor)


@transaction.atomic(durable=True)
def proof_add_certification(
    *, proof: Proof, actor: User, description: str, lines: list[tuple[str, object, object]]
) -> Document:
    """The certification report for in-house work, written as a PDF (the claims' form) and attached."""
    proof = _lock(proof)
    _filer(proof, actor)
    _editable(proof)
    report = certification.report_clean(description=description, lines=lines, currency=proof.currency)
    activity = proof.activity
    pdf = certification.report_pdf(
        report,
        claim_label=_("Proof of execution %(pk)s: %(name)s (%(activity)s, “%(campaign)s”, plan %(plan)s)")
        % {
            "pk": proof.pk,
            "name": proof.name,
            "activity": activity.activity_type.name,
            "campaign": activity.campaign.name,
            "plan": proof.plan_id,
        },
        location=f"{proof.location.name} ({proof.location.partner_id})",
        certified_by=actor.get_full_name(),
        on=timezone.localdate(),
    )
    upload = SimpleUploadedFile(f"certification-report-proof-{proof.pk}.pdf", pdf, "application/pdf")
    return _store(proof, [upload], DocumentKind.CERTIFICATION_REPORT.value, report.summary(), actor)[0]


@transaction.atomic(durable=True)
def proof_remove_document(*, proof: Proof, document: Document, actor: User) -> Proof:
    proof = _lock(proof)
    _filer(proof, actor)
    _editable(proof)
    removed = ProofDocument.objects.filter(proof=proof, document=document, removed_at__isnull=True).update(
        removed_at=timezone.now()
    )
    if not removed:
        raise ValidationError({"document": _("That document is not on this proof.")})
    event(
        proof.plan,
        actor,
        PlanEvent.Kind.DOCUMENT,
        Said(gettext_noop("Removed “%(name)s” (kept in the history)."), name=document.original_name),
        proof=proof,
    )
    return proof


# --- money -------------------------------------------------------------------------------------------------


def _hold(proof: Proof, fund: Fund, amount: Decimal, actor: User | None, key: str) -> None:
    """Make the proof's reservation exactly `amount` in `fund` (moving it there from another fund first); holding
    more is checked against the caps (`spending.CapExceeded`) and the fund's balance (`ledger.InsufficientFunds`)."""
    if proof.fund_id is not None and proof.fund_id != fund.pk and proof.reserved:
        assert proof.fund is not None
        spending.spend_release(fund=proof.fund, reference=proof.reference, key=f"{key}:move", actor=actor)
        proof.reserved = Decimal(0)
    proof.fund = fund
    spend = spending.spend_hold(
        fund=fund,
        activity_type=proof.activity.activity_type,
        reference=proof.reference,
        amount=amount,
        key=key,
        actor=actor,
        within=proof.plan.reference,
        caps_at=proof.submitted_at,
    )
    proof.reserved = spend.held


def _release(proof: Proof, actor: User | None, key: str) -> None:
    if proof.reserved and proof.fund is not None:
        spending.spend_release(fund=proof.fund, reference=proof.reference, key=key, actor=actor)
    proof.reserved = Decimal(0)


# --- submission and review ---------------------------------------------------------------------------------


def _errors_of(found: list[proof_checks.Finding]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for f in found:
        errors.setdefault(f.field or "__all__", []).append(f.message)
    return errors


@transaction.atomic(durable=True)
def proof_submit(*, proof: Proof, actor: User) -> Proof:
    proof = _lock(proof)
    _filer(proof, actor)
    if proof.status not in EDITABLE:
        raise Conflict(
            _("A proof of execution that is %(status)s cannot be submitted.")
            % {"status": proof.get_status_display().lower()},
            code="invalid_transition",
        )
    today = timezone.localdate()
    rules = selectors.plan_settings_of(proof.plan.program)
    due = deadlines.proof_due(rules, proof.activity.campaign.start)
    if proof.submissions == 0 and today > due:
        raise Conflict(
            _("Proof of execution for “%(campaign)s” was due by %(day)s.")
            % {"campaign": proof.activity.campaign.name, "day": day_lazy(due)},
            code="proof_overdue",
        )
    found = proof_checks.blocking(proof_checks.proof_findings(proof, today, rules))
    if found:
        raise ValidationError(_errors_of(found))
    fund = proof_checks.fund_for_proof(proof)
    assert fund is not None
    assert proof.amount is not None
    done = _move(
        proof,
        S.SUBMITTED,
        actor,
        Said(gettext_noop("Submitted for review."))
        if proof.submissions == 0
        else Said(gettext_noop("Resubmitted for review.")),
        {"amount": (None, str(proof.amount))},
    )
    proof.submitted_by, proof.submitted_at = actor, timezone.now()  # held to the caps in force now
    try:
        _hold(proof, fund, proof.amount, actor, f"proof:{proof.pk}:event:{done.pk}")
    except ledger.InsufficientFunds:
        raise ValidationError({"amount": _("The fund no longer holds enough for this proof.")}) from None
    attached = ProofDocument.objects.filter(proof=proof, removed_at__isnull=True).select_related("document")
    document_lock(documents=[a.document for a in attached], actor=actor, retain_from=proof.execution_date)
    proof.submissions += 1
    proof.due_on = deadlines.proof_review_due(today)
    proof.reviewer = proof.reviewer or proof.plan.reviewer
    workflow.save_invoice_once(proof)
    notify(
        users=[proof.reviewer] if proof.reviewer else reviewers_of(proof.plan.program),
        subject=format_lazy(gettext_lazy("Proof of execution {pk} to review: {name}"), pk=proof.pk, name=proof.name),
        kind=NotificationKind.REVIEW,
        body=format_lazy(
            gettext_lazy("{location} asks {amount} for {activity} (plan {plan}). Review due {day}."),
            location=str(proof.location),
            amount=money_lazy(proof.amount, proof.currency),
            activity=proof.activity.activity_type.name,
            plan=proof.plan_id,
            day=day_lazy(proof.due_on),
        ),
        link=review_link(proof),
    )
    return proof


@transaction.atomic(durable=True)
def proof_assign(*, proof: Proof, reviewer: User, actor: User) -> Proof:
    proof = _lock(proof)
    changes = {"reviewer": (proof.reviewer_id, reviewer.pk)}

    def note(said: Said) -> None:
        event(proof.plan, actor, PlanEvent.Kind.NOTE, said, proof=proof, internal=True)
        _audit(proof, actor, "proof.assign", changes)

    workflow.assign(
        proof,
        reviewer=reviewer,
        actor=actor,
        may_review=lambda user: permissions.can_review_proof(user, proof),
        awaiting=AWAITING_REVIEW,
        noun="proof",
        start=lambda said: _move(proof, S.UNDER_REVIEW, actor, said, changes),
        note=note,
    )
    proof.save()
    return proof


def _reviewable(proof: Proof, actor: User) -> None:
    if not permissions.can_review_proof(actor, proof):
        raise PermissionDenied(_("Only reviewers of this program who did not file the proof can decide it."))
    workflow.check_awaiting_decision(proof.status, NOUN)
    if proof.status == S.SUBMITTED:
        _move(
            proof,
            S.UNDER_REVIEW,
            actor,
            Said(gettext_noop("Review started by %(person)s."), person=actor.get_full_name()),
        )
        proof.reviewer, proof.review_started_at = actor, timezone.now()


def _feedback(proof: Proof, to: str, actor: User, reasons: list[Reason], message: str) -> PlanEvent:
    if not reasons:
        raise ValidationError({"reasons": _("Give at least one reason, so the partner knows what to change.")})
    done = _move(proof, to, actor, message.strip())
    done.kind = PlanEvent.Kind.FEEDBACK
    done.save(update_fields=["kind"])
    reasons_record(proof.plan, done, reasons, proof=proof)
    return done


@transaction.atomic(durable=True)
def proof_approve(
    *, proof: Proof, actor: User, amount: Decimal | None = None, note: str = "", reasons: list[Reason] | None = None
) -> Proof:
    """Approve: min(approved, what is left of the plan's limit) becomes payable; the rest is carried or given
    back to the fund, as the program's plan rules say."""
    proof = _lock(proof)
    _reviewable(proof, actor)
    assert proof.amount is not None
    assert proof.fund is not None
    program = proof.plan.program
    amount = workflow.decided_amount(
        asked=proof.amount,
        amount=amount,
        partial_allowed=program.partial_approval,
        program_name=program.name,
        currency=proof.currency,
        explained=bool(note.strip() or reasons),
        plural="proofs",
        noun="proof",
    )
    second = workflow.approval_step(
        amount=amount,
        limit=approval_limit(actor, program),
        first_approver_id=proof.first_approver_id,
        actor_id=actor.pk,
        noun=NOUN,
    )
    if second is not None:
        proof.first_approver = actor
        proof.save()
        event(
            proof.plan,
            actor,
            PlanEvent.Kind.NOTE,
            Said(
                gettext_noop(
                    "First approval of %(amount)s, above %(person)s's limit of %(limit)s: a second reviewer must approve."
                ),
                amount=Amount(amount, proof.currency),
                person=actor.get_full_name(),
                limit=Amount(second.limit, proof.currency),
            ),
            proof=proof,
            internal=True,
        )
        _audit(proof, actor, "proof.first_approval", {"first_approver": (None, actor.pk)})
        others = [u for u in reviewers_of(program) if u.pk != actor.pk]
        notify(
            users=others,
            subject=format_lazy(gettext_lazy("Proof of execution {pk} needs a second approval"), pk=proof.pk),
            body=proof.name,
            link=review_link(proof),
        )
        return proof
    if proof.reserved != proof.amount:
        raise Conflict(_("The proof's reservation does not match its amount."), code="reservation_mismatch")
    rules = selectors.plan_settings_of(program)
    room = selectors.limit_left(proof.plan)
    pay = min(amount, room)
    carry = amount - pay if rules.excess == ExcessPolicy.CARRY else Decimal(0)
    message = note.strip() or (
        Said(gettext_noop("Approved.")) if amount == proof.amount else Said(gettext_noop("Partly approved."))
    )
    done = _move(
        proof,
        S.APPROVED,
        actor,
        message,
        {"approved_amount": (None, str(amount)), "payable": (None, str(pay)), "carried": (None, str(carry))},
    )
    if reasons:
        reasons_record(proof.plan, done, reasons, proof=proof)
    spending.spend_approve(
        fund=proof.fund,
        activity_type=proof.activity.activity_type,
        reference=proof.reference,
        amount=pay,
        keep_held=carry,
        key=f"proof:{proof.pk}:event:{done.pk}",
        actor=actor,
        caps_at=proof.submitted_at,
    )
    proof.approved_amount, proof.payable, proof.carried, proof.reserved = amount, pay, carry, carry
    proof.decided_at = timezone.now()
    proof.closed_at = proof.decided_at if not carry else None
    proof.save()
    told = format_lazy(gettext_lazy("{pay} payable."), pay=money_lazy(pay, proof.currency))
    if amount > pay:
        said = Said(
            gettext_noop(
                "%(pay)s payable. %(excess)s is above what is left of the plan's limit: carried until the limit has "
                "room again."
            )
            if carry
            else gettext_noop("%(pay)s payable. %(excess)s is above what is left of the plan's limit and is not paid."),
            pay=Amount(pay, proof.currency),
            excess=Amount(amount - pay, proof.currency),
        )
        event(proof.plan, actor, PlanEvent.Kind.MONEY, said, proof=proof)
        told = format_lazy(
            gettext_lazy(
                "{pay} payable. {excess} is above what is left of the plan's limit: carried until the limit has room "
                "again."
            )
            if carry
            else gettext_lazy("{pay} payable. {excess} is above what is left of the plan's limit and is not paid."),
            pay=money_lazy(pay, proof.currency),
            excess=money_lazy(amount - pay, proof.currency),
        )
    notify(
        users=partners_of(proof.plan),
        subject=format_lazy(gettext_lazy("Proof of execution {pk} approved: {name}"), pk=proof.pk, name=proof.name),
        body=format_lazy(
            gettext_lazy("{amount} approved. {said} {note}"),
            amount=money_lazy(amount, proof.currency),
            said=told,
            note=note.strip()
            or (gettext_lazy("Approved.") if amount == proof.amount else gettext_lazy("Partly approved.")),
        ),
        link=link(proof),
    )
    return proof


@transaction.atomic(durable=True)
def proof_request_action(*, proof: Proof, actor: User, reasons: list[Reason], message: str = "") -> Proof:
    """Back to the partner to fix; the money stays reserved."""
    proof = _lock(proof)
    _reviewable(proof, actor)
    _feedback(proof, S.ACTION_REQUIRED, actor, reasons, message)
    proof.first_approver = None
    proof.decided_at = timezone.now()
    proof.save()
    notify(
        users=partners_of(proof.plan),
        subject=format_lazy(
            gettext_lazy("Proof of execution {pk} needs your action: {name}"), pk=proof.pk, name=proof.name
        ),
        body=message.strip() or gettext_lazy("The reviewer asks for changes."),
        link=link(proof),
    )
    return proof


@transaction.atomic(durable=True)
def proof_reject(*, proof: Proof, actor: User, reasons: list[Reason], message: str = "") -> Proof:
    """Reject; the reservation goes back to the fund (forfeited if its usage period has ended)."""
    proof = _lock(proof)
    _reviewable(proof, actor)
    done = _feedback(proof, S.REJECTED, actor, reasons, message)
    _release(proof, actor, f"proof:{proof.pk}:event:{done.pk}")
    proof.first_approver = None
    proof.decided_at = timezone.now()
    proof.save()
    deadline = timezone.localdate() + timedelta(days=proof.plan.program.dispute_window_days)
    notify(
        users=partners_of(proof.plan),
        subject=format_lazy(gettext_lazy("Proof of execution {pk} rejected: {name}"), pk=proof.pk, name=proof.name),
        body=workflow.rejection_notice(message, deadline),
        link=link(proof),
    )
    return proof


def dispute_deadline(proof: Proof) -> date | None:
    return workflow.dispute_deadline(proof.status, proof.decided_at, proof.plan.program)


@transaction.atomic(durable=True)
def proof_dispute(*, proof: Proof, actor: User, reason: str) -> Proof:
    proof = _lock(proof)
    if not permissions.can_dispute_proof(actor, proof):
        raise PermissionDenied(_("Only the location's incentives admins can dispute a rejection."))
    reason = workflow.check_dispute(
        status=proof.status,
        decided_at=proof.decided_at,
        program=proof.plan.program,
        reason=reason,
    )
    done = _move(proof, S.DISPUTED, actor, reason)
    assert proof.amount is not None
    assert proof.fund is not None
    try:
        _hold(proof, proof.fund, proof.amount, actor, f"proof:{proof.pk}:event:{done.pk}")
    except ledger.InsufficientFunds:
        raise ValidationError({"reason": _("The fund no longer holds enough to reopen this proof.")}) from None
    proof.disputed_at = timezone.now()
    program = proof.plan.program
    proof.due_on = periods.add_business_days(program, timezone.localdate(), program.dispute_sla_business_days)
    proof.save()
    notify(
        users=[proof.reviewer] if proof.reviewer else reviewers_of(program),
        subject=format_lazy(gettext_lazy("Proof of execution {pk} disputed: {name}"), pk=proof.pk, name=proof.name),
        body=reason.strip(),
        link=review_link(proof),
    )
    return proof


@transaction.atomic(durable=True)
def proof_withdraw(*, proof: Proof, actor: User, reason: str = "") -> Proof:
    proof = _lock(proof)
    _filer(proof, actor)
    done = _move(proof, S.WITHDRAWN, actor, reason.strip() or Said(gettext_noop("Withdrawn.")))
    _release(proof, actor, f"proof:{proof.pk}:event:{done.pk}")
    proof.closed_at = timezone.now()
    proof.save()
    return proof


# --- scheduled work ----------------------------------------------------------------------------------------


def proofs_settle(*, today: date | None = None) -> dict[str, int]:
    """Each month: approved proof carried above the plan's limit becomes payable as far as the limit has room
    again (an amendment raised it); once the plan can no longer be amended, what is still carried goes back to
    the fund. Idempotent: the keys name how much was payable before."""
    today = today or timezone.localdate()
    paid = released = 0
    for proof_id in Proof.objects.filter(carried__gt=0).order_by("id").values_list("pk", flat=True):
        with transaction.atomic(durable=True):
            proof = _lock(Proof(pk=proof_id))
            if proof.carried <= 0 or proof.fund is None:
                continue
            plan = proof.plan
            window = deadlines.plan_window(plan.program, selectors.plan_settings_of(plan.program), plan.fiscal_year)
            if today > window.resubmit_by:
                amount = proof.carried
                _release(proof, None, f"proof:{proof.pk}:carried")
                proof.carried = Decimal(0)
                proof.closed_at = timezone.now()
                proof.save()
                message = Said(
                    gettext_noop(
                        "%(amount)s carried above the plan's limit was given back to the fund: the plan could be "
                        "amended until %(day)s."
                    ),
                    amount=Amount(amount, proof.currency),
                    day=window.resubmit_by,
                )
                event(plan, None, PlanEvent.Kind.MONEY, message, proof=proof)
                _audit(proof, None, "proof.carried_release", {"carried": (str(amount), "0.00")})
                released += 1
                continue
            pay = min(proof.carried, selectors.limit_left(plan))
            if pay <= 0:
                continue
            spending.spend_approve(
                fund=proof.fund,
                activity_type=proof.activity.activity_type,
                reference=proof.reference,
                amount=pay,
                keep_held=proof.carried - pay,
                key=f"proof:{proof.pk}:settle:{proof.payable}",
                actor=None,
                caps_at=proof.submitted_at,
            )
            before = proof.payable
            proof.payable += pay
            proof.carried -= pay
            proof.reserved -= pay
            proof.closed_at = timezone.now() if not proof.carried else None
            proof.save()
            message = Said(
                gettext_noop("%(amount)s carried above the plan's limit is now payable."),
                amount=Amount(pay, proof.currency),
            )
            event(plan, None, PlanEvent.Kind.MONEY, message, proof=proof)
            _audit(proof, None, "proof.settle", {"payable": (str(before), str(proof.payable))})
            notify(
                users=partners_of(plan),
                subject=format_lazy(
                    gettext_lazy("Proof of execution {pk}: {amount} payable"),
                    pk=proof.pk,
                    amount=money_lazy(pay, proof.currency),
                ),
                body=format_lazy(
                    gettext_lazy("{amount} carried above the plan's limit is now payable."),
                    amount=money_lazy(pay, proof.currency),
                ),
                link=link(proof),
            )
            paid += 1
    return {"settled": paid, "released": released}


def proofs_escalate(*, today: date | None = None) -> int:
    """Tell program managers about proof reviews past their due date (once per proof), as for claims."""
    return escalation.escalate_overdue(
        Proof.objects.all(),
        today or timezone.localdate(),
        lock=lambda pk: _lock(Proof(pk=pk)),
        note=lambda proof, text: event(proof.plan, None, PlanEvent.Kind.NOTE, text, proof=proof, internal=True),
        noun="proof of execution",
        link=review_link,
        awaiting=workflow.AWAITING_REVIEW,
    )


def proofs_warn_due(*, today: date | None = None) -> int:
    """Warn the partner once per campaign of a plan in force when proof of execution falls due within the
    program's warning days and activities still have none submitted."""
    today = today or timezone.localdate()
    warned = 0
    candidates = Campaign.objects.filter(proof_warned_at__isnull=True, version__plan__in_force=F("version"))
    for campaign_id, plan_id in candidates.values_list("pk", "version__plan_id"):
        with transaction.atomic(durable=True):
            plan = lock_plan(plan_id)
            campaign = Campaign.objects.get(pk=campaign_id)
            if campaign.proof_warned_at is not None or campaign.version_id != plan.in_force_id:
                continue
            rules = selectors.plan_settings_of(plan.program)
            due = deadlines.proof_due(rules, campaign.start)
            if not deadlines.proof_warning_from(rules, campaign.start) <= today <= due:
                continue
            keys = set(Proof.objects.filter(plan=plan, status__in=ACTIVE).values_list("activity__key", flat=True))
            missing = [a for a in campaign.activities.select_related("activity_type") if a.key not in keys]
            if not missing:
                continue
            names = ", ".join(a.activity_type.name for a in missing)
            message = Said(
                gettext_noop("Proof of execution for “%(campaign)s” is due by %(day)s; still missing for: %(names)s."),
                campaign=campaign.name,
                day=due,
                names=names,
            )
            Campaign.objects.filter(pk=campaign.pk).update(proof_warned_at=timezone.now())
            event(plan, None, PlanEvent.Kind.REMINDER, message)
            notify(
                users=partners_of(plan),
                subject=format_lazy(
                    gettext_lazy("Proof of execution due {day}: {campaign}"), day=day_lazy(due), campaign=campaign.name
                ),
                kind=NotificationKind.REMINDER,
                body=format_lazy(
                    gettext_lazy("Proof of execution for “{campaign}” is due by {day}; still missing for: {names}."),
                    campaign=campaign.name,
                    day=day_lazy(due),
                    names=names,
                ),
                link=f"/plans/{plan.pk}/",
            )
            warned += 1
    return warned
