"""The plans API's schemas (input and output per endpoint, named Plan… so OpenAPI components stay unique) and
the helpers the plan and proof endpoints share."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, cast
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import ConfigDict

from coopfunds.accounts.models import User
from coopfunds.accounts.permissions import is_vendor_staff
from coopfunds.api.common import Amount, Country, FiscalYear, Id, PartnerItemOut, Text
from coopfunds.core.errors import NotFound, PermissionDenied
from coopfunds.plans import checks, selectors, services
from coopfunds.plans.models import (
    Campaign,
    ExcessPolicy,
    FundType,
    Plan,
    PlanActivity,
    PlanEvent,
    PlanStatus,
    PlanVersion,
)


def request_user(request: HttpRequest) -> User:
    return cast(User, request.auth)  # type: ignore[attr-defined]  # every endpoint is authenticated


class PlanStrict(Schema):
    """Input schemas refuse fields they do not know."""

    model_config = ConfigDict(extra="forbid")


# --- schemas: plans --------------------------------------------------------------------------------------------


class PlanActivityOut(Schema):
    id: int
    key: UUID = Field(..., description="The same activity in every version of the plan.")
    campaign_id: Id
    activity_type_id: Id
    activity_type_code: str = Field(..., alias="activity_type.code")
    activity_type_name: str = Field(..., alias="activity_type.name")
    countries: list[str]
    planned_amount: Decimal
    description: str
    expected_reach: int | None


class PlanCampaignOut(Schema):
    id: int
    key: UUID = Field(..., description="The same campaign in every version of the plan.")
    name: str
    start: date
    end: date
    budget: Decimal
    description: str
    activities: list[PlanActivityOut]

    @staticmethod
    def resolve_activities(obj: Campaign) -> list[PlanActivity]:
        return list(obj.activities.all())


class PlanOut(PartnerItemOut):
    fund_type: str
    fiscal_year: int
    name: str
    currency: str
    reviewer_id: Id | None
    status: str
    status_label: str
    version: int = Field(..., description="The number of the current version.")
    in_force_version: int | None = Field(..., description="The approved version in force, if any.")
    approved_amount: Decimal = Field(..., description="The limit: the total of the version in force.")
    submissions: int
    first_submitted_at: datetime | None
    submitted_at: datetime | None
    decided_at: datetime | None
    due_on: date | None = Field(..., description="When the review is due.")

    @staticmethod
    def resolve_status_label(obj: Plan) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_version(obj: Plan) -> int:
        return obj.current.number if obj.current else 0

    @staticmethod
    def resolve_in_force_version(obj: Plan) -> int | None:
        return obj.in_force.number if obj.in_force else None


class PlanFindingOut(Schema):
    code: str
    field: str = Field(..., description="What it is about: a field, `campaign-<id>`, `activity-<id>`, `totals`.")
    message: str
    blocking: bool


class PlanPeriodTotalOut(Schema):
    label: str
    start: date
    end: date
    planned: Decimal
    remaining: Decimal = Field(..., description="The location's co-op for that period so far.")
    closed: bool = Field(..., description="Its earning period is closed: the co-op is final.")
    over: bool


class PlanCapTotalOut(Schema):
    period: str
    name: str
    planned: Decimal
    limit: Decimal | None
    cap: str
    firm: bool
    over: bool


class PlanTotalsOut(Schema):
    currency: str
    total: Decimal
    budget: Decimal
    periods: list[PlanPeriodTotalOut]
    types: list[PlanCapTotalOut]


class PlanDeadlinesOut(Schema):
    first_submit_by: date
    resubmit_by: date = Field(..., description="Changes, resubmissions and amendments until this day.")


class PlanDetailOut(PlanOut):
    campaigns: list[PlanCampaignOut] = Field(..., description="Of the current version.")
    paid_against_limit: Decimal
    limit_left: Decimal
    deadlines: PlanDeadlinesOut
    findings: list[PlanFindingOut] = Field(..., description="The checker on the current version.")
    totals: PlanTotalsOut

    @staticmethod
    def resolve_campaigns(obj: Plan) -> list[Campaign]:
        return selectors.campaigns_of(obj.current)

    @staticmethod
    def resolve_paid_against_limit(obj: Plan) -> Decimal:
        return selectors.paid_against_limit(obj)

    @staticmethod
    def resolve_limit_left(obj: Plan) -> Decimal:
        return selectors.limit_left(obj)

    @staticmethod
    def resolve_deadlines(obj: Plan) -> dict[str, date]:
        window = services.window_of(obj)
        return {"first_submit_by": window.first_submit_by, "resubmit_by": window.resubmit_by}

    @staticmethod
    def resolve_findings(obj: Plan, context: Any) -> list[dict[str, Any]]:
        return _findings(request_user(context["request"]), obj)

    @staticmethod
    def resolve_totals(obj: Plan) -> checks.PlanTotals:
        return checks.plan_totals(obj, obj.current)


def _findings(user: User, plan: Plan) -> list[dict[str, Any]]:
    vendor = is_vendor_staff(user)
    found = checks.plan_findings(plan, plan.current, timezone.localdate())
    return [
        {"code": f.code, "field": f.field, "message": f.for_reviewer() if vendor else f.message, "blocking": f.blocking}
        for f in found
    ]


class PlanIn(PlanStrict):
    location_id: Id
    program_id: Id
    fiscal_year: FiscalYear = Field(..., description="The program year, named by the year it ends in (2027 = FY27).")
    name: str = Field("", max_length=200)
    reviewer_id: Id | None = Field(None, description="The vendor reviewer (one of the program's reviewers).")
    fund_type: FundType = FundType.COOP


class PlanPatchIn(PlanStrict):
    name: str | None = Field(None, max_length=200)
    reviewer_id: Id | None = None


class PlanListQuery(Schema):
    status: PlanStatus | None = None
    program_id: Id | None = None
    fiscal_year: FiscalYear | None = None


LongText = Annotated[str, Field(max_length=2000)]
Reach = Annotated[int, Field(ge=0, le=2**63 - 1, description="People the activity is expected to reach.")]


class PlanCampaignIn(PlanStrict):
    name: Text = Field(..., max_length=200)
    start: date
    end: date
    budget: Amount
    description: LongText = ""


class PlanCampaignPatchIn(PlanStrict):
    name: Text | None = Field(None, max_length=200)
    start: date | None = None
    end: date | None = None
    budget: Amount | None = None
    description: LongText | None = None


class PlanActivityIn(PlanStrict):
    activity_type_id: Id
    countries: list[Country] = Field(..., min_length=1)
    planned_amount: Amount
    description: LongText = ""
    expected_reach: Reach | None = None


class PlanActivityPatchIn(PlanStrict):
    activity_type_id: Id | None = None
    countries: list[Country] | None = Field(None, min_length=1)
    planned_amount: Amount | None = None
    description: LongText | None = None
    expected_reach: Reach | None = None


class PlanReasonIn(PlanStrict):
    code: str = Field(..., description="A code of the reason catalogue (GET /reason-codes).")
    note: str = ""
    campaign_id: Id | None = Field(None, description="A campaign of the version under review.")
    activity_id: Id | None = Field(None, description="An activity of the version under review.")


class PlanApproveIn(PlanStrict):
    note: str = ""
    reasons: list[PlanReasonIn] = []


class PlanDecisionIn(PlanStrict):
    message: str = ""
    reasons: list[PlanReasonIn]


class PlanAssignIn(PlanStrict):
    reviewer_id: Id | None = Field(None, description="Empty: yourself.")


class PlanCommentIn(PlanStrict):
    message: Text
    internal: bool = Field(False, description="An internal note, seen by vendor staff only.")
    proof_id: Id | None = Field(None, description="A proof of execution of this plan it is about.")


class PlanReasonOut(Schema):
    code: str = Field(..., alias="code.code")
    label: str = Field(..., alias="code.label")
    note: str
    campaign_id: Id | None
    activity_id: Id | None
    document_id: Id | None
    field: str


class PlanEventOut(Schema):
    id: int
    kind: str
    message: str = Field(..., description="In the caller's language where the product wrote it.")
    internal: bool
    old_status: str
    new_status: str
    proof_id: Id | None
    version: int | None
    actor_id: Id | None
    created_at: datetime
    reasons: list[PlanReasonOut]

    @staticmethod
    def resolve_message(obj: PlanEvent) -> str:
        return obj.text

    @staticmethod
    def resolve_version(obj: PlanEvent) -> int | None:
        return obj.version.number if obj.version else None

    @staticmethod
    def resolve_reasons(obj: PlanEvent) -> list[Any]:
        return list(obj.reasons.all())


class PlanVersionOut(Schema):
    number: int
    created_at: datetime
    submitted_at: datetime | None
    total: Decimal | None
    decided_at: datetime | None
    outcome: str
    in_force: bool

    @staticmethod
    def resolve_in_force(obj: PlanVersion, context: Any) -> bool:
        return obj.pk == obj.plan.in_force_id


class PlanChangeOut(Schema):
    kind: str = Field(..., description="added, removed or changed")
    what: str = Field(..., description="campaign or activity")
    label: str
    text: str = Field(..., description="The change in words.")
    fields: list[dict[str, str]]


class PlanChangesOut(Schema):
    since: int | None = Field(..., description="The version compared with (by default, the last one decided).")
    version: int
    changes: list[PlanChangeOut]


class PlanChangesQuery(Schema):
    since: int | None = Field(None, description="A version number; default: the last version a reviewer decided.")


class PlanRulesOut(Schema):
    program_id: Id
    resubmit_days: int
    proof_due_days: int
    proof_warning_days: int
    excess: str


class PlanRulesIn(PlanStrict):
    resubmit_days: int | None = Field(None, ge=0, le=365)
    proof_due_days: int | None = Field(None, ge=1, le=730)
    proof_warning_days: int | None = Field(None, ge=0, le=729, description="Fewer than proof_due_days.")
    excess: ExcessPolicy | None = None


class PlanQueueQuery(Schema):
    mine: bool = False
    program_id: Id | None = None


def reviewer_by_id(user_id: Id | None) -> User | None:
    """A person named as reviewer by id (the service checks they review the program); None: nobody given."""
    if user_id is None:
        return None
    found = User.objects.filter(pk=user_id, is_active=True).first()
    if found is None:
        raise NotFound(_("No such reviewer."))
    return found


def staff_only(user: User) -> None:
    if not is_vendor_staff(user):
        raise PermissionDenied(_("The review queues are for vendor staff."))
