"""Fund requests (ADR 0016): a partner location asks for the vendor's share of an activity's expected costs out of
a market development budget before the activity runs; a reviewer decides; approval reserves the money in the
location's allocation of the budget (or, for a location without one, straight from the budget's pool); what is
not claimed by the request's deadline goes back where it came from.

Money: the request's vendor share is its expense lines' total times the cost share in force when it is filed,
rounded once to the cent (`vendor_share`). Approval posts one transfer (allocated, or the pool, to the
allocation's reserved) under the lock of the request and then of the allocation, the order every writer of an
allocation's money takes, so that an allocation's figure and its reservations never interleave; the ledger's
compare-and-set is the limit: however many approvals run at once, no allocation and no pool goes below zero.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from coopfunds.accounts.models import Location, Role, User
from coopfunds.accounts.selectors import people_holding
from coopfunds.audit.services import audit_record
from coopfunds.core.errors import Conflict, PermissionDenied, ValidationError
from coopfunds.core.i18n import Amount, Said, day_lazy, money_lazy, said_of
from coopfunds.core.money import MAX_DIGITS, money, quantize
from coopfunds.funds import budgets, ledger
from coopfunds.funds.models import Account, Allocation, Bucket, Budget, TransferKind
from coopfunds.mdf import permissions
from coopfunds.mdf.models import ExpenseLine, FundRequest, RequestEvent
from coopfunds.notifications import escalation
from coopfunds.notifications.models import NotificationKind
from coopfunds.notifications.services import notify
from coopfunds.programs import periods
from coopfunds.programs.models import ActivityType, ExpenseCategory, Program
from coopfunds.review import workflow

S = workflow.ReviewStatus
NOUN = "fund request"


@dataclass(frozen=True)
class Line:
    """One expected cost, as typed: its category (`ExpenseCategory`), what it is, and its amount."""

    category: str
    description: str
    amount: Decimal


def vendor_share(total: Decimal, percent: Decimal) -> Decimal:
    """The vendor's part of `total` at `percent`, rounded once to the cent (half up)."""
    return quantize(Decimal(total) * Decimal(percent) / 100)


def cost_share_of(activity_type: ActivityType, program: Program) -> Decimal:
    """The share the vendor pays: the activity type's, else the program's rule (in force now)."""
    if activity_type.cost_share_percent is not None:
        return Decimal(activity_type.cost_share_percent)
    return Decimal(program.request_cost_share_percent)


# --------------------------------------------------------------------------------------------- helpers


def lock(pk: int) -> FundRequest:
    return (
        FundRequest.objects.select_for_update(of=("self",), no_key=True)
        .select_related("location__organisation", "program", "budget", "activity_type")
        .get(pk=pk)
    )


def _event(
    request: FundRequest,
    actor: User | None,
    kind: str,
    message: Any = "",
    *,
    internal: bool = False,
    old: str = "",
    new: str = "",
) -> RequestEvent:
    return RequestEvent.objects.create(
        request=request,
        actor=actor,
        kind=kind,
        message=message,
        said=said_of(message),
        internal=internal,
        old_status=old,
        new_status=new,
    )


def _audit(request: FundRequest, actor: User | None, verb: str, **kwargs: Any) -> None:
    audit_record(actor=actor, verb=verb, target=request, organisation_id=request.location.organisation_id, **kwargs)


def _move(request: FundRequest, to: str, actor: User | None, message: Any = "", **changes: Any) -> RequestEvent:
    """Check the workflow's table, change the status, write the history event and the audit row."""
    workflow.check_transition(request.status, to, NOUN)
    old, request.status = request.status, to
    done = _event(request, actor, RequestEvent.Kind.STATUS, message, old=old, new=to)
    _audit(request, actor, f"fundrequest.{to}", changes={"status": (old, to), **changes}, reason=str(message))
    return done


def partners_of(request: FundRequest) -> list[User]:
    return people_holding(
        Role.INCENTIVES_ADMIN,
        program_id=request.program_id,
        location_id=request.location_id,
        also=(request.created_by_id, request.submitted_by_id),
    )


def link(request: FundRequest) -> str:
    return f"/requests/{request.pk}/"


def _tell_partners(request: FundRequest, subject: Any, body: Any) -> None:
    """`subject` names the request by {pk} and {name}."""
    notify(
        users=partners_of(request),
        subject=format_lazy(subject, pk=request.pk, name=request.name),
        body=body,
        link=link(request),
    )


# --------------------------------------------------------------------------------------------- filing


