"""Writes for enrollments and payout/tax profiles. One function per use case, each its own durable transaction.

Every transition re-reads its row under lock, checks the actor's permission, then the transition table in
models.py, then the business rules; writes one audit row; schedules email after commit. A profile change
re-evaluates the location's accepted, not-yet-enrolled enrollments (Action required <-> Reviewing).
Locks are taken in one order: location, profile, enrollments.
"""

from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.functional import Promise, lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from coopfunds.accounts.models import Location, User
from coopfunds.audit.services import audit_record
from coopfunds.core.errors import Conflict
from coopfunds.core.notify import email_after_commit
from coopfunds.documents.filetypes import FileType
from coopfunds.documents.inspection import Inspected, UploadPolicy, inspect_upload
from coopfunds.enrollments import permissions, selectors
from coopfunds.enrollments.bank import clean_bank_details
from coopfunds.enrollments.models import (
    AWAITING_REQUIREMENTS,
    ENDED,
    Enrollment,
    EnrollmentStatus,
    PayoutProfile,
    ProfileStatus,
    TaxProfile,
)
from coopfunds.enrollments.requirements import (
    current_payout_profile,
    current_tax_profile,
    earnings_start_for,
    evaluate,
    missing_requirements,
)
from coopfunds.programs.models import Program

Profile = PayoutProfile | TaxProfile

# A tax registration certificate goes through the documents' intake like every other upload: type from the
# content, active content and hidden web pages refused, nothing stored on refusal.
TAX_DOCUMENT_POLICY = UploadPolicy(
    allowed=frozenset({FileType.PDF, FileType.PNG, FileType.JPEG}),
    max_file_bytes=10 * 1024 * 1024,
    max_total_bytes=10 * 1024 * 1024,
)


# --- building blocks (called inside a service's transaction) ---------------------------------------------


def _label(status: str) -> str:
    """The status's name, in the active language."""
    return str(EnrollmentStatus(status).label)


def _long_day(day: date) -> str:
    """ "01 December 2026" in English (as the emails always said it); another language's own long date."""
    if (translation.get_language() or "en").startswith("en"):
        return f"{day:%d %B %Y}"
    return date_format(day, "DATE_FORMAT")


long_day_lazy = lazy(_long_day, str)

# A profile's kind in the audit rows' words (data: never translated).
_AUDIT_NOUN = {"payout_profile": "payout profile", "tax_profile": "tax profile"}


def _lock_enrollment(enrollment: Enrollment) -> Enrollment:
    return (
        Enrollment.objects.select_for_update(of=("self",)).select_related("location", "program").get(pk=enrollment.pk)
    )


def _lock_location(location: Location) -> Location:
    """Serialises every profile change of one location (and the re-evaluation that follows it)."""
    return Location.objects.select_for_update().get(pk=location.pk)


def _move(enrollment: Enrollment, status: str, *, reason: str) -> dict[str, tuple[Any, Any]]:
    """Change the status (checked against the transition table), stamp the time, return the audit changes."""
    if not enrollment.can_move_to(status):
        raise Conflict(
            _("An enrollment that is %(status)s cannot become %(new)s.")
            % {"status": _label(enrollment.status), "new": _label(status)},
            code="invalid_transition",
        )
    changes: dict[str, tuple[Any, Any]] = {"status": (enrollment.status, status)}
    if reason != enrollment.status_reason:
        changes["status_reason"] = (enrollment.status_reason, reason)
    enrollment.status, enrollment.status_reason = status, reason
    now = timezone.now()
    if status == EnrollmentStatus.REVIEWING:
        enrollment.review_started_at = now
    elif status == EnrollmentStatus.ENROLLED:
        enrollment.enrolled_at = now
    if status in ENDED:
        enrollment.ended_at = now
    return changes


def _link(enrollment: Enrollment) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("enrollment_detail", args=[enrollment.pk])


def _email_admins(location: Location, program: Program | None, *, subject: str | Promise, body: str | Promise) -> None:
    """Email the location's incentives admins, each in their own language (a lazy `subject` and `body` are
    written once per language)."""
    for language, to in selectors.incentives_admin_emails_by_language(location, program).items():
        with translation.override(language):
            email_after_commit(to=to, subject=str(subject), body=str(body))


