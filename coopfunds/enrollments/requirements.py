"""What a location still lacks before its enrollments can be reviewed, and when earnings start.

Reads only; the services decide what to do with the answer.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from coopfunds.accounts.models import Location
from coopfunds.core.i18n import day_lazy
from coopfunds.enrollments.models import EnrollmentStatus, PayoutProfile, ProfileStatus, TaxProfile


@dataclass(frozen=True)
class Evaluation:
    status: str
    reason: str


def current_payout_profile(location: Location | int) -> PayoutProfile | None:
    return PayoutProfile.objects.filter(location=location, is_current=True).first()


def current_tax_profile(location: Location | int) -> TaxProfile | None:
    return TaxProfile.objects.filter(location=location, is_current=True).first()


def missing_requirements(
    payout: PayoutProfile | None, tax: TaxProfile | None, *, today: date, need_approval: bool = False
) -> list[str]:
    """What is missing, in words for the partner (in the active language); empty when nothing is. With
    `need_approval`, profiles that are still pending validation count as missing too (the rule for approving an
    enrollment)."""
    missing = []
    if payout is None:
        missing.append(_("Add a payout profile (the bank account to pay)."))
    elif payout.status == ProfileStatus.ACTION_REQUIRED:
        missing.append(_("Your payout profile needs action: %(reason)s") % {"reason": payout.status_reason})
    elif need_approval and payout.status != ProfileStatus.APPROVED:
        missing.append(_("The payout profile has not been validated yet."))
    if tax is None:
        missing.append(_("Add a tax profile."))
    elif tax.is_expired(today):
        missing.append(
            _("Your tax profile expired on %(day)s: submit a current one.") % {"day": day_lazy(tax.expires_on)}
        )
    elif tax.status == ProfileStatus.ACTION_REQUIRED:
        missing.append(_("Your tax profile needs action: %(reason)s") % {"reason": tax.status_reason})
    elif need_approval and tax.status != ProfileStatus.APPROVED:
        missing.append(_("The tax profile has not been validated yet."))
    return missing


def evaluate(location: Location | int, *, today: date | None = None) -> Evaluation:
    """Action required (with what is missing) or Reviewing enrollment (nothing missing). The reason is stored on
    the enrollment and compared with the stored one, so it is written untranslated (as in the source), whoever's
    request evaluates it."""
    today = today or timezone.localdate()
    with translation.override(None):
        missing = missing_requirements(current_payout_profile(location), current_tax_profile(location), today=today)
    if missing:
        return Evaluation(EnrollmentStatus.ACTION_REQUIRED, " ".join(missing))
    return Evaluation(EnrollmentStatus.REVIEWING, "")


def earnings_start_for(met_at: datetime | date) -> date:
    """Earnings count from the first day of the month in which the location met every requirement."""
    day = timezone.localdate(met_at) if isinstance(met_at, datetime) else met_at
    return day.replace(day=1)