def _clean(
    *,
    budget: Budget,
    location: Location,
    activity_type: ActivityType,
    name: str,
    starts_on: date,
    ends_on: date,
    expected_leads: int | None,
    expected_pipeline: Decimal | None,
    lines: Sequence[Line],
) -> tuple[dict[str, Any], list[ExpenseLine]]:
    """Every field in words (all of them at once, each line by its row number), or the values to save."""
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = _("Give the activity a name.")
    elif len(name) > 200:
        errors["name"] = _("Keep the name to 200 characters or fewer.")
    if starts_on > ends_on:
        errors["ends_on"] = _("The activity ends before it starts.")
    elif starts_on < budget.starts_on or ends_on > budget.ends_on:
        errors["starts_on"] = _("The budget is for activities from %(first)s to %(last)s.") % {
            "first": day_lazy(budget.starts_on),
            "last": day_lazy(budget.ends_on),
        }
    if activity_type.program_id != budget.program_id or not activity_type.is_active:
        errors["activity_type"] = _("Choose an active activity type of %(program)s.") % {"program": budget.program}
    elif "starts_on" not in errors and periods.fiscal_year_of(budget.program, starts_on) != activity_type.fiscal_year:
        errors["activity_type"] = _("%(type)s is in the catalogue of another fiscal year than the activity.") % {
            "type": activity_type.name
        }
    why = budgets.eligibility(budget, location)
    if why:
        errors["location"] = why
    if expected_leads is not None and expected_leads < 0:
        errors["expected_leads"] = _("Leads are a whole number from 0 up.")
    if expected_pipeline is not None and (quantize(expected_pipeline) < 0 or _too_long(expected_pipeline)):
        errors["expected_pipeline"] = _("Give the pipeline as an amount from 0 up.")
    funded = set(activity_type.expense_categories) or set(ExpenseCategory.values)
    rows, problems = [], []
    for n, line in enumerate(lines, start=1):
        amount = quantize(Decimal(line.amount))
        description = line.description.strip()
        if line.category not in ExpenseCategory.values:
            problems.append(_("Line %(n)s: choose an expense category.") % {"n": n})
        elif line.category not in funded:
            problems.append(
                _("Line %(n)s: “%(category)s” costs are not funded for %(type)s.")
                % {"n": n, "category": ExpenseCategory(line.category).label, "type": activity_type.name}
            )
        if not description:
            problems.append(_("Line %(n)s: say what the cost is for.") % {"n": n})
        elif len(description) > 200:
            problems.append(_("Line %(n)s: keep the description to 200 characters or fewer.") % {"n": n})
        if amount <= 0 or _too_long(amount):
            problems.append(_("Line %(n)s: give an amount above zero.") % {"n": n})
        rows.append(ExpenseLine(category=line.category, description=description, amount=amount))
    if problems:
        errors["lines"] = " ".join(problems)
    total = sum((r.amount for r in rows), Decimal(0))
    if _too_long(total):
        errors["lines"] = _("The lines add up to more than an amount can hold.")
    if errors:
        raise ValidationError(errors)
    share = cost_share_of(activity_type, budget.program)
    values = {
        "name": name,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "expected_leads": expected_leads,
        "expected_pipeline": None if expected_pipeline is None else quantize(expected_pipeline),
        "total_cost": total,
        "cost_share_percent": share,
        "requested": vendor_share(total, share),
    }
    return values, rows


def _too_long(amount: Decimal) -> bool:
    return len(quantize(Decimal(amount)).as_tuple().digits) > MAX_DIGITS


@transaction.atomic(durable=True)
def request_create(
    *,
    budget: Budget,
    location: Location,
    activity_type: ActivityType,
    name: str,
    starts_on: date,
    ends_on: date,
    lines: Sequence[Line] = (),
    description: str = "",
    expected_leads: int | None = None,
    expected_pipeline: Decimal | None = None,
    actor: User,
) -> FundRequest:
    """A draft request of `location` for an activity paid from `budget`."""
    budget = Budget.objects.select_related("program").get(pk=budget.pk)
    draft = FundRequest(budget=budget, location=location, program=budget.program, created_by=actor)
    if not permissions.can_file(actor, draft):
        raise PermissionDenied(_("Only the location's incentives admins and users can request funds for it."))
    values, rows = _clean(
        budget=budget,
        location=location,
        activity_type=activity_type,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        expected_leads=expected_leads,
        expected_pipeline=expected_pipeline,
        lines=lines,
    )
    request = FundRequest.objects.create(
        budget=budget,
        location=location,
        program=budget.program,
        activity_type=activity_type,
        currency=budget.currency,
        description=description.strip(),
        created_by=actor,
        **values,
    )
    ExpenseLine.objects.bulk_create([ExpenseLine(request=request, **_line(r)) for r in rows])
    _event(request, actor, RequestEvent.Kind.CREATED)
    _audit(request, actor, "fundrequest.create", changes={"requested": (None, str(request.requested))})
    return request