def _reevaluate(location: Location, *, actor: User | None, cause: str) -> list[Enrollment]:
    """Move the location's accepted, not-yet-enrolled enrollments to where their requirements put them."""
    evaluation = evaluate(location)
    changed = []
    awaiting = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("location", "program")
        .filter(location=location, status__in=AWAITING_REQUIREMENTS)
        .order_by("pk")
    )
    for enrollment in awaiting:
        if (enrollment.status, enrollment.status_reason) == (evaluation.status, evaluation.reason):
            continue
        if enrollment.status == evaluation.status:
            changes: dict[str, tuple[Any, Any]] = {"status_reason": (enrollment.status_reason, evaluation.reason)}
            enrollment.status_reason = evaluation.reason
        else:
            changes = _move(enrollment, evaluation.status, reason=evaluation.reason)
        enrollment.save()
        audit_record(
            actor=actor,
            verb="enrollment.reevaluate",
            target=enrollment,
            changes=changes,
            reason=cause,
            organisation_id=location.organisation_id,
        )
        changed.append(enrollment)
    return changed


# --- enrollments ---------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def enrollment_invite(*, location: Location, program: Program, actor: User) -> Enrollment:
    """A program manager invites a location to a program; its incentives admins get an email."""
    if not permissions.can_invite(actor, program):
        raise PermissionDenied(_("Only a program manager of this program can invite locations to it."))
    if not program.is_active:
        raise ValidationError(
            {"program": _("%(program)s is closed: it takes no new enrollments.") % {"program": program.name}}
        )
    existing = Enrollment.objects.filter(location=location, program=program).first()
    duplicate = ValidationError(
        {
            "location": (
                _("%(location)s already has an enrollment in %(program)s (%(status)s).")
                % {"location": location, "program": program.name, "status": existing.get_status_display()}
                if existing
                else _("%(location)s already has an enrollment in %(program)s.")
                % {"location": location, "program": program.name}
            )
        }
    )
    if existing is not None:
        raise duplicate
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(
                location=location, program=program, status=EnrollmentStatus.INVITED, invited_at=timezone.now()
            )
    except IntegrityError:  # a concurrent invite won; the unique constraint is the backstop
        raise duplicate from None
    audit_record(
        actor=actor,
        verb="enrollment.invite",
        target=enrollment,
        changes={"status": (None, EnrollmentStatus.INVITED)},
        organisation_id=location.organisation_id,
    )
    _email_admins(
        location,
        program,
        subject=format_lazy(
            gettext_lazy("{program}: {location} is invited to enroll"), program=program.name, location=location.name
        ),
        body=format_lazy(
            gettext_lazy(
                "{location} is invited to {program}.\n\n"
                "Accept the invitation and add your payout and tax profiles here:\n{link}\n"
            ),
            location=str(location),
            program=program.name,
            link=_link(enrollment),
        ),
    )
    return enrollment


@transaction.atomic(durable=True)
def enrollment_accept(*, enrollment: Enrollment, actor: User) -> Enrollment:
    """The location's incentives admin accepts: Reviewing if both profiles are in order, else Action required."""
    enrollment = _lock_enrollment(enrollment)
    if not permissions.can_accept_enrollment(actor, enrollment):
        raise PermissionDenied(_("Only an incentives admin of this location can accept the invitation."))
    if enrollment.status != EnrollmentStatus.INVITED:
        raise Conflict(
            _("This invitation has already been answered: the enrollment is %(status)s.")
            % {"status": enrollment.get_status_display()},
            code="invalid_transition",
        )
    evaluation = evaluate(enrollment.location)
    changes = _move(enrollment, evaluation.status, reason=evaluation.reason)
    enrollment.accepted_at = timezone.now()
    enrollment.save()
    audit_record(
        actor=actor,
        verb="enrollment.accept",
        target=enrollment,
        changes=changes,
        organisation_id=enrollment.location.organisation_id,
    )
    return enrollment


