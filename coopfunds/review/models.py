"""What every reviewed item (a claim, a proof of execution) is made of: an abstract model, so that each keeps its
own table and adds what is its own (its fund, activity, dates, metrics)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from coopfunds.core.i18n import written
from coopfunds.core.models import TimeStamped
from coopfunds.core.money import CurrencyField, MoneyField
from coopfunds.programs import rules
from coopfunds.review.workflow import EDITABLE, ReviewStatus


class ReviewedItem(TimeStamped):
    name = models.CharField(max_length=200)
    currency = CurrencyField()
    # The third-party invoice (or, for in-house work, the certification report's total).
    invoice_vendor = models.CharField(max_length=200, blank=True)
    invoice_number = models.CharField(max_length=64, blank=True)
    invoice_date = models.DateField(null=True, blank=True)
    invoice_amount = MoneyField(null=True, blank=True)
    invoice_currency = models.CharField(max_length=3, blank=True)
    # Normalised vendor + number: the same invoice is never used twice while an item on it is active.
    invoice_key = models.CharField(max_length=300, blank=True, db_index=True)

    status = models.CharField(max_length=32, choices=ReviewStatus.choices, default=ReviewStatus.EDITING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Above the reviewer's approval limit, a second reviewer must approve after this one."),
    )
    submissions = models.PositiveSmallIntegerField(default=0)
    reserved = MoneyField(default=0, help_text=_("Held in the fund for it right now (its spend record's held)."))
    approved_amount = MoneyField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    review_started_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True, help_text=_("When the overdue review was escalated."))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{str(self._meta.verbose_name).capitalize()} {self.pk}: {self.name}"

    @property
    def reference(self) -> str:
        """How the ledger and the spend record name it: "claim:42", "proof:7"."""
        return f"{self._meta.model_name}:{self.pk}"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE

    @property
    def rules_version(self) -> int | None:
        """The number of the program rules version it is held to: the one in force at its submission (its caps;
        once decided, its dispute window is the decision's). One query; for its page."""
        if self.submitted_at is None:
            return None
        program = self.program  # type: ignore[attr-defined]  # claims and proofs both name their program
        version = rules.version_at(program, self.submitted_at)
        return version.number if version else program.rules_version


class TimelineEvent(models.Model):
    """One line of a reviewed item's history: who did what, the status it moved between, what was said.
    Internal notes are for vendor staff only (the selectors decide). Each item's table adds its `kind` choices
    and what the event belongs to."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    message = models.TextField(blank=True)
    said = models.JSONField(
        default=dict, blank=True, help_text="What the product said, to be written in each reader's language (Said)."
    )
    internal = models.BooleanField(default=False)
    old_status = models.CharField(max_length=32, blank=True)
    new_status = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    @property
    def text(self) -> str:
        """The message in the reader's language (the stored `message` is English)."""
        return written(self.said, self.message)
