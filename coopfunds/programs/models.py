from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from coopfunds.core.models import TimeStamped, status_constraint
from coopfunds.core.money import CurrencyField, MoneyField, quantize


def default_upload_types() -> list[str]:
    return ["pdf", "png", "jpeg", "gif", "webp", "tiff", "docx", "xlsx", "pptx", "csv", "txt"]


class LateEarnings(models.TextChoices):
    REEVALUATE = "reevaluate", _("Re-evaluate the threshold on the period's new total")
    KEEP = "keep", _("Keep the outcome of the period's close")


class Program(TimeStamped):
    """A co-op program and every rule of it that DOMAIN.md calls configuration. Periods derive from these."""

    vendor = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="programs")
    code = models.SlugField(max_length=32, unique=True, help_text=_("Short code used in imports and the API."))
    name = models.CharField(max_length=200)
    currency = CurrencyField(help_text=_("Currency in which earnings and funds are kept."))
    is_active = models.BooleanField(default=True)

    # Time: fiscal years split into periods of `period_months`; co-op earned in one period is used in the next.
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    period_months = models.PositiveSmallIntegerField(
        default=6, help_text=_("Length of earning and usage periods, in months (must divide 12).")
    )
    claim_opens_month = models.PositiveSmallIntegerField(
        default=2, help_text=_("Claims open in this month of the usage period (1 = its first month).")
    )
    claim_opens_day = models.PositiveSmallIntegerField(
        default=16, validators=[MinValueValidator(1), MaxValueValidator(28)]
    )
    claim_closes_days_after_usage = models.PositiveSmallIntegerField(
        default=45, help_text=_("Claims close this many days after the usage period ends.")
    )

    # Money.
    rebate_percent = models.DecimalField(
        _("rebate share"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("60"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text=_("Share of earnings paid as rebate; the rest is co-op."),
    )
    coop_threshold = MoneyField(
        _("co-op threshold"),
        default=Decimal("1500"),
        help_text=_("Co-op below this for an earning period is converted to rebate."),
    )

    # Service levels (business days, on the holiday calendar below) and payment day.
    review_sla_business_days = models.PositiveSmallIntegerField(default=2)
    dispute_sla_business_days = models.PositiveSmallIntegerField(default=5)
    payment_sla_business_days = models.PositiveSmallIntegerField(default=45)
    payment_day = models.PositiveSmallIntegerField(default=15, validators=[MinValueValidator(1), MaxValueValidator(28)])
    holiday_country = models.CharField(
        max_length=2, blank=True, help_text=_("ISO country whose public holidays are business-day holidays.")
    )

    # Claims.
    dispute_window_days = models.PositiveSmallIntegerField(
        default=30, help_text=_("A rejected claim can be disputed for this many days after the rejection.")
    )
    draft_expiry_days = models.PositiveSmallIntegerField(
        default=90, help_text=_("A claim left in Editing this many days after its last change expires.")
    )
    draft_warning_days = models.PositiveSmallIntegerField(
        default=7, help_text=_("Warn this many days before a draft expires.")
    )
    partial_approval = models.BooleanField(default=False, help_text=_("Reviewers may approve less than was claimed."))
    upload_types = models.JSONField(
        default=default_upload_types,
        blank=True,
        help_text=_("File types accepted as proof (pdf, png, jpeg, docx, xlsx, ...)."),
    )
    max_upload_mb = models.PositiveSmallIntegerField(default=25, help_text=_("Largest file, in MB."))
    max_claim_upload_mb = models.PositiveSmallIntegerField(default=100, help_text=_("All files of one claim, in MB."))

    late_earnings = models.CharField(
        _("rule for late earnings"),
        max_length=16,
        choices=LateEarnings.choices,
        default=LateEarnings.REEVALUATE,
        help_text=_(
            "An earning line that arrives after its earning period closed: the period jobs re-apply the "
            "threshold to the period's new total (co-op converted to rebate becomes available once the total "
            "reaches the threshold, unless that rebate was paid), or keep the close's outcome."
        ),
    )

    # Reminders (`jobs`), in calendar days before the date.
    expiry_reminder_days = models.PositiveSmallIntegerField(
        default=30, help_text=_("Remind a location's admins this many days before its available co-op is forfeited.")
    )
    window_reminder_days = models.PositiveSmallIntegerField(
        default=14, help_text=_("Remind a location's admins this many days before a claiming window closes.")
    )

    # Market development funds: fund requests against budgets (coopfunds.mdf).
    request_cost_share_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=50,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("The vendor's share of a fund request's costs, unless its activity type says otherwise (%)."),
    )
    request_lead_days = models.PositiveSmallIntegerField(
        default=14, help_text=_("A fund request is submitted at least this many days before its activity starts.")
    )
    request_claim_days = models.PositiveSmallIntegerField(
        default=60,
        help_text=_("An approved request's money not claimed this many days after its activity ends is returned."),
    )

    rules_version = models.PositiveIntegerField(
        default=1, help_text=_("The number of the rules version these columns are (on `rules.as_of` copies: theirs).")
    )

    # Customer associations (coopfunds.associations).
    earnings_require_association = models.BooleanField(
        default=False,
        help_text=_(
            "An earning line that names a customer counts only if the location's association with that "
            "customer is in force."
        ),
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(fiscal_year_start_month__gte=1, fiscal_year_start_month__lte=12),
                name="program_fy_month_valid",
            ),
            models.CheckConstraint(
                condition=Q(period_months__in=[1, 2, 3, 4, 6, 12]), name="program_period_months_divides_year"
            ),
            models.CheckConstraint(condition=Q(claim_opens_month__gte=1), name="program_claim_month_positive"),
            models.CheckConstraint(
                condition=Q(claim_opens_month__lte=F("period_months")), name="program_claim_month_in_usage_period"
            ),
            models.CheckConstraint(
                condition=Q(claim_opens_day__gte=1, claim_opens_day__lte=28), name="program_claim_day_valid"
            ),
            models.CheckConstraint(
                condition=Q(rebate_percent__gte=0, rebate_percent__lte=100), name="program_rebate_percent_valid"
            ),
            models.CheckConstraint(condition=Q(coop_threshold__gte=0), name="program_threshold_non_negative"),
            models.CheckConstraint(
                condition=Q(payment_day__gte=1, payment_day__lte=28), name="program_payment_day_valid"
            ),
            status_constraint("late_earnings", LateEarnings, "program_late_earnings_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def coop_percent(self) -> Decimal:
        return Decimal(100) - self.rebate_percent


class RuleVersion(models.Model):
    """One version of a program's rules: every rule change writes the next one, in force from `effective_at` until
    the next version's. Computations read the version in force on the date that matters for them
    (`programs.rules.as_of`); the program's own columns are always the newest version (docs/adr/0010)."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="rule_versions")
    number = models.PositiveIntegerField()
    effective_at = models.DateTimeField()
    rules = models.JSONField(help_text=_("Every rule of the program as it was, by field name (amounts as text)."))
    changed = models.JSONField(default=list, blank=True, help_text=_("The rules this version changed."))
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["program", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["program", "number"], name="ruleversion_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="ruleversion_number_positive"),
        ]
        indexes = [models.Index(fields=["program", "effective_at"], name="ruleversion_program_at_idx")]

    def __str__(self) -> str:
        return f"{self.program.code} rules v{self.number} from {self.effective_at:%d %b %Y %H:%M}"

    @property
    def changed_words(self) -> str:
        names = {f.name: str(f.verbose_name) for f in Program._meta.fields}
        return ", ".join(names.get(n, n) for n in self.changed)


class Holiday(models.Model):
    """A non-business day of a program's calendar, on top of weekends and `holiday_country`'s holidays."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["program", "date"], name="holiday_unique_per_program")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class ActivityCategory(models.TextChoices):
    DEMAND_GENERATION = "demand_generation", _("Demand generation")
    MARKET_DEVELOPMENT = "market_development", _("Market development")
    PARTNER_SKILLING = "partner_skilling", _("Partner skilling")


class ExpenseCategory(models.TextChoices):
    """What a cost of an activity is for: the lines of a fund request (or a claim) say it, and an activity type
    names the categories it funds."""

    ADVERTISING = "advertising", _("Advertising and media")
    CONTENT = "content", _("Content and creative")
    EVENT = "event", _("Venue and event costs")
    CATERING = "catering", _("Catering")
    TRAVEL = "travel", _("Travel")
    PRINT = "print", _("Print and mailing")
    PROMOTIONAL = "promotional", _("Promotional items")
    AGENCY = "agency", _("Agency and contractor fees")
    STAFF = "staff", _("Partner staff time")
    OTHER = "other", _("Other costs")


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", _("Third-party invoice")
    CERTIFICATION_REPORT = "certification_report", _("Certification report")
    SCREENSHOT = "screenshot", _("Screenshot of the activity")
    LANDING_PAGE = "landing_page", _("Landing-page URL")
    FINAL_PIECE = "final_piece", _("Final piece")
    PROOF_OF_DISTRIBUTION = "proof_of_distribution", _("Proof of distribution")
    INVITATION_AGENDA = "invitation_agenda", _("Invitation and agenda")
    EVENT_PHOTOS = "event_photos", _("Event photos")
    ATTENDEE_LIST = "attendee_list", _("Attendee list")
    TRAVEL_RECEIPTS = "travel_receipts", _("Travel receipts")
    OTHER = "other", _("Other proof")


class ActivityType(TimeStamped):
    """One entry of a program's activity catalogue for one fiscal year."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="activity_types")
    fiscal_year = models.PositiveSmallIntegerField(
        help_text=_("The fiscal year, named by the year it ends in (FY27 = 2027).")
    )
    code = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=32, choices=ActivityCategory.choices)
    core_requirements = models.TextField(blank=True)
    metrics = models.JSONField(default=list, blank=True, help_text=_("Names of the metrics a claim must report."))
    eligible_expenses = models.TextField(blank=True)
    ineligible_expenses = models.TextField(blank=True)
    expense_categories = models.JSONField(
        default=list, blank=True, help_text="The expense categories it funds (none named: every category)."
    )
    cost_share_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("The vendor's share of a fund request's costs for it (empty: the program's)."),
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program", "fiscal_year", "category", "name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "fiscal_year", "code"], name="activitytype_unique_code"),
            models.CheckConstraint(
                condition=Q(fiscal_year__gte=2000, fiscal_year__lte=2100), name="activitytype_fiscal_year_valid"
            ),
            status_constraint("category", ActivityCategory, "activitytype_category_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (FY{self.fiscal_year % 100:02d})"


class DocumentRequirement(models.Model):
    activity_type = models.ForeignKey(ActivityType, on_delete=models.CASCADE, related_name="document_requirements")
    kind = models.CharField(max_length=32, choices=DocumentKind.choices)
    required = models.BooleanField(default=True)
    note = models.CharField(max_length=300, blank=True, help_text=_("What the document must show."))

    class Meta:
        ordering = ["-required", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["activity_type", "kind"], name="docrequirement_unique_kind"),
            status_constraint("kind", DocumentKind, "docrequirement_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({'required' if self.required else 'optional'})"


def _english() -> bool:
    return (translation.get_language() or "en").startswith("en")


def _figures(amount: Decimal) -> str:
    """An amount without its currency: "2,500.00" in English (as always), "2 500,00" in Swedish."""
    return f"{amount:,}" if _english() else number_format(amount, use_l10n=True, force_grouping=True)


def percent_in_words(percent: Decimal) -> str:
    """ "12.5%" in English, "12,5 %" in Swedish."""
    figures = f"{percent.normalize():f}"
    return f"{figures}%" if _english() else f"{number_format(Decimal(figures))}\u00a0%"


class CapKind(models.TextChoices):
    PERIOD_AMOUNT = "period_amount", _("Fixed amount per usage period")
    PERIOD_PERCENT = "period_percent", _("Percentage of earned co-op per usage period")
    PER_PERSON = "per_person", _("Amount per person per event")
    PER_EVENT_ATTENDEES = "per_event_attendees", _("Attendees per event")
    PER_EVENT = "per_event", _("Amount per event")


class CurrentCaps(models.Manager["Cap"]):
    """The caps in force now (`activity_type.caps` uses it too); `Cap.versions` also holds the retired ones."""

    def get_queryset(self) -> models.QuerySet["Cap"]:
        return super().get_queryset().filter(retired_at__isnull=True)


class Cap(models.Model):
    """A spending limit on an activity type. Three shapes: a fixed amount per period, a percentage of the
    co-op earned for the period (optionally never below a floor amount: "the greater of"), and per-person
    or per-event limits (an amount, and for attendees a count).

    Caps are versioned like the program's rules: a change retires the caps in force (`retired_at`) and writes
    their successors (`effective_at`); a claim is held to the caps in force when it was submitted
    (`programs.rules.caps_as_of`)."""

    Kind = CapKind

    activity_type = models.ForeignKey(ActivityType, on_delete=models.CASCADE, related_name="caps")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    amount = MoneyField(null=True, blank=True, help_text=_("The amount (or, with a percentage, the floor)."))
    percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    count = models.PositiveIntegerField(null=True, blank=True)
    expense = models.CharField(max_length=100, blank=True, help_text=_("The expense it limits, e.g. travel."))
    exempt = models.BooleanField(default=False, help_text=_("The program waives this cap."))
    effective_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = CurrentCaps()
    versions: "models.Manager[Cap]" = models.Manager()

    class Meta:
        ordering = ["id"]
        base_manager_name = "versions"
        constraints = [
            status_constraint("kind", CapKind, "cap_kind_valid"),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind__in=["period_amount", "per_person", "per_event"],
                        amount__gt=0,
                        percent__isnull=True,
                        count__isnull=True,
                    )
                    | Q(kind="period_percent", percent__gt=0, percent__lte=100, count__isnull=True)
                    | Q(kind="per_event_attendees", count__gt=0, amount__isnull=True, percent__isnull=True)
                ),
                name="cap_fields_match_kind",
            ),
        ]

    def __str__(self) -> str:
        """The cap in words, in the active language ("2,500.00 per period (travel)")."""
        amount = _figures(self.amount) if self.amount is not None else ""
        percent = percent_in_words(self.percent) if self.percent is not None else ""
        expense = self.expense
        match self.kind:
            case self.Kind.PERIOD_PERCENT if self.amount:
                return gettext("the greater of %(percent)s of earned co-op and %(amount)s per period") % {
                    "percent": percent,
                    "amount": amount,
                }
            case self.Kind.PERIOD_PERCENT:
                return gettext("%(percent)s of earned co-op per period") % {"percent": percent}
            case self.Kind.PER_EVENT_ATTENDEES:
                return gettext("%(count)s attendees per event") % {"count": self.count}
            case self.Kind.PER_PERSON if expense:
                return gettext("%(amount)s per person per event (%(expense)s)") % {"amount": amount, "expense": expense}
            case self.Kind.PER_PERSON:
                return gettext("%(amount)s per person per event") % {"amount": amount}
            case self.Kind.PER_EVENT if expense:
                return gettext("%(amount)s per event (%(expense)s)") % {"amount": amount, "expense": expense}
            case self.Kind.PER_EVENT:
                return gettext("%(amount)s per event") % {"amount": amount}
            case _ if expense:
                return gettext("%(amount)s per period (%(expense)s)") % {"amount": amount, "expense": expense}
            case _:
                return gettext("%(amount)s per period") % {"amount": amount}

    def period_limit(self, earned: Decimal) -> Decimal | None:
        """What the cap allows per usage period for a fund that earned `earned` (None: not a per-period cap, or
        waived by the program)."""
        if self.exempt:
            return None
        if self.kind == CapKind.PERIOD_AMOUNT:
            return self.amount
        if self.kind == CapKind.PERIOD_PERCENT and self.percent is not None:
            limit = quantize(earned * self.percent / 100)
            return max(limit, self.amount) if self.amount else limit
        return None


class ExchangeRate(models.Model):
    """One month's rate: 1 `source` = `rate` `target`. The table is monthly: a payment uses the rate of
    its run's month (each payment line records it with its month), and a claim's invoice in another currency is
    converted with the rate of the invoice's month before it is compared with the claim."""

    month = models.DateField(help_text=_("The first day of the month the rate applies to."))
    source = CurrencyField()
    target = CurrencyField()
    rate = models.DecimalField(max_digits=18, decimal_places=8)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-month", "source", "target"]
        constraints = [
            models.UniqueConstraint(fields=["month", "source", "target"], name="exchangerate_unique_month_pair"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchangerate_positive"),
            models.CheckConstraint(condition=~Q(source=models.F("target")), name="exchangerate_two_currencies"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} 1 {self.source} = {self.rate.normalize():f} {self.target}"
