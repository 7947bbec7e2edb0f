"""The co-op fund ledger: append-only, double-entry, idempotent. It knows nothing about plans or claims:
callers pass an idempotency key and a reference ("claim:42")."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coopfunds.core.i18n import written
from coopfunds.core.models import status_constraint
from coopfunds.core.money import CurrencyField, MoneyField


class Fund(models.Model):
    """The co-op a location earned in one program's earning period, to be used in the next (usage) period.
    Its dates are copied from the program's rules when it is opened, so later rule changes never move them."""

    location = models.ForeignKey("accounts.Location", on_delete=models.PROTECT, related_name="funds")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="funds")
    currency = CurrencyField()
    label = models.CharField(max_length=32, help_text=_("The usage period, e.g. FY27 H2."))
    earning_start = models.DateField()
    earning_end = models.DateField()
    usage_start = models.DateField()
    usage_end = models.DateField()
    claim_opens = models.DateField()
    claim_closes = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    # What the location earned into this fund, split (cached; `ledger_verify` recomputes them from entries).
    earned = MoneyField(default=0, help_text=_("Co-op part of the earnings."))
    earned_rebate = MoneyField(default=0, help_text=_("Rebate part of the earnings."))
    # The split's exact inputs: the earnings and their unrounded rebate share, in millionths of the currency unit
    # (cents times a percentage's hundredths: an integer, exact on every database); `earned` and `earned_rebate`
    # are their split rounded once (`services.fund_split`).
    earned_gross = MoneyField(default=0, help_text=_("Earnings, before the split."))
    rebate_share_micros = models.BigIntegerField(default=0)
    # Earning-period close: the threshold applied then, and whether the co-op became available or rebate.
    closed_at = models.DateTimeField(null=True, blank=True)
    threshold_applied = MoneyField(null=True, blank=True)
    converted_to_rebate = models.BooleanField(default=False)
    rules_version = models.PositiveIntegerField(null=True, blank=True, help_text=_("The program rules its close used."))
    forfeited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-usage_start", "location_id"]
        constraints = [
            models.UniqueConstraint(fields=["location", "program", "usage_start"], name="fund_unique_per_period"),
            models.CheckConstraint(
                condition=Q(earning_end__lt=models.F("usage_start")), name="fund_earning_before_usage"
            ),
            models.CheckConstraint(condition=Q(usage_start__lte=models.F("usage_end")), name="fund_usage_ordered"),
            models.CheckConstraint(condition=Q(earned__gte=0, earned_rebate__gte=0), name="fund_earned_non_negative"),
        ]
        indexes = [models.Index(fields=["program", "earning_end"], name="fund_program_earning_idx")]

    def __str__(self) -> str:
        return f"{self.location.partner_id} {self.program.code} {self.label}"


