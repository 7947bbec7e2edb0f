"""The review workflow that claims and proofs of execution share (DOMAIN.md: "same states as claims"): the
states and which may follow which, the rules of a decision (partial approval, the approval limit and the second
reviewer above it), the dispute window, and the escalation of reviews past their service level. Claims and
proofs keep what is theirs (their rows, timelines, money and checks) and call these for the rest, so that a rule
of the review lives in one place. Pure rules and one job loop; no models of its own."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from coopfunds.core.errors import Conflict
from coopfunds.core.i18n import Said, day_lazy
from coopfunds.core.money import money
from coopfunds.programs import periods, rules


class ReviewStatus(models.TextChoices):
    EDITING = "editing", gettext_lazy("Editing")
    SUBMITTED = "submitted", gettext_lazy("Submitted")
    UNDER_REVIEW = "under_review", gettext_lazy("Under review")
    ACTION_REQUIRED = "action_required", gettext_lazy("Action required")
    APPROVED = "approved", gettext_lazy("Approved")
    REJECTED = "rejected", gettext_lazy("Rejected")
    DISPUTED = "disputed", gettext_lazy("Disputed")
    WITHDRAWN = "withdrawn", gettext_lazy("Withdrawn")
    EXPIRED = "expired", gettext_lazy("Expired")


S = ReviewStatus
# Which status may follow which; one service per arrow checks it.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.EDITING: frozenset({S.SUBMITTED, S.WITHDRAWN, S.EXPIRED}),
    S.SUBMITTED: frozenset({S.UNDER_REVIEW, S.WITHDRAWN}),
    S.UNDER_REVIEW: frozenset({S.APPROVED, S.ACTION_REQUIRED, S.REJECTED}),
    S.ACTION_REQUIRED: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.REJECTED: frozenset({S.DISPUTED}),
    S.DISPUTED: frozenset({S.APPROVED, S.REJECTED, S.ACTION_REQUIRED}),
    S.APPROVED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.EXPIRED: frozenset(),
}
EDITABLE = frozenset({S.EDITING, S.ACTION_REQUIRED})
# Items whose money is held or spent: they count against caps, and their invoice cannot be claimed again.
ACTIVE = frozenset({S.SUBMITTED, S.UNDER_REVIEW, S.ACTION_REQUIRED, S.APPROVED, S.DISPUTED})
AWAITING_REVIEW = frozenset({S.SUBMITTED, S.UNDER_REVIEW, S.DISPUTED})

# The sentences that name the item, per noun (each language says "a claim" and "a proof" its own way); a noun
# not listed here is said in English.
_CANNOT_BECOME = {
    "claim": gettext_lazy("A claim that is %(status)s cannot become %(to)s."),
    "proof of execution": gettext_lazy("A proof of execution that is %(status)s cannot become %(to)s."),
    "fund request": gettext_lazy("A fund request that is %(status)s cannot become %(to)s."),
}
_NOT_WAITING = {
    "claim": gettext_lazy("A claim that is %(status)s is not waiting for a decision."),
    "proof of execution": gettext_lazy("A proof of execution that is %(status)s is not waiting for a decision."),
    "fund request": gettext_lazy("A fund request that is %(status)s is not waiting for a decision."),
}
_IN_FULL = {
    "claims": gettext_lazy("%(program)s approves claims in full or not at all."),
    "proofs": gettext_lazy("%(program)s approves proofs in full or not at all."),
    "fund requests": gettext_lazy("%(program)s approves fund requests in full or not at all."),
}
_SAY_WHY_PART = {
    "claim": gettext_lazy("Say why only part of the claim is approved."),
    "proof": gettext_lazy("Say why only part of the proof is approved."),
    "fund request": gettext_lazy("Say why only part of the fund request is approved."),
}
_SECOND_REVIEWER = {
    "claim": gettext_lazy("A second reviewer must approve this claim; you gave the first approval."),
    "proof of execution": gettext_lazy(
        "A second reviewer must approve this proof of execution; you gave the first approval."
    ),
}


_ONLY_REVIEWERS = {
    "claim": gettext_lazy("Only reviewers of this program who did not file the claim can take it."),
    "proof": gettext_lazy("Only reviewers of this program who did not file the proof can take it."),
    "plan": gettext_lazy("Only reviewers of this program who did not file the plan can take it."),
    "fund request": gettext_lazy("Only reviewers of this program who did not file the fund request can take it."),
}
_ONLY_WAITING = {
    "claim": gettext_lazy("Only claims waiting for review can be assigned."),
    "proof": gettext_lazy("Only proofs waiting for review can be assigned."),
    "plan": gettext_lazy("Only plans waiting for review can be assigned."),
    "fund request": gettext_lazy("Only fund requests waiting for review can be assigned."),
}


def assign(
    item: Any,
    *,
    reviewer: Any,
    actor: Any,
    may_review: Callable[[Any], bool],
    awaiting: frozenset[str],
    noun: str,
    start: Callable[[Said], object],
    note: Callable[[Said], object],
) -> None:
    """Give `item` (locked) to `reviewer`, whom `may_review` must accept as it accepts `actor`: a submitted
    item's review starts (`start`: its move to under review, saying by whom); any other item's new reviewer is
    an internal note (`note`, with its audit row). The caller saves the item."""
    if not may_review(actor) or not may_review(reviewer):
        said = _ONLY_REVIEWERS.get(noun, f"Only reviewers of this program who did not file the {noun} can take it.")
        raise PermissionDenied(str(said))
    if item.status not in awaiting:
        said = _ONLY_WAITING.get(noun, f"Only {noun}s waiting for review can be assigned.")
        raise Conflict(str(said), code="invalid_transition")
    item.reviewer = reviewer
    if item.status == S.SUBMITTED:
        start(Said(gettext_noop("Review started by %(person)s."), person=reviewer.get_full_name()))
        item.review_started_at = timezone.now()
    else:
        note(Said(gettext_noop("Assigned to %(person)s."), person=reviewer.get_full_name()))


def _status(status: str) -> str:
    return str(S(status).label).lower()


def check_transition(status: str, to: str, noun: str) -> None:
    """Refuse an arrow the table does not have (409 invalid_transition), in words: "A claim that is ..."."""
    if to not in TRANSITIONS[status]:
        said = _CANNOT_BECOME.get(noun, f"A {noun} that is %(status)s cannot become %(to)s.")
        raise Conflict(str(said) % {"status": _status(status), "to": _status(to)}, code="invalid_transition")


def check_awaiting_decision(status: str, noun: str) -> None:
    if status not in AWAITING_REVIEW:
        said = _NOT_WAITING.get(noun, f"A {noun} that is %(status)s is not waiting for a decision.")
        raise Conflict(str(said) % {"status": _status(status)}, code="invalid_transition")


def decided_amount(
    *,
    asked: Decimal,
    amount: Decimal | None,
    partial_allowed: bool,
    program_name: str,
    currency: str,
    explained: bool,
    plural: str,
    noun: str,
) -> Decimal:
    """What a reviewer approves: all that was asked (amount None), or, where the program allows it, a part of
    it with a reason (`explained`). ValidationError on `amount` or `reasons` otherwise."""
    if amount is None:
        return asked
    amount = Decimal(amount)
    if amount == asked:
        return amount
    if not partial_allowed:
        said = _IN_FULL.get(plural, f"%(program)s approves {plural} in full or not at all.")
        raise ValidationError({"amount": str(said) % {"program": program_name}})
    if not 0 < amount < asked:
        raise ValidationError(
            {
                "amount": _("A partial approval is more than zero and less than %(amount)s.")
                % {"amount": money(asked, currency)}
            }
        )
    if not explained:
        raise ValidationError(
            {"reasons": str(_SAY_WHY_PART.get(noun, f"Say why only part of the {noun} is approved."))}
        )
    return amount


@dataclass(frozen=True)
class SecondApproval:
    """Above the reviewer's approval limit, their approval is a first approval; another reviewer completes it."""

    limit: Decimal


