"""Customer associations: a partner location claims to be the partner of record for a customer's workloads or
subscriptions (DOMAIN.md, "Customer associations"; docs/adr/0005-associations.md).

Exclusivity is the database's job: every workload or subscription an association claims is an
`AssociationItem` row, and partial unique constraints allow one holding row per (program, customer tenant,
workload) and per (program, subscription). A row holds while its association is approved (the customer's
consent window) or in force; the services set and clear `holds` in the same transaction as the status.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from coopfunds.core.i18n import written
from coopfunds.core.models import TimeStamped, status_constraint


class AssociationStatus(models.TextChoices):
    EDITING = "editing", pgettext_lazy("association", "Editing")
    SUBMITTED = "submitted", pgettext_lazy("association", "Submitted")
    UNDER_REVIEW = "under_review", pgettext_lazy("association", "Under review")
    ACTION_REQUIRED = "action_required", pgettext_lazy("association", "Partner action required")
    APPROVED = "approved", pgettext_lazy("association", "Approved: customer consent window")
    IN_FORCE = "in_force", pgettext_lazy("association", "In force")
    REJECTED = "rejected", pgettext_lazy("association", "Rejected")
    DISPUTED = "disputed", pgettext_lazy("association", "Disputed")


S = AssociationStatus
# Which status may follow which; one service per arrow checks it. Any live association can end as Rejected:
# the partner's own request, the reviewer's decision, the customer's decline or no partner response.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.EDITING: frozenset({S.SUBMITTED, S.REJECTED}),
    S.SUBMITTED: frozenset({S.UNDER_REVIEW, S.REJECTED}),
    S.UNDER_REVIEW: frozenset({S.APPROVED, S.ACTION_REQUIRED, S.REJECTED}),
    S.ACTION_REQUIRED: frozenset({S.SUBMITTED, S.REJECTED}),
    S.APPROVED: frozenset({S.IN_FORCE, S.REJECTED}),
    S.IN_FORCE: frozenset({S.REJECTED}),
    S.REJECTED: frozenset({S.DISPUTED}),
    S.DISPUTED: frozenset({S.APPROVED, S.ACTION_REQUIRED, S.REJECTED}),
}
EDITABLE = frozenset({S.EDITING, S.ACTION_REQUIRED})
AWAITING_REVIEW = frozenset({S.SUBMITTED, S.UNDER_REVIEW, S.DISPUTED})
# Claims a reviewer has not decided yet: they compete with each other for the same customer workload.
OPEN = AWAITING_REVIEW | {S.ACTION_REQUIRED}
# The statuses whose items hold their workloads and subscriptions exclusively.
HOLDING = frozenset({S.APPROVED, S.IN_FORCE})
LIVE = frozenset(set(S) - {S.REJECTED})


class RejectionReason(models.TextChoices):
    """The catalogue of rejection reasons. Reviewers choose among the first three; the others are given by
    the partner's own request, the customer's decline and the partner-action deadline."""

    INSUFFICIENT_PROOF = "insufficient_proof", _("Insufficient proof")
    ALREADY_ASSOCIATED = "already_associated", _("Already associated with another partner")
    CUSTOMER_MISMATCH = "customer_mismatch", _("Customer details do not match")
    PARTNER_REQUEST = "partner_request", _("Partner request")
    CUSTOMER_DECLINE = "customer_decline", _("Customer decline")
    NO_PARTNER_RESPONSE = "no_partner_response", _("No partner response")


REVIEWER_REASONS = (
    RejectionReason.INSUFFICIENT_PROOF,
    RejectionReason.ALREADY_ASSOCIATED,
    RejectionReason.CUSTOMER_MISMATCH,
)
NOT_DISPUTABLE = frozenset({RejectionReason.PARTNER_REQUEST})


class OptionKind(models.TextChoices):
    SOLUTION_AREA = "solution_area", _("Solution area")
    PARTNER_ROLE = "partner_role", _("Partner role")
    WORKLOAD = "workload", _("Workload")


class AssociationOption(models.Model):
    """Program configuration: one solution area, partner role or workload partners may choose from."""

    Kind = OptionKind

    program = models.ForeignKey("programs.Program", on_delete=models.CASCADE, related_name="association_options")
    kind = models.CharField(max_length=16, choices=OptionKind.choices)
    code = models.SlugField(max_length=64, help_text=_("Stored on associations; never changes."))
    label = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True, help_text=_("Inactive options are kept but cannot be chosen."))

    class Meta:
        ordering = ["kind", "label", "id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "kind", "code"], name="associationoption_unique_code"),
            status_constraint("kind", OptionKind, "associationoption_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.label


class AssociationPolicy(models.Model):
    """Program configuration: the association deadlines (the preset's values are the defaults)."""

    program = models.OneToOneField("programs.Program", on_delete=models.CASCADE, related_name="association_policy")
    partner_action_business_days = models.PositiveSmallIntegerField(
        default=5, help_text=_("Business days the partner has to answer a request for action before rejection.")
    )
    consent_days = models.PositiveSmallIntegerField(
        default=7, help_text=_("Days the customer has after approval to decline.")
    )
    dispute_days = models.PositiveSmallIntegerField(
        default=30, help_text=_("Days after a rejection during which the partner can dispute it.")
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(partner_action_business_days__gte=1, consent_days__gte=1, dispute_days__gte=1),
                name="associationpolicy_positive",
            )
        ]

    def __str__(self) -> str:
        return f"Association rules of {self.program_id}"