class Budget(models.Model):
    """Market development funds: money the vendor sets aside for one program and period (and, where it says so,
    for the locations of some countries), allocated to partner locations or kept as a pool. The ledger holds its
    money (`Account.budget`, `Account.allocation`); this row says what it is for."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="budgets")
    name = models.CharField(max_length=200)
    currency = CurrencyField()
    starts_on = models.DateField(help_text=_("The first day of the period its activities run in."))
    ends_on = models.DateField(help_text=_("The last day of that period."))
    countries = models.JSONField(
        default=list, blank=True, help_text="The region: ISO country codes of the locations it is for (none: all)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-starts_on", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="budget_unique_name"),
            models.CheckConstraint(condition=Q(starts_on__lte=models.F("ends_on")), name="budget_period_ordered"),
        ]

    def __str__(self) -> str:
        return self.name


class Allocation(models.Model):
    """The part of a budget set aside for one partner location."""

    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="allocations")
    location = models.ForeignKey("accounts.Location", on_delete=models.PROTECT, related_name="allocations")
    program = models.ForeignKey(
        "programs.Program", on_delete=models.PROTECT, related_name="+", help_text="The budget's (for scoping)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["budget_id", "location_id"]
        constraints = [models.UniqueConstraint(fields=["budget", "location"], name="allocation_unique_location")]

    def __str__(self) -> str:
        return f"{self.budget} · {self.location.partner_id}"


class Bucket(models.TextChoices):
    # Sources: where money enters or leaves the ledger. Their balance is the negative of what they gave;
    # it is never cached (so they are never a hot row), and may be negative.
    EARNINGS = "earnings", _("Earnings (source)")
    ADJUSTMENTS = "adjustments", _("Adjustments (source)")
    FUNDING = "funding", _("Vendor funding (source)")
    # A budget's: what is not allocated to a location (its pool).
    UNALLOCATED = "unallocated", _("Not allocated (pool)")
    # An allocation's: what the location has been given and not yet used (approved fund requests hold theirs
    # in the allocation's RESERVED bucket).
    ALLOCATED = "allocated", _("Allocated")
    # A fund's buckets. None of them can ever be negative.
    ACCRUED = "accrued", _("Co-op accruing (earning period open)")
    AVAILABLE = "available", _("Available")
    RESERVED = "reserved", _("Reserved by pending claims")
    PAYABLE = "payable", _("Approved, payable")
    PAID = "paid", _("Paid (co-op)")
    REBATE_PAID = "rebate_paid", _("Paid (rebate)")
    FORFEITED = "forfeited", _("Forfeited")
    CONVERTED = "converted", _("Converted to rebate (below threshold)")
    REBATE = "rebate", _("Rebate payable")


SOURCE_BUCKETS = frozenset({Bucket.EARNINGS, Bucket.ADJUSTMENTS, Bucket.FUNDING})
BUDGET_BUCKETS = (Bucket.UNALLOCATED,)
ALLOCATION_BUCKETS = (Bucket.ALLOCATED, Bucket.RESERVED)
FUND_BUCKETS = tuple(b for b in Bucket if b not in SOURCE_BUCKETS and b not in (Bucket.UNALLOCATED, Bucket.ALLOCATED))


class Account(models.Model):
    """One bucket of one fund, budget or allocation (or a program-wide source: none of them). `balance` caches
    the sum of its entries."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    fund = models.ForeignKey(Fund, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")
    budget = models.ForeignKey(Budget, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")
    allocation = models.ForeignKey(Allocation, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")
    bucket = models.CharField(max_length=16, choices=Bucket.choices)
    currency = CurrencyField()
    balance = MoneyField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            status_constraint("bucket", Bucket, "account_bucket_valid"),
            # a source belongs to no fund, budget or allocation; every other bucket to exactly its own kind of
            # owner, and never goes below zero
            models.CheckConstraint(
                condition=Q(
                    bucket__in=sorted(b.value for b in SOURCE_BUCKETS),
                    fund__isnull=True,
                    budget__isnull=True,
                    allocation__isnull=True,
                )
                | Q(
                    bucket__in=sorted(b.value for b in FUND_BUCKETS),
                    fund__isnull=False,
                    budget__isnull=True,
                    allocation__isnull=True,
                    balance__gte=0,
                )
                | Q(
                    bucket__in=sorted(b.value for b in BUDGET_BUCKETS),
                    fund__isnull=True,
                    budget__isnull=False,
                    allocation__isnull=True,
                    balance__gte=0,
                )
                | Q(
                    bucket__in=sorted(b.value for b in ALLOCATION_BUCKETS),
                    fund__isnull=True,
                    budget__isnull=True,
                    allocation__isnull=False,
                    balance__gte=0,
                ),
                name="account_owner_and_balance_valid",
            ),
            models.UniqueConstraint(
                fields=["fund", "bucket"], condition=Q(fund__isnull=False), name="account_unique_fund_bucket"
            ),
            models.UniqueConstraint(
                fields=["budget", "bucket"], condition=Q(budget__isnull=False), name="account_unique_budget_bucket"
            ),
            models.UniqueConstraint(
                fields=["allocation", "bucket"],
                condition=Q(allocation__isnull=False),
                name="account_unique_allocation_bucket",
            ),
            models.UniqueConstraint(
                fields=["program", "bucket", "currency"],
                condition=Q(fund__isnull=True, budget__isnull=True, allocation__isnull=True),
                name="account_unique_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.fund or self.budget or self.allocation or self.program.code}:{self.bucket}"


class TransferKind(models.TextChoices):
    ACCRUE = "accrue", _("Earned")
    CLOSE = "close", _("Earning period closed: co-op available")
    CONVERT = "convert", _("Converted to rebate")
    RESERVE = "reserve", _("Reserved")
    RELEASE = "release", _("Released")
    APPROVE = "approve", _("Approved")
    PAY = "pay", _("Paid")
    FORFEIT = "forfeit", _("Forfeited")
    ADJUST = "adjust", _("Adjusted")
    REVERSE = "reverse", _("Reversed")
    BUDGET = "budget", _("Budget set")
    ALLOCATE = "allocate", _("Allocated")
    REALLOCATE = "reallocate", _("Moved between allocations")


class Transfer(models.Model):
    """One balanced movement of money: its entries sum to zero. Never updated, never deleted."""

    idempotency_key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, help_text=_("Hash of the content; a retry must match it."))
    kind = models.CharField(max_length=16, choices=TransferKind.choices)
    reference = models.CharField(max_length=200, blank=True, help_text=_("What caused it, e.g. claim:42."))
    reason_code = models.CharField(max_length=32, blank=True)
    memo = models.TextField(blank=True)
    said = models.JSONField(
        null=True, blank=True, help_text="What the memo said, to be written in each reader's language (Said)."
    )
    # Not indexed: nothing looks transfers up by actor (the audit trail answers "who did what"), and every index
    # is paid on the hottest insert.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    effective_on = models.DateField(help_text=_("The business date (earned date, decision date)."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            status_constraint("kind", TransferKind, "transfer_kind_valid"),
            # a constraint, not unique=True: that would add a second (LIKE) index nothing uses
            models.UniqueConstraint(fields=["idempotency_key"], name="transfer_unique_key"),
        ]
        indexes = [models.Index(fields=["reference"], name="transfer_reference_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.idempotency_key}"

    @property
    def memo_text(self) -> str:
        """The memo in the reader's language (the stored `memo` is English, exports keep it)."""
        return written(self.said or {}, self.memo)


class Entry(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries", db_index=False
    )  # entry_account_idx
    amount = MoneyField()

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_non_zero")]
        indexes = [models.Index(fields=["account", "id"], name="entry_account_idx")]

    def __str__(self) -> str:
        return f"{self.account} {self.amount}"


class EarningImport(models.Model):
    """One uploaded file of earning lines. A file with any error changes nothing; its report is kept."""

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected (nothing changed)")

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices)
    rows = models.PositiveIntegerField(default=0)
    applied = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text=_("Lines already imported with the same content."))
    errors = models.JSONField(default=list, blank=True, help_text="[{row, column, message}]")
    total = MoneyField(default=0)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["applied", "rejected"]), name="earningimport_status_valid")
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class EarningLine(models.Model):
    """One earning, as the vendor's systems reported it. The (program, external line ID) pair is unique, so
    a line is never counted twice, whichever file it comes in."""

    # Imports write these rows by the hundred thousand, so each index and database-checked reference costs on
    # every line: program and location repeat the fund's (whose reference the database checks), and the
    # indexes below already lead with program and fund.
    batch = models.ForeignKey(EarningImport, on_delete=models.PROTECT, related_name="lines")
    program = models.ForeignKey(
        "programs.Program", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    location = models.ForeignKey(
        "accounts.Location", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="earning_lines", db_index=False)
    external_line_id = models.CharField(max_length=100)
    row_number = models.PositiveIntegerField()
    earned_on = models.DateField()
    amount = MoneyField()
    currency = CurrencyField()
    coop_amount = MoneyField()
    rebate_amount = MoneyField()
    earning_type = models.CharField(max_length=64, blank=True)
    product = models.CharField(max_length=200, blank=True)
    customer_reference = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "external_line_id"], name="earningline_unique_external_id"),
            models.CheckConstraint(
                condition=Q(coop_amount__gte=0, rebate_amount__gte=0), name="earningline_split_non_negative"
            ),
        ]
        indexes = [models.Index(fields=["fund", "earned_on"], name="earningline_fund_idx")]

    def __str__(self) -> str:
        return f"{self.external_line_id} {self.amount} {self.currency}"