def approval_step(
    *, amount: Decimal, limit: Decimal | None, first_approver_id: int | None, actor_id: int, noun: str
) -> SecondApproval | None:
    """None: `actor` approves now. SecondApproval: record theirs as the first; Conflict: they gave the first."""
    if first_approver_id == actor_id:
        said = _SECOND_REVIEWER.get(noun, f"A second reviewer must approve this {noun}; you gave the first approval.")
        raise Conflict(str(said), code="second_approval_needed")
    if limit is not None and amount > limit and first_approver_id is None:
        return SecondApproval(limit)
    return None


def dispute_deadline(status: str, decided_at: Any, program: Any) -> date | None:
    """The last day a rejection can be disputed (None: not rejected): the window in force when it was decided
    (read only for a rejection: every other read of a claim or proof costs nothing for it)."""
    if status != S.REJECTED or decided_at is None:
        return None
    return timezone.localdate(decided_at) + timedelta(days=rules.dispute_window_days(program, decided_at))


def rejection_notice(note: str, deadline: date) -> Any:
    """What the partners are told with a rejection (lazy: each reads it in their own language): the reviewer's
    note, if any, and the last day to dispute it."""
    if note.strip():
        return format_lazy(
            gettext_lazy("{note} You can dispute the decision until {day}."), note=note.strip(), day=day_lazy(deadline)
        )
    return format_lazy(gettext_lazy("You can dispute the decision until {day}."), day=day_lazy(deadline))


