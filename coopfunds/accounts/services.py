"""Writes for organisations, locations, people, roles and API tokens. One function per use case."""

import re
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django_countries import countries

from coopfunds.accounts import permissions
from coopfunds.accounts.models import (
    PARTNER_ROLES,
    VENDOR_ROLES,
    ApiToken,
    Location,
    Organisation,
    Role,
    RoleAssignment,
    User,
)
from coopfunds.accounts.selectors import token_digest
from coopfunds.audit.services import audit_record
from coopfunds.core.errors import Conflict
from coopfunds.core.notify import email_after_commit


def partner_org_id(obj: Organisation) -> int | None:
    """The organisation an audit row is scoped to: a partner's, or none for the vendor's own."""
    return obj.pk if obj.kind == Organisation.Kind.PARTNER else None


@transaction.atomic(durable=True)
def organisation_create(*, name: str, actor: User) -> Organisation:
    """A program manager registers a partner organisation."""
    if not permissions.can_manage_partners(actor):
        raise PermissionDenied(_("Only a program manager can register partner organisations."))
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the organisation a name.")})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": _("Keep the name to %(n)s characters or fewer.") % {"n": NAME_MAX}})
    org = Organisation.objects.create(kind=Organisation.Kind.PARTNER, name=name)
    audit_record(
        actor=actor, verb="organisation.create", target=org, changes={"name": (None, name)}, organisation_id=org.pk
    )
    return org


NAME_MAX = 200
PARTNER_ID_MAX = 32
PARTNER_ID_SHAPE = re.compile(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*")


def _clean_location(partner_id: str, name: str, country: str) -> tuple[str, str, str]:
    partner_id, name, country = partner_id.strip(), name.strip(), country.strip().upper()
    errors: dict[str, str] = {}
    if not partner_id:
        errors["partner_id"] = _("Enter the location's partner ID.")
    elif len(partner_id) > PARTNER_ID_MAX:
        errors["partner_id"] = _("A partner ID has at most %(n)s characters.") % {"n": PARTNER_ID_MAX}
    elif not PARTNER_ID_SHAPE.fullmatch(partner_id):
        errors["partner_id"] = _("A partner ID has only letters A–Z, digits and single hyphens between them.")
    if not name:
        errors["name"] = _("Give the location a name.")
    elif len(name) > NAME_MAX:
        errors["name"] = _("Keep the name to %(n)s characters or fewer.") % {"n": NAME_MAX}
    if not country:
        errors["country"] = _("Choose the location's country.")
    elif country not in countries:
        errors["country"] = _("“%(code)s” is not a country code (ISO 3166, for example DE, US, IN).") % {
            "code": country
        }
    if errors:
        raise ValidationError(errors)
    return partner_id, name, country


@transaction.atomic(durable=True)
def location_create(*, organisation: Organisation, partner_id: str, name: str, country: str, actor: User) -> Location:
    if not permissions.can_manage_partners(actor):
        raise PermissionDenied(_("Only a program manager can add locations."))
    if organisation.kind != Organisation.Kind.PARTNER:
        raise ValidationError({"organisation": _("Locations belong to partner organisations.")})
    partner_id, name, country = _clean_location(partner_id, name, country)
    if Location.objects.filter(partner_id__iexact=partner_id).exists():
        raise ValidationError(
            {"partner_id": _("Partner ID %(id)s is already used by another location.") % {"id": partner_id}}
        )
    try:
        with transaction.atomic():
            location = Location.objects.create(
                organisation=organisation, partner_id=partner_id, name=name, country=country
            )
    except IntegrityError:  # a concurrent create won the race; the unique constraint is the backstop
        raise ValidationError(
            {"partner_id": _("Partner ID %(id)s is already used by another location.") % {"id": partner_id}}
        ) from None
    audit_record(
        actor=actor,
        verb="location.create",
        target=location,
        changes={"partner_id": (None, partner_id), "name": (None, name), "country": (None, country)},
        organisation_id=organisation.pk,
    )
    return location


def _send_invitation(user: User, invited_by: User) -> None:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = settings.SITE_URL.rstrip("/") + reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    # in the person's language; someone just invited has chosen none yet: the inviter's
    with translation.override(user.language or translation.get_language() or settings.LANGUAGE_CODE):
        email_after_commit(
            to=[user.email],
            subject=_("You are invited to Coopfunds"),
            body=_(
                "%(inviter)s invited you to Coopfunds for %(organisation)s.\n\n"
                "Choose your password here (the link works once and expires in a few days):\n%(link)s\n"
            )
            % {"inviter": invited_by.get_full_name(), "organisation": user.organisation.name, "link": link},
        )


def _clean_email(email: str) -> str:
    email = email.strip().lower()
    if not email:
        raise ValidationError({"email": _("Enter the person's email address.")})
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("“%(email)s” is not a valid email address.") % {"email": email}}) from None
    if len(email) > EMAIL_MAX:
        raise ValidationError({"email": _("An email address has at most %(n)s characters.") % {"n": EMAIL_MAX}})
    return email


