from datetime import date

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField

from coopfunds.core.crypto import EncryptedTextField
from coopfunds.core.i18n import sentences_written
from coopfunds.core.models import TimeStamped, status_constraint
from coopfunds.core.money import CurrencyField
from coopfunds.documents.malware import ScanState


class EnrollmentStatus(models.TextChoices):
    INVITED = "invited", pgettext_lazy("enrollment status", "Invited")
    ACTION_REQUIRED = "action_required", pgettext_lazy("enrollment status", "Action required")
    REVIEWING = "reviewing", pgettext_lazy("enrollment status", "Reviewing enrollment")
    ENROLLED = "enrolled", pgettext_lazy("enrollment status", "Enrolled")
    INACTIVE = "inactive", pgettext_lazy("enrollment status", "Inactive")
    INELIGIBLE = "ineligible", pgettext_lazy("enrollment status", "Ineligible")
    NO_LONGER_SUPPORTED = "no_longer_supported", pgettext_lazy("enrollment status", "No longer supported")


ENDED = frozenset({EnrollmentStatus.INACTIVE, EnrollmentStatus.INELIGIBLE, EnrollmentStatus.NO_LONGER_SUPPORTED})

# The enrollment workflow: from each status, the statuses a service may move it to. Every transition
# service checks this table. Ended enrollments come back through review (or to Invited if never accepted).
TRANSITIONS: dict[str, frozenset[str]] = {
    EnrollmentStatus.INVITED: frozenset({EnrollmentStatus.ACTION_REQUIRED, EnrollmentStatus.REVIEWING}) | ENDED,
    EnrollmentStatus.ACTION_REQUIRED: frozenset({EnrollmentStatus.REVIEWING}) | ENDED,
    EnrollmentStatus.REVIEWING: frozenset({EnrollmentStatus.ENROLLED, EnrollmentStatus.ACTION_REQUIRED}) | ENDED,
    EnrollmentStatus.ENROLLED: ENDED,
    **{
        ended: (
            frozenset({EnrollmentStatus.INVITED, EnrollmentStatus.ACTION_REQUIRED, EnrollmentStatus.REVIEWING})
            | (ENDED - {ended})
        )
        for ended in ENDED
    },
}

# Enrollments that were accepted but are not enrolled yet: a profile change re-evaluates them.
AWAITING_REQUIREMENTS = frozenset({EnrollmentStatus.ACTION_REQUIRED, EnrollmentStatus.REVIEWING})


