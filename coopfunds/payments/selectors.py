"""Reads of payments, scoped to what the user may see (outsiders get NotFound, never 403).

Vendor staff see every run and payment; partner users see the payments of their own organisation's locations
their grants name, and no run (runs are vendor-side: a partner gets 404).
"""

from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext

from coopfunds.accounts.models import PARTNER_ROLES, User
from coopfunds.accounts.permissions import is_vendor_staff
from coopfunds.audit.models import AuditEvent
from coopfunds.core.errors import NotFound
from coopfunds.payments.models import (
    OPEN,
    BankFile,
    PayingEntity,
    Payment,
    PaymentDispute,
    PaymentLine,
    PaymentRun,
    PaymentStatus,
)
from coopfunds.programs.models import ExchangeRate


def _partner_locations(user: User) -> set[int]:
    return {g.location_id for g in user.grants if g.role in PARTNER_ROLES and g.location_id}


def payments_visible_to(user: User) -> QuerySet[Payment]:
    qs = Payment.objects.select_related("location__organisation", "entity", "run", "payout_profile")
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if is_vendor_staff(user):
        return qs
    return qs.filter(location_id__in=_partner_locations(user), location__organisation_id=user.organisation_id)


def payment_for(user: User, pk: Any) -> Payment:
    try:
        return payments_visible_to(user).get(pk=pk)
    except (Payment.DoesNotExist, ValueError, TypeError):
        raise NotFound(gettext("No such payment.")) from None


def payments_filter(
    qs: QuerySet[Payment],
    *,
    status: str = "",
    location_id: int | None = None,
    run_id: int | None = None,
    query: str = "",
) -> QuerySet[Payment]:
    if status:
        qs = qs.filter(status=status)
    if location_id is not None:
        qs = qs.filter(location_id=location_id)
    if run_id is not None:
        qs = qs.filter(run_id=run_id)
    if query.strip():
        q = query.strip()
        qs = qs.filter(
            Q(location__partner_id__icontains=q)
            | Q(location__name__icontains=q)
            | Q(location__organisation__name__icontains=q)
            | Q(end_to_end_id__icontains=q)
        )
    return qs


def runs_visible_to(user: User) -> QuerySet[PaymentRun]:
    qs = PaymentRun.objects.select_related("entity", "prepared_by", "approved_by", "exported_by")
    if not user.is_authenticated or not user.is_active or not is_vendor_staff(user):
        return qs.none()
    return qs


def run_for(user: User, pk: Any) -> PaymentRun:
    try:
        return runs_visible_to(user).get(pk=pk)
    except (PaymentRun.DoesNotExist, ValueError, TypeError):
        raise NotFound(gettext("No such payment run.")) from None


def run_totals(run: PaymentRun) -> list[dict[str, Any]]:
    """Per status and currency: how many payments of the run and their total."""
    rows = (
        run.payments.order_by()
        .values("status", "currency")
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by("status", "currency")
    )
    return [dict(row) for row in rows]


def lines_of(payment: Payment) -> QuerySet[PaymentLine]:
    return payment.lines.select_related("fund__program").order_by("id")


def bank_files_of(run: PaymentRun) -> QuerySet[BankFile]:
    return BankFile.objects.filter(run=run).defer("content").order_by("id")


def bank_file_for(user: User, run: PaymentRun, pk: Any) -> BankFile:
    try:
        return BankFile.objects.get(run=run, pk=pk)
    except (BankFile.DoesNotExist, ValueError, TypeError):
        raise NotFound(gettext("No such bank file.")) from None


def disputes_visible_to(user: User) -> QuerySet[PaymentDispute]:
    return PaymentDispute.objects.filter(payment__in=payments_visible_to(user)).select_related(
        "payment__location", "raised_by", "resolved_by", "evidence"
    )


def dispute_for(user: User, pk: Any) -> PaymentDispute:
    try:
        return disputes_visible_to(user).get(pk=pk)
    except (PaymentDispute.DoesNotExist, ValueError, TypeError):
        raise NotFound(gettext("No such dispute.")) from None


def payment_history(payment: Payment) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(target_type=Payment._meta.label_lower, target_id=str(payment.pk)).order_by("id")


def rates(month: date | None = None) -> QuerySet[ExchangeRate]:
    qs = ExchangeRate.objects.all()
    return qs.filter(month=month) if month else qs


def entities() -> QuerySet[PayingEntity]:
    return PayingEntity.objects.prefetch_related("program_payers__program").order_by("name", "id")


def entity_by_id(pk: Any) -> PayingEntity:
    try:
        return PayingEntity.objects.get(pk=pk)
    except (PayingEntity.DoesNotExist, ValueError, TypeError):
        raise NotFound(gettext("No such paying entity.")) from None


def open_statuses() -> list[str]:
    return sorted(s.value for s in OPEN)


STATUS_CHOICES = PaymentStatus.choices