EMAIL_MAX = 254


@transaction.atomic(durable=True)
def user_invite(
    *,
    email: str,
    full_name: str,
    organisation: Organisation,
    role: Role,
    location: Location | None,
    program: Any = None,
    actor: User,
) -> User:
    """Create an account with one first role and email a link to choose a password."""
    if not permissions.can_invite_to(actor, organisation):
        raise PermissionDenied(_("You cannot invite people to this organisation."))
    email = _clean_email(email)
    full_name = full_name.strip()
    if len(full_name) > NAME_MAX:
        raise ValidationError({"full_name": _("Keep the name to %(n)s characters or fewer.") % {"n": NAME_MAX}})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("%(email)s already has an account.") % {"email": email}})
    user = User(email=email, full_name=full_name, organisation=organisation)
    _check_grant(actor=actor, target=user, role=role, location=location, program=program)
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise ValidationError({"email": _("%(email)s already has an account.") % {"email": email}}) from None
    audit_record(
        actor=actor,
        verb="user.invite",
        target=user,
        changes={"email": (None, email)},
        organisation_id=partner_org_id(organisation),
    )
    _grant(actor=actor, user=user, role=role, location=location, program=program)
    _send_invitation(user, actor)
    return user


def _check_grant(*, actor: User, target: User, role: Role, location: Location | None, program: Any) -> None:
    """Say in words why a grant is refused; `permissions.can_grant` is the rule itself."""
    if role in PARTNER_ROLES and location is None:
        raise ValidationError({"location": _("Choose the location this role is for.")})
    if role in VENDOR_ROLES and location is not None:
        raise ValidationError({"location": _("Vendor roles are not tied to a location; leave the location empty.")})
    if role in VENDOR_ROLES and target.organisation.kind != Organisation.Kind.VENDOR:
        raise ValidationError({"role": _("Vendor roles are only for the vendor's own staff.")})
    if location is not None and location.organisation_id != target.organisation_id:
        raise ValidationError({"location": _("Choose a location of the person's own organisation.")})
    if not permissions.can_grant(actor, target=target, role=role, location=location, program=program):
        raise ValidationError(
            {"role": _("You can only give roles you hold yourself, within your own locations and programs.")}
        )


def _grant(*, actor: User, user: User, role: Role, location: Location | None, program: Any) -> RoleAssignment:
    program_id = None if program is None else getattr(program, "pk", program)
    try:
        with transaction.atomic():
            assignment = RoleAssignment.objects.create(
                user=user, role=role, location=location, program_id=program_id, granted_by=actor
            )
    except IntegrityError:
        raise ValidationError({"role": _("%(email)s already holds this role here.") % {"email": user.email}}) from None
    audit_record(
        actor=actor,
        verb="role.grant",
        target=user,
        changes={"role": (None, str(assignment))},
        organisation_id=partner_org_id(user.organisation),
    )
    return assignment


@transaction.atomic(durable=True)
def role_grant(
    *, user: User, role: Role, location: Location | None, program: Any = None, actor: User
) -> RoleAssignment:
    if not permissions.can_manage_users_of(actor, user.organisation):
        raise PermissionDenied(_("You cannot manage the users of this organisation."))
    _check_grant(actor=actor, target=user, role=role, location=location, program=program)
    return _grant(actor=actor, user=user, role=role, location=location, program=program)


