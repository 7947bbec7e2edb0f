"""Money out (DOMAIN.md): paying entities, exchange rates, payment runs, payments and their lines, disputes.

A payment pays one location from one paying entity in its payout profile's currency; its lines say which
fund buckets (approved claims and proofs, plan payouts, rebate, converted co-op) it empties, each with the
exchange rate used. The ledger moves when a run is approved (payable -> paid) and back when the bank returns
the money (reversed, rejected, recouped): see services.py and docs/adr/0007-payments.md.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy, pgettext_lazy

from coopfunds.core.crypto import EncryptedTextField
from coopfunds.core.i18n import sentences_written
from coopfunds.core.models import TimeStamped, status_constraint
from coopfunds.core.money import CurrencyField, MoneyField

# The preset's tax-invoice rule (DOMAIN.md, issue 6): these countries invoice the vendor before being paid.
TAX_INVOICE_COUNTRIES = ["CN", "IN", "IT", "KR", "MX", "TW"]


def default_tax_invoice_countries() -> list[str]:
    return list(TAX_INVOICE_COUNTRIES)


class PayingEntity(TimeStamped):
    """A vendor legal entity that pays partners from its own bank account. Funds earned in programs of
    different entities are paid separately."""

    vendor = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="paying_entities")
    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=70, help_text=gettext_lazy("As the bank knows the account holder (at most 70)."))
    country = models.CharField(max_length=2)
    iban = EncryptedTextField(help_text=gettext_lazy("The account payments are sent from."))
    bic = EncryptedTextField(blank=True)
    run_day = models.PositiveSmallIntegerField(
        default=15, help_text=gettext_lazy("Day of the month payment runs are due.")
    )
    tax_invoice_countries = models.JSONField(
        default=default_tax_invoice_countries,
        blank=True,
        help_text=gettext_lazy("Partners in these countries send a tax invoice before they are paid."),
    )
    tax_invoice_max_digits = models.PositiveSmallIntegerField(default=16)
    tax_invoice_max_age_days = models.PositiveSmallIntegerField(default=180)
    programs = models.ManyToManyField("programs.Program", through="ProgramPayer", related_name="+")

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(run_day__gte=1, run_day__lte=28), name="payingentity_run_day_valid"),
            models.CheckConstraint(condition=Q(tax_invoice_max_digits__gte=1), name="payingentity_digits_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class ProgramPayer(models.Model):
    """Which entity pays a program's partners (one per program)."""

    program = models.OneToOneField("programs.Program", on_delete=models.PROTECT, related_name="payer")
    entity = models.ForeignKey(PayingEntity, on_delete=models.PROTECT, related_name="program_payers")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.program_id} paid by {self.entity_id}"


class RunStatus(models.TextChoices):
    PREPARED = "prepared", gettext_lazy("Prepared (waiting for a second approval)")
    APPROVED = "approved", pgettext_lazy("payment run", "Approved")
    EXPORTED = "exported", gettext_lazy("Exported to the bank")
    CANCELLED = "cancelled", pgettext_lazy("payment run", "Cancelled")


RUN_TRANSITIONS: dict[str, frozenset[str]] = {
    RunStatus.PREPARED: frozenset({RunStatus.APPROVED, RunStatus.CANCELLED}),
    RunStatus.APPROVED: frozenset({RunStatus.EXPORTED}),
    RunStatus.EXPORTED: frozenset(),
    RunStatus.CANCELLED: frozenset(),
}


