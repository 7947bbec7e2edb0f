"""Reminders and escalations about funds, sent by the daily jobs, each once per occasion (`notifications.remind_once`):

- co-op about to be forfeited: a fund's available money, `expiry_reminder_days` before its usage period ends;
- a claiming window closing: `window_reminder_days` before the claims of a fund with co-op close;
- approved money not paid by its deadline: `payment_sla_business_days` business days after the approval (the
  rules in force on the day of the approval), to finance and the program managers.

Location admins get the first two (their incentives admins for the program); the days are the program's rules of
today, the day each reminder is about."""

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy, ngettext_lazy

from coopfunds.accounts.models import Role, User
from coopfunds.accounts.selectors import people_holding
from coopfunds.audit.services import audit_record
from coopfunds.core.i18n import day_lazy, money_lazy
from coopfunds.funds.models import Account, Bucket, Entry, Fund, TransferKind
from coopfunds.notifications.models import NotificationKind
from coopfunds.notifications.services import remind_once
from coopfunds.programs import periods, rules
from coopfunds.programs.models import Program


def _admins(fund: Fund) -> list[User]:
    return people_holding(Role.INCENTIVES_ADMIN, program_id=fund.program_id, location_id=fund.location_id)


def _link(fund: Fund) -> str:
    return f"/funds/{fund.pk}/"


def funds_remind_expiry(*, program: Program, today: date) -> int:
    """Remind location admins, once per fund, that its available co-op is forfeited after its usage period."""
    if not program.expiry_reminder_days:
        return 0
    last_day = today + timedelta(days=program.expiry_reminder_days)
    candidates = Account.objects.filter(
        fund__program=program,
        fund__closed_at__isnull=False,
        fund__usage_end__gte=today,
        fund__usage_end__lte=last_day,
        bucket=Bucket.AVAILABLE,
        balance__gt=0,
    ).select_related("fund__location", "fund__program")
    sent = 0
    for account in candidates:
        fund = account.fund
        assert fund is not None
        with transaction.atomic(durable=True):
            reminded = remind_once(
                key=f"fund-expiry:{fund.pk}:{fund.usage_end}",
                users=_admins(fund),
                subject=format_lazy(
                    gettext_lazy("{amount} of co-op is forfeited after {day}"),
                    amount=money_lazy(account.balance, fund.currency),
                    day=day_lazy(fund.usage_end),
                ),
                body=format_lazy(
                    gettext_lazy(
                        "{location} has {amount} of {label} co-op available. What is not claimed by the end of "
                        "{day} is forfeited."
                    ),
                    location=str(fund.location),
                    amount=money_lazy(account.balance, fund.currency),
                    label=fund.label,
                    day=day_lazy(fund.usage_end),
                ),
                link=_link(fund),
            )
            if reminded:  # on the record, and so an event for webhooks (fund_expiring)
                audit_record(
                    actor=None,
                    verb="fund.expiring",
                    target=fund,
                    changes={"available": (None, str(account.balance)), "forfeited_after": (None, str(fund.usage_end))},
                    organisation_id=fund.location.organisation_id,
                )
            sent += reminded
    return sent


def funds_remind_window(*, program: Program, today: date) -> int:
    """Remind location admins, once per fund with co-op, that its claiming window closes soon."""
    if not program.window_reminder_days:
        return 0
    last_day = today + timedelta(days=program.window_reminder_days)
    funds = (
        Fund.objects.filter(
            program=program,
            closed_at__isnull=False,
            converted_to_rebate=False,
            claim_opens__lte=today,
            claim_closes__gte=today,
            claim_closes__lte=last_day,
            earned__gt=0,
        )
        .select_related("location")
        .order_by("pk")
    )
    sent = 0
    for fund in funds:
        with transaction.atomic(durable=True):
            sent += remind_once(
                key=f"fund-window:{fund.pk}:{fund.claim_closes}",
                users=_admins(fund),
                subject=format_lazy(
                    gettext_lazy("Claims for {label} close on {day}"),
                    label=fund.label,
                    day=day_lazy(fund.claim_closes),
                ),
                body=format_lazy(
                    gettext_lazy(
                        "{location}: claims for activities of {label} (executed by {executed}) must be submitted "
                        "by {day}; after that they cannot be paid from this fund."
                    ),
                    location=str(fund.location),
                    label=fund.label,
                    executed=day_lazy(fund.usage_end),
                    day=day_lazy(fund.claim_closes),
                ),
                link=_link(fund),
            )
    return sent


def payments_escalate_late(*, program: Program, today: date) -> int:
    """Tell finance and the program managers, once per approval, about approved money still not paid after the
    payment deadline that was in force on the day it was approved."""
    book = rules.RuleBook(program)
    sent = 0
    for account in Account.objects.filter(fund__program=program, bucket=Bucket.PAYABLE, balance__gt=0).select_related(
        "fund__location"
    ):
        fund = account.fund
        assert fund is not None
        # a payment run pays a fund's whole payable balance: what waits was approved after the last payment
        paid_until = Entry.objects.filter(account=account, transfer__kind=TransferKind.PAY).aggregate(
            last=Max("transfer_id")
        )["last"]
        approvals = Entry.objects.filter(account=account, transfer__kind=TransferKind.APPROVE, amount__gt=0)
        if paid_until is not None:
            approvals = approvals.filter(transfer_id__gt=paid_until)
        oldest = approvals.select_related("transfer").order_by("transfer_id").first()
        if oldest is None:
            continue
        approved_on = timezone.localdate(oldest.transfer.created_at)
        ruled = book.on(oldest.transfer.created_at)
        deadline = periods.add_business_days(ruled, approved_on, ruled.payment_sla_business_days)
        if today <= deadline:
            continue
        with transaction.atomic(durable=True):
            sent += remind_once(
                key=f"payment-late:{fund.pk}:{oldest.transfer_id}",
                users=_finance_and_managers(program),
                subject=format_lazy(
                    gettext_lazy("Payment overdue: {location} {label}, due {day}"),
                    location=str(fund.location),
                    label=fund.label,
                    day=day_lazy(deadline),
                ),
                body=format_lazy(
                    ngettext_lazy(
                        "{amount} approved for {location} ({label}) is not paid; the oldest of it was approved on "
                        "{approved} and was due by {day} ({n} business day).",
                        "{amount} approved for {location} ({label}) is not paid; the oldest of it was approved on "
                        "{approved} and was due by {day} ({n} business days).",
                        ruled.payment_sla_business_days,
                    ),
                    amount=money_lazy(account.balance, fund.currency),
                    location=str(fund.location),
                    label=fund.label,
                    approved=day_lazy(approved_on),
                    day=day_lazy(deadline),
                    n=ruled.payment_sla_business_days,
                ),
                link=_link(fund),
                kind=NotificationKind.ESCALATION,
            )
    return sent


def _finance_and_managers(program: Program) -> list[User]:
    people = {u.pk: u for u in people_holding(Role.FINANCE, program_id=program.pk)}
    people.update({u.pk: u for u in people_holding(Role.PROGRAM_MANAGER, program_id=program.pk)})
    return list(people.values())


def run_reminders(today: date | None = None) -> dict[str, int]:
    """Every fund reminder and payment escalation due today, for every active program."""
    today = today or timezone.localdate()
    counts = {"expiry": 0, "window": 0, "payment_late": 0}
    for program in Program.objects.filter(is_active=True):
        counts["expiry"] += funds_remind_expiry(program=program, today=today)
        counts["window"] += funds_remind_window(program=program, today=today)
        counts["payment_late"] += payments_escalate_late(program=program, today=today)
    return counts