def _line(row: ExpenseLine) -> dict[str, Any]:
    return {"category": row.category, "description": row.description, "amount": row.amount}


@transaction.atomic(durable=True)
def request_update(
    *,
    request: FundRequest,
    activity_type: ActivityType,
    name: str,
    starts_on: date,
    ends_on: date,
    lines: Sequence[Line],
    description: str = "",
    expected_leads: int | None = None,
    expected_pipeline: Decimal | None = None,
    actor: User,
) -> FundRequest:
    """Replace what the draft (or the request sent back for changes) says, its expense lines included."""
    request = lock(request.pk)
    if not permissions.can_file(actor, request):
        raise PermissionDenied(_("Only the location's incentives admins and users can change its fund requests."))
    if not request.is_editable:
        raise Conflict(
            _("A fund request that is %(status)s cannot be changed.") % {"status": _status(request)},
            code="invalid_transition",
        )
    values, rows = _clean(
        budget=request.budget,
        location=request.location,
        activity_type=activity_type,
        name=name,
        starts_on=starts_on,
        ends_on=ends_on,
        expected_leads=expected_leads,
        expected_pipeline=expected_pipeline,
        lines=lines,
    )
    before = {"requested": str(request.requested), "total_cost": str(request.total_cost)}
    for field, value in {**values, "activity_type": activity_type, "description": description.strip()}.items():
        setattr(request, field, value)
    request.save()
    request.lines.all().delete()
    ExpenseLine.objects.bulk_create([ExpenseLine(request=request, **_line(r)) for r in rows])
    _event(request, actor, RequestEvent.Kind.UPDATED)
    _audit(
        request,
        actor,
        "fundrequest.update",
        changes={
            "requested": (before["requested"], str(request.requested)),
            "total_cost": (before["total_cost"], str(request.total_cost)),
        },
    )
    return request


def _status(request: FundRequest) -> str:
    return str(S(request.status).label).lower()


@transaction.atomic(durable=True)
def request_submit(*, request: FundRequest, actor: User) -> FundRequest:
    """Send the request for review: it must have its costs and be filed the program's lead time before the
    activity starts. The cost share is read again from the rules in force now."""
    request = lock(request.pk)
    if not permissions.can_file(actor, request):
        raise PermissionDenied(_("Only the location's incentives admins and users can submit its fund requests."))
    workflow.check_transition(request.status, S.SUBMITTED, NOUN)
    program, today = request.program, timezone.localdate()
    errors: dict[str, str] = {}
    earliest = today + timedelta(days=program.request_lead_days)
    if request.starts_on < earliest:
        errors["starts_on"] = _(
            "%(program)s asks for fund requests %(days)s days before the activity starts: this one can start on "
            "%(day)s at the earliest."
        ) % {"program": program.name, "days": program.request_lead_days, "day": day_lazy(earliest)}
    if not request.lines.exists():
        errors["lines"] = _("List the activity's expected costs.")
    why = budgets.eligibility(request.budget, request.location)
    if why:
        errors["location"] = why
    share = cost_share_of(request.activity_type, program)
    requested = vendor_share(request.total_cost, share)
    if not errors and requested <= 0:
        errors["lines"] = _("The vendor's share of these costs is zero: there is nothing to request.")
    if errors:
        raise ValidationError(errors)
    resubmitted = request.submissions > 0
    request.cost_share_percent, request.requested = share, requested
    _move(
        request,
        S.SUBMITTED,
        actor,
        Said(
            gettext_noop("Resubmitted for review: %(amount)s (%(share)s%% of %(total)s).")
            if resubmitted
            else gettext_noop("Submitted for review: %(amount)s (%(share)s%% of %(total)s)."),
            amount=Amount(requested, request.currency),
            share=format(share.normalize(), "f"),
            total=Amount(request.total_cost, request.currency),
        ),
        requested=(None, str(requested)),
    )
    request.submissions += 1
    request.submitted_at, request.submitted_by = timezone.now(), actor
    request.due_on = periods.add_business_days(program, today, program.review_sla_business_days)
    request.save()
    notify(
        users=[request.reviewer] if request.reviewer else people_holding(Role.REVIEWER, program_id=program.pk),
        subject=format_lazy(gettext_lazy("Fund request {pk} to review: {name}"), pk=request.pk, name=request.name),
        kind=NotificationKind.REVIEW,
        body=format_lazy(
            gettext_lazy("{location} asks for {amount}. Review due {day}."),
            location=str(request.location),
            amount=money_lazy(requested, request.currency),
            day=day_lazy(request.due_on),
        ),
        link=link(request),
    )
    return request