class PaymentRun(TimeStamped):
    """Everything one entity pays on one date. Prepared by one finance user, approved by another (four eyes),
    then exported as bank files."""

    Status = RunStatus

    entity = models.ForeignKey(PayingEntity, on_delete=models.PROTECT, related_name="runs")
    run_date = models.DateField(help_text=gettext_lazy("The requested execution date of the transfers."))
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.PREPARED)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    exported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    exported_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=35, unique=True, help_text=gettext_lazy("The bank file's message ID."))

    class Meta:
        ordering = ["-run_date", "-id"]
        constraints = [
            status_constraint("status", RunStatus, "paymentrun_status_valid"),
            # One run in preparation per entity: a second would collect the same money.
            models.UniqueConstraint(
                fields=["entity"], condition=Q(status="prepared"), name="paymentrun_one_prepared_per_entity"
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("prepared_by")),
                name="paymentrun_four_eyes",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment run {self.pk} ({self.entity_id}, {self.run_date:%d %b %Y})"


class PaymentStatus(models.TextChoices):
    UNPROCESSED = "unprocessed", pgettext_lazy("payment", "Unprocessed")
    UPCOMING = "upcoming", pgettext_lazy("payment", "Upcoming")
    PENDING_TAX_INVOICE = "pending_tax_invoice", gettext_lazy("Pending tax invoice")
    TAX_INVOICE_REVIEW = "tax_invoice_review", gettext_lazy("Tax invoice under review")
    TAX_INVOICE_REJECTED = "tax_invoice_rejected", gettext_lazy("Tax invoice rejected")
    IN_PROGRESS = "in_progress", pgettext_lazy("payment", "In progress")
    SENT = "sent", pgettext_lazy("payment", "Sent")
    FAILED = "failed", pgettext_lazy("payment", "Failed")
    REPROCESSING = "reprocessing", pgettext_lazy("payment", "Reprocessing")
    REVERSED = "reversed", gettext_lazy("Reversed by the bank (sent again next cycle)")
    REJECTED = "rejected", gettext_lazy("Rejected by the bank")
    INCORRECT = "incorrect", gettext_lazy("Incorrect payment (being recouped)")
    RECOUPED = "recouped", pgettext_lazy("payment", "Recouped")


P = PaymentStatus
# Not paid yet: the payment's lines hold (earmark) payable money that no other payment may take.
OPEN = frozenset({P.UNPROCESSED, P.UPCOMING, P.PENDING_TAX_INVOICE, P.TAX_INVOICE_REVIEW, P.TAX_INVOICE_REJECTED})
TAX_INVOICE_WAIT = frozenset({P.PENDING_TAX_INVOICE, P.TAX_INVOICE_REVIEW, P.TAX_INVOICE_REJECTED})
# The ledger has moved the money to paid.
MOVED = frozenset({P.IN_PROGRESS, P.SENT, P.FAILED, P.REPROCESSING, P.INCORRECT})
# The bank gave the money back: payable again, paid by a next run.
RETURNED = frozenset({P.REVERSED, P.REJECTED, P.RECOUPED})

TRANSITIONS: dict[str, frozenset[str]] = {
    P.UNPROCESSED: frozenset({P.UPCOMING, P.PENDING_TAX_INVOICE}),
    P.UPCOMING: frozenset({P.IN_PROGRESS, P.UNPROCESSED}),
    P.PENDING_TAX_INVOICE: frozenset({P.TAX_INVOICE_REVIEW}),
    P.TAX_INVOICE_REVIEW: frozenset({P.UPCOMING, P.TAX_INVOICE_REJECTED}),
    P.TAX_INVOICE_REJECTED: frozenset({P.TAX_INVOICE_REVIEW}),
    P.IN_PROGRESS: frozenset({P.SENT, P.FAILED, P.REJECTED}),
    P.SENT: frozenset({P.REVERSED, P.INCORRECT}),
    P.FAILED: frozenset({P.REPROCESSING, P.REJECTED}),
    P.REPROCESSING: frozenset({P.IN_PROGRESS}),
    P.INCORRECT: frozenset({P.RECOUPED}),
    P.REVERSED: frozenset(),
    P.REJECTED: frozenset(),
    P.RECOUPED: frozenset(),
}


class Payment(TimeStamped):
    Status = PaymentStatus

    location = models.ForeignKey("accounts.Location", on_delete=models.PROTECT, related_name="payments")
    entity = models.ForeignKey(PayingEntity, on_delete=models.PROTECT, related_name="payments")
    run = models.ForeignKey(
        PaymentRun,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        help_text=gettext_lazy("The run that sends it (or last looked at it)."),
    )
    status = models.CharField(max_length=32, choices=PaymentStatus.choices, default=PaymentStatus.UNPROCESSED)
    hold_reason = models.TextField(
        blank=True, help_text=gettext_lazy("Why it is not paid yet, in words for the partner.")
    )
    payout_profile = models.ForeignKey(
        "enrollments.PayoutProfile", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    currency = CurrencyField(help_text=gettext_lazy("The payout profile's currency."))
    amount = MoneyField(default=0, help_text=gettext_lazy("In `currency`: the sum of the lines' converted amounts."))
    end_to_end_id = models.CharField(
        max_length=35, unique=True, help_text=gettext_lazy("Reference the bank carries along.")
    )
    # Tax invoice (countries that need one).
    tax_invoice_required = models.BooleanField(default=False)
    tax_invoice_number = models.CharField(max_length=32, blank=True)
    tax_invoice_date = models.DateField(null=True, blank=True)
    tax_invoice_document = models.ForeignKey(
        "documents.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tax_invoice_note = models.TextField(blank=True, help_text=gettext_lazy("Why finance rejected the invoice."))
    tax_invoice_submitted_at = models.DateTimeField(null=True, blank=True)
    tax_invoice_approved_at = models.DateTimeField(null=True, blank=True)
    # Stamps.
    sent_at = models.DateTimeField(null=True, blank=True)
    bank_reference = models.CharField(max_length=100, blank=True)
    status_note = models.TextField(blank=True, help_text=gettext_lazy("What finance said with the last bank status."))
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            status_constraint("status", PaymentStatus, "payment_status_valid"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_non_negative"),
            models.CheckConstraint(
                condition=~Q(status__in=sorted(s.value for s in TAX_INVOICE_WAIT)) | Q(tax_invoice_required=True),
                name="payment_tax_invoice_states_need_one",
            ),
        ]
        indexes = [
            models.Index(fields=["entity", "status"], name="payment_entity_status_idx"),
            models.Index(fields=["location", "-id"], name="payment_location_idx"),
        ]

    def __str__(self) -> str:
        return f"Payment {self.pk}"

    @property
    def reference(self) -> str:
        return f"payment:{self.pk}"

    @property
    def hold_text(self) -> str:
        """The hold reason in the reader's language (stored in English)."""
        return sentences_written(self.hold_reason)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


# What each bucket a payment empties is, in words (pages and the remittance advice).
WHAT = {
    "payable": gettext_lazy("Approved claims, proofs of execution and plan payouts"),
    "rebate": gettext_lazy("Rebate"),
    "converted": gettext_lazy("Co-op converted to rebate (below the threshold)"),
}


class PaymentLine(models.Model):
    """What a payment covers: money from one bucket of one fund, converted at the recorded rate."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="lines")
    fund = models.ForeignKey("funds.Fund", on_delete=models.PROTECT, related_name="+")
    bucket = models.CharField(max_length=16, help_text=gettext_lazy("payable, rebate or converted."))
    source_amount = MoneyField(help_text=gettext_lazy("In the fund's currency."))
    source_currency = CurrencyField()
    rate = models.DecimalField(
        max_digits=18, decimal_places=8, help_text=gettext_lazy("1 source = rate payout currency.")
    )
    rate_month = models.DateField(help_text=gettext_lazy("The month of the rate (first day)."))
    amount = MoneyField(help_text=gettext_lazy("In the payment's currency."))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "fund", "bucket"], name="paymentline_unique_bucket"),
            models.CheckConstraint(
                condition=Q(source_amount__gt=0, amount__gte=0, rate__gt=0), name="paymentline_positive"
            ),
            models.CheckConstraint(
                condition=Q(bucket__in=["converted", "payable", "rebate"]), name="paymentline_bucket_payable"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id}: {self.fund_id} {self.bucket} {self.source_amount}"

    @property
    def what(self) -> str:
        return str(WHAT.get(self.bucket, self.bucket))


class BankFileKind(models.TextChoices):
    PAIN001 = "pain001", gettext_lazy("ISO 20022 pain.001 credit transfers (XML)")
    CSV = "csv", "CSV"


class BankFile(models.Model):
    """A bank file of an exported run, kept as it was sent. Its content holds bank details, so it is stored
    encrypted and decrypted only to be downloaded by finance."""

    Kind = BankFileKind

    run = models.ForeignKey(PaymentRun, on_delete=models.PROTECT, related_name="bank_files")
    kind = models.CharField(max_length=16, choices=BankFileKind.choices)
    currency = models.CharField(
        max_length=3, blank=True, help_text=gettext_lazy("pain.001 files hold one currency each.")
    )
    file_name = models.CharField(max_length=100)
    content = EncryptedTextField()
    sha256 = models.CharField(max_length=64)
    transactions = models.PositiveIntegerField()
    total = MoneyField(help_text=gettext_lazy("Sum of the amounts (of every currency, for the CSV)."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            status_constraint("kind", BankFileKind, "bankfile_kind_valid"),
            models.UniqueConstraint(fields=["run", "kind", "currency"], name="bankfile_unique_per_run"),
        ]

    def __str__(self) -> str:
        return self.file_name


class DisputeStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("dispute", "Open")
    RESOLVED = "resolved", pgettext_lazy("dispute", "Resolved")


class PaymentDispute(TimeStamped):
    """An incentives admin's dispute of a payment (wrong amount, not received...); finance resolves it."""

    Status = DisputeStatus

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    status = models.CharField(max_length=16, choices=DisputeStatus.choices, default=DisputeStatus.OPEN)
    reason = models.TextField()
    evidence = models.ForeignKey(
        "documents.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    resolution = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            status_constraint("status", DisputeStatus, "paymentdispute_status_valid"),
            models.UniqueConstraint(fields=["payment"], condition=Q(status="open"), name="paymentdispute_one_open"),
            models.CheckConstraint(
                condition=Q(status="open") | (~Q(resolution="") & Q(resolved_at__isnull=False)),
                name="paymentdispute_resolved_has_resolution",
            ),
        ]

    def __str__(self) -> str:
        return f"Dispute {self.pk} of payment {self.payment_id}"
