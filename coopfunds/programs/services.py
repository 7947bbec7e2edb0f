"""Writes for programs, their holiday calendar and their activity catalogue. One function per use case.

`program_insert` and `activity_type_insert` are building blocks (checks and inserts, no permission, no audit)
shared with the preset; they must run inside a service's transaction."""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypedDict, Unpack

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from coopfunds.accounts.models import Organisation, User
from coopfunds.audit.services import audit_record, diff
from coopfunds.core.db import assert_in_transaction
from coopfunds.core.i18n import day_lazy
from coopfunds.core.money import validate_currency
from coopfunds.programs import catalogue, permissions, rules
from coopfunds.programs.catalogue import ActivitySpec, CapSpec, DocumentSpec
from coopfunds.programs.models import ActivityType, Cap, DocumentRequirement, Holiday, LateEarnings, Program
from coopfunds.programs.periods import supported_holiday_countries


class ProgramRules(TypedDict, total=False):
    """The rules a program manager sets here (`programs.rules.RULE_FIELDS` lists every versioned rule)."""

    fiscal_year_start_month: int
    period_months: int
    claim_opens_month: int
    claim_opens_day: int
    claim_closes_days_after_usage: int
    rebate_percent: Decimal
    coop_threshold: Decimal
    review_sla_business_days: int
    dispute_sla_business_days: int
    payment_sla_business_days: int
    payment_day: int
    holiday_country: str
    late_earnings: str
    expiry_reminder_days: int
    window_reminder_days: int
    dispute_window_days: int
    request_cost_share_percent: Decimal
    request_lead_days: int
    request_claim_days: int
    is_active: bool


class ProgramChanges(ProgramRules, total=False):
    name: str


PERIOD_MONTHS = (1, 2, 3, 4, 6, 12)
CODE_MAX = 32


def _check_whole(values: dict[str, Any], errors: dict[str, str], name: str, low: int, high: int, words: str) -> None:
    if name in values and not _whole_in(values[name], low, high):
        errors[name] = words


