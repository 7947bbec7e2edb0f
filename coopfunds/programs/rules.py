"""Program rules as of a date (docs/adr/0010-rules-as-of-their-date.md).

Every change of a program's rules writes a `RuleVersion` holding all of them; the program's columns are the
newest version. A computation that happens after the moment it is about reads the version in force then:

- a period's close (threshold, late earnings): the last day of the earning period;
- an earning line's split: the day it was earned;
- caps: the moment the claim or proof was submitted (`caps_as_of`);
- a dispute window: the moment of the decision disputed;
- service levels and payment deadlines: the moment the clock starts (submission, dispute, approval), which is
  now when they are computed, so the program's columns are that version.

A date means the end of that day on the site's clock: rules changed during the day applied to it."""

import copy
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext

from coopfunds.core.db import assert_in_transaction
from coopfunds.core.i18n import day_lazy
from coopfunds.programs import periods
from coopfunds.programs.models import ActivityType, Cap, Program, RuleVersion

RULE_FIELDS = (
    "fiscal_year_start_month",
    "period_months",
    "claim_opens_month",
    "claim_opens_day",
    "claim_closes_days_after_usage",
    "rebate_percent",
    "coop_threshold",
    "late_earnings",
    "review_sla_business_days",
    "dispute_sla_business_days",
    "payment_sla_business_days",
    "payment_day",
    "holiday_country",
    "dispute_window_days",
    "draft_expiry_days",
    "draft_warning_days",
    "expiry_reminder_days",
    "window_reminder_days",
    "partial_approval",
    "upload_types",
    "max_upload_mb",
    "max_claim_upload_mb",
    "earnings_require_association",
    "request_cost_share_percent",
    "request_lead_days",
    "request_claim_days",
)

# Rules whose change reaches periods already running (their outcome is decided later, at the close): changing one
# while an earning period is open asks for confirmation.
OPEN_PERIOD_RULES = frozenset({"rebate_percent", "coop_threshold", "late_earnings"})


def snapshot(program: Program) -> dict[str, Any]:
    """Every rule of `program`, as JSON (amounts as text, so that nothing is rounded)."""
    values = {name: getattr(program, name) for name in RULE_FIELDS}
    return {name: str(v) if isinstance(v, Decimal) else v for name, v in values.items()}


def first_version(program: Program) -> None:
    """Make sure the program's rules as they are before a change are on record, in force since its creation
    (a program made before rules were versioned, or by a fixture)."""
    if not RuleVersion.objects.filter(program=program).exists():
        record_version(program, actor=None, changed=list(RULE_FIELDS), at=program.created_at)


def record_version(
    program: Program, *, actor: Any, changed: list[str], reason: str = "", at: datetime | None = None
) -> RuleVersion:
    """Write the program's rules as they now are as its next version, in force from now (or `at`)."""
    assert_in_transaction()
    last = RuleVersion.objects.filter(program=program).order_by("-number").values_list("number", flat=True).first()
    number = (last or 0) + 1
    Program.objects.filter(pk=program.pk).update(rules_version=number)
    program.rules_version = number
    return RuleVersion.objects.create(
        program=program,
        number=number,
        effective_at=at or timezone.now(),
        rules=snapshot(program),
        changed=changed,
        reason=reason,
        created_by=actor if getattr(actor, "pk", None) else None,
    )


def _moment(when: date | datetime) -> datetime:
    if isinstance(when, datetime):
        return when
    return timezone.make_aware(datetime.combine(when, time.max))


def version_at(program: Program, when: date | datetime) -> RuleVersion | None:
    """The version in force at `when` (the first one for a moment before it: rules always existed)."""
    versions = RuleVersion.objects.filter(program_id=program.pk)
    return (
        versions.filter(effective_at__lte=_moment(when)).order_by("-number").first()
        or versions.order_by("number").first()
    )


def as_of(program: Program, when: date | datetime) -> Program:
    """`program` with the rules in force at `when` (a copy; the program itself is not changed). Its
    `rules_version` says which version that is."""
    return _ruled(program, version_at(program, when))


class RuleBook:
    """Every rules version of one program, read once: for jobs that ask about many dates (an import, a close)."""

    def __init__(self, program: Program):
        self.program = program
        self.versions = list(RuleVersion.objects.filter(program_id=program.pk).order_by("number"))
        self._on: dict[date | datetime, Program] = {}

    def on(self, when: date | datetime) -> Program:
        if when not in self._on:
            moment = _moment(when)
            found = [v for v in self.versions if v.effective_at <= moment]
            version = found[-1] if found else (self.versions[0] if self.versions else None)
            self._on[when] = _ruled(self.program, version)
        return self._on[when]


def _field(name: str) -> Field[Any, Any]:
    field = Program._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _ruled(program: Program, version: RuleVersion | None) -> Program:
    ruled = copy.copy(program)
    if version is None:
        return ruled
    for name in RULE_FIELDS:
        if name in version.rules:
            setattr(ruled, name, _field(name).to_python(version.rules[name]))
    ruled.rules_version = version.number
    return ruled


def caps_as_of(activity_type: ActivityType, when: datetime | None) -> list[Cap]:
    """The caps of `activity_type` in force at `when` (None: now; the prefetched caps are used then). Before the
    first caps on record, those caps: they always existed. One query."""
    if when is None:
        return list(activity_type.caps.all())
    return caps_in_force(list(Cap.versions.filter(activity_type_id=activity_type.pk).order_by("id")), when)


def cap_versions(activity_type_ids: Iterable[int]) -> dict[int, list[Cap]]:
    """Every cap version of these activity types, for `caps_in_force` (many items held to their own dates)."""
    out: dict[int, list[Cap]] = {pk: [] for pk in activity_type_ids}
    for cap in Cap.versions.filter(activity_type_id__in=list(out)).order_by("id"):
        out[cap.activity_type_id].append(cap)
    return out


def caps_in_force(versions: list[Cap], when: datetime) -> list[Cap]:
    """Of one activity type's cap `versions`, those in force at `when` (see `caps_as_of`)."""
    if not versions:
        return []
    when = max(when, min(c.effective_at for c in versions))
    return [c for c in versions if c.effective_at <= when and (c.retired_at is None or c.retired_at > when)]


def open_period_effects(program: Program, names: set[str], today: date | None = None) -> str:
    """In words, what changing `names` does to the earning period now running (empty: nothing). Periods that
    have ended keep the rules in force on their last day, whenever their close runs."""
    touched = [n for n in RULE_FIELDS if n in names & OPEN_PERIOD_RULES]
    if not touched:
        return ""
    running = periods.period_containing(program, today or timezone.localdate())
    labels = str(_field(touched[0]).verbose_name)
    for name in touched[1:]:
        labels = gettext("%(first)s and %(second)s") % {"first": labels, "second": _field(name).verbose_name}
    return gettext(
        "This changes the %(rules)s, which decide the close of the earning period now running (%(period)s, "
        "%(start)s to %(end)s): its close will use the new rules. Confirm to go ahead."
    ) % {"rules": labels, "period": running.label, "start": day_lazy(running.start), "end": day_lazy(running.end)}


def dispute_window_days(program: Program, decided_at: datetime | None) -> int:
    """How long a decision taken at `decided_at` can be disputed: the window in force when it was taken."""
    return (as_of(program, decided_at) if decided_at else program).dispute_window_days