@transaction.atomic(durable=True)
def enrollment_approve(*, enrollment: Enrollment, actor: User) -> Enrollment:
    """A reviewer or program manager approves: Enrolled, earning from the first day of this month."""
    enrollment = _lock_enrollment(enrollment)
    if not permissions.can_approve_enrollment(actor, enrollment):
        raise PermissionDenied(_("Only a reviewer or program manager of this program can approve enrollments."))
    if enrollment.status != EnrollmentStatus.REVIEWING:
        raise Conflict(
            _("Only an enrollment under review can be approved; this one is %(status)s.")
            % {"status": enrollment.get_status_display()},
            code="invalid_transition",
        )
    location = enrollment.location
    missing = missing_requirements(
        current_payout_profile(location),
        current_tax_profile(location),
        today=timezone.localdate(),
        need_approval=True,
    )
    if missing:
        raise Conflict(
            _("It cannot be approved yet. %(missing)s") % {"missing": " ".join(missing)}, code="requirements_not_met"
        )
    changes = _move(enrollment, EnrollmentStatus.ENROLLED, reason="")
    assert enrollment.enrolled_at is not None
    enrollment.earnings_start = earnings_start_for(enrollment.enrolled_at)
    changes["earnings_start"] = (None, enrollment.earnings_start.isoformat())
    enrollment.save()
    audit_record(
        actor=actor,
        verb="enrollment.approve",
        target=enrollment,
        changes=changes,
        organisation_id=location.organisation_id,
    )
    _email_admins(
        location,
        enrollment.program,
        subject=format_lazy(
            gettext_lazy("{program}: {location} is enrolled"), program=enrollment.program.name, location=location.name
        ),
        body=format_lazy(
            gettext_lazy("{location} is enrolled in {program}. Earnings count from {day}.\n\n{link}\n"),
            location=str(location),
            program=enrollment.program.name,
            day=long_day_lazy(enrollment.earnings_start),
            link=_link(enrollment),
        ),
    )
    return enrollment


@transaction.atomic(durable=True)
def enrollment_set_status(*, enrollment: Enrollment, status: str, reason: str, actor: User) -> Enrollment:
    """A program manager ends an enrollment: Inactive, Ineligible or No longer supported, with a reason."""
    enrollment = _lock_enrollment(enrollment)
    if not permissions.can_set_enrollment_status(actor, enrollment):
        raise PermissionDenied(_("Only a program manager of this program can change an enrollment's status."))
    reason = (reason or "").strip()
    errors = {}
    if status not in ENDED:
        errors["status"] = _("Choose Inactive, Ineligible or No longer supported.")
    if not reason:
        errors["reason"] = _("Say why, in words the partner will understand.")
    if errors:
        raise ValidationError(errors)
    if enrollment.status == status:
        raise Conflict(
            _("The enrollment is already %(status)s.") % {"status": enrollment.get_status_display()},
            code="invalid_transition",
        )
    changes = _move(enrollment, status, reason=reason)
    enrollment.save()
    audit_record(
        actor=actor,
        verb="enrollment.set_status",
        target=enrollment,
        changes=changes,
        reason=reason,
        organisation_id=enrollment.location.organisation_id,
    )
    _email_admins(
        enrollment.location,
        enrollment.program,
        subject=format_lazy(
            gettext_lazy("{program}: {location} is now {status}"),
            program=enrollment.program.name,
            location=enrollment.location.name,
            status=EnrollmentStatus(status).label,
        ),
        body=format_lazy(
            gettext_lazy("{location} in {program} is now {status}.\n\nReason: {reason}\n\n{link}\n"),
            location=str(enrollment.location),
            program=str(enrollment.program),
            status=EnrollmentStatus(status).label,
            reason=reason,
            link=_link(enrollment),
        ),
    )
    return enrollment


@transaction.atomic(durable=True)
def enrollment_reactivate(*, enrollment: Enrollment, actor: User) -> Enrollment:
    """A program manager brings an ended enrollment back: through review again (or to Invited if the
    invitation was never accepted)."""
    enrollment = _lock_enrollment(enrollment)
    if not permissions.can_set_enrollment_status(actor, enrollment):
        raise PermissionDenied(_("Only a program manager of this program can reactivate an enrollment."))
    if enrollment.status not in ENDED:
        raise Conflict(
            _("Only an ended enrollment can be reactivated; this one is %(status)s.")
            % {"status": enrollment.get_status_display()},
            code="invalid_transition",
        )
    if enrollment.accepted_at is None:
        changes = _move(enrollment, EnrollmentStatus.INVITED, reason="")
    else:
        evaluation = evaluate(enrollment.location)
        changes = _move(enrollment, evaluation.status, reason=evaluation.reason)
    changes["ended_at"] = (enrollment.ended_at, None)
    enrollment.ended_at = None
    enrollment.save()
    audit_record(
        actor=actor,
        verb="enrollment.reactivate",
        target=enrollment,
        changes=changes,
        organisation_id=enrollment.location.organisation_id,
    )
    return enrollment


# --- payout and tax profiles ---------------------------------------------------------------------------


def _replace_current(model: type[PayoutProfile] | type[TaxProfile], location: Location) -> Profile | None:
    previous = model.objects.select_for_update().filter(location=location, is_current=True).first()
    if previous is not None:
        previous.is_current = False
        previous.save(update_fields=["is_current", "updated_at"])
    return previous