def _whole_in(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _amount_ok(value: object, low: Decimal, high: Decimal) -> bool:
    return (
        isinstance(value, Decimal | int)
        and not isinstance(value, bool)
        and Decimal(value).is_finite()
        and low <= value <= high
        and catalogue.decimal_places(Decimal(value)) <= 2
    )


def _check_rules(values: dict[str, Any], errors: dict[str, str], current: Program) -> None:
    """Every rule being set, in words. `current` gives the rules not being set (defaults for a new program)."""
    _check_whole(
        values,
        errors,
        "fiscal_year_start_month",
        1,
        12,
        gettext("The fiscal year starts in a month from 1 (January) to 12 (December)."),
    )
    period_months = values.get("period_months", current.period_months)
    opens_month = values.get("claim_opens_month", current.claim_opens_month)
    if period_months not in PERIOD_MONTHS:
        errors["period_months"] = gettext(
            "A period lasts 1, 2, 3, 4, 6 or 12 months, so that a fiscal year holds whole periods."
        )
    elif {"claim_opens_month", "period_months"} & values.keys() and not _whole_in(opens_month, 1, period_months):
        where = "claim_opens_month" if "claim_opens_month" in values else "period_months"
        errors[where] = gettext(
            "Claims open in a month of the usage period: from 1 (its first month) to %(last)s (its last); "
            "it is now %(month)s."
        ) % {"last": period_months, "month": opens_month}
    _check_whole(values, errors, "claim_opens_day", 1, 28, gettext("Claims open on a day from 1 to 28 of the month."))
    _check_whole(
        values,
        errors,
        "claim_closes_days_after_usage",
        0,
        366,
        gettext("Claims close from 0 to 366 days after the usage period ends."),
    )
    if "rebate_percent" in values and not _amount_ok(values["rebate_percent"], Decimal(0), Decimal(100)):
        errors["rebate_percent"] = gettext("The rebate share is a percentage from 0 to 100, with at most two decimals.")
    threshold = values.get("coop_threshold", Decimal(0))
    if isinstance(threshold, Decimal | int) and Decimal(threshold).is_finite() and threshold < 0:
        errors["coop_threshold"] = gettext(
            "The threshold can't be negative; 0 means co-op is never converted to rebate."
        )
    elif not _amount_ok(threshold, Decimal(0), catalogue.MAX_AMOUNT):
        errors["coop_threshold"] = gettext(
            "Write the threshold as an amount of at most 16 digits and two decimal places."
        )
    for name, words in (
        ("review", gettext("Claims are reviewed within 1 to 365 business days.")),
        ("dispute", gettext("Disputes are answered within 1 to 365 business days.")),
        ("payment", gettext("Payments are made within 1 to 365 business days.")),
    ):
        _check_whole(values, errors, f"{name}_sla_business_days", 1, 365, words)
    _check_whole(values, errors, "payment_day", 1, 28, gettext("Payments run on a day from 1 to 28 of the month."))
    if "late_earnings" in values and values["late_earnings"] not in LateEarnings.values:
        errors["late_earnings"] = gettext(
            "Say what late earnings do to a closed period: reevaluate (apply the threshold to the new total) or "
            "keep (the close's outcome stands)."
        )
    for name, words in (
        (
            "expiry_reminder_days",
            gettext("Reminders before co-op is forfeited are sent 0 to 180 days before (0: none)."),
        ),
        (
            "window_reminder_days",
            gettext("Reminders before a claiming window closes are sent 0 to 180 days before (0: none)."),
        ),
    ):
        _check_whole(values, errors, name, 0, 180, words)
    _check_whole(
        values,
        errors,
        "dispute_window_days",
        1,
        365,
        gettext("A rejection can be disputed for 1 to 365 days after it."),
    )
    if "request_cost_share_percent" in values and not _amount_ok(
        values["request_cost_share_percent"], Decimal(0), Decimal(100)
    ):
        errors["request_cost_share_percent"] = gettext(
            "The vendor's share is a percentage from 0 to 100, with at most two decimals."
        )
    _check_whole(
        values,
        errors,
        "request_lead_days",
        0,
        365,
        gettext("Fund requests are submitted 0 to 365 days before their activity starts."),
    )
    _check_whole(
        values,
        errors,
        "request_claim_days",
        1,
        366,
        gettext("Approved fund requests are claimed within 1 to 366 days after their activity ends."),
    )
    if "is_active" in values and not isinstance(values["is_active"], bool):
        errors["is_active"] = gettext("Say whether the program is active: true or false.")
    country = values.get("holiday_country", "")
    if not isinstance(country, str):
        errors["holiday_country"] = gettext("Give the country as an ISO code such as US, DE or GB, or leave it empty.")
    elif country and country not in supported_holiday_countries():
        errors["holiday_country"] = gettext(
            "“%(country)s” is not a country whose public holidays we know; use an ISO code such as US, DE or GB, "
            "or leave it empty."
        ) % {"country": country}


def _clean_program_values(values: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(values)
    for key in ("name", "holiday_country"):
        if isinstance(cleaned.get(key), str):
            cleaned[key] = cleaned[key].strip()
    if isinstance(cleaned.get("holiday_country"), str):
        cleaned["holiday_country"] = cleaned["holiday_country"].upper()
    return cleaned


def program_insert(
    *,
    vendor: Organisation,
    code: str,
    name: str,
    currency: str,
    settings: ProgramRules | None = None,
    actor: User | None = None,
) -> Program:
    """Check and insert a program with its first rules version (no permission check, no audit): a building
    block of services."""
    assert_in_transaction()
    code, currency = code.strip(), currency.strip().upper()
    values = _clean_program_values({"name": name, **(settings or {})})
    errors: dict[str, str] = {}
    catalogue.check_code(code, errors, CODE_MAX)
    if "code" not in errors and Program.objects.filter(code=code).exists():
        errors["code"] = gettext("Another program already uses the code “%(code)s”; choose another.") % {"code": code}
    catalogue.check_name(values["name"], errors)
    try:
        validate_currency(currency)
    except ValidationError as e:
        errors["currency"] = " ".join(e.messages)
    _check_rules(values, errors, Program())
    if vendor.kind != Organisation.Kind.VENDOR:
        errors["vendor"] = gettext("Programs belong to a vendor organisation.")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            program = Program.objects.create(vendor=vendor, code=code, currency=currency, **values)
    except IntegrityError:
        raise ValidationError(
            {"code": gettext("Another program already uses the code “%(code)s”; choose another.") % {"code": code}}
        ) from None
    rules.record_version(program, actor=actor, changed=list(rules.RULE_FIELDS))
    return program


@transaction.atomic(durable=True)
def program_create(*, code: str, name: str, currency: str, actor: User, **settings: Unpack[ProgramRules]) -> Program:
    """A program manager of the vendor creates a program; rules left out take the preset's values."""
    if not permissions.can_create_program(actor):
        raise PermissionDenied(gettext("Only a program manager for every program can create programs."))
    program = program_insert(
        vendor=actor.organisation, code=code, name=name, currency=currency, settings=settings, actor=actor
    )
    fields = ["code", "name", "currency", *ProgramRules.__annotations__]
    audit_record(
        actor=actor, verb="program.create", target=program, changes={f: (None, getattr(program, f)) for f in fields}
    )
    return program


@transaction.atomic(durable=True)
def program_update(
    *, program: Program, actor: User, confirm: bool = False, reason: str = "", **changes: Unpack[ProgramChanges]
) -> Program:
    """Change a program's name and rules. Its code and currency never change. A change of rules writes the
    program's next rules version, in force from now; one that decides the close of the earning period now
    running is refused (field `confirm`, saying what it does) unless `confirm`."""
    program = Program.objects.select_for_update().get(pk=program.pk)
    if not permissions.can_configure_program(actor, program):
        raise PermissionDenied(gettext("Only a program manager of this program can change its rules."))
    values = _clean_program_values(dict(changes))
    errors: dict[str, str] = {}
    if "name" in values:
        catalogue.check_name(values["name"], errors)
    _check_rules(values, errors, program)
    if errors:
        raise ValidationError(errors)
    changed = diff(program, values)
    if not changed:
        return program
    effects = rules.open_period_effects(program, set(changed))
    if effects and not confirm:
        raise ValidationError({"confirm": effects})
    rules.first_version(program)
    for field, (_, new) in changed.items():
        setattr(program, field, new)
    program.save(update_fields=[*changed, "updated_at"])
    ruled = [name for name in rules.RULE_FIELDS if name in changed]
    if ruled:
        version = rules.record_version(program, actor=actor, changed=ruled, reason=reason.strip())
        changed["rules_version"] = (version.number - 1, version.number)
    audit_record(actor=actor, verb="program.update", target=program, changes=changed, reason=reason.strip())
    return program


# Holidays ---------------------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def holiday_add(*, program: Program, day: date, name: str, actor: User) -> Holiday:
    if not permissions.can_configure_program(actor, program):
        raise PermissionDenied(gettext("Only a program manager of this program can change its holidays."))
    name = name.strip()
    errors: dict[str, str] = {}
    catalogue.check_name(name, errors, max_length=100)
    existing = Holiday.objects.filter(program=program, date=day).first()
    if existing:
        errors["date"] = gettext("%(day)s is already a holiday of this program (%(name)s).") % {
            "day": day_lazy(day),
            "name": existing.name,
        }
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            holiday = Holiday.objects.create(program=program, date=day, name=name)
    except IntegrityError:
        raise ValidationError(
            {"date": gettext("%(day)s is already a holiday of this program.") % {"day": day_lazy(day)}}
        ) from None
    audit_record(
        actor=actor, verb="holiday.add", target=holiday, changes={"date": (None, day.isoformat()), "name": (None, name)}
    )
    return holiday


@transaction.atomic(durable=True)
def holiday_remove(*, holiday: Holiday, actor: User) -> None:
    if not permissions.can_configure_program(actor, holiday.program):
        raise PermissionDenied(gettext("Only a program manager of this program can change its holidays."))
    audit_record(
        actor=actor,
        verb="holiday.remove",
        target=holiday,
        changes={"date": (holiday.date.isoformat(), None), "name": (holiday.name, None)},
    )
    Holiday.objects.filter(pk=holiday.pk).delete()


# Activity catalogue ---------------------------------------------------------------------------------------


def _describe(activity_type: ActivityType) -> dict[str, Any]:
    """An activity type's documents and caps in words, for the audit trail (in the source language, English,
    whatever the language of the request)."""
    with translation.override(None):
        return {
            "documents": [str(d) for d in activity_type.document_requirements.all()],
            "caps": [str(c) + (" (exempt)" if c.exempt else "") for c in activity_type.caps.all()],
        }


def _replace_details(
    activity_type: ActivityType, documents: Sequence[DocumentSpec] | None, caps: Sequence[CapSpec] | None
) -> None:
    if documents is not None:
        activity_type.document_requirements.all().delete()
        DocumentRequirement.objects.bulk_create(
            DocumentRequirement(activity_type=activity_type, kind=d.kind, required=d.required, note=d.note)
            for d in documents
        )
    if caps is not None and caps != [_cap_spec(c) for c in activity_type.caps.all()]:
        now = timezone.now()  # the caps in force are retired, not deleted: claims already submitted keep them
        Cap.objects.filter(activity_type=activity_type).update(retired_at=now)
        Cap.objects.bulk_create(
            Cap(
                activity_type=activity_type,
                kind=c.kind,
                amount=c.amount,
                percent=c.percent,
                count=c.count,
                expense=c.expense,
                exempt=c.exempt,
                effective_at=now,
            )
            for c in caps
        )


def _cap_spec(c: Cap) -> CapSpec:
    return CapSpec(kind=c.kind, amount=c.amount, percent=c.percent, count=c.count, expense=c.expense, exempt=c.exempt)


def activity_type_insert(*, program: Program, fiscal_year: int, spec: ActivitySpec) -> ActivityType:
    """Check and insert one catalogue entry with its documents and caps (no permission check, no audit)."""
    assert_in_transaction()
    errors: dict[str, str] = {}
    code, name = spec.code.strip(), spec.name.strip()
    catalogue.check_fiscal_year(fiscal_year, errors)
    catalogue.check_code(code, errors, 64)
    if (
        "code" not in errors
        and ActivityType.objects.filter(program=program, fiscal_year=fiscal_year, code=code).exists()
    ):
        errors["code"] = gettext("The %(year)s catalogue already has an activity type with the code “%(code)s”.") % {
            "year": f"FY{fiscal_year % 100:02d}",
            "code": code,
        }
    catalogue.check_name(name, errors)
    catalogue.check_category(spec.category, errors)
    metrics = catalogue.clean_metrics(spec.metrics, errors)
    documents = catalogue.clean_documents(spec.documents, errors)
    caps = catalogue.clean_caps(spec.caps, errors)
    categories, share = catalogue.clean_funding(spec.expense_categories, spec.cost_share_percent, errors)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            activity_type = ActivityType.objects.create(
                program=program,
                fiscal_year=fiscal_year,
                code=code,
                name=name,
                category=spec.category,
                core_requirements=spec.core_requirements.strip(),
                metrics=metrics,
                eligible_expenses=spec.eligible_expenses.strip(),
                ineligible_expenses=spec.ineligible_expenses.strip(),
                expense_categories=categories,
                cost_share_percent=share,
            )
    except IntegrityError:
        raise ValidationError(
            {"code": gettext("The catalogue already has an activity type with the code “%(code)s”.") % {"code": code}}
        ) from None
    _replace_details(activity_type, documents, caps)
    return activity_type


@transaction.atomic(durable=True)
def activity_type_create(
    *,
    program: Program,
    fiscal_year: int,
    code: str,
    name: str,
    category: str,
    core_requirements: str = "",
    metrics: Sequence[str] = (),
    eligible_expenses: str = "",
    ineligible_expenses: str = "",
    expense_categories: Sequence[str] = (),
    cost_share_percent: Decimal | None = None,
    documents: Sequence[DocumentSpec] = (),
    caps: Sequence[CapSpec] = (),
    actor: User,
) -> ActivityType:
    if not permissions.can_configure_program(actor, program):
        raise PermissionDenied(gettext("Only a program manager of this program can change its catalogue."))
    spec = ActivitySpec(
        code=code,
        name=name,
        category=category,
        core_requirements=core_requirements,
        metrics=tuple(metrics),
        eligible_expenses=eligible_expenses,
        ineligible_expenses=ineligible_expenses,
        expense_categories=tuple(expense_categories),
        cost_share_percent=cost_share_percent,
        documents=tuple(documents),
        caps=tuple(caps),
    )
    activity_type = activity_type_insert(program=program, fiscal_year=fiscal_year, spec=spec)
    details = _describe(activity_type)
    audit_record(
        actor=actor,
        verb="activity_type.create",
        target=activity_type,
        changes={
            "fiscal_year": (None, fiscal_year),
            "code": (None, activity_type.code),
            "name": (None, activity_type.name),
            "category": (None, activity_type.category),
            "documents": (None, details["documents"]),
            "caps": (None, details["caps"]),
        },
    )
    return activity_type


class ActivityTypeChanges(TypedDict, total=False):
    name: str
    category: str
    core_requirements: str
    metrics: Sequence[str]
    eligible_expenses: str
    ineligible_expenses: str
    expense_categories: Sequence[str]
    cost_share_percent: Decimal | None
    is_active: bool
    documents: Sequence[DocumentSpec]  # replaces every document requirement
    caps: Sequence[CapSpec]  # replaces every cap


@transaction.atomic(durable=True)
def activity_type_update(
    *, activity_type: ActivityType, actor: User, **changes: Unpack[ActivityTypeChanges]
) -> ActivityType:
    """Change a catalogue entry. `documents` and `caps`, when given, replace the entry's whole list."""
    activity_type = ActivityType.objects.select_for_update().select_related("program").get(pk=activity_type.pk)
    if not permissions.can_configure_program(actor, activity_type.program):
        raise PermissionDenied(gettext("Only a program manager of this program can change its catalogue."))
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for key in ("name", "core_requirements", "eligible_expenses", "ineligible_expenses"):
        if key in changes:
            text = changes[key]  # type: ignore[literal-required]
            if isinstance(text, str):
                values[key] = text.strip()
            else:
                errors[key] = gettext("Write this as text.")
    if "name" in values:
        catalogue.check_name(values["name"], errors)
    if "category" in changes:
        catalogue.check_category(changes["category"], errors)
        values["category"] = changes["category"]
    if "metrics" in changes:
        values["metrics"] = catalogue.clean_metrics(changes["metrics"], errors)
    if "is_active" in changes:
        values["is_active"] = changes["is_active"] is True
    if "expense_categories" in changes or "cost_share_percent" in changes:
        categories, share = catalogue.clean_funding(
            changes.get("expense_categories", activity_type.expense_categories),
            changes.get("cost_share_percent", activity_type.cost_share_percent),
            errors,
        )
        values.update(expense_categories=categories, cost_share_percent=share)
    documents = catalogue.clean_documents(changes["documents"], errors) if "documents" in changes else None
    caps = catalogue.clean_caps(changes["caps"], errors) if "caps" in changes else None
    if errors:
        raise ValidationError(errors)
    before = _describe(activity_type)
    changed = diff(activity_type, values)
    for field, (_, new) in changed.items():
        setattr(activity_type, field, new)
    if changed:
        activity_type.save(update_fields=[*changed, "updated_at"])
    _replace_details(activity_type, documents, caps)
    after = _describe(activity_type)
    changed.update({key: (before[key], after[key]) for key in before if before[key] != after[key]})
    if changed:
        audit_record(actor=actor, verb="activity_type.update", target=activity_type, changes=changed)
    return activity_type


@transaction.atomic(durable=True)
def cap_set_exempt(*, cap: Cap, exempt: bool, actor: User, reason: str = "") -> Cap:
    """The program waives a cap (exempt) or applies it again, from now: the cap keeps its id, and its version
    until now is kept retired, for what was submitted under it."""
    cap = Cap.objects.select_for_update().select_related("activity_type__program").get(pk=cap.pk)
    if not permissions.can_configure_program(actor, cap.activity_type.program):
        raise PermissionDenied(gettext("Only a program manager of this program can exempt caps."))
    if cap.exempt == exempt:
        return cap
    with translation.override(None):  # the audit names the cap in the source language
        audit_record(
            actor=actor,
            verb="cap.exempt" if exempt else "cap.apply",
            target=cap,
            changes={"exempt": (cap.exempt, exempt)},
            reason=reason.strip(),
        )
    now = timezone.now()
    Cap.versions.create(  # the version ending now, kept for what was submitted under it
        activity_type_id=cap.activity_type_id,
        kind=cap.kind,
        amount=cap.amount,
        percent=cap.percent,
        count=cap.count,
        expense=cap.expense,
        exempt=cap.exempt,
        effective_at=cap.effective_at,
        retired_at=now,
    )
    cap.exempt, cap.effective_at = exempt, now
    cap.save(update_fields=["exempt", "effective_at"])
    return cap


def _spec_of(activity_type: ActivityType) -> ActivitySpec:
    return ActivitySpec(
        code=activity_type.code,
        name=activity_type.name,
        category=activity_type.category,
        core_requirements=activity_type.core_requirements,
        metrics=tuple(activity_type.metrics),
        eligible_expenses=activity_type.eligible_expenses,
        ineligible_expenses=activity_type.ineligible_expenses,
        expense_categories=tuple(activity_type.expense_categories),
        cost_share_percent=activity_type.cost_share_percent,
        documents=tuple(
            DocumentSpec(kind=d.kind, required=d.required, note=d.note)
            for d in activity_type.document_requirements.all()
        ),
        caps=tuple(_cap_spec(c) for c in activity_type.caps.all()),
    )


@transaction.atomic(durable=True)
def catalogue_copy_to_fiscal_year(*, program: Program, fiscal_year: int, actor: User) -> list[ActivityType]:
    """Copy the fiscal year's active catalogue into the next fiscal year. Entries whose code the next year
    already has are left alone, so running it again copies nothing more. Returns the entries it created."""
    program = Program.objects.select_for_update().get(pk=program.pk)  # one copy at a time per program
    if not permissions.can_configure_program(actor, program):
        raise PermissionDenied(gettext("Only a program manager of this program can change its catalogue."))
    errors: dict[str, str] = {}
    catalogue.check_fiscal_year(fiscal_year, errors)
    catalogue.check_fiscal_year(fiscal_year + 1, errors)
    if errors:
        raise ValidationError(errors)
    source = (
        ActivityType.objects.filter(program=program, fiscal_year=fiscal_year, is_active=True)
        .prefetch_related("document_requirements", "caps")
        .order_by("id")
    )
    if not source:
        raise ValidationError(
            {
                "fiscal_year": gettext("%(year)s has no active activity types to copy.")
                % {"year": f"FY{fiscal_year % 100:02d}"}
            }
        )
    taken = set(
        ActivityType.objects.filter(program=program, fiscal_year=fiscal_year + 1).values_list("code", flat=True)
    )
    created = [
        activity_type_insert(program=program, fiscal_year=fiscal_year + 1, spec=_spec_of(t))
        for t in source
        if t.code not in taken
    ]
    if created:
        audit_record(
            actor=actor,
            verb="catalogue.copy",
            target=program,
            changes={"activity_types": (None, [t.code for t in created])},
            reason=f"Copied from FY{fiscal_year % 100:02d} to FY{(fiscal_year + 1) % 100:02d}.",
        )
    return created