class Spend(models.Model):
    """What one claim or proof of execution (its `reference`, e.g. "claim:42") holds or has had approved from
    one fund for one activity type: the one record that caps, plan limits and the checkers read. It is written by
    the services of `funds.spending`, in the same call that moves the money on the ledger, so it never disagrees
    with the transfers that carry the same reference. `within` names what else limits it ("plan:7"), if anything."""

    class State(models.TextChoices):
        HELD = "held", _("Held")
        APPROVED = "approved", _("Approved")
        RELEASED = "released", _("Released")

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="spends")
    activity_type = models.ForeignKey("programs.ActivityType", on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=200)
    within = models.CharField(max_length=200, blank=True, help_text=_("A limit it also counts against, e.g. plan:7."))
    held = MoneyField(default=0, help_text=_("Reserved in the fund for it now."))
    approved = MoneyField(default=0, help_text=_("Approved (made payable) so far."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "reference"], name="spend_unique_per_fund"),
            models.CheckConstraint(condition=Q(held__gte=0, approved__gte=0), name="spend_non_negative"),
        ]
        indexes = [
            models.Index(fields=["fund", "activity_type"], name="spend_caps_idx"),
            models.Index(fields=["within"], condition=~Q(within=""), name="spend_within_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.held}+{self.approved}"

    @property
    def state(self) -> str:
        if self.held:
            return self.State.HELD
        return self.State.APPROVED if self.approved else self.State.RELEASED