@transaction.atomic(durable=True)
def role_revoke(*, assignment: RoleAssignment, actor: User) -> User:
    assignment = (
        RoleAssignment.objects.select_for_update(of=("self",))  # lock the grant, not the rows it names
        .select_related("user__organisation", "location", "program")
        .get(pk=assignment.pk)
    )
    if not permissions.can_revoke(actor, assignment):
        raise PermissionDenied(_("You cannot remove this role."))
    user, label = assignment.user, str(assignment)
    assignment.delete()
    audit_record(
        actor=actor,
        verb="role.revoke",
        target=user,
        changes={"role": (label, None)},
        organisation_id=partner_org_id(user.organisation),
    )
    return user


@transaction.atomic(durable=True)
def user_resend_invitation(*, user: User, actor: User) -> User:
    """Send a new set-password link to someone invited who has not chosen a password yet."""
    if actor.pk == user.pk or not permissions.can_manage_users_of(actor, user.organisation):
        raise PermissionDenied(_("You cannot manage the users of this organisation."))
    user = User.objects.select_for_update(of=("self",)).select_related("organisation").get(pk=user.pk)
    if user.has_usable_password():
        raise Conflict(_("%(email)s has already chosen a password.") % {"email": user.email}, code="already_accepted")
    if not user.invitation_pending:  # an account an identity provider made, which has signed in
        raise Conflict(
            _("%(email)s signs in through their organisation's identity provider.") % {"email": user.email},
            code="already_accepted",
        )
    if not user.is_active:
        raise Conflict(
            _("%(email)s is deactivated; reactivate the account first.") % {"email": user.email}, code="inactive"
        )
    audit_record(actor=actor, verb="user.reinvite", target=user, organisation_id=partner_org_id(user.organisation))
    _send_invitation(user, actor)
    return user


@transaction.atomic(durable=True)
def user_set_active(*, user: User, active: bool, actor: User) -> User:
    if actor.pk == user.pk:
        raise ValidationError({"is_active": _("You cannot deactivate or reactivate yourself.")})
    if not permissions.can_set_active(actor, user):
        raise PermissionDenied(_("You cannot switch this person's account on or off."))
    user = User.objects.select_for_update(of=("self",)).select_related("organisation").get(pk=user.pk)
    if user.is_active != active:
        audit_record(
            actor=actor,
            verb="user.activate" if active else "user.deactivate",
            target=user,
            changes={"is_active": (user.is_active, active)},
            organisation_id=partner_org_id(user.organisation),
        )
        user.is_active = active
        user.save(update_fields=["is_active"])
    return user


TOKEN_PREFIX = "cf_"  # noqa: S105 (a prefix, not a secret)
TOKEN_NAME_MAX = 100


@transaction.atomic(durable=True)
def api_token_create(*, name: str, actor: User) -> tuple[ApiToken, str]:
    """Returns the token row and the token itself, which is never stored and never shown again."""
    if not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied(_("Sign in to create an API token."))
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Name the token after what will use it, e.g. “ERP import”.")})
    if len(name) > TOKEN_NAME_MAX:
        raise ValidationError({"name": _("Keep the name to %(n)s characters or fewer.") % {"n": TOKEN_NAME_MAX}})
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=actor, name=name, prefix=plain[:10], digest=token_digest(plain))
    audit_record(actor=actor, verb="api_token.create", target=token, organisation_id=partner_org_id(actor.organisation))
    return token, plain


@transaction.atomic(durable=True)
def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != actor.pk:
        raise PermissionDenied(_("You can only revoke your own tokens."))
    if token.revoked_at is not None:
        raise Conflict(_("This token is already revoked."), code="already_revoked")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(actor=actor, verb="api_token.revoke", target=token, organisation_id=partner_org_id(actor.organisation))
    return token


@transaction.atomic(durable=True)
def user_language_set(*, user: User, language: str) -> User:
    """A person chooses the language of their pages and emails ("" : their browser's)."""
    choices = dict(settings.LANGUAGES)
    if language and language not in choices:
        raise ValidationError(
            {
                "language": _("“%(code)s” is not a language of Coopfunds; choose one of %(choices)s.")
                % {"code": language, "choices": ", ".join(choices)}
            }
        )
    if user.language != language:
        audit_record(actor=user, verb="user.language", target=user, changes={"language": (user.language, language)})
        user.language = language
        user.save(update_fields=["language"])
    return user
