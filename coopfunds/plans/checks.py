"""The plan checker: running totals against the funds and the catalogue's caps, and findings in plain words
(the claims checker's `Finding`). A blocking finding prevents submission; the others are warnings.

Each campaign belongs to the usage period its start falls in; the caps "per period" of an activity type are
checked over the plan's activities of that type whose campaigns start in the same usage period. Fixed caps
block; percentage caps block once the period's co-op is known (its earning period closed) and warn before."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext

from coopfunds.claims.checks import Finding, money
from coopfunds.core.i18n import day_lazy
from coopfunds.funds.models import Fund
from coopfunds.funds.selectors import balances_of
from coopfunds.plans import deadlines
from coopfunds.plans.models import Campaign, Plan, PlanActivity, PlanSettings, PlanVersion
from coopfunds.plans.selectors import campaigns_of, paid_against_limit, plan_settings_of
from coopfunds.programs import periods
from coopfunds.programs.models import ActivityType, CapKind

__all__ = [
    "Finding",
    "PlanTotals",
    "blocking",
    "draft_activity_findings",
    "plan_findings",
    "plan_totals",
]


@dataclass(frozen=True)
class PeriodTotal:
    """One usage period of the plan's year: what the plan's campaigns starting in it plan to spend, against
    the location's fund for that period."""

    label: str
    start: date
    end: date
    planned: Decimal
    fund: Fund | None
    earned: Decimal
    remaining: Decimal  # available now plus co-op still accruing
    closed: bool  # the earning period is closed: `earned` is final

    @property
    def over(self) -> bool:
        return self.planned > self.remaining


@dataclass(frozen=True)
class TypeTotal:
    """One activity type in one usage period, against its per-period caps."""

    period: str
    name: str
    planned: Decimal
    limit: Decimal | None
    cap: str
    firm: bool  # the limit is final (fixed, or the period's co-op is known)

    @property
    def over(self) -> bool:
        return self.limit is not None and self.planned > self.limit


@dataclass(frozen=True)
class PlanTotals:
    currency: str
    total: Decimal
    budget: Decimal
    periods: list[PeriodTotal] = field(default_factory=list)
    types: list[TypeTotal] = field(default_factory=list)


def _period_of(plan: Plan, day: date) -> periods.Period:
    return periods.period_containing(plan.program, day)


def plan_totals(plan: Plan, version: PlanVersion | None, campaigns: list[Campaign] | None = None) -> PlanTotals:
    campaigns = campaigns_of(version) if campaigns is None else campaigns
    year = periods.periods_of_fiscal_year(plan.program, plan.fiscal_year)
    funds = {
        f.usage_start: f
        for f in Fund.objects.filter(
            location=plan.location_id, program=plan.program_id, usage_start__in=[p.start for p in year]
        )
    }
    money_of = balances_of(list(funds.values()))
    planned: dict[date, Decimal] = {p.start: Decimal(0) for p in year}
    by_type: dict[tuple[date, int], tuple[PlanActivity, Decimal]] = {}
    for campaign in campaigns:
        start = _period_of(plan, campaign.start).start
        for activity in campaign.activities.all():
            planned[start] = planned.get(start, Decimal(0)) + activity.planned_amount
            key = (start, activity.activity_type_id)
            before = by_type.get(key, (activity, Decimal(0)))[1]
            by_type[key] = (activity, before + activity.planned_amount)
    rows = []
    for p in year:
        fund = funds.get(p.start)
        b = money_of.get(fund.pk) if fund else None
        rows.append(
            PeriodTotal(
                label=p.label,
                start=p.start,
                end=p.end,
                planned=planned[p.start],
                fund=fund,
                earned=fund.earned if fund else Decimal(0),
                remaining=b.remaining if b else Decimal(0),
                closed=bool(fund and fund.closed_at),
            )
        )
    labels = {p.start: p.label for p in year}
    types = []
    for (start, _), (activity, amount) in sorted(
        by_type.items(), key=lambda kv: (kv[0][0], kv[1][0].activity_type.name)
    ):
        fund = funds.get(start)
        for cap in activity.activity_type.caps.all():
            limit = cap.period_limit(fund.earned if fund else Decimal(0))
            if limit is None:
                continue
            firm = cap.kind == CapKind.PERIOD_AMOUNT or bool(fund and fund.closed_at)
            types.append(TypeTotal(labels.get(start, ""), activity.activity_type.name, amount, limit, str(cap), firm))
    return PlanTotals(
        currency=plan.currency,
        total=sum(planned.values(), Decimal(0)),
        budget=sum((c.budget for c in campaigns), Decimal(0)),
        periods=rows,
        types=types,
    )