class Enrollment(TimeStamped):
    """A location's enrollment in a program."""

    Status = EnrollmentStatus

    location = models.ForeignKey("accounts.Location", on_delete=models.PROTECT, related_name="enrollments")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="enrollments")
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.INVITED)
    status_reason = models.TextField(blank=True, help_text=_("Why it is in this status, in words for the partner."))
    invited_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    review_started_at = models.DateTimeField(null=True, blank=True)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The first day of the month in which the location met every requirement: earnings count from here.
    earnings_start = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["program", "location"]
        constraints = [
            models.UniqueConstraint(fields=["location", "program"], name="enrollment_unique_location_program"),
            status_constraint("status", EnrollmentStatus, "enrollment_status_valid"),
            models.CheckConstraint(
                condition=~Q(status="enrolled") | Q(earnings_start__isnull=False, enrolled_at__isnull=False),
                name="enrollment_enrolled_has_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.location} in {self.program}"

    def can_move_to(self, status: str) -> bool:
        return status in TRANSITIONS[self.status]

    @property
    def is_ended(self) -> bool:
        return self.status in ENDED

    @property
    def reason_text(self) -> str:
        """The status reason in the reader's language: stored in English (`requirements.evaluate`), one of the
        product's sentences per requirement missing, or a program manager's own words."""
        return sentences_written(self.status_reason)


class ProfileStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("profile status", "Pending validation")
    APPROVED = "approved", pgettext_lazy("profile status", "Approved")
    ACTION_REQUIRED = "action_required", pgettext_lazy("profile status", "Action required")


# The profile workflow. Action required is final for that profile: the partner submits a new one.
PROFILE_TRANSITIONS: dict[str, frozenset[str]] = {
    ProfileStatus.PENDING: frozenset({ProfileStatus.APPROVED, ProfileStatus.ACTION_REQUIRED}),
    ProfileStatus.APPROVED: frozenset({ProfileStatus.ACTION_REQUIRED}),
    ProfileStatus.ACTION_REQUIRED: frozenset(),
}


class PayoutMethod(models.TextChoices):
    SEPA = "sepa", _("SEPA credit transfer (IBAN)")
    WIRE = "wire", _("International wire (SWIFT)")
    LOCAL = "local", _("Local bank transfer (account number)")


class PayoutProfile(TimeStamped):
    """Where a location's money goes. Never deleted: a change is a new profile that replaces the current one."""

    Method = PayoutMethod

    location = models.ForeignKey("accounts.Location", on_delete=models.PROTECT, related_name="payout_profiles")
    is_current = models.BooleanField(default=True)
    status = models.CharField(max_length=32, choices=ProfileStatus.choices, default=ProfileStatus.PENDING)
    status_reason = models.TextField(blank=True)
    method = models.CharField(max_length=16, choices=Method.choices)
    currency = CurrencyField()
    beneficiary_name = models.CharField(max_length=140)
    bank_name = models.CharField(max_length=140, blank=True)
    bank_country = CountryField()
    # Secrets, encrypted at rest. `account_hint` (last four characters) is what everyone else sees.
    iban = EncryptedTextField(blank=True)
    bic = EncryptedTextField(blank=True)
    account_number = EncryptedTextField(blank=True)
    routing_code = EncryptedTextField(blank=True)
    account_hint = models.CharField(max_length=8)
    submitted_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    validated_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    validated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            status_constraint("status", ProfileStatus, "payoutprofile_status_valid"),
            status_constraint("method", PayoutMethod, "payoutprofile_method_valid"),
            models.UniqueConstraint(
                fields=["location"], condition=Q(is_current=True), name="payoutprofile_one_current_per_location"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.masked_account} ({self.currency})"

    kind = "payout_profile"
    label = _("Payout profile")

    @property
    def masked_account(self) -> str:
        """'•••• 3000': the last four characters only (`account_hint` already holds no more than those)."""
        return f"•••• {self.account_hint}" if self.account_hint else "••••"

    def can_move_to(self, status: str) -> bool:
        return status in PROFILE_TRANSITIONS[self.status]


class TaxProfile(TimeStamped):
    """A location's tax registration. Never deleted: a change is a new profile that replaces the current one."""

    location = models.ForeignKey("accounts.Location", on_delete=models.PROTECT, related_name="tax_profiles")
    is_current = models.BooleanField(default=True)
    status = models.CharField(max_length=32, choices=ProfileStatus.choices, default=ProfileStatus.PENDING)
    status_reason = models.TextField(blank=True)
    country = CountryField()
    tax_id = models.CharField(_("tax ID"), max_length=40)
    legal_name = models.CharField(max_length=200)
    expires_on = models.DateField()
    document = models.FileField(upload_to="tax-documents/%Y/%m/", blank=True)
    document_scan_state = models.CharField(
        max_length=12, choices=ScanState.choices, blank=True, help_text=_("The malware scan of the document, if any.")
    )
    submitted_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    validated_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    validated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            status_constraint("status", ProfileStatus, "taxprofile_status_valid"),
            models.UniqueConstraint(
                fields=["location"], condition=Q(is_current=True), name="taxprofile_one_current_per_location"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.tax_id}"

    kind = "tax_profile"
    label = _("Tax profile")

    def can_move_to(self, status: str) -> bool:
        return status in PROFILE_TRANSITIONS[self.status]

    def is_expired(self, today: date) -> bool:
        return self.expires_on < today