@transaction.atomic(durable=True)
def request_withdraw(*, request: FundRequest, actor: User) -> FundRequest:
    request = lock(request.pk)
    if not permissions.can_file(actor, request):
        raise PermissionDenied(_("Only the location's incentives admins and users can withdraw its fund requests."))
    _move(request, S.WITHDRAWN, actor)
    request.save()
    return request


# --------------------------------------------------------------------------------------------- review


@transaction.atomic(durable=True)
def request_assign(*, request: FundRequest, reviewer: User, actor: User) -> FundRequest:
    """Name another reviewer (or oneself); a submitted request goes under review."""
    request = lock(request.pk)
    changes = {"reviewer": (request.reviewer_id, reviewer.pk)}

    def note(said: Said) -> None:
        _event(request, actor, RequestEvent.Kind.NOTE, said, internal=True)
        _audit(request, actor, "fundrequest.assign", changes=changes)

    workflow.assign(
        request,
        reviewer=reviewer,
        actor=actor,
        may_review=lambda user: permissions.can_review(user, request),
        awaiting=workflow.AWAITING_REVIEW,
        noun="fund request",
        start=lambda said: _move(request, S.UNDER_REVIEW, actor, said, **changes),
        note=note,
    )
    request.save()
    if reviewer.pk != actor.pk:
        notify(
            users=[reviewer],
            subject=format_lazy(gettext_lazy("Fund request {pk} is yours to review"), pk=request.pk),
            body=request.name,
            link=link(request),
            kind=NotificationKind.REVIEW,
        )
    return request


def _decidable(request: FundRequest, actor: User) -> None:
    if not permissions.can_review(actor, request):
        raise PermissionDenied(_("Only reviewers of this program who did not file the request can decide it."))
    if request.reviewer_id not in (None, actor.pk):
        raise PermissionDenied(_("Only the request's named reviewer can decide it; assign it to yourself first."))
    workflow.check_awaiting_decision(request.status, NOUN)
    if request.status == S.SUBMITTED:  # deciding straight from the queue starts the review
        _move(
            request,
            S.UNDER_REVIEW,
            actor,
            Said(gettext_noop("Review started by %(person)s."), person=actor.get_full_name()),
        )
        request.reviewer, request.review_started_at = actor, timezone.now()


def _lock_allocation(request: FundRequest) -> Allocation | None:
    """The location's allocation of the request's budget, locked (after the request: every writer's order)."""
    return (
        Allocation.objects.select_for_update(of=("self",), no_key=True)
        .select_related("budget", "location")
        .filter(budget_id=request.budget_id, location_id=request.location_id)
        .first()
    )