@transaction.atomic(durable=True)
def payout_profile_submit(
    *,
    location: Location,
    method: str,
    currency: str,
    beneficiary_name: str,
    bank_country: str,
    bank_name: str = "",
    iban: str = "",
    bic: str = "",
    account_number: str = "",
    routing_code: str = "",
    actor: User,
) -> PayoutProfile:
    """The location's incentives admin gives the bank account to pay. It replaces the current one (which is
    kept) and waits for validation."""
    if not permissions.can_manage_profiles(actor, location):
        raise PermissionDenied(_("Only an incentives admin of this location can change its payout profile."))
    details = clean_bank_details(
        method=method,
        currency=currency,
        beneficiary_name=beneficiary_name,
        bank_name=bank_name,
        bank_country=bank_country,
        iban=iban,
        bic=bic,
        account_number=account_number,
        routing_code=routing_code,
    )
    location = _lock_location(location)
    previous = _replace_current(PayoutProfile, location)
    profile = PayoutProfile.objects.create(
        location=location,
        is_current=True,
        status=ProfileStatus.PENDING,
        method=details.method,
        currency=details.currency,
        beneficiary_name=details.beneficiary_name,
        bank_name=details.bank_name,
        bank_country=details.bank_country,
        iban=details.iban,
        bic=details.bic,
        account_number=details.account_number,
        routing_code=details.routing_code,
        account_hint=details.account_hint,
        submitted_by=actor,
    )
    audit_record(
        actor=actor,
        verb="payout_profile.submit",
        target=profile,
        changes={
            "method": (None, details.method),
            "currency": (None, details.currency),
            "beneficiary_name": (None, details.beneficiary_name),
            "bank_country": (None, details.bank_country),
            "account": (None, profile.masked_account),
        },
        reason=f"Replaces payout profile #{previous.pk}." if previous else "",
        organisation_id=location.organisation_id,
    )
    _reevaluate(location, actor=actor, cause="A new payout profile was submitted.")
    return profile


def _clean_tax_profile(
    country: str, tax_id: str, legal_name: str, expires_on: date | None, document: UploadedFile | None
) -> tuple[str, str, str, Inspected | None]:
    errors: dict[str, str] = {}
    country = (country or "").strip().upper()
    tax_id = "".join((tax_id or "").split()).upper()
    legal_name = " ".join((legal_name or "").split())
    if country not in countries:
        errors["country"] = _("“%(code)s” is not a country code (ISO 3166, for example DE, US, IN).") % {
            "code": country
        }
    if not tax_id:
        errors["tax_id"] = _("Enter the tax ID as it appears on the registration certificate.")
    elif len(tax_id) > 40 or not all(c.isalnum() or c in "-./" for c in tax_id):
        errors["tax_id"] = _("A tax ID has at most 40 letters and digits (hyphens, dots and slashes are fine).")
    if not legal_name:
        errors["legal_name"] = _("Enter the legal name the tax registration is in.")
    elif len(legal_name) > 200:
        errors["legal_name"] = _("Keep the legal name under 200 characters.")
    if expires_on is None:
        errors["expires_on"] = _("Enter the date the tax registration expires.")
    elif expires_on <= timezone.localdate():
        errors["expires_on"] = _("The expiry date must be in the future: an expired registration cannot be used.")
    inspected = None
    if document is not None:
        try:
            inspected = inspect_upload(document, TAX_DOCUMENT_POLICY)
        except ValidationError as refused:
            errors["document"] = " ".join(refused.messages)
    if errors:
        raise ValidationError(errors)
    return country, tax_id, legal_name, inspected


@transaction.atomic(durable=True)
def tax_profile_submit(
    *,
    location: Location,
    country: str,
    tax_id: str,
    legal_name: str,
    expires_on: date | None,
    document: UploadedFile | None = None,
    actor: User,
) -> TaxProfile:
    """The location's incentives admin gives its tax registration. It replaces the current one (which is
    kept) and waits for validation."""
    if not permissions.can_manage_profiles(actor, location):
        raise PermissionDenied(_("Only an incentives admin of this location can change its tax profile."))
    country, tax_id, legal_name, inspected = _clean_tax_profile(country, tax_id, legal_name, expires_on, document)
    assert expires_on is not None
    location = _lock_location(location)
    previous = _replace_current(TaxProfile, location)
    profile = TaxProfile(
        location=location,
        is_current=True,
        status=ProfileStatus.PENDING,
        country=country,
        tax_id=tax_id,
        legal_name=legal_name,
        expires_on=expires_on,
        submitted_by=actor,
    )
    if document is not None and inspected is not None:
        profile.document.save(inspected.name, document, save=False)
        profile.document_scan_state = inspected.scan_state
    profile.save()
    audit_record(
        actor=actor,
        verb="tax_profile.submit",
        target=profile,
        changes={
            "country": (None, country),
            "tax_id": (None, tax_id),
            "legal_name": (None, legal_name),
            "expires_on": (None, expires_on.isoformat()),
            "document": (None, bool(profile.document)),
        },
        reason=f"Replaces tax profile #{previous.pk}." if previous else "",
        organisation_id=location.organisation_id,
    )
    _reevaluate(location, actor=actor, cause="A new tax profile was submitted.")
    return profile


