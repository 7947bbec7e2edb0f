"""API for how people sign in: an organisation's sign-in rules, identity providers, a person's authenticators and
an administrator's reset of them (ADR 0014). Signing in itself is the web's (the browser talks to the provider);
programs use API tokens, which these rules leave working."""

from datetime import datetime
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict

from coopfunds.accounts import permissions, selectors, sso
from coopfunds.accounts.models import IdentityProvider, Organisation, User
from coopfunds.api.common import ERRORS, Id, Keyset, Text
from coopfunds.core.errors import NotFound, PermissionDenied, ValidationError

router = Router(tags=["sign-in"])


def _actor(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined,no-any-return]


# ----------------------------------------------------------------------------------------------- rules


class SignInRulesOut(Schema):
    organisation_id: int
    sso_required: bool
    mfa_required: bool

    @staticmethod
    def resolve_organisation_id(obj: Organisation) -> int:
        return obj.pk


class SignInRulesIn(Schema):
    model_config = ConfigDict(extra="forbid")

    sso_required: bool = Field(..., description="People sign in only through one of the organisation's providers.")
    mfa_required: bool = Field(
        ..., description="People who sign in with a password must add an authenticator app or a security key."
    )


def _no_rights() -> str:
    return gettext("Only the organisation's administrators can change how its people sign in.")


@router.get("/organisations/{organisation_id}/sign-in-rules", response={200: SignInRulesOut, **ERRORS})
def rules_get(request: HttpRequest, organisation_id: Id) -> Organisation:
    """The vendor organisation's rules are those of all vendor staff."""
    return sso.organisation_ruled_by(_actor(request), organisation_id)


@router.put("/organisations/{organisation_id}/sign-in-rules", response={200: SignInRulesOut, **ERRORS})
def rules_set(request: HttpRequest, organisation_id: Id, payload: SignInRulesIn) -> Organisation:
    actor = _actor(request)
    return sso.sign_in_rules_set(
        organisation=sso.organisation_ruled_by(actor, organisation_id),
        sso_required=payload.sso_required,
        mfa_required=payload.mfa_required,
        actor=actor,
    )


# ------------------------------------------------------------------------------------------- providers


class ProviderOut(Schema):
    id: int
    organisation_id: int
    protocol: str
    key: str
    name: str
    url: str
    client_id: str
    has_secret: bool = Field(..., description="The secret itself is never shown.")
    creates_accounts: bool
    domains: str
    is_active: bool
    created_at: datetime

    @staticmethod
    def resolve_has_secret(obj: IdentityProvider) -> bool:
        return bool(obj.secret)


ProtocolName = Literal["openid_connect", "saml"]


class ProviderIn(Schema):
    model_config = ConfigDict(extra="forbid")

    organisation_id: Id
    protocol: ProtocolName
    key: Text = Field(..., max_length=40, description="Letters, digits and hyphens; part of its addresses.")
    name: Text = Field(..., max_length=100)
    url: Text = Field(
        ..., max_length=500, description="OpenID Connect: the issuer. SAML: the identity provider's metadata address."
    )
    client_id: str = Field("", max_length=200, description="OpenID Connect: the client ID. SAML: the IdP's entity ID.")
    secret: str = Field("", max_length=500, description="OpenID Connect: the client secret.")
    creates_accounts: bool = False
    domains: str = Field(
        "", max_length=500, description="Email domains, comma-separated; a provider creates accounts only for them."
    )


class ProviderPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    protocol: ProtocolName | None = None
    key: Text | None = Field(None, max_length=40)
    name: Text | None = Field(None, max_length=100)
    url: Text | None = Field(None, max_length=500)
    client_id: str | None = Field(None, max_length=200)
    secret: str | None = Field(None, max_length=500, description="Empty or absent: kept.")
    creates_accounts: bool | None = None
    domains: str | None = Field(None, max_length=500)
    is_active: bool | None = None


@router.get("/identity-providers", response={200: list[ProviderOut], **ERRORS})
@paginate(Keyset)
def provider_list(request: HttpRequest) -> QuerySet[IdentityProvider]:
    """The providers kept here (those of the server's SSO_PROVIDERS setting are not listed)."""
    if not permissions.can_manage_partners(_actor(request)):
        raise PermissionDenied(_no_rights())
    return IdentityProvider.objects.all()


@router.post("/identity-providers", response={201: ProviderOut, **ERRORS})
def provider_create(request: HttpRequest, payload: ProviderIn) -> Status[IdentityProvider]:
    actor = _actor(request)
    try:
        organisation = selectors.organisation_for(actor, payload.organisation_id)
    except NotFound as error:
        raise ValidationError({"organisation_id": str(error.message)}) from None
    values: dict[str, Any] = payload.model_dump(exclude={"organisation_id"})
    return Status(201, sso.identity_provider_create(organisation=organisation, actor=actor, **values))


@router.get("/identity-providers/{provider_id}", response={200: ProviderOut, **ERRORS})
def provider_get(request: HttpRequest, provider_id: Id) -> IdentityProvider:
    return sso.identity_provider_for(_actor(request), provider_id)


@router.patch("/identity-providers/{provider_id}", response={200: ProviderOut, **ERRORS})
def provider_update(request: HttpRequest, provider_id: Id, payload: ProviderPatch) -> IdentityProvider:
    actor = _actor(request)
    values = payload.model_dump(exclude_none=True)
    return sso.identity_provider_update(
        provider=sso.identity_provider_for(actor, provider_id), values=values, actor=actor
    )


@router.delete("/identity-providers/{provider_id}", response={204: None, **ERRORS})
def provider_delete(request: HttpRequest, provider_id: Id) -> Status[None]:
    """The people it signed in keep their accounts."""
    actor = _actor(request)
    sso.identity_provider_delete(provider=sso.identity_provider_for(actor, provider_id), actor=actor)
    return Status(204, None)


# ------------------------------------------------------------------------------------------ authenticators


class AuthenticatorOut(Schema):
    id: int
    type: str = Field(..., description="totp, webauthn or recovery_codes")
    name: str
    created_at: datetime
    last_used_at: datetime | None

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.wrap().name) if obj.type == "webauthn" else ""


@router.get("/me/authenticators", response={200: list[AuthenticatorOut], **ERRORS})
def my_authenticators(request: HttpRequest) -> list[Any]:
    """Your authenticators (added and removed on your sign-in security page, which asks for your password)."""
    return sso.authenticators_of(_actor(request))


@router.get("/users/{user_id}/authenticators", response={200: list[AuthenticatorOut], **ERRORS})
def user_authenticators(request: HttpRequest, user_id: Id) -> list[Any]:
    actor = _actor(request)
    user = selectors.user_for(actor, user_id)
    if actor.pk != user.pk and not permissions.can_manage_users_of(actor, user.organisation):
        raise PermissionDenied(_no_rights())
    return sso.authenticators_of(user)


class ResetOut(Schema):
    removed: int


@router.post("/users/{user_id}/mfa-reset", response={200: ResetOut, **ERRORS})
def user_mfa_reset(request: HttpRequest, user_id: Id) -> dict[str, int]:
    """Remove every authenticator of someone who lost theirs; they add a new one at their next sign-in."""
    actor = _actor(request)
    return {"removed": sso.mfa_reset(user=selectors.user_for(actor, user_id), actor=actor)}