@transaction.atomic(durable=True)
def request_approve(*, request: FundRequest, actor: User, amount: Decimal | None = None, note: str = "") -> FundRequest:
    """Approve the vendor's share (or, where the program allows part approvals, less of it, with a reason) and
    reserve it: from the location's allocation of the budget, or from the budget's pool if it has none."""
    request = lock(request.pk)
    _decidable(request, actor)
    program = request.program
    approved = workflow.decided_amount(
        asked=request.requested,
        amount=amount,
        partial_allowed=program.partial_approval,
        program_name=program.name,
        currency=request.currency,
        explained=bool(note.strip()),
        plural="fund requests",
        noun="fund request",
    )
    found = _lock_allocation(request)
    from_pool = found is None
    if found is None:  # a location without an allocation of the budget is given one, of what it approves
        Allocation.objects.get_or_create(
            budget=request.budget, location=request.location, defaults={"program_id": request.program_id}
        )
        found = _lock_allocation(request)
        assert found is not None
    allocation = found
    source = budgets.pool_account(request.budget) if from_pool else budgets.allocation_account(allocation)
    reserved = budgets.allocation_account(allocation, Bucket.RESERVED)
    try:
        ledger.post(
            key=f"{request.reference}:reserve:{request.submissions}",
            kind=TransferKind.RESERVE,
            legs=[(source, -approved), (reserved, approved)],
            effective_on=timezone.localdate(),
            reference=request.reference,
            actor=actor,
        )
    except ledger.InsufficientFunds:
        left = Account.objects.get(pk=source.pk).balance
        where = (
            _("The budget's pool has %(left)s left")
            if from_pool
            else _("The allocation of %(location)s has %(left)s left")
        ) % {"left": money(left, request.currency), "location": request.location.partner_id}
        raise ValidationError(
            {"amount": _("%(where)s: approve at most that, or allocate more first.") % {"where": where}}
        ) from None
    request.allocation = allocation
    request.approved_amount = request.reserved = approved
    request.claim_by = request.ends_on + timedelta(days=program.request_claim_days)
    request.decided_at = timezone.now()
    _move(
        request,
        S.APPROVED,
        actor,
        note.strip()
        or Said(
            gettext_noop("Approved: %(amount)s reserved until %(day)s."),
            amount=Amount(approved, request.currency),
            day=request.claim_by,
        ),
        approved_amount=(None, str(approved)),
        source=(None, "pool" if from_pool else "allocation"),
    )
    request.save()
    _tell_partners(
        request,
        gettext_lazy("Fund request {pk} approved: {name}"),
        format_lazy(
            gettext_lazy(
                "{amount} is reserved for the activity. Claim it by {day}; what is not claimed by then goes back."
            ),
            amount=money_lazy(approved, request.currency),
            day=day_lazy(request.claim_by),
        ),
    )
    return request


def _sent_back(request: FundRequest, actor: User, to: str, message: str) -> FundRequest:
    request = lock(request.pk)
    _decidable(request, actor)
    if not message.strip():
        raise ValidationError({"message": _("Say why, so the partner knows what to do.")})
    done = _move(request, to, actor, message.strip())
    done.kind = RequestEvent.Kind.FEEDBACK
    done.save(update_fields=["kind"])
    request.decided_at = timezone.now()
    request.save()
    return request


@transaction.atomic(durable=True)
def request_changes(*, request: FundRequest, actor: User, message: str) -> FundRequest:
    """Send the request back to the partner to change and resubmit."""
    request = _sent_back(request, actor, S.ACTION_REQUIRED, message)
    _tell_partners(
        request,
        gettext_lazy("Fund request {pk} needs changes: {name}"),
        format_lazy(gettext_lazy("{note} Change and resubmit it."), note=message.strip()),
    )
    return request


@transaction.atomic(durable=True)
def request_reject(*, request: FundRequest, actor: User, message: str) -> FundRequest:
    request = _sent_back(request, actor, S.REJECTED, message)
    _tell_partners(request, gettext_lazy("Fund request {pk} rejected: {name}"), message.strip())
    return request


# --------------------------------------------------------------------------------------------- giving back


def _give_back(request: FundRequest, actor: User | None, said: Said) -> Decimal:
    """Return what the (locked) approved request holds to its allocation; what it gave back."""
    held = request.reserved
    if request.status != S.APPROVED or held <= 0:
        return Decimal(0)
    allocation = _lock_allocation(request)
    assert allocation is not None
    ledger.post(
        key=f"{request.reference}:return",
        kind=TransferKind.RELEASE,
        legs=[
            (budgets.allocation_account(allocation, Bucket.RESERVED), -held),
            (budgets.allocation_account(allocation), held),
        ],
        effective_on=timezone.localdate(),
        reference=request.reference,
        actor=actor,
    )
    request.returned += held
    request.reserved = Decimal(0)
    request.closed_at = timezone.now()
    request.save()
    _event(request, actor, RequestEvent.Kind.MONEY, said)
    _audit(request, actor, "fundrequest.return", changes={"reserved": (str(held), "0.00")}, reason=str(said))
    return held


@transaction.atomic(durable=True)
def request_give_back(*, request: FundRequest, actor: User, reason: str) -> FundRequest:
    """The activity will not use the money: what the approved request holds goes back to the allocation now."""
    request = lock(request.pk)
    if not permissions.can_give_back(actor, request):
        raise PermissionDenied(_("Only the location's incentives admins and users, or a program manager, can do this."))
    if request.status != S.APPROVED or request.reserved <= 0:
        raise Conflict(_("This fund request holds no money to give back."), code="invalid_transition")
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the money goes back.")})
    held = _give_back(
        request,
        actor,
        Said(
            gettext_noop("%(amount)s given back to the allocation: %(reason)s"),
            amount=Amount(request.reserved, request.currency),
            reason=reason.strip(),
        ),
    )
    _tell_partners(
        request,
        gettext_lazy("Fund request {pk}: money given back"),
        format_lazy(gettext_lazy("{amount} went back to the allocation."), amount=money_lazy(held, request.currency)),
    )
    return request


