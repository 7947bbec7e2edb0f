"""API for who I am, organisations, locations, people, roles and personal API tokens."""

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from coopfunds.accounts import permissions, selectors, services
from coopfunds.accounts.models import ApiToken, Location, Organisation, OrganisationKind, Role, RoleAssignment, User
from coopfunds.accounts.services import PARTNER_ID_SHAPE
from coopfunds.api.common import ERRORS, PATTERN_MESSAGES, Country, Email, Id, Keyset, Text
from coopfunds.core.errors import NotFound, PermissionDenied, ValidationError
from coopfunds.programs.models import Program
from coopfunds.programs.selectors import programs_visible_to

router = Router(tags=["accounts"])


# ---------------------------------------------------------------------------------------------- schemas


class OrganisationOut(Schema):
    id: int
    kind: str
    name: str


PARTNER_ID = "^" + PARTNER_ID_SHAPE.pattern + "$"
PATTERN_MESSAGES[PARTNER_ID] = gettext_lazy(
    "A partner ID has only letters A–Z, digits and single hyphens between them."
)


class OrganisationIn(Schema):
    name: Text = Field(..., max_length=200)


class LocationOut(Schema):
    id: int
    organisation_id: Id
    organisation_name: str
    partner_id: str
    name: str
    country: str

    @staticmethod
    def resolve_organisation_name(obj: Location) -> str:
        return obj.organisation.name

    @staticmethod
    def resolve_country(obj: Location) -> str:
        return str(obj.country)  # a Country; its str() is the ISO code


class LocationIn(Schema):
    organisation_id: Id
    partner_id: str = Field(..., pattern=PARTNER_ID, max_length=32, description="Letters, digits, single hyphens.")
    name: Text = Field(..., max_length=200)
    country: Country


class GrantOut(Schema):
    id: int
    role: Role
    location_id: Id | None
    program_id: Id | None
    created_at: datetime


class GrantIn(Schema):
    role: Role
    location_id: Id | None = None
    program_id: Id | None = None


class UserOut(Schema):
    id: int
    email: str
    full_name: str
    organisation_id: Id
    is_active: bool
    invitation_pending: bool
    grants: list[GrantOut]

    @staticmethod
    def resolve_invitation_pending(obj: User) -> bool:
        return obj.invitation_pending

    @staticmethod
    def resolve_grants(obj: User) -> list[RoleAssignment]:
        return list(obj.role_assignments.all())


Language = Literal["", "en", "sv"]


class MeOut(Schema):
    id: int
    email: str
    full_name: str
    language: Language = Field(
        ..., description="The language of your pages, emails and API messages; empty: your browser's (Accept-Language)."
    )
    organisation: OrganisationOut
    is_vendor_staff: bool
    grants: list[GrantOut]

    @staticmethod
    def resolve_is_vendor_staff(obj: User) -> bool:
        return permissions.is_vendor_staff(obj)

    @staticmethod
    def resolve_grants(obj: User) -> list[RoleAssignment]:
        return list(obj.grants)


class InviteIn(Schema):
    email: Email
    full_name: str = Field("", max_length=200)
    organisation_id: Id | None = None
    role: Role
    location_id: Id | None = None
    program_id: Id | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str


class TokenIn(Schema):
    name: Text = Field(..., max_length=100)


# ---------------------------------------------------------------------------------------------- helpers


def _actor(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]  # set by TokenAuth / ActiveSessionAuth


def _field[T](field: str, find: Callable[[User, int], T], actor: User, pk: int) -> T:
    """A row named in the request body: invisible or missing ones are a field error, not a 404."""
    try:
        return find(actor, pk)
    except NotFound as error:
        raise ValidationError({field: str(error.message)}) from None


def _program(actor: User, pk: int | None) -> Program | None:
    if pk is None:
        return None
    program = programs_visible_to(actor).filter(pk=pk).first()
    if program is None:
        raise ValidationError({"program_id": gettext("No such program.")})
    return program


def _grant_args(actor: User, data: GrantIn | InviteIn) -> dict[str, Any]:
    location = (
        None if data.location_id is None else _field("location_id", selectors.location_for, actor, data.location_id)
    )
    return {"role": data.role, "location": location, "program": _program(actor, data.program_id)}


# ---------------------------------------------------------------------------------------------- me, organisations


@router.get("/me", response={200: MeOut, **ERRORS}, summary="Who am I: organisation and grants")
def me(request: HttpRequest) -> User:
    return _actor(request)


class MeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    language: Language


@router.patch("/me", response={200: MeOut, **ERRORS}, summary="Choose your language")
def me_update(request: HttpRequest, payload: MeIn) -> User:
    return services.user_language_set(user=_actor(request), language=payload.language)


@router.get("/organisations", response={200: list[OrganisationOut], **ERRORS})
@paginate(Keyset)
def organisation_list(request: HttpRequest, q: str = "", kind: OrganisationKind | None = None) -> Any:
    """Organisations you may see: every one for vendor staff, your own for a partner."""
    qs = selectors.organisations_visible_to(_actor(request))
    if q.strip():
        qs = qs.filter(name__icontains=q.strip())
    return qs.filter(kind=kind) if kind else qs


@router.post("/organisations", response={201: OrganisationOut, **ERRORS})
def organisation_create(request: HttpRequest, payload: OrganisationIn) -> Status[Organisation]:
    """Register a partner organisation (program managers)."""
    return Status(201, services.organisation_create(name=payload.name, actor=_actor(request)))


@router.get("/organisations/{organisation_id}", response={200: OrganisationOut, **ERRORS})
def organisation_detail(request: HttpRequest, organisation_id: Id) -> Organisation:
    return selectors.organisation_for(_actor(request), organisation_id)