def check_dispute(*, status: str, decided_at: Any, program: Any, reason: str) -> str:
    """The dispute's reason, cleaned; ValidationError without one, Conflict once the window has closed."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the rejection is wrong.")})
    deadline = dispute_deadline(status, decided_at, program)
    if deadline is not None and timezone.localdate() > deadline:
        raise Conflict(
            _("The rejection could be disputed until %(day)s.") % {"day": day_lazy(deadline)},
            code="dispute_window_closed",
        )
    return reason.strip()


@dataclass(frozen=True)
class Clock:
    """An item's review clock in business days on its program's calendar."""

    age: int
    due_on: date | None
    days_left: int | None
    breached: bool


def clock(item: Any, today: date | None = None, calendar: periods.BusinessCalendar | None = None) -> Clock:
    """How long a claim or proof has waited since it was submitted (or disputed), and how long is left until its
    review is due: the service level every reviewed item has."""
    today = today or timezone.localdate()
    calendar = calendar or periods.calendar_for(item.program)
    since = item.disputed_at or item.submitted_at
    started = timezone.localdate(since) if since else today
    age = calendar.between(started, today) if started < today else 0
    if item.due_on is None or item.status not in AWAITING_REVIEW:
        return Clock(age, item.due_on, None, False)
    if today <= item.due_on:
        return Clock(age, item.due_on, calendar.between(today, item.due_on), False)
    return Clock(age, item.due_on, -calendar.between(item.due_on, today), True)


def clocks(items: Iterable[Any], today: date | None = None) -> list[Clock]:
    """The clocks of many items (a queue page), in their order: one calendar query per program, not per item."""
    calendars: dict[int, periods.BusinessCalendar] = {}
    out = []
    for item in items:
        if item.program_id not in calendars:
            calendars[item.program_id] = periods.calendar_for(item.program)
        out.append(clock(item, today, calendars[item.program_id]))
    return out


def save_invoice_once(item: models.Model) -> None:
    """Save a submitted item; should another item have taken the same invoice in the meantime (the database's
    unique constraint on active items sees what the checker could not), say so in words."""
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        raise ValidationError(
            {"invoice_number": _("This invoice (vendor and number) has already been claimed.")}
        ) from None
