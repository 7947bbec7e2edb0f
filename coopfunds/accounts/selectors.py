"""Reads, scoped to what a user may see. Outsiders get NotFound (404), never a hint that a row exists."""

import hashlib
from collections.abc import Iterable
from functools import cache
from typing import Any

from django.db import connection, models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

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
    """One location the user may see. Fetched by key, then checked against the user's grants in memory (the
    same rule as `locations_visible_to`, without compiling a scoped query on this hot path)."""
    try:
        location = Location.objects.select_related("organisation").get(pk=pk)
    except (Location.DoesNotExist, ValueError, TypeError):
        raise NotFound(gettext("No such location.")) from None
    if not permissions.can_view_location(user, location):
        raise NotFound(gettext("No such location."))
    return location


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
        raise NotFound(gettext("No such organisation.")) from None


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
        raise NotFound(gettext("No such user.")) from None


def role_assignments_of(user: User) -> QuerySet[RoleAssignment]:
    return RoleAssignment.objects.filter(user=user).select_related("location", "program")


def role_assignment_for(viewer: User, pk: int) -> RoleAssignment:
    try:
        return RoleAssignment.objects.select_related("user", "location", "program").get(
            pk=pk, user__in=users_visible_to(viewer)
        )
    except (RoleAssignment.DoesNotExist, ValueError, TypeError):
        raise NotFound(gettext("No such role assignment.")) from None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@cache
def _token_sql() -> str:
    """One statement for every API request: the token, its active owner, the organisation and the grants
    (a LEFT JOIN, so an owner without roles still comes back). Written out because the ORM's query compilation
    cost more than the query itself on this hot path (see bench/api_read.py)."""
    user_cols = [f.column for f in User._meta.concrete_fields]
    org_cols = [f.column for f in Organisation._meta.concrete_fields]
    grant_cols = [f.column for f in RoleAssignment._meta.concrete_fields]
    select = ", ".join(
        ["t.id", "t.last_used_at"]
        + [f"u.{c}" for c in user_cols]
        + [f"o.{c}" for c in org_cols]
        + [f"g.{c}" for c in grant_cols]
    )
    return (
        f"SELECT {select} FROM {ApiToken._meta.db_table} t"  # noqa: S608 (names from the models; the digest is bound)
        f" JOIN {User._meta.db_table} u ON u.id = t.user_id"
        f" JOIN {Organisation._meta.db_table} o ON o.id = u.organisation_id"
        f" LEFT JOIN {RoleAssignment._meta.db_table} g ON g.user_id = u.id"
        f" WHERE t.digest = %s AND t.revoked_at IS NULL AND u.is_active ORDER BY g.id"
    )


def _converters(model: type[models.Model], fields: list[Any]) -> list[tuple[Any, list[Any]]]:
    """For each field, its column and the converters the ORM would apply to a raw database value."""
    out = []
    for field in fields:
        col = field.get_col(model._meta.db_table)
        out.append((col, connection.ops.get_db_converters(col) + field.get_db_converters(connection)))
    return out


def _convert(converters: list[tuple[Any, list[Any]]], values: tuple[Any, ...]) -> list[Any]:
    out = []
    for (col, funcs), value in zip(converters, values, strict=True):
        for func in funcs:
            value = func(value, col, connection)
        out.append(value)
    return out


def user_for_api_token(token: str) -> User | None:
    """The active owner of an active token, or None, with the owner's organisation and grants loaded by the
    same single query. Marks the token used (at most once a minute)."""
    user_f, org_f, grant_f = (list(m._meta.concrete_fields) for m in (User, Organisation, RoleAssignment))
    used_f = ApiToken._meta.get_field("last_used_at")
    with connection.cursor() as cursor:
        cursor.execute(_token_sql(), [token_digest(token)])
        rows = cursor.fetchall()
    if not rows:
        return None
    a, b = 2 + len(user_f), 2 + len(user_f) + len(org_f)
    first = rows[0]
    token_id, [used_at] = first[0], _convert(_converters(ApiToken, [used_f]), (first[1],))
    user = User.from_db("default", [f.attname for f in user_f], _convert(_converters(User, user_f), first[2:a]))
    user.organisation = Organisation.from_db(
        "default", [f.attname for f in org_f], _convert(_converters(Organisation, org_f), first[a:b])
    )
    grant_conv, grant_names = _converters(RoleAssignment, grant_f), [f.attname for f in grant_f]
    grants = []
    for row in rows:
        if row[b] is not None:
            grant = RoleAssignment.from_db("default", grant_names, _convert(grant_conv, row[b:]))
            grant.user = user
            grants.append(grant)
    user.__dict__["grants"] = tuple(grants)  # the cached_property's value
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
        raise NotFound(gettext("No such API token.")) from None


def partner_scope(user: User) -> Q:
    """The rows of a (location, program) table a partner user may see: their own organisation's locations that
    their grants name, for every program or the one program a grant names. Filter any model with `location` and
    `program` foreign keys with it; vendor staff need no filter."""
    q = Q(pk__in=[])
    for g in user.grants:
        if g.role in PARTNER_ROLES and g.location_id:
            q |= (
                Q(location_id=g.location_id)
                if g.program_id is None
                else Q(location_id=g.location_id, program_id=g.program_id)
            )
    return q & Q(location__organisation_id=user.organisation_id)


def visible_to[M: models.Model](user: User, qs: QuerySet[M]) -> QuerySet[M]:
    """`qs`, of a (location, program) table, cut to what `user` may see: nothing for anyone signed out or
    inactive, everything for vendor staff, `partner_scope` for partner users."""
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if permissions.is_vendor_staff(user):
        return qs
    return qs.filter(partner_scope(user))


def people_holding(
    role: str, *, program_id: int, location_id: int | None = None, also: Iterable[int | None] = ()
) -> list[User]:
    """The active people who hold `role` for this program (at this location, for partner roles; vendor roles
    have none), plus the people whose ids are in `also`: whom a notification about one object goes to."""
    return people_holding_each(role, [(program_id, location_id, tuple(also))])[0]


Audience = tuple[int, int | None, tuple[int | None, ...]]  # (program id, location id or None, also these ids)


def people_holding_each(role: str, audiences: list[Audience]) -> list[list[User]]:
    """`people_holding` for each (program, location, also) of `audiences`, in two queries whatever their number
    (the notifications of a decision on many items), each list in id order."""
    locations = {location for _, location, _ in audiences}
    grants = RoleAssignment.objects.filter(role=role).filter(
        (Q(location_id__in={pk for pk in locations if pk}) if locations - {None} else Q(pk__in=[]))
        | (Q(location__isnull=True) if None in locations else Q(pk__in=[]))
    )
    holders: dict[tuple[int | None, int | None], set[int]] = {}
    for user_id, location_id, program_id in grants.values_list("user_id", "location_id", "program_id"):
        holders.setdefault((location_id, program_id), set()).add(user_id)
    wanted = [
        {
            *holders.get((location, None), ()),
            *holders.get((location, program), ()),
            *(pk for pk in also if pk),
        }
        for program, location, also in audiences
    ]
    by_id = {u.pk: u for u in User.objects.filter(pk__in=set().union(*wanted), is_active=True)}
    return [[by_id[pk] for pk in sorted(ids) if pk in by_id] for ids in wanted]
