"""Reads, scoped to what a user may see. Outsiders get NotFound (404), never a hint that a row exists."""

from datetime import date
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from coopfunds.accounts import permissions
from coopfunds.accounts.models import PARTNER_ROLES, User
from coopfunds.core.errors import NotFound
from coopfunds.programs.models import (
    ActivityType,
    Cap,
    DocumentRequirement,
    ExchangeRate,
    Holiday,
    Program,
    RuleVersion,
)


def programs_visible_to(user: User) -> QuerySet[Program]:
    """Vendor staff see every program. A partner user sees the programs in which a location of their own
    organisation that their roles cover has an enrollment (in any status), as far as the role covers the
    program. Enrollments are reached through the reverse relation: programs never imports enrollments."""
    qs = Program.objects.select_related("vendor")
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if permissions.is_vendor_staff(user):
        return qs
    covered = Q(pk__in=[])
    for grant in user.grants:
        if grant.role in PARTNER_ROLES and grant.location_id:
            one = Q(
                enrollments__location_id=grant.location_id,
                enrollments__location__organisation_id=user.organisation_id,
            )
            if grant.program_id:
                one &= Q(pk=grant.program_id)
            covered |= one
    return qs.filter(pk__in=Program.objects.filter(covered).values("pk"))


def rule_versions_of(program: Program) -> QuerySet[RuleVersion]:
    """The program's rules versions, newest first (vendor staff: the API's roles table gates it)."""
    return RuleVersion.objects.filter(program=program).select_related("created_by").order_by("-id")


def program_for(user: User, pk: int) -> Program:
    try:
        return programs_visible_to(user).get(pk=pk)
    except (Program.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such program.")) from None


def _with_details(qs: QuerySet[ActivityType]) -> QuerySet[ActivityType]:
    return qs.select_related("program").prefetch_related(
        Prefetch("document_requirements", queryset=DocumentRequirement.objects.order_by("-required", "kind")),
        Prefetch("caps", queryset=Cap.objects.order_by("id")),
    )


def activity_types_for(program: Program, fiscal_year: int) -> QuerySet[ActivityType]:
    """The program's catalogue for one fiscal year, with document requirements and caps."""
    return _with_details(ActivityType.objects.filter(program=program, fiscal_year=fiscal_year))


def activity_type_for(user: User, pk: int) -> ActivityType:
    try:
        return _with_details(ActivityType.objects.filter(program__in=programs_visible_to(user))).get(pk=pk)
    except (ActivityType.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such activity type.")) from None


def catalogue_years(program: Program) -> list[int]:
    """The fiscal years for which the program has a catalogue, oldest first."""
    years = ActivityType.objects.filter(program=program).values_list("fiscal_year", flat=True).distinct()
    return sorted(set(years))


def holidays_of(program: Program) -> QuerySet[Holiday]:
    return Holiday.objects.filter(program=program).order_by("date")


def holiday_for(user: User, pk: int) -> Holiday:
    try:
        return Holiday.objects.select_related("program").get(pk=pk, program__in=programs_visible_to(user))
    except (Holiday.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such holiday.")) from None


def cap_for(user: User, pk: int) -> Cap:
    try:
        return Cap.objects.select_related("activity_type__program").get(
            pk=pk, activity_type__program__in=programs_visible_to(user)
        )
    except (Cap.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such cap.")) from None


def exchange_rate(source: str, target: str, day: date) -> Decimal | None:
    """1 `source` in `target` by the monthly rate table for `day`'s month: the rate as entered, or the inverse
    of the opposite pair's (finance enters rates from the funds' currency); None if neither is there."""
    if source == target:
        return Decimal(1)
    month = day.replace(day=1)
    rates = dict(
        ExchangeRate.objects.filter(month=month, source__in=[source, target], target__in=[source, target]).values_list(
            "source", "rate"
        )
    )
    if source in rates:
        return rates[source]
    if target in rates:
        return Decimal(1) / rates[target]
    return None
