"""API for programs: their rules and periods, holiday calendar and activity catalogue."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import ConfigDict

from coopfunds.accounts.models import User
from coopfunds.api.common import (
    ERRORS,
    Amount,
    AmountOrZero,
    Code,
    Currency,
    FiscalYear,
    Id,
    Keyset,
    Percent,
    PositivePercent,
    Text,
)
from coopfunds.programs import periods, selectors, services
from coopfunds.programs.catalogue import FISCAL_YEARS, CapSpec, DocumentSpec
from coopfunds.programs.models import (
    ActivityCategory,
    ActivityType,
    Cap,
    DocumentKind,
    DocumentRequirement,
    ExpenseCategory,
    LateEarnings,
    Program,
    RuleVersion,
)
from coopfunds.programs.wording import Rule, rules_in_words

router = Router(tags=["programs"])


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # authenticated by the API


# ---------------------------------------------------------------------------------------------- schemas


class Strict(Schema):
    """Input schemas refuse fields they do not know (a PATCH of `code` is an error, not silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class ProgramOut(Schema):
    id: int
    code: str
    name: str
    vendor: str
    currency: str
    is_active: bool
    fiscal_year_start_month: int
    period_months: int
    claim_opens_month: int
    claim_opens_day: int
    claim_closes_days_after_usage: int
    rebate_percent: Decimal
    coop_percent: Decimal
    coop_threshold: Decimal
    review_sla_business_days: int
    dispute_sla_business_days: int
    payment_sla_business_days: int
    payment_day: int
    holiday_country: str
    dispute_window_days: int
    late_earnings: LateEarnings
    expiry_reminder_days: int
    window_reminder_days: int
    request_cost_share_percent: Decimal
    request_lead_days: int
    request_claim_days: int
    rules_version: int = Field(..., description="The number of the rules version these are (the newest).")

    @staticmethod
    def resolve_vendor(obj: Program) -> str:
        return obj.vendor.name


class RuleVersionOut(Schema):
    number: int
    effective_at: datetime
    rules: dict[str, Any] = Field(..., description="Every rule as it was in this version (amounts as text).")
    changed: list[str] = Field(..., description="The rules this version changed.")
    reason: str
    created_by: str | None = None

    @staticmethod
    def resolve_created_by(obj: RuleVersion) -> str | None:
        return obj.created_by.email if obj.created_by else None


class RuleOut(Schema):
    topic: str
    text: str


class PeriodOut(Schema):
    fiscal_year: int
    index: int
    label: str
    start: date
    end: date
    usage_start: date
    usage_end: date
    claim_opens: date
    claim_closes: date
    forfeit_on: date


class ProgramDetailOut(ProgramOut):
    current_period: PeriodOut
    rules: list[RuleOut]

    @staticmethod
    def resolve_current_period(obj: Program) -> periods.Period:
        return periods.period_containing(obj, timezone.localdate())

    @staticmethod
    def resolve_rules(obj: Program) -> list[Rule]:
        return rules_in_words(obj, timezone.localdate(), selectors.holidays_of(obj).count())


class FiscalYearOut(Schema):
    fiscal_year: int
    label: str
    start: date
    end: date
    periods: list[PeriodOut]


BusinessDays = Annotated[int, Field(ge=1, le=365)]
DayOfMonth = Annotated[int, Field(ge=1, le=28)]


class ProgramRulesIn(Strict):
    fiscal_year_start_month: int | None = Field(None, ge=1, le=12)
    period_months: Literal[1, 2, 3, 4, 6, 12] | None = None
    claim_opens_month: int | None = Field(None, ge=1, le=12, description="At most period_months.")
    claim_opens_day: DayOfMonth | None = None
    claim_closes_days_after_usage: int | None = Field(None, ge=0, le=366)
    rebate_percent: Percent | None = None
    coop_threshold: AmountOrZero | None = None
    review_sla_business_days: BusinessDays | None = None
    dispute_sla_business_days: BusinessDays | None = None
    payment_sla_business_days: BusinessDays | None = None
    payment_day: DayOfMonth | None = None
    dispute_window_days: int | None = Field(None, ge=1, le=365)
    late_earnings: LateEarnings | None = Field(
        None, description="reevaluate: the period jobs apply the threshold to a closed period's new total; keep: no."
    )
    expiry_reminder_days: int | None = Field(None, ge=0, le=180, description="0: no reminder.")
    window_reminder_days: int | None = Field(None, ge=0, le=180, description="0: no reminder.")
    request_cost_share_percent: Percent | None = Field(
        None, description="The vendor's share of a fund request's costs, unless its activity type sets one."
    )
    request_lead_days: int | None = Field(None, ge=0, le=365, description="Days before the activity starts.")
    request_claim_days: int | None = Field(None, ge=1, le=366, description="Days after the activity ends.")
    holiday_country: str | None = Field(
        None,
        json_schema_extra={"enum": ["", *sorted(periods.supported_holiday_countries())]},
        description="The country whose public holidays the review clock skips; empty: none.",
    )
    is_active: bool | None = None

    def given(self) -> dict[str, Any]:
        """The fields the client sent; absent or null: unchanged (for a new program: the preset's value)."""
        return self.model_dump(exclude_unset=True, exclude_none=True)


class ProgramIn(ProgramRulesIn):
    code: Code = Field(..., max_length=services.CODE_MAX)
    name: Text = Field(..., max_length=200)
    currency: Currency


class ProgramPatchIn(ProgramRulesIn):
    name: Text | None = Field(None, max_length=200)
    reason: str = Field("", max_length=500, description="Why the rules change: kept with the version and audited.")
    confirm: bool = Field(
        False,
        description="A change of the threshold, the split or the late-earnings rule decides the close of the earning "
        "period now running: without confirm it is refused with 422 (field confirm) saying what it does.",
    )

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in super().given().items() if k not in ("reason", "confirm")}