class Association(TimeStamped):
    Status = AssociationStatus

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="associations")
    location = models.ForeignKey("accounts.Location", on_delete=models.PROTECT, related_name="associations")
    customer_name = models.CharField(max_length=200)
    customer_tenant_id = models.CharField(_("customer tenant ID"), max_length=36, help_text=_("A GUID, lowercase."))
    customer_domain = models.CharField(max_length=253, help_text=_("Lowercase, IDNA (punycode) for other scripts."))
    solution_area = models.SlugField(max_length=64, blank=True)
    partner_role = models.SlugField(max_length=64, blank=True)
    customer_contact_name = models.CharField(max_length=200, blank=True)
    customer_contact_email = models.EmailField(blank=True, help_text=_("Receives the consent link on approval."))
    partner_contact_name = models.CharField(max_length=200, blank=True)
    partner_contact_email = models.EmailField(blank=True)
    proof = models.ForeignKey("documents.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    comments = models.TextField(blank=True)

    status = models.CharField(max_length=32, choices=AssociationStatus.choices, default=AssociationStatus.EDITING)
    rejection_reason = models.CharField(max_length=32, choices=RejectionReason.choices, blank=True)
    decision_note = models.TextField(blank=True, help_text=_("The reviewer's words with the last decision."))
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
    approved_on = models.DateField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True, help_text=_("Review due (business days from submission)."))
    escalated_at = models.DateTimeField(null=True, blank=True, help_text=_("When the overdue review was escalated."))
    action_due_on = models.DateField(null=True, blank=True, help_text=_("The partner must answer by this day."))
    consent_closes_on = models.DateField(null=True, blank=True, help_text=_("The customer may decline until then."))
    # SHA-256 of the consent link's random nonce; emptied when the link is used or the window ends.
    consent_nonce_hash = models.CharField(max_length=64, blank=True)
    consent_sent_at = models.DateTimeField(null=True, blank=True)
    consent_answer = models.CharField(max_length=16, blank=True, help_text=_("confirmed, declined or lapsed."))
    consent_answered_at = models.DateTimeField(null=True, blank=True)
    in_force_from = models.DateField(
        null=True, blank=True, help_text=_("Earnings on the customer count from this day.")
    )
    in_force_until = models.DateField(null=True, blank=True, help_text=_("…until the day before this one."))

    class Meta:
        ordering = ["-id"]
        constraints = [
            status_constraint("status", AssociationStatus, "association_status_valid"),
            models.CheckConstraint(
                condition=Q(rejection_reason="") | Q(rejection_reason__in=RejectionReason.values),
                name="association_reason_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""), name="association_rejected_has_reason"
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(consent_closes_on__isnull=False, approved_on__isnull=False),
                name="association_approved_has_window",
            ),
            models.CheckConstraint(
                condition=~Q(status="in_force") | Q(in_force_from__isnull=False),
                name="association_in_force_has_start",
            ),
            models.CheckConstraint(
                condition=~Q(status="action_required") | Q(action_due_on__isnull=False),
                name="association_action_has_deadline",
            ),
            models.CheckConstraint(
                condition=Q(in_force_until__isnull=True) | Q(in_force_from__lte=F("in_force_until")),
                name="association_in_force_dates_ordered",
            ),
            models.UniqueConstraint(
                fields=["consent_nonce_hash"], condition=~Q(consent_nonce_hash=""), name="association_nonce_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_on", "id"], name="association_queue_idx"),
            models.Index(fields=["location", "status"], name="association_location_idx"),
            models.Index(fields=["program", "customer_tenant_id"], name="association_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"Association {self.pk}: {self.customer_name} ({self.customer_domain})"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def is_holding(self) -> bool:
        return self.status in HOLDING


class ItemKind(models.TextChoices):
    WORKLOAD = "workload", _("Workload")
    SUBSCRIPTION = "subscription", _("Subscription")


class AssociationItem(models.Model):
    """One workload (of the customer's tenant) or one subscription an association claims. `program` and
    `customer_tenant_id` repeat the association's so that the exclusivity constraints can name them."""

    Kind = ItemKind

    association = models.ForeignKey(Association, on_delete=models.CASCADE, related_name="items")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    customer_tenant_id = models.CharField(max_length=36)
    kind = models.CharField(max_length=16, choices=ItemKind.choices)
    value = models.CharField(max_length=64, help_text=_("The workload's code, or the subscription ID (a GUID)."))
    holds = models.BooleanField(default=False, help_text=_("The association is approved or in force."))

    class Meta:
        ordering = ["kind", "value", "id"]
        constraints = [
            status_constraint("kind", ItemKind, "associationitem_kind_valid"),
            models.UniqueConstraint(fields=["association", "kind", "value"], name="associationitem_unique"),
            models.UniqueConstraint(
                fields=["program", "customer_tenant_id", "value"],
                condition=Q(holds=True, kind="workload"),
                name="association_workload_exclusive",
            ),
            models.UniqueConstraint(
                fields=["program", "value"],
                condition=Q(holds=True, kind="subscription"),
                name="association_subscription_exclusive",
            ),
        ]
        indexes = [models.Index(fields=["program", "kind", "value"], name="associationitem_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"


class AssociationEvent(models.Model):
    """The association's history, shown as a timeline. Internal notes are seen by vendor staff only."""

    class Kind(models.TextChoices):
        CREATED = "created", pgettext_lazy("association event", "Created")
        UPDATED = "updated", pgettext_lazy("association event", "Changed")
        PROOF = "proof", pgettext_lazy("association event", "Proof")
        STATUS = "status", pgettext_lazy("association event", "Status")
        COMMENT = "comment", pgettext_lazy("association event", "Comment")
        NOTE = "note", pgettext_lazy("association event", "Internal note")
        CONSENT = "consent", pgettext_lazy("association event", "Customer")

    association = models.ForeignKey(Association, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    message = models.TextField(blank=True)
    said = models.JSONField(
        default=dict, blank=True, help_text="What the product said, to be written in each reader's language (Said)."
    )
    internal = models.BooleanField(default=False)
    old_status = models.CharField(max_length=32, blank=True)
    new_status = models.CharField(max_length=32, blank=True)
    reason = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["association", "id"], name="associationevent_idx")]

    def __str__(self) -> str:
        return f"{self.association_id} {self.kind}"

    @property
    def text(self) -> str:
        """The message in the reader's language (the stored `message` is English)."""
        return written(self.said, self.message)

    @property
    def who(self) -> str:
        if self.kind == self.Kind.CONSENT:
            return gettext("Customer contact")
        return self.actor.get_full_name() if self.actor is not None else "Coopfunds"