# ---------------------------------------------------------------------------------------------- locations


@router.get("/locations", response={200: list[LocationOut], **ERRORS})
@paginate(Keyset)
def location_list(request: HttpRequest, q: str = "", organisation_id: Id | None = None) -> Any:
    """Locations you may see: every one for vendor staff, those your roles name for a partner."""
    qs = selectors.locations_search(selectors.locations_visible_to(_actor(request)), q)
    return qs.filter(organisation_id=organisation_id) if organisation_id else qs


@router.post("/locations", response={201: LocationOut, **ERRORS})
def location_create(request: HttpRequest, payload: LocationIn) -> Status[Location]:
    """Add a location to a partner organisation (program managers)."""
    actor = _actor(request)
    if not permissions.can_manage_partners(actor):  # before reading the body's references
        raise PermissionDenied(gettext("Only a program manager can add locations."))
    organisation = _field("organisation_id", selectors.organisation_for, actor, payload.organisation_id)
    location = services.location_create(
        organisation=organisation,
        partner_id=payload.partner_id,
        name=payload.name,
        country=payload.country,
        actor=actor,
    )
    return Status(201, location)


@router.get("/locations/{location_id}", response={200: LocationOut, **ERRORS})
def location_detail(request: HttpRequest, location_id: Id) -> Location:
    return selectors.location_for(_actor(request), location_id)


# ---------------------------------------------------------------------------------------------- people and roles


@router.get("/users", response={200: list[UserOut], **ERRORS})
@paginate(Keyset)
def user_list(request: HttpRequest, q: str = "", organisation_id: Id | None = None) -> Any:
    """People you may see: everyone for vendor staff, your organisation for an incentives admin, else yourself."""
    qs = selectors.users_search(selectors.users_visible_to(_actor(request)), q)
    return qs.filter(organisation_id=organisation_id) if organisation_id else qs


@router.post("/users", response={201: UserOut, **ERRORS})
def user_invite(request: HttpRequest, payload: InviteIn) -> Status[User]:
    """Invite someone with a first role; they get an email with a link to choose their password.
    `organisation_id` defaults to your own organisation."""
    actor = _actor(request)
    organisation = (
        actor.organisation
        if payload.organisation_id is None
        else _field("organisation_id", selectors.organisation_for, actor, payload.organisation_id)
    )
    if not permissions.can_invite_to(actor, organisation):
        raise PermissionDenied(gettext("You cannot invite people to this organisation."))
    user = services.user_invite(
        email=payload.email,
        full_name=payload.full_name,
        organisation=organisation,
        actor=actor,
        **_grant_args(actor, payload),
    )
    return Status(201, selectors.user_for(actor, user.pk))


@router.get("/users/{user_id}", response={200: UserOut, **ERRORS})
def user_detail(request: HttpRequest, user_id: Id) -> User:
    return selectors.user_for(_actor(request), user_id)


@router.post("/users/{user_id}/roles", response={201: GrantOut, **ERRORS})
def user_grant(request: HttpRequest, user_id: Id, payload: GrantIn) -> Status[RoleAssignment]:
    """Give a role. Nobody gives more than they hold: only roles, locations and programs within their own."""
    actor = _actor(request)
    target = selectors.user_for(actor, user_id)
    if not permissions.can_manage_users_of(actor, target.organisation):
        raise PermissionDenied(gettext("You cannot manage the users of this organisation."))
    return Status(201, services.role_grant(user=target, actor=actor, **_grant_args(actor, payload)))


@router.delete("/role-assignments/{assignment_id}", response={204: None, **ERRORS})
def role_revoke(request: HttpRequest, assignment_id: Id) -> Status[None]:
    actor = _actor(request)
    services.role_revoke(assignment=selectors.role_assignment_for(actor, assignment_id), actor=actor)
    return Status(204, None)


@router.post("/users/{user_id}/deactivate", response={200: UserOut, **ERRORS})
def user_deactivate(request: HttpRequest, user_id: Id) -> User:
    """Switch an account off: no sign-in, no API tokens. Its history stays."""
    actor = _actor(request)
    services.user_set_active(user=selectors.user_for(actor, user_id), active=False, actor=actor)
    return selectors.user_for(actor, user_id)


@router.post("/users/{user_id}/reactivate", response={200: UserOut, **ERRORS})
def user_reactivate(request: HttpRequest, user_id: Id) -> User:
    actor = _actor(request)
    services.user_set_active(user=selectors.user_for(actor, user_id), active=True, actor=actor)
    return selectors.user_for(actor, user_id)


# ---------------------------------------------------------------------------------------------- tokens


@router.get("/tokens", response={200: list[TokenOut], **ERRORS})
@paginate(Keyset)
def token_list(request: HttpRequest) -> QuerySet[ApiToken]:
    """Your own API tokens (never the token itself: only its first characters)."""
    return selectors.api_tokens_of(_actor(request))


@router.post("/tokens", response={201: TokenCreatedOut, **ERRORS})
def token_create(request: HttpRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    """Create a personal token. The response holds the token itself, this once; it is not stored."""
    token, plain = services.api_token_create(name=payload.name, actor=_actor(request))
    return Status(201, TokenOut.model_validate(token).model_dump() | {"token": plain})


@router.post("/tokens/{token_id}/revoke", response={200: TokenOut, **ERRORS})
def token_revoke(request: HttpRequest, token_id: Id) -> ApiToken:
    actor = _actor(request)
    return services.api_token_revoke(token=selectors.api_token_for(actor, token_id), actor=actor)
