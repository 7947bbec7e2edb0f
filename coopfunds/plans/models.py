"""Co-op plans and proof of execution (DOMAIN.md, Flow A). See docs/adr/0006-plan-limits.md.

A plan is one location's marketing plan for one program, fund type and program (fiscal) year. Its content
(campaigns holding activities) lives in numbered versions: each submission freezes one, a request for changes
or an amendment starts the next as a copy (campaigns and activities keep their `key` across versions, so two
versions can be compared). The approved version is in force, and its total is the plan's limit, until an
amended version is approved. Proof of execution (PoE) is filed per activity of the version in force and is
reviewed like a claim: the same states, reasons and ledger movements."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from coopfunds.core.models import TimeStamped, status_constraint
from coopfunds.core.money import CurrencyField, MoneyField
from coopfunds.review.models import ReviewedItem, TimelineEvent
from coopfunds.review.workflow import ACTIVE as PROOF_ACTIVE
from coopfunds.review.workflow import ReviewStatus

ProofStatus = ReviewStatus  # proof of execution is reviewed through the same states as a claim


class FundType(models.TextChoices):
    """The kind of money a plan spends. The ledger keeps co-op funds; a program adding another kind of fund
    adds it here."""

    COOP = "coop", _("Co-op")


class ExcessPolicy(models.TextChoices):
    CARRY = "carry", _("Carried: paid in a later month if the limit has room again")
    DROP = "drop", _("Dropped: given back to the fund")


class PlanSettings(models.Model):
    """A program's rules for plans. A program without a row uses the defaults (DOMAIN.md's values)."""

    program = models.OneToOneField("programs.Program", on_delete=models.CASCADE, related_name="plan_settings")
    resubmit_days = models.PositiveSmallIntegerField(
        default=90, help_text=_("After the program year ends, plans may be changed and resubmitted for this many days.")
    )
    proof_due_days = models.PositiveSmallIntegerField(
        default=180, help_text=_("Proof of execution is due this many days after its campaign starts.")
    )
    proof_warning_days = models.PositiveSmallIntegerField(
        default=30, help_text=_("Warn the partner this many days before proof of execution is due.")
    )
    excess = models.CharField(
        max_length=8,
        choices=ExcessPolicy.choices,
        default=ExcessPolicy.DROP,
        help_text=_("Approved proof above what is left of the plan's limit."),
    )

    class Meta:
        constraints = [
            status_constraint("excess", ExcessPolicy, "plansettings_excess_valid"),
            models.CheckConstraint(condition=Q(proof_due_days__gte=1), name="plansettings_proof_due_positive"),
            models.CheckConstraint(
                condition=Q(proof_warning_days__lt=F("proof_due_days")), name="plansettings_warning_before_due"
            ),
        ]

    def __str__(self) -> str:
        return f"Plan rules of program {self.program_id}"


class PlanStatus(models.TextChoices):
    EDITING = "editing", _("Editing")
    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under_review", _("Under review")
    ACTION_REQUIRED = "action_required", _("Action required")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


P = PlanStatus
# Which status may follow which; one service per arrow checks it. Approved (and Rejected, when an earlier
# version is in force) go back to Editing through an amendment.
PLAN_TRANSITIONS: dict[str, frozenset[str]] = {
    P.EDITING: frozenset({P.SUBMITTED}),
    P.SUBMITTED: frozenset({P.UNDER_REVIEW}),
    P.UNDER_REVIEW: frozenset({P.APPROVED, P.ACTION_REQUIRED, P.REJECTED}),
    P.ACTION_REQUIRED: frozenset({P.EDITING}),
    P.APPROVED: frozenset({P.EDITING}),
    P.REJECTED: frozenset({P.EDITING}),
}
PLAN_AWAITING_REVIEW = frozenset({P.SUBMITTED, P.UNDER_REVIEW})


class Plan(TimeStamped):
    location = models.ForeignKey("accounts.Location", on_delete=models.PROTECT, related_name="plans")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="plans")
    fund_type = models.CharField(max_length=16, choices=FundType.choices, default=FundType.COOP)
    fiscal_year = models.PositiveSmallIntegerField(help_text=_("The program year, named by the year it ends in."))
    name = models.CharField(max_length=200)
    currency = CurrencyField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The named vendor reviewer who decides the plan."),
    )
    status = models.CharField(max_length=32, choices=PlanStatus.choices, default=PlanStatus.EDITING)
    current = models.ForeignKey(
        "PlanVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The latest version."),
    )
    in_force = models.ForeignKey(
        "PlanVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The approved version whose total is the limit."),
    )
    approved_amount = MoneyField(default=0, help_text=_("The limit: the total of the version in force."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submissions = models.PositiveSmallIntegerField(default=0)
    first_submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    review_started_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True, help_text=_("Review due (business days from submission)."))
    escalated_at = models.DateTimeField(null=True, blank=True, help_text=_("When the overdue review was escalated."))

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "program", "fund_type", "fiscal_year"], name="plan_one_per_location_period"
            ),
            status_constraint("status", PlanStatus, "plan_status_valid"),
            status_constraint("fund_type", FundType, "plan_fund_type_valid"),
            models.CheckConstraint(condition=Q(approved_amount__gte=0), name="plan_limit_non_negative"),
            models.CheckConstraint(
                condition=Q(fiscal_year__gte=2000, fiscal_year__lte=2100), name="plan_fiscal_year_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(in_force__isnull=False), name="plan_approved_has_version"
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on", "id"], name="plan_queue_idx")]

    def __str__(self) -> str:
        return f"Plan {self.pk}: {self.name}"

    @property
    def reference(self) -> str:
        return f"plan:{self.pk}"

    @property
    def is_editable(self) -> bool:
        return self.status == PlanStatus.EDITING


class VersionOutcome(models.TextChoices):
    APPROVED = "approved", _("Approved")
    ACTION_REQUIRED = "action_required", _("Changes requested")
    REJECTED = "rejected", _("Rejected")


class PlanVersion(models.Model):
    """One version of a plan's content. Frozen once submitted; the next change is a new version."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    total = MoneyField(null=True, blank=True, help_text=_("The planned total when it was submitted."))
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=32, choices=VersionOutcome.choices, blank=True)

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="planversion_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="planversion_number_positive"),
            models.CheckConstraint(
                condition=Q(outcome="") | Q(outcome__in=VersionOutcome.values), name="planversion_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Plan {self.plan_id} version {self.number}"


class Campaign(models.Model):
    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="campaigns")
    key = models.UUIDField(default=uuid.uuid4, help_text=_("The same campaign in every version of the plan."))
    name = models.CharField(max_length=200)
    start = models.DateField()
    end = models.DateField()
    budget = MoneyField()
    description = models.TextField(blank=True)
    proof_warned_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the partner was warned that proof of execution is due soon.")
    )

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="campaign_unique_key_per_version"),
            models.CheckConstraint(condition=Q(start__lte=F("end")), name="campaign_dates_ordered"),
            models.CheckConstraint(condition=Q(budget__gt=0), name="campaign_budget_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class PlanActivity(models.Model):
    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="activities")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="activities")
    key = models.UUIDField(default=uuid.uuid4, help_text=_("The same activity in every version of the plan."))
    activity_type = models.ForeignKey("programs.ActivityType", on_delete=models.PROTECT, related_name="+")
    countries = models.JSONField(default=list, help_text=_("ISO 3166 codes of the countries it runs in."))
    planned_amount = MoneyField()
    description = models.TextField(blank=True)
    expected_reach = models.PositiveBigIntegerField(null=True, blank=True, help_text=_("People it should reach."))

    class Meta:
        ordering = ["campaign", "id"]
        verbose_name_plural = _("plan activities")
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="planactivity_unique_key_per_version"),
            models.CheckConstraint(condition=Q(planned_amount__gt=0), name="planactivity_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.activity_type.name} ({self.campaign.name})"


class Proof(ReviewedItem):
    """Proof of execution of one planned activity: reviewed like a claim, and when approved the money moves
    through the fund ledger like an approved claim's, within the plan's limit."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="proofs")
    activity = models.ForeignKey(PlanActivity, on_delete=models.PROTECT, related_name="proofs")
    location = models.ForeignKey("accounts.Location", on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    fund = models.ForeignKey(
        "funds.Fund",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The fund whose usage period holds the execution date (set when submitted)."),
    )
    execution_date = models.DateField(null=True, blank=True)
    amount = MoneyField(null=True, blank=True, help_text=_("Asked for, in the plan's currency."))
    estimated_impressions = models.PositiveBigIntegerField(null=True, blank=True, help_text=_("Estimated reach."))
    pre_approval_id = models.CharField(
        max_length=64, blank=True, help_text=_("The pre-approval ID of approved marketing material, if any.")
    )

    payable = MoneyField(default=0, help_text=_("Made payable so far, counted against the plan's limit."))
    carried = MoneyField(default=0, help_text=_("Approved above the limit, still held, paid when the limit has room."))
    due_on = models.DateField(null=True, blank=True, help_text=_("Review due: the end of the month after submission."))

    class Meta:
        ordering = ["-id"]
        constraints = [
            status_constraint("status", ProofStatus, "proof_status_valid"),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gt=0), name="proof_amount_positive"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0, payable__gte=0, carried__gte=0), name="proof_money_non_negative"
            ),
            models.CheckConstraint(condition=Q(carried__lte=F("reserved")), name="proof_carried_is_held"),
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True) | Q(approved_amount__gt=0, approved_amount__lte=F("amount")),
                name="proof_approved_within_asked",
            ),
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True, payable=0, carried=0)
                | Q(approved_amount__gte=F("payable") + F("carried")),
                name="proof_paid_within_approved",
            ),
            models.UniqueConstraint(
                fields=["invoice_key"],
                condition=Q(status__in=sorted(s.value for s in PROOF_ACTIVE)) & ~Q(invoice_key=""),
                name="proof_invoice_claimed_once",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_on", "id"], name="proof_queue_idx"),
            models.Index(fields=["fund", "status"], name="proof_fund_idx"),
        ]


class ProofDocument(models.Model):
    """A document attached to a proof. Locked once the proof is submitted; taking one off keeps the row."""

    proof = models.ForeignKey(Proof, on_delete=models.PROTECT, related_name="attachments")
    document = models.ForeignKey("documents.Document", on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["proof", "document"], name="proofdocument_unique")]

    def __str__(self) -> str:
        return f"{self.proof_id}:{self.document_id}"


class PlanEvent(TimelineEvent):
    """The history of a plan and its proofs of execution (a proof's events name it). Internal notes are
    for vendor staff only."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Changed")
        DOCUMENT = "document", _("Document")
        STATUS = "status", _("Status")
        COMMENT = "comment", _("Comment")
        FEEDBACK = "feedback", _("Reviewer feedback")
        NOTE = "note", _("Internal note")
        MONEY = "money", _("Money")
        REMINDER = "reminder", _("Reminder")

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="events")
    proof = models.ForeignKey(Proof, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    version = models.ForeignKey(PlanVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["plan", "id"], name="planevent_plan_idx"),
            models.Index(fields=["proof", "id"], name="planevent_proof_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.kind}"


class PlanReason(models.Model):
    """A reviewer's structured reason (the claims' reason catalogue), pointing at the plan as a whole, one of
    its campaigns or activities, or for a proof one of its documents or fields."""

    event = models.ForeignKey(PlanEvent, on_delete=models.PROTECT, related_name="reasons")
    code = models.ForeignKey("claims.ReasonCode", on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    activity = models.ForeignKey(PlanActivity, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    document = models.ForeignKey(
        "documents.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    field = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.code.label
