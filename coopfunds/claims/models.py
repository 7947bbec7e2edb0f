"""Claims against earned co-op funds (DOMAIN.md, Flow B)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coopfunds.core.models import status_constraint
from coopfunds.core.money import MoneyField
from coopfunds.review.models import ReviewedItem, TimelineEvent
from coopfunds.review.workflow import ACTIVE, AWAITING_REVIEW, ReviewStatus

# A claim is reviewed through the states every reviewed item shares (coopfunds/review/workflow.py).
ClaimStatus = ReviewStatus
S = ClaimStatus


class Claim(ReviewedItem):
    location = models.ForeignKey("accounts.Location", on_delete=models.PROTECT, related_name="claims")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="claims")
    fund = models.ForeignKey("funds.Fund", on_delete=models.PROTECT, related_name="claims")
    activity_type = models.ForeignKey("programs.ActivityType", on_delete=models.PROTECT, related_name="claims")
    description = models.TextField(blank=True)
    execution_start = models.DateField(null=True, blank=True)
    execution_end = models.DateField(null=True, blank=True)
    amount = MoneyField(null=True, blank=True, help_text=_("Claimed, in the fund's currency."))
    invoice_vendor_tax_id = models.CharField(max_length=64, blank=True)
    attendees = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("People, for per-person and per-event caps.")
    )
    metrics = models.JSONField(default=dict, blank=True)
    comments = models.TextField(blank=True)

    due_on = models.DateField(
        null=True, blank=True, help_text=_("Review due (business days from submission or dispute).")
    )
    expires_on = models.DateField(
        null=True, blank=True, help_text=_("The last day the draft can be submitted; it expires after it.")
    )
    expiry_warned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            status_constraint("status", ClaimStatus, "claim_status_valid"),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gt=0), name="claim_amount_positive"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="claim_reserved_non_negative"),
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True)
                | Q(approved_amount__gt=0, approved_amount__lte=models.F("amount")),
                name="claim_approved_within_claimed",
            ),
            models.CheckConstraint(
                condition=Q(execution_start__isnull=True)
                | Q(execution_end__isnull=True)
                | Q(execution_start__lte=models.F("execution_end")),
                name="claim_execution_dates_ordered",
            ),
            models.UniqueConstraint(
                fields=["invoice_key"],
                condition=Q(status__in=sorted(s.value for s in ACTIVE)) & ~Q(invoice_key=""),
                name="claim_invoice_claimed_once",
            ),
        ]
        indexes = [
            # The reviewers' queue: claims waiting for a decision, oldest due first (a partial index stays small
            # however many decided claims accumulate).
            models.Index(
                fields=["due_on", "id"],
                condition=Q(status__in=sorted(s.value for s in AWAITING_REVIEW)),
                name="claim_review_queue_idx",
            ),
            models.Index(fields=["location", "status"], name="claim_location_idx"),
            models.Index(fields=["fund", "activity_type", "status"], name="claim_caps_idx"),
        ]


class ClaimDocument(models.Model):
    """A document attached to a claim. After submission documents are locked; a new version is a new row."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="attachments")
    document = models.ForeignKey("documents.Document", on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True, help_text=_("Taken off the claim (drafts only)."))

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["claim", "document"], name="claimdocument_unique")]

    def __str__(self) -> str:
        return f"{self.claim_id}:{self.document_id}"


class ReasonCode(models.Model):
    """A reviewer's structured reason (configurable per program; program empty: every program)."""

    program = models.ForeignKey("programs.Program", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    code = models.SlugField(max_length=64)
    label = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "code"], condition=Q(program__isnull=False), name="reason_unique_per_program"
            ),
            models.UniqueConstraint(fields=["code"], condition=Q(program__isnull=True), name="reason_unique_global"),
        ]

    def __str__(self) -> str:
        return self.label


class ClaimEvent(TimelineEvent):
    """The claim's history, shown as a timeline. Internal notes are seen by vendor staff only."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Changed")
        DOCUMENT = "document", _("Document")
        STATUS = "status", _("Status")
        COMMENT = "comment", _("Comment")
        FEEDBACK = "feedback", _("Reviewer feedback")
        NOTE = "note", _("Internal note")
        REQUEST = "request", _("Documents requested")

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["claim", "id"], name="claimevent_claim_idx")]

    def __str__(self) -> str:
        return f"{self.claim_id} {self.kind}"


class ClaimReason(models.Model):
    """A structured reason given with a decision, optionally pointing at one document or field."""

    event = models.ForeignKey(ClaimEvent, on_delete=models.PROTECT, related_name="reasons")
    code = models.ForeignKey(ReasonCode, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    document = models.ForeignKey(
        "documents.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    field = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.code.label


class ApprovalLimit(models.Model):
    """Above this amount a reviewer's approval needs a second reviewer's."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="approval_limits")
    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="+")
    amount = MoneyField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "program"], name="approvallimit_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="approvallimit_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ≤ {self.amount}"
