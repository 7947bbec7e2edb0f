"""Escalation of reviews past their due date, for every kind of item reviewed (claims, proofs, plans, customer
associations): one rule, so that each kind escalates the same way."""

from collections.abc import Callable
from datetime import date
from typing import Any

from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from coopfunds.accounts.models import Role
from coopfunds.accounts.selectors import people_holding
from coopfunds.notifications.models import NotificationKind
from coopfunds.notifications.services import notify


def escalate_overdue(
    queryset: models.QuerySet[Any],
    today: date,
    *,
    lock: Callable[[int], Any],
    note: Callable[[Any, str], object],
    noun: str,
    link: Callable[[Any], str],
    awaiting: frozenset[str],
) -> int:
    """Tell the program managers, once per due date, about reviews past it: each item of `queryset` (claims,
    proofs, plans, associations: anything with a status, `due_on`, `escalated_at` and `program_id`) re-read under
    `lock` in its own transaction, stamped, noted in its history (`note`) and notified. An item escalated for an
    earlier due date (it was resubmitted or disputed since) is escalated again once its new one passes. Safe to
    run twice, late, or on two machines at once."""
    not_yet = Q(escalated_at__isnull=True) | Q(escalated_at__date__lte=F("due_on"))
    overdue = queryset.filter(not_yet, status__in=awaiting, due_on__lt=today)
    count = 0
    for pk in overdue.values_list("pk", flat=True):
        with transaction.atomic(durable=True):
            item = lock(pk)
            escalated_for_this_due_date = item.escalated_at is not None and (
                timezone.localdate(item.escalated_at) > item.due_on
            )
            if escalated_for_this_due_date or item.status not in awaiting or not item.due_on < today:
                continue
            item.escalated_at = timezone.now()
            item.save(update_fields=["escalated_at"])
            note(item, f"Review overdue since {item.due_on:%d %b %Y}: escalated.")
            notify(
                users=people_holding(Role.PROGRAM_MANAGER, program_id=item.program_id),
                subject=f"Review of {noun} {item.pk} is overdue",
                body=f"Due {item.due_on:%d %b %Y}.",
                link=link(item),
                kind=NotificationKind.ESCALATION,
            )
            count += 1
    return count