def _campaign_findings(plan: Plan, campaign: Campaign, window: deadlines.PlanWindow) -> list[Finding]:
    out = []
    where = f"campaign-{campaign.pk}"
    activities = list(campaign.activities.all())
    if not activities:
        out.append(
            Finding(
                "empty_campaign",
                gettext("Add at least one activity to “%(campaign)s”.") % {"campaign": campaign.name},
                where,
            )
        )
    if campaign.start < window.starts or campaign.end > window.first_submit_by:
        out.append(
            Finding(
                "campaign_dates",
                gettext("“%(campaign)s” must run within %(year)s (%(start)s – %(end)s).")
                % {
                    "campaign": campaign.name,
                    "year": window.label,
                    "start": day_lazy(window.starts),
                    "end": day_lazy(window.first_submit_by),
                },
                where,
            )
        )
    planned = sum((a.planned_amount for a in activities), Decimal(0))
    if planned > campaign.budget:
        out.append(
            Finding(
                "over_budget",
                gettext("The activities of “%(campaign)s” plan %(planned)s, more than its budget of %(budget)s.")
                % {
                    "campaign": campaign.name,
                    "planned": money(planned, plan.currency),
                    "budget": money(campaign.budget, plan.currency),
                },
                where,
            )
        )
    for activity in activities:
        kind = activity.activity_type
        if kind.program_id != plan.program_id or kind.fiscal_year != plan.fiscal_year or not kind.is_active:
            out.append(
                Finding(
                    "activity_type",
                    gettext("“%(activity)s” is not in the %(year)s catalogue of %(program)s; choose another.")
                    % {"activity": kind.name, "year": window.label, "program": plan.program.name},
                    f"activity-{activity.pk}",
                )
            )
    return out


def _total_findings(plan: Plan, totals: PlanTotals) -> list[Finding]:
    out = []
    for t in totals.types:
        if t.over:
            out.append(
                Finding(
                    "over_cap",
                    gettext("%(activity)s is capped at %(limit)s for %(period)s (%(cap)s); the plan has %(planned)s.")
                    % {
                        "activity": t.name,
                        "limit": money(t.limit or Decimal(0), totals.currency),
                        "period": t.period,
                        "cap": t.cap,
                        "planned": money(t.planned, totals.currency),
                    },
                    "totals",
                    blocking=t.firm,
                )
            )
    for p in totals.periods:
        if p.over:
            out.append(
                Finding(
                    "over_funds",
                    gettext(
                        "Campaigns starting in %(period)s plan %(planned)s; the co-op for that period is "
                        "%(remaining)s so far. Proof is paid only from co-op earned."
                    )
                    % {
                        "period": p.label,
                        "planned": money(p.planned, totals.currency),
                        "remaining": money(p.remaining, totals.currency),
                    },
                    "totals",
                    blocking=False,
                )
            )
    return out


def plan_findings(
    plan: Plan,
    version: PlanVersion | None,
    today: date,
    *,
    campaigns: list[Campaign] | None = None,
    settings: PlanSettings | None = None,
) -> list[Finding]:
    """Everything the checker finds on a version of the plan (the current one for the builder)."""
    settings = settings or plan_settings_of(plan.program)
    window = deadlines.plan_window(plan.program, settings, plan.fiscal_year)
    campaigns = campaigns_of(version) if campaigns is None else campaigns
    out: list[Finding] = []
    if not plan.name.strip():
        out.append(Finding("name", gettext("Give the plan a name."), "name"))
    if plan.reviewer_id is None:
        out.append(Finding("reviewer", gettext("Name the vendor reviewer who will review the plan."), "reviewer"))
    if not campaigns:
        out.append(Finding("no_campaigns", gettext("Add at least one campaign with its activities."), "campaigns"))
    for campaign in campaigns:
        out += _campaign_findings(plan, campaign, window)
    totals = plan_totals(plan, version, campaigns)
    out += _total_findings(plan, totals)
    paid = paid_against_limit(plan) if plan.in_force_id else Decimal(0)
    if paid and totals.total < paid:
        out.append(
            Finding(
                "below_paid",
                gettext(
                    "Proofs of execution have already been paid %(paid)s against this plan; the plan cannot total "
                    "less (%(total)s)."
                )
                % {"paid": money(paid, plan.currency), "total": money(totals.total, plan.currency)},
                "totals",
            )
        )
    out += _deadline_findings(plan, window, today)
    return out