class HolidayIn(Strict):
    date: date
    name: Text = Field(..., max_length=200)


class HolidayOut(Schema):
    id: int
    program_id: Id
    date: date
    name: str


class DocumentIO(Strict):
    kind: DocumentKind
    required: bool = True
    note: str = Field("", max_length=300)


class AmountCapIn(Strict):
    kind: Literal["period_amount", "per_person", "per_event"]
    amount: Amount
    expense: str = Field("", max_length=100)
    exempt: bool = False


class PercentCapIn(Strict):
    kind: Literal["period_percent"]
    percent: PositivePercent
    amount: Amount | None = Field(None, description="A floor: the greater of the percentage and this amount.")
    expense: str = Field("", max_length=100)
    exempt: bool = False


class AttendeesCapIn(Strict):
    kind: Literal["per_event_attendees"]
    count: int = Field(..., ge=1, le=2**31 - 1)
    expense: str = Field("", max_length=100)
    exempt: bool = False


CapIn = Annotated[AmountCapIn | PercentCapIn | AttendeesCapIn, Field(discriminator="kind")]


class CapOut(Schema):
    id: int
    kind: str
    amount: Decimal | None
    percent: Decimal | None
    count: int | None
    expense: str
    exempt: bool
    description: str

    @staticmethod
    def resolve_description(obj: Cap) -> str:
        if obj.exempt:
            return _("At most %(cap)s (waived by the program)") % {"cap": obj}
        return _("At most %(cap)s") % {"cap": obj}


class DocumentRequirementOut(Schema):
    kind: str
    label: str
    required: bool
    note: str

    @staticmethod
    def resolve_label(obj: DocumentRequirement) -> str:
        return obj.get_kind_display()


class ActivityTypeOut(Schema):
    id: int
    program_id: Id
    fiscal_year: int
    code: str
    name: str
    category: str
    core_requirements: str
    metrics: list[str]
    eligible_expenses: str
    ineligible_expenses: str
    expense_categories: list[str] = Field(..., description="The expense categories it funds; empty: every one.")
    cost_share_percent: Decimal | None = Field(..., description="The vendor's share; null: the program's.")
    is_active: bool
    documents: list[DocumentRequirementOut]
    caps: list[CapOut]

    @staticmethod
    def resolve_documents(obj: ActivityType) -> list[DocumentRequirement]:
        return list(obj.document_requirements.all())

    @staticmethod
    def resolve_caps(obj: ActivityType) -> list[Cap]:
        return list(obj.caps.all())


Metric = Annotated[str, Field(max_length=100)]


class ActivityTypeIn(Strict):
    fiscal_year: FiscalYear
    code: Code = Field(..., max_length=64)
    name: Text = Field(..., max_length=200)
    category: ActivityCategory
    core_requirements: str = ""
    metrics: list[Metric] = []
    eligible_expenses: str = ""
    ineligible_expenses: str = ""
    expense_categories: list[ExpenseCategory] = []
    cost_share_percent: Percent | None = None
    documents: list[DocumentIO] = []
    caps: list[CapIn] = []


