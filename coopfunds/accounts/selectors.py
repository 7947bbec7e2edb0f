"""Reads, scoped to what a user may see. Outsiders get NotFound (404), never a hint that a row exists."""

import hashlib

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from coopfunds.accounts import permissions
from coopfunds.accounts.models import PARTNER_ROLES, ApiToken, Location, Organisation, RoleAssignment, User
from coopfunds.core.errors import NotFound


def locations_visible_to(user: User) -> QuerySet[Location]:
    qs = Location.objects.select_related("organisation")
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if permissions.is_vendor_staff(user):
        return qs
    ids = {g.location_id for g in user.grants if g.role in PARTNER_ROLES and g.location_id}
    return qs.filter(pk__in=ids, organisation_id=user.organisation_id)


def location_for(user: User, pk: int) -> Location:
    try:
        return locations_visible_to(user).get(pk=pk)
    except (Location.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such location.") from None


def organisations_visible_to(user: User) -> QuerySet[Organisation]:
    if permissions.is_vendor_staff(user):
        return Organisation.objects.all()
    if not user.is_authenticated:
        return Organisation.objects.none()
    return Organisation.objects.filter(pk=user.organisation_id)


def partners_visible_to(user: User, query: str = "") -> QuerySet[Organisation]:
    """Partner organisations: all of them for vendor staff, one's own for a partner. `query` searches the
    name and the locations' partner IDs and names."""
    qs = organisations_visible_to(user).filter(kind=Organisation.Kind.PARTNER)
    query = query.strip()
    if query:
        matching = Location.objects.filter(Q(partner_id__icontains=query) | Q(name__icontains=query))
        qs = qs.filter(Q(name__icontains=query) | Q(pk__in=matching.values("organisation_id")))
    return qs


def organisation_for(user: User, pk: int) -> Organisation:
    try:
        return organisations_visible_to(user).get(pk=pk)
    except (Organisation.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such organisation.") from None


def users_visible_to(user: User) -> QuerySet[User]:
    """Vendor staff see everyone; an incentives admin sees the people of their own organisation; anyone
    else sees only themselves. The people another partner has are never visible."""
    qs = User.objects.select_related("organisation").prefetch_related(
        "role_assignments__location", "role_assignments__program"
    )
    if not user.is_authenticated:
        return qs.none()
    if permissions.is_vendor_staff(user):
        return qs
    if permissions.is_partner_user(user) and permissions.holds_anywhere(user, permissions.Role.INCENTIVES_ADMIN):
        return qs.filter(organisation_id=user.organisation_id)
    return qs.filter(pk=user.pk)


def users_search(qs: QuerySet[User], query: str) -> QuerySet[User]:
    query = query.strip()
    if not query:
        return qs
    return qs.filter(Q(email__icontains=query) | Q(full_name__icontains=query) | Q(organisation__name__icontains=query))


def user_for(viewer: User, pk: int) -> User:
    try:
        return users_visible_to(viewer).get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such user.") from None


def role_assignments_of(user: User) -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.filter(user=user).select_related("location", "program")


def role_assignment_for(viewer: User, pk: int) -> RoleAssignment:
    try:
        return RoleAssignment.objects.select_related("user", "location", "program").get(
            pk=pk, user__in=users_visible_to(viewer)
        )
    except (RoleAssignment.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such role assignment.") from None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_for_api_token(token: str) -> User | None:
    """The active owner of an active token, or None, with the owner's grants loaded by the same query (an API
    request needs both; one round trip instead of two). Marks the token used (at most once a minute)."""
    digest = token_digest(token)
    live = {"user__api_tokens__digest": digest, "user__api_tokens__revoked_at__isnull": True, "user__is_active": True}
    grants = list(
        RoleAssignment.objects.filter(**live)
        .select_related("user__organisation")
        .annotate(token_id=F("user__api_tokens__id"), token_used_at=F("user__api_tokens__last_used_at"))
        .order_by("id")
    )
    if grants:
        user, token_id, used_at = grants[0].user, grants[0].token_id, grants[0].token_used_at  # type: ignore[attr-defined]
        for grant in grants:
            grant.user = user
        user.__dict__["grants"] = tuple(grants)  # the cached_property's value
    else:  # a token of someone with no role at all
        found = ApiToken.objects.select_related("user__organisation").filter(
            digest=digest, revoked_at__isnull=True, user__is_active=True
        ).first()
        if found is None:
            return None
        user, token_id, used_at = found.user, found.pk, found.last_used_at
    now = timezone.now()
    if used_at is None or (now - used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return user


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    if not user.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user)


def locations_search(qs: QuerySet[Location], query: str) -> QuerySet[Location]:
    query = query.strip()
    if not query:
        return qs
    return qs.filter(Q(name__icontains=query) | Q(partner_id__icontains=query) | Q(organisation__name__icontains=query))


def locations_administered_by(user: User, organisation: Organisation) -> QuerySet[Location]:
    """The locations of `organisation` where `user` may give partner roles: every one for a program manager,
    the ones they are incentives admin of for a partner's admin."""
    qs = Location.objects.filter(organisation=organisation).select_related("organisation")
    if permissions.holds(user, permissions.Role.PROGRAM_MANAGER):
        return qs
    if user.organisation_id != organisation.pk:
        return qs.none()
    ids = {g.location_id for g in user.grants if g.role == permissions.Role.INCENTIVES_ADMIN and g.location_id}
    return qs.filter(pk__in=ids)


def api_token_for(user: User, pk: int) -> ApiToken:
    """One of the user's own tokens; everybody else's are NotFound."""
    try:
        return ApiToken.objects.get(pk=pk, user_id=user.pk)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such API token.") from None