def _lock_profile(profile: Profile) -> Profile:
    _lock_location(profile.location)
    return type(profile).objects.select_for_update(of=("self",)).select_related("location").get(pk=profile.pk)


def _validate(profile: Profile, status: str, actor: User) -> Profile:
    """Shared checks of approve and request-action; returns the locked row."""
    if not permissions.can_validate_profiles(actor):
        raise PermissionDenied(_("Only a reviewer or program manager validates payout and tax profiles."))
    profile = _lock_profile(profile)
    payout = isinstance(profile, PayoutProfile)
    if not profile.is_current:
        raise Conflict(
            _("This payout profile was replaced by a newer one; validate that one.")
            if payout
            else _("This tax profile was replaced by a newer one; validate that one."),
            code="not_current",
        )
    if not profile.can_move_to(status):
        words = {"status": profile.get_status_display(), "new": ProfileStatus(status).label}
        raise Conflict(
            (
                _("A payout profile that is %(status)s cannot become %(new)s; the partner must submit a new one.")
                if payout
                else _("A tax profile that is %(status)s cannot become %(new)s; the partner must submit a new one.")
            )
            % words,
            code="invalid_transition",
        )
    return profile


@transaction.atomic(durable=True)
def profile_approve(*, profile: Profile, actor: User) -> Profile:
    """A reviewer or program manager validates a payout or tax profile."""
    profile = _validate(profile, ProfileStatus.APPROVED, actor)
    if isinstance(profile, TaxProfile) and profile.is_expired(timezone.localdate()):
        raise Conflict(
            _("This tax profile has expired; request action so the partner submits a current one."), code="expired"
        )
    old = profile.status
    profile.status, profile.status_reason = ProfileStatus.APPROVED, ""
    profile.validated_by, profile.validated_at = actor, timezone.now()
    profile.save()
    audit_record(
        actor=actor,
        verb=f"{profile.kind}.approve",
        target=profile,
        changes={"status": (old, ProfileStatus.APPROVED)},
        organisation_id=profile.location.organisation_id,
    )
    _reevaluate(profile.location, actor=actor, cause=f"The {_AUDIT_NOUN[profile.kind]} was approved.")
    return profile


@transaction.atomic(durable=True)
def profile_request_action(*, profile: Profile, reason: str, actor: User) -> Profile:
    """A reviewer or program manager sends a profile back with what to fix; waiting enrollments follow."""
    reason = (reason or "").strip()
    profile = _validate(profile, ProfileStatus.ACTION_REQUIRED, actor)
    if not reason:
        raise ValidationError({"reason": _("Say what the partner must fix, in words they will understand.")})
    old = profile.status
    profile.status, profile.status_reason = ProfileStatus.ACTION_REQUIRED, reason
    profile.validated_by, profile.validated_at = actor, timezone.now()
    profile.save()
    audit_record(
        actor=actor,
        verb=f"{profile.kind}.request_action",
        target=profile,
        changes={"status": (old, ProfileStatus.ACTION_REQUIRED)},
        reason=reason,
        organisation_id=profile.location.organisation_id,
    )
    _reevaluate(profile.location, actor=actor, cause=f"The {_AUDIT_NOUN[profile.kind]} needs action: {reason}")
    location = profile.location
    payout = isinstance(profile, PayoutProfile)
    _email_admins(
        location,
        None,
        subject=format_lazy(
            gettext_lazy("{location}: your payout profile needs action")
            if payout
            else gettext_lazy("{location}: your tax profile needs action"),
            location=location.name,
        ),
        body=format_lazy(
            gettext_lazy(
                "A reviewer looked at the payout profile of {location} and asks you to fix this:\n\n"
                "{reason}\n\nSubmit a corrected profile in Coopfunds.\n"
            )
            if payout
            else gettext_lazy(
                "A reviewer looked at the tax profile of {location} and asks you to fix this:\n\n"
                "{reason}\n\nSubmit a corrected profile in Coopfunds.\n"
            ),
            location=str(location),
            reason=reason,
        ),
    )
    return profile
