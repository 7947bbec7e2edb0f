"""Fund requests: a partner location asks, before an activity runs, for the vendor's share of its costs out of a
market development budget (ADR 0016). Reviewed through the states every reviewed item shares; its money is
ledger money of the budget's allocation to the location (ADR 0015)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coopfunds.core.models import TimeStamped, status_constraint
from coopfunds.core.money import CurrencyField, MoneyField
from coopfunds.programs.models import ExpenseCategory
from coopfunds.review.models import TimelineEvent
from coopfunds.review.workflow import AWAITING_REVIEW, EDITABLE, ReviewStatus

# The states a fund request can be in: those of every reviewed item but disputes and expiry of drafts.
RequestStatus = ReviewStatus
S = RequestStatus
REQUEST_STATUSES = (
    S.EDITING,
    S.SUBMITTED,
    S.UNDER_REVIEW,
    S.ACTION_REQUIRED,
    S.APPROVED,
    S.REJECTED,
    S.WITHDRAWN,
)


class FundRequest(TimeStamped):
    budget = models.ForeignKey("funds.Budget", on_delete=models.PROTECT, related_name="requests")
    location = models.ForeignKey("accounts.Location", on_delete=models.PROTECT, related_name="fund_requests")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    allocation = models.ForeignKey(
        "funds.Allocation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
        help_text=_("Where its money is held once approved (the location's allocation of the budget)."),
    )
    activity_type = models.ForeignKey("programs.ActivityType", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    currency = CurrencyField()
    expected_leads = models.PositiveIntegerField(null=True, blank=True)
    expected_pipeline = MoneyField(null=True, blank=True, help_text=_("Expected opportunity value."))

    total_cost = MoneyField(default=0, help_text=_("The sum of its expense lines."))
    cost_share_percent = models.DecimalField(
        max_digits=5, decimal_places=2, help_text=_("The vendor's share of the costs, as the rules said when filed.")
    )
    requested = MoneyField(default=0, help_text=_("The vendor's share of the total cost, rounded once to the cent."))
    approved_amount = MoneyField(null=True, blank=True)
    reserved = MoneyField(default=0, help_text=_("Held in the allocation for it now."))
    returned = MoneyField(default=0, help_text=_("Given back to the allocation unclaimed."))
    claim_by = models.DateField(null=True, blank=True, help_text=_("The last day its money can be claimed."))
    # What the activity brought, as the partner reports it once it has started.
    reported_leads = models.PositiveIntegerField(null=True, blank=True)
    reported_opportunities = models.PositiveIntegerField(null=True, blank=True)
    reported_revenue = MoneyField(null=True, blank=True, help_text=_("Revenue won from the activity's leads."))
    results_reported_at = models.DateTimeField(null=True, blank=True)

    status = models.CharField(max_length=32, choices=RequestStatus.choices, default=S.EDITING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submissions = models.PositiveSmallIntegerField(default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    review_started_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text=_("When what it held was given back."))
    due_on = models.DateField(null=True, blank=True, help_text=_("Review due (business days from submission)."))
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in REQUEST_STATUSES]), name="fundrequest_status_valid"
            ),
            models.CheckConstraint(condition=Q(starts_on__lte=models.F("ends_on")), name="fundrequest_dates_ordered"),
            models.CheckConstraint(
                condition=Q(total_cost__gte=0, requested__gte=0, reserved__gte=0, returned__gte=0),
                name="fundrequest_money_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(cost_share_percent__gte=0, cost_share_percent__lte=100),
                name="fundrequest_share_percent",
            ),
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True)
                | Q(approved_amount__gt=0, approved_amount__lte=models.F("requested")),
                name="fundrequest_approved_within_requested",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_on", "id"],
                condition=Q(status__in=sorted(s.value for s in AWAITING_REVIEW)),
                name="fundrequest_review_queue_idx",
            ),
            models.Index(
                fields=["claim_by"], condition=Q(status="approved", reserved__gt=0), name="fundrequest_held_idx"
            ),
            models.Index(fields=["location", "status"], name="fundrequest_location_idx"),
        ]

    def __str__(self) -> str:
        return f"Fund request {self.pk}: {self.name}"

    @property
    def reference(self) -> str:
        return f"fundrequest:{self.pk}"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE


class ExpenseLine(models.Model):
    """One expected cost of the activity."""

    request = models.ForeignKey(FundRequest, on_delete=models.CASCADE, related_name="lines")
    category = models.CharField(max_length=32, choices=ExpenseCategory.choices)
    description = models.CharField(max_length=200)
    amount = MoneyField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="expenseline_amount_positive"),
            status_constraint("category", ExpenseCategory, "expenseline_category_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.amount}"


class RequestEvent(TimelineEvent):
    """The request's history. Internal notes are seen by vendor staff only."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Changed")
        STATUS = "status", _("Status")
        FEEDBACK = "feedback", _("Reviewer feedback")
        NOTE = "note", _("Internal note")
        MONEY = "money", _("Money")
        RESULTS = "results", _("Results")

    request = models.ForeignKey(FundRequest, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["request", "id"], name="requestevent_request_idx")]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind}"