def requests_return_unclaimed(today: date | None = None) -> int:
    """The deadline run: every approved request whose claim deadline has passed gives back what it still holds,
    one transaction each. Safe to run twice, late or on two machines at once."""
    today = today or timezone.localdate()
    due = FundRequest.objects.filter(status=S.APPROVED, reserved__gt=0, claim_by__lt=today).values_list("pk", flat=True)
    returned = 0
    for pk in list(due):
        with transaction.atomic(durable=True):
            request = lock(pk)
            if request.claim_by is None or request.claim_by >= today:
                continue
            held = _give_back(
                request,
                None,
                Said(
                    gettext_noop("%(amount)s not claimed by %(day)s went back to the allocation."),
                    amount=Amount(request.reserved, request.currency),
                    day=request.claim_by,
                ),
            )
            if held:
                returned += 1
                _tell_partners(
                    request,
                    gettext_lazy("Fund request {pk}: unclaimed money returned"),
                    format_lazy(
                        gettext_lazy("{amount} was not claimed by {day} and went back to the allocation."),
                        amount=money_lazy(held, request.currency),
                        day=day_lazy(request.claim_by),
                    ),
                )
    return returned


def requests_escalate(today: date | None = None) -> int:
    """Tell program managers about fund request reviews past their due date (once per due date), as for claims."""
    return escalation.escalate_overdue(
        FundRequest.objects.all(),
        today or timezone.localdate(),
        lock=lock,
        note=lambda request, text: _event(request, None, RequestEvent.Kind.NOTE, text, internal=True),
        noun="fund request",
        link=link,
        awaiting=frozenset({S.SUBMITTED, S.UNDER_REVIEW}),
    )


def run_request_jobs(today: date | None = None) -> dict[str, int]:
    """The daily jobs of fund requests: give back what is unclaimed past its deadline, escalate late reviews."""
    return {"returned": requests_return_unclaimed(today), "escalated": requests_escalate(today)}


# --------------------------------------------------------------------------------------------- results


@transaction.atomic(durable=True)
def results_report(
    *,
    request: FundRequest,
    leads: int | None,
    opportunities: int | None,
    revenue: Decimal | None,
    actor: User,
) -> FundRequest:
    """What the approved activity brought: leads, opportunities and revenue won, reported (and corrected) by the
    partner once the activity has started."""
    request = lock(request.pk)
    if not permissions.can_file(actor, request):
        raise PermissionDenied(_("Only the location's incentives admins and users can report its results."))
    if request.status != S.APPROVED:
        raise Conflict(_("Results are reported for approved fund requests."), code="invalid_transition")
    if request.starts_on > timezone.localdate():
        raise Conflict(
            _("Results are reported once the activity has started, on %(day)s.") % {"day": day_lazy(request.starts_on)},
            code="too_early",
        )
    errors: dict[str, str] = {}
    for field, value in (("leads", leads), ("opportunities", opportunities)):
        if value is not None and not 0 <= value <= 2_000_000_000:
            errors[field] = _("Give a whole number from 0 up.")
    if revenue is not None and (quantize(Decimal(revenue)) < 0 or _too_long(revenue)):
        errors["revenue"] = _("Give the revenue as an amount from 0 up.")
    if errors:
        raise ValidationError(errors)
    before = (request.reported_leads, request.reported_opportunities, request.reported_revenue)
    request.reported_leads, request.reported_opportunities = leads, opportunities
    request.reported_revenue = None if revenue is None else quantize(Decimal(revenue))
    request.results_reported_at = timezone.now()
    request.save()
    _event(
        request,
        actor,
        RequestEvent.Kind.RESULTS,
        Said(
            gettext_noop("Results: %(leads)s leads, %(opportunities)s opportunities, %(revenue)s won."),
            leads="—" if leads is None else leads,
            opportunities="—" if opportunities is None else opportunities,
            revenue="—" if revenue is None else Amount(quantize(Decimal(revenue)), request.currency),
        ),
    )
    _audit(
        request,
        actor,
        "fundrequest.results",
        changes={
            "leads": (before[0], leads),
            "opportunities": (before[1], opportunities),
            "revenue": (None if before[2] is None else str(before[2]), None if revenue is None else str(revenue)),
        },
    )
    return request