def _deadline_findings(plan: Plan, window: deadlines.PlanWindow, today: date) -> list[Finding]:
    if plan.submissions == 0 and not window.may_submit_first(today):
        return [
            Finding(
                "deadline",
                gettext("Plans for %(year)s had to be first submitted by %(day)s.")
                % {"year": window.label, "day": day_lazy(window.first_submit_by)},
            )
        ]
    if plan.submissions and not window.may_resubmit(today):
        return [
            Finding(
                "deadline",
                gettext("Plans for %(year)s could be changed and resubmitted until %(day)s.")
                % {"year": window.label, "day": day_lazy(window.resubmit_by)},
            )
        ]
    return []


def blocking(found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.blocking]


def draft_activity_findings(
    plan: Plan, campaign: Campaign, kind: ActivityType, amount: Decimal, replacing: PlanActivity | None = None
) -> list[Finding]:
    """The builder's live check of one activity as typed (not saved): the room its caps, its campaign's budget
    and its usage period's co-op leave, counting the plan's other activities (without the one it replaces)."""
    campaigns = campaigns_of(plan.current)
    period = _period_of(plan, campaign.start)
    fund = Fund.objects.filter(location=plan.location_id, program=plan.program_id, usage_start=period.start).first()
    same_type = in_period = in_campaign = Decimal(0)
    for c in campaigns:
        starts_in = _period_of(plan, c.start).start == period.start
        for a in c.activities.all():
            if replacing is not None and a.pk == replacing.pk:
                continue
            in_campaign += a.planned_amount if c.pk == campaign.pk else 0
            in_period += a.planned_amount if starts_in else 0
            same_type += a.planned_amount if starts_in and a.activity_type_id == kind.pk else 0
    currency, out = plan.currency, []
    earned = fund.earned if fund else Decimal(0)
    for cap in kind.caps.all():
        limit = cap.period_limit(earned)
        if limit is None:
            continue
        left = max(limit - same_type, Decimal(0))
        firm = cap.kind == CapKind.PERIOD_AMOUNT or bool(fund and fund.closed_at)
        words = gettext(
            "%(activity)s: at most %(limit)s for %(period)s (%(cap)s); %(planned)s is planned elsewhere, so "
            "%(left)s is left."
        ) % {
            "activity": kind.name,
            "limit": money(limit, currency),
            "period": period.label,
            "cap": cap,
            "planned": money(same_type, currency),
            "left": money(left, currency),
        }
        out.append(
            Finding("over_cap" if amount > left else "cap_room", words, "planned_amount", amount > left and firm)
        )
    if in_campaign + amount > campaign.budget:
        out.append(
            Finding(
                "over_budget",
                gettext("With this activity “%(campaign)s” plans %(planned)s, more than its budget of %(budget)s.")
                % {
                    "campaign": campaign.name,
                    "planned": money(in_campaign + amount, currency),
                    "budget": money(campaign.budget, currency),
                },
                "planned_amount",
            )
        )
    remaining = balances_of([fund])[fund.pk].remaining if fund else Decimal(0)
    out.append(
        Finding(
            "period_total",
            gettext(
                "Campaigns starting in %(period)s would plan %(planned)s; the co-op for that period is %(remaining)s "
                "so far."
            )
            % {
                "period": period.label,
                "planned": money(in_period + amount, currency),
                "remaining": money(remaining, currency),
            },
            "planned_amount",
            blocking=False,
        )
    )
    return out