class ActivityTypePatchIn(Strict):
    name: Text | None = Field(None, max_length=200)
    category: ActivityCategory | None = None
    core_requirements: str | None = None
    metrics: list[Metric] | None = None
    eligible_expenses: str | None = None
    ineligible_expenses: str | None = None
    expense_categories: list[ExpenseCategory] | None = None
    cost_share_percent: Percent | None = Field(None, description="Give null to use the program's share.")
    is_active: bool | None = None
    documents: list[DocumentIO] | None = Field(None, description="Replaces every document requirement.")
    caps: list[CapIn] | None = Field(None, description="Replaces every cap.")


class FiscalYearQuery(Schema):
    fiscal_year: FiscalYear | None = Field(
        None, description="Named by the year it ends in (2027 = FY27); default: now."
    )


class CopyIn(Strict):
    fiscal_year: int = Field(
        ..., ge=FISCAL_YEARS[0], le=FISCAL_YEARS[-2], description="The year to copy from; entries go to the next one."
    )


class CapExemptIn(Strict):
    reason: str = ""


def _documents(items: list[DocumentIO]) -> list[DocumentSpec]:
    return [DocumentSpec(kind=d.kind, required=d.required, note=d.note) for d in items]


def _caps(items: list[CapIn]) -> list[CapSpec]:
    return [CapSpec(**c.model_dump()) for c in items]  # type: ignore[arg-type]


def _fiscal_year(program: Program, requested: int | None) -> int:
    return periods.fiscal_year_of(program, timezone.localdate()) if requested is None else requested


# ---------------------------------------------------------------------------------------------- programs


@router.get("/programs", response={200: list[ProgramOut], **ERRORS})
@paginate(Keyset)
def program_list(request: HttpRequest) -> Any:
    """Programs you can see: all of them for vendor staff, those your locations are enrolled in for partners."""
    return selectors.programs_visible_to(_user(request))


@router.post("/programs", response={201: ProgramOut, **ERRORS})
def program_create(request: HttpRequest, payload: ProgramIn) -> Any:
    """Create a program (program managers for every program). Rules left out take the preset's values."""
    values = payload.given()
    program = services.program_create(
        code=values.pop("code"),
        name=values.pop("name"),
        currency=values.pop("currency"),
        actor=_user(request),
        **values,
    )
    return Status(201, program)


@router.get("/programs/{program_id}", response={200: ProgramDetailOut, **ERRORS})
def program_detail(request: HttpRequest, program_id: Id) -> Any:
    """A program with its current period and its rules in words."""
    return selectors.program_for(_user(request), program_id)


@router.patch("/programs/{program_id}", response={200: ProgramOut, **ERRORS})
def program_update(request: HttpRequest, program_id: Id, payload: ProgramPatchIn) -> Any:
    """Change the program's name and rules. Its code and currency never change; a change of rules is the
    program's next rules version, in force from now (earlier dates keep the rules they had)."""
    user = _user(request)
    program = selectors.program_for(user, program_id)
    services.program_update(
        program=program, actor=user, confirm=payload.confirm, reason=payload.reason, **payload.given()
    )
    return selectors.program_for(user, program_id)  # as stored: amounts with their two decimals


@router.get("/programs/{program_id}/rule-versions", response={200: list[RuleVersionOut], **ERRORS})
@paginate(Keyset, ordering=("-id",))
def rule_versions(request: HttpRequest, program_id: Id) -> Any:
    """Every version of the program's rules, newest first: what each changed, when, by whom and why."""
    program = selectors.program_for(_user(request), program_id)
    return selectors.rule_versions_of(program)


@router.get("/programs/{program_id}/periods", response={200: FiscalYearOut, **ERRORS})
def program_periods(request: HttpRequest, program_id: Id, query: Query[FiscalYearQuery]) -> Any:
    """A fiscal year's earning periods, each with its usage period, claiming window and forfeit date."""
    program = selectors.program_for(_user(request), program_id)
    fiscal_year = _fiscal_year(program, query.fiscal_year)
    start, end = periods.fiscal_year_bounds(program, fiscal_year)
    return {
        "fiscal_year": fiscal_year,
        "label": periods.fiscal_year_label(fiscal_year),
        "start": start,
        "end": end,
        "periods": periods.periods_of_fiscal_year(program, fiscal_year),
    }


# ---------------------------------------------------------------------------------------------- holidays


