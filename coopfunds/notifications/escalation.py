"""Escalation of reviews past their due date, for every kind of item reviewed (claims, proofs, plans, customer
associations): one rule, so that each kind escalates the same way."""

from collections.abc import Callable
from datetime import date
from typing import Any

from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy, gettext_noop

from coopfunds.accounts.models import Role
from coopfunds.accounts.selectors import people_holding
from coopfunds.core.i18n import Said, day_lazy
from coopfunds.notifications.models import NotificationKind
from coopfunds.notifications.services import notify

# The subject for each kind of item, as a whole sentence to translate; another `noun` gets the general one.
SUBJECTS = {
    "claim": gettext_lazy("Review of claim {pk} is overdue"),
    "proof of execution": gettext_lazy("Review of proof of execution {pk} is overdue"),
    "plan": gettext_lazy("Review of plan {pk} is overdue"),
    "association": gettext_lazy("Review of association {pk} is overdue"),
    "fund request": gettext_lazy("Review of fund request {pk} is overdue"),
}


def _subject(noun: str | Promise, pk: int) -> Promise:
    """ "Review of claim 7 is overdue", written in each reader's language."""
    if isinstance(noun, str) and noun in SUBJECTS:
        return format_lazy(SUBJECTS[noun], pk=pk)
    return format_lazy(gettext_lazy("Review of {noun} {pk} is overdue"), noun=noun, pk=pk)


def escalate_overdue(
    queryset: models.QuerySet[Any],
    today: date,
    *,
    lock: Callable[[int], Any],
    note: Callable[[Any, str], object],
    noun: str | Promise,
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
            # the history, in each reader's language, the day written their way
            note(item, Said(gettext_noop("Review overdue since %(day)s: escalated."), day=item.due_on))
            notify(
                users=people_holding(Role.PROGRAM_MANAGER, program_id=item.program_id),
                subject=_subject(noun, item.pk),
                body=format_lazy(gettext_lazy("Due {day}."), day=day_lazy(item.due_on)),
                link=link(item),
                kind=NotificationKind.ESCALATION,
            )
            count += 1
    return count
