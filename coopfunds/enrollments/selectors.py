"""Reads for enrollments and profiles, scoped to what a user may see (outsiders get NotFound, never 403).

Vendor staff see every enrollment; partner users see their own organisation's enrollments for the locations
(and programs) their grants cover. Profiles are seen by whoever sees their location; bank details are masked
by the interfaces for everyone but the location's incentives admins (`permissions.can_see_bank_details`).
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from coopfunds.accounts.models import PARTNER_ROLES, Location, Role, RoleAssignment, User
from coopfunds.accounts.permissions import is_vendor_staff
from coopfunds.accounts.selectors import locations_visible_to
from coopfunds.audit.models import AuditEvent
from coopfunds.core.errors import NotFound
from coopfunds.enrollments import permissions
from coopfunds.enrollments.models import Enrollment, EnrollmentStatus, PayoutProfile, ProfileStatus, TaxProfile
from coopfunds.programs.models import Program

TAX_EXPIRY_WARNING_DAYS = 30
HOME_LIST_LIMIT = 10


def enrollments_visible_to(user: User) -> QuerySet[Enrollment]:
    qs = Enrollment.objects.select_related("location__organisation", "program")
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if is_vendor_staff(user):
        return qs
    covered = [
        Q(location_id=g.location_id) & (Q() if g.program_id is None else Q(program_id=g.program_id))
        for g in user.grants
        if g.role in PARTNER_ROLES and g.location_id is not None
    ]
    if not covered:
        return qs.none()
    scope = covered[0]
    for q in covered[1:]:
        scope |= q
    return qs.filter(scope, location__organisation_id=user.organisation_id)


def enrollment_for(user: User, pk: Any) -> Enrollment:
    try:
        return enrollments_visible_to(user).get(pk=pk)
    except (Enrollment.DoesNotExist, ValueError, TypeError):
        raise NotFound(gettext("No such enrollment.")) from None


def enrollment_history(enrollment: Enrollment) -> QuerySet[AuditEvent]:
    """What happened to the enrollment, newest first, from the audit table."""
    return AuditEvent.objects.filter(target_type=Enrollment._meta.label_lower, target_id=str(enrollment.pk))


def program_by_id(pk: Any) -> Program:
    """A program by id (vendor-side lookups such as inviting; partners never reach this)."""
    try:
        return Program.objects.get(pk=pk)
    except (Program.DoesNotExist, ValueError, TypeError):
        raise NotFound(gettext("No such program.")) from None


def programs_for_filter(user: User) -> QuerySet[Program]:
    """Programs to offer in a filter: every program for vendor staff, the enrolled-in ones for partners."""
    if is_vendor_staff(user):
        return Program.objects.all()
    return Program.objects.filter(pk__in=enrollments_visible_to(user).values("program_id"))


# --- profiles ------------------------------------------------------------------------------------------


def payout_profiles_of(location: Location) -> QuerySet[PayoutProfile]:
    """Every payout profile the location ever had, the current one first."""
    return PayoutProfile.objects.filter(location=location).select_related("location").order_by("-is_current", "-id")


def tax_profiles_of(location: Location) -> QuerySet[TaxProfile]:
    return TaxProfile.objects.filter(location=location).select_related("location").order_by("-is_current", "-id")


def payout_profile_for(user: User, pk: Any) -> PayoutProfile:
    try:
        return PayoutProfile.objects.select_related("location__organisation").get(
            pk=pk, location__in=locations_visible_to(user)
        )
    except (PayoutProfile.DoesNotExist, ValueError, TypeError):
        raise NotFound(gettext("No such payout profile.")) from None


def tax_profile_for(user: User, pk: Any) -> TaxProfile:
    try:
        return TaxProfile.objects.select_related("location__organisation").get(
            pk=pk, location__in=locations_visible_to(user)
        )
    except (TaxProfile.DoesNotExist, ValueError, TypeError):
        raise NotFound(gettext("No such tax profile.")) from None


def payout_profiles_pending() -> QuerySet[PayoutProfile]:
    """The validation queue, oldest first (vendor staff only: callers check)."""
    return (
        PayoutProfile.objects.filter(is_current=True, status=ProfileStatus.PENDING)
        .select_related("location__organisation")
        .order_by("created_at", "id")
    )


def tax_profiles_pending() -> QuerySet[TaxProfile]:
    return (
        TaxProfile.objects.filter(is_current=True, status=ProfileStatus.PENDING)
        .select_related("location__organisation")
        .order_by("created_at", "id")
    )


def enrollments_reviewing(user: User) -> QuerySet[Enrollment]:
    return enrollments_visible_to(user).filter(status=EnrollmentStatus.REVIEWING).order_by("review_started_at", "id")


def _incentives_admin_grants(location: Location, program: Program | None) -> QuerySet[RoleAssignment]:
    grants = RoleAssignment.objects.filter(
        role=Role.INCENTIVES_ADMIN,
        location=location,
        user__is_active=True,
        user__organisation_id=location.organisation_id,
    )
    if program is not None:
        grants = grants.filter(Q(program__isnull=True) | Q(program=program))
    return grants


def incentives_admin_emails(location: Location, program: Program | None = None) -> list[str]:
    """Who to email about a location (and program): its active incentives admins."""
    return sorted(set(_incentives_admin_grants(location, program).values_list("user__email", flat=True)))


def incentives_admin_emails_by_language(location: Location, program: Program | None = None) -> dict[str, list[str]]:
    """`incentives_admin_emails` by the language each reads (their own; the site's when they chose none)."""
    by_language: dict[str, set[str]] = {}
    for email, language in _incentives_admin_grants(location, program).values_list("user__email", "user__language"):
        by_language.setdefault(language or settings.LANGUAGE_CODE, set()).add(email)
    return {language: sorted(emails) for language, emails in sorted(by_language.items())}


# --- home pages ----------------------------------------------------------------------------------------


def _current_by_location(model: type[PayoutProfile] | type[TaxProfile], locations: list[Location]) -> dict[int, Any]:
    return {p.location_id: p for p in model.objects.filter(location__in=locations, is_current=True)}


def partner_home(user: User) -> dict[str, Any]:
    """A partner's landing page: their enrollments and what needs their action (as an incentives admin)."""
    today = timezone.localdate()
    enrollments = enrollments_visible_to(user).order_by("program__name", "location__name", "id")
    locations = list(locations_visible_to(user))
    payouts = _current_by_location(PayoutProfile, locations)
    taxes = _current_by_location(TaxProfile, locations)
    admin_of = {loc.pk for loc in locations if permissions.can_manage_profiles(user, loc)}
    open_items = list(
        enrollments.filter(
            status__in=[EnrollmentStatus.INVITED, EnrollmentStatus.ACTION_REQUIRED], location__in=admin_of
        )
    )
    profiles = [p for p in [*payouts.values(), *taxes.values()] if p.location_id in admin_of]
    return {
        "enrollments": enrollments[:HOME_LIST_LIMIT],
        "enrollment_count": enrollments.count(),
        "invitations": [
            e for e in open_items if e.status == EnrollmentStatus.INVITED and permissions.can_accept_enrollment(user, e)
        ],
        "action_required": [e for e in open_items if e.status == EnrollmentStatus.ACTION_REQUIRED],
        "profiles_needing_action": [p for p in profiles if p.status == ProfileStatus.ACTION_REQUIRED],
        "tax_expiring": [
            p
            for p in taxes.values()
            if p.location_id in admin_of and p.expires_on <= today + timedelta(days=TAX_EXPIRY_WARNING_DAYS)
        ],
        "locations": [
            {
                "location": loc,
                "payout": payouts.get(loc.pk),
                "tax": taxes.get(loc.pk),
                "is_admin": loc.pk in admin_of,
            }
            for loc in locations
        ],
        "today": today,
    }


def vendor_home(user: User) -> dict[str, Any]:
    """Vendor staff's landing page: the queues waiting for the vendor, and counts by status."""
    counts = {row["status"]: row["n"] for row in Enrollment.objects.order_by().values("status").annotate(n=Count("id"))}
    reviewing = enrollments_reviewing(user)
    pending_payout = payout_profiles_pending()
    pending_tax = tax_profiles_pending()
    return {
        "reviewing": reviewing[:HOME_LIST_LIMIT],
        "reviewing_count": reviewing.count(),
        "pending_payout": pending_payout[:HOME_LIST_LIMIT],
        "pending_payout_count": pending_payout.count(),
        "pending_tax": pending_tax[:HOME_LIST_LIMIT],
        "pending_tax_count": pending_tax.count(),
        "status_counts": [(status, counts.get(status.value, 0)) for status in EnrollmentStatus],
        "can_validate": permissions.can_validate_profiles(user),
        "can_invite": permissions.can_invite_somewhere(user),
    }