@router.post("/programs/{program_id}/holidays", response={201: HolidayOut, **ERRORS})
def holiday_add(request: HttpRequest, program_id: Id, payload: HolidayIn) -> Any:
    user = _user(request)
    program = selectors.program_for(user, program_id)
    return Status(201, services.holiday_add(program=program, day=payload.date, name=payload.name, actor=user))


@router.delete("/holidays/{holiday_id}", response={204: None, **ERRORS})
def holiday_remove(request: HttpRequest, holiday_id: Id) -> Any:
    user = _user(request)
    services.holiday_remove(holiday=selectors.holiday_for(user, holiday_id), actor=user)
    return Status(204, None)


# ---------------------------------------------------------------------------------------------- catalogue


@router.get("/programs/{program_id}/activity-types", response={200: list[ActivityTypeOut], **ERRORS})
@paginate(Keyset)
def activity_type_list(request: HttpRequest, program_id: Id, query: Query[FiscalYearQuery]) -> Any:
    """The program's catalogue for a fiscal year (default: the current one)."""
    program = selectors.program_for(_user(request), program_id)
    return selectors.activity_types_for(program, _fiscal_year(program, query.fiscal_year))


@router.post("/programs/{program_id}/activity-types", response={201: ActivityTypeOut, **ERRORS})
def activity_type_create(request: HttpRequest, program_id: Id, payload: ActivityTypeIn) -> Any:
    user = _user(request)
    program = selectors.program_for(user, program_id)
    values = payload.model_dump(exclude={"documents", "caps"})
    created = services.activity_type_create(
        program=program, documents=_documents(payload.documents), caps=_caps(payload.caps), actor=user, **values
    )
    return Status(201, selectors.activity_type_for(user, created.pk))


@router.post("/programs/{program_id}/activity-types/copy", response={200: list[ActivityTypeOut], **ERRORS})
def catalogue_copy(request: HttpRequest, program_id: Id, payload: CopyIn) -> Any:
    """Copy a fiscal year's active catalogue to the next year; entries already there are left alone."""
    user = _user(request)
    program = selectors.program_for(user, program_id)
    created = services.catalogue_copy_to_fiscal_year(program=program, fiscal_year=payload.fiscal_year, actor=user)
    return list(selectors.activity_types_for(program, payload.fiscal_year + 1).filter(pk__in=[t.pk for t in created]))


@router.get("/activity-types/{activity_type_id}", response={200: ActivityTypeOut, **ERRORS})
def activity_type_detail(request: HttpRequest, activity_type_id: Id) -> Any:
    return selectors.activity_type_for(_user(request), activity_type_id)


@router.patch("/activity-types/{activity_type_id}", response={200: ActivityTypeOut, **ERRORS})
def activity_type_update(request: HttpRequest, activity_type_id: Id, payload: ActivityTypePatchIn) -> Any:
    user = _user(request)
    activity_type = selectors.activity_type_for(user, activity_type_id)
    """Change a catalogue entry; absent or null fields stay as they are."""
    changes: dict[str, Any] = payload.model_dump(exclude_unset=True, exclude_none=True, exclude={"documents", "caps"})
    if "cost_share_percent" in payload.model_fields_set:  # null: back to the program's share
        changes["cost_share_percent"] = payload.cost_share_percent
    if payload.documents is not None:
        changes["documents"] = _documents(payload.documents)
    if payload.caps is not None:
        changes["caps"] = _caps(payload.caps)
    services.activity_type_update(activity_type=activity_type, actor=user, **changes)
    return selectors.activity_type_for(user, activity_type_id)


def _set_exempt(request: HttpRequest, cap_id: Id, exempt: bool, reason: str) -> Cap:
    user = _user(request)
    cap = services.cap_set_exempt(cap=selectors.cap_for(user, cap_id), exempt=exempt, actor=user, reason=reason)
    return cap


@router.post("/caps/{cap_id}/exempt", response={200: CapOut, **ERRORS})
def cap_exempt(request: HttpRequest, cap_id: Id, payload: CapExemptIn) -> Any:
    """The program waives this cap."""
    return _set_exempt(request, cap_id, True, payload.reason)


@router.post("/caps/{cap_id}/apply", response={200: CapOut, **ERRORS})
def cap_apply(request: HttpRequest, cap_id: Id, payload: CapExemptIn) -> Any:
    """The program applies this cap again."""
    return _set_exempt(request, cap_id, False, payload.reason)
