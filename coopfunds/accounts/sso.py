"""Single sign-on and the rules of signing in (ADR 0014).

- An **identity provider** (OpenID Connect or SAML 2.0) belongs to one organisation. Program managers keep them
  (`identity_provider_create` / `_update` / `_delete`); the vendor's staff may also have providers given in the
  `SSO_PROVIDERS` setting (JSON), which belong to the vendor organisation.
- A person an identity provider signs in is matched (`sso_match`) by a **verified** email among the accounts of
  the provider's organisation, and only there. An unknown person gets an account, with no role, only where the
  provider `creates_accounts`. A role is never granted by a provider.
- An organisation may require single sign-on (no password sign-in) and multi-factor sign-in for its people
  (`sign_in_rules_set`); the vendor organisation's rules are those of all vendor staff.
- Every sign-in, failed sign-in, lockout and change of authenticator is audited (`sign_in_audit`).
"""

import json
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.validators import URLValidator, validate_slug
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from coopfunds.accounts import permissions
from coopfunds.accounts.models import IdentityProvider, Organisation, Protocol, User
from coopfunds.accounts.selectors import organisation_for
from coopfunds.accounts.services import partner_org_id
from coopfunds.audit.services import audit_entry, audit_record, audit_record_all
from coopfunds.core.errors import Conflict, NotFound

KEY_MAX = 40
NAME_MAX = 100
RESERVED_KEYS = frozenset(Protocol.values)  # allauth's names of the protocols, also looked up as providers
DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
# What, changed, makes a provider another one: the people it linked are linked no more (ADR 0014).
IDENTITY = ("protocol", "key", "url", "client_id")


def domains_of(text: str) -> list[str]:
    return [d.strip().lower().lstrip("@") for d in text.replace(";", ",").split(",") if d.strip()]


# ----------------------------------------------------------------------------------------------------- providers


def providers_configured() -> list[IdentityProvider]:
    """The providers of the SSO_PROVIDERS setting: a JSON list of {"key", "name", "url", "client_id", "secret",
    "protocol" (default "openid_connect"), "creates_accounts" (default false)}, for the vendor's staff."""
    text = (settings.SSO_PROVIDERS or "").strip()
    if not text:
        return []
    try:
        items = json.loads(text)
    except ValueError as exc:
        raise ImproperlyConfigured(f"SSO_PROVIDERS is not JSON: {exc}") from exc
    if not isinstance(items, list):
        raise ImproperlyConfigured("SSO_PROVIDERS must be a JSON list of providers.")
    vendor = Organisation.objects.filter(kind=Organisation.Kind.VENDOR).order_by("id").first()
    if vendor is None:
        return []
    found = []
    for n, item in enumerate(items, start=1):
        missing = [name for name in ("key", "name", "url") if not isinstance(item, dict) or not item.get(name)]
        if missing:
            raise ImproperlyConfigured(f"SSO_PROVIDERS, provider {n}: {', '.join(missing)} missing.")
        protocol = item.get("protocol", Protocol.OIDC)
        if protocol not in Protocol.values:
            raise ImproperlyConfigured(f"SSO_PROVIDERS, provider {n}: protocol is one of {', '.join(Protocol.values)}.")
        found.append(
            IdentityProvider(
                organisation=vendor,
                protocol=protocol,
                key=str(item["key"]),
                name=str(item["name"]),
                url=str(item["url"]),
                client_id=str(item.get("client_id", "")),
                secret=str(item.get("secret", "")),
                creates_accounts=bool(item.get("creates_accounts", False)),
                domains=", ".join(domains_of(str(item.get("domains", "")))),
            )
        )
    return found


def providers_active() -> list[IdentityProvider]:
    """Every provider people may sign in with: those of the setting (unsaved rows), then those kept here."""
    kept = IdentityProvider.objects.filter(is_active=True).select_related("organisation")
    return [*providers_configured(), *kept]


def provider_of(key: str) -> IdentityProvider | None:
    return next((p for p in providers_active() if p.key == key), None)


def identity_provider_for(actor: User, pk: int) -> IdentityProvider:
    """A provider kept here, for a program manager (anyone else: not found)."""
    found = IdentityProvider.objects.select_related("organisation").filter(pk=pk).first()
    if found is None or not permissions.can_manage_partners(actor):
        raise NotFound(_("No such identity provider."))
    return found


def organisation_ruled_by(actor: User, pk: int) -> Organisation:
    """An organisation whose sign-in rules `actor` may read and set."""
    organisation = organisation_for(actor, pk)
    if not permissions.can_manage_users_of(actor, organisation):
        raise PermissionDenied(_("Only the organisation's administrators can change how its people sign in."))
    return organisation


def _clean_provider(values: dict[str, Any], *, instance: IdentityProvider | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean = dict(values)
    for name in ("key", "name", "url", "client_id"):
        if name in clean:
            clean[name] = str(clean[name] or "").strip()
    if "key" in clean:
        key = clean["key"].lower()
        clean["key"] = key
        try:
            validate_slug(key)
        except ValidationError:
            errors["key"] = _("Use letters, digits and hyphens only, e.g. “contoso-entra”.")
        if not key or len(key) > KEY_MAX:
            errors["key"] = _("Give a key of 1 to %(n)s characters, e.g. “contoso-entra”.") % {"n": KEY_MAX}
        elif key in RESERVED_KEYS:
            errors["key"] = _("“%(key)s” is a word of the sign-in addresses; choose another key.") % {"key": key}
        elif any(p.key == key for p in providers_configured()):
            errors["key"] = _("The key “%(key)s” is taken by a provider of the server's settings.") % {"key": key}
    if "name" in clean and not clean["name"]:
        errors["name"] = _("Name the provider as people will see it on the sign-in page, e.g. “Contoso staff”.")
    elif "name" in clean and len(clean["name"]) > NAME_MAX:
        errors["name"] = _("Keep the name to %(n)s characters or fewer.") % {"n": NAME_MAX}
    if "url" in clean:
        try:
            URLValidator(schemes=["https"] if settings.PRODUCTION else ["https", "http"])(clean["url"])
        except ValidationError:
            errors["url"] = (
                _("Give the provider's https:// address.")
                if settings.PRODUCTION
                else _("Give the provider's address, starting with https:// (or http:// while developing).")
            )
    if "domains" in clean:
        domains = domains_of(str(clean["domains"] or ""))
        wrong = [d for d in domains if not DOMAIN.fullmatch(d)]
        if wrong:
            errors["domains"] = _("“%(domain)s” is not an email domain; write e.g. “fabrikam.com”.") % {
                "domain": wrong[0]
            }
        clean["domains"] = ", ".join(domains)
    creates = clean.get("creates_accounts", instance.creates_accounts if instance else False)
    if creates and not domains_of(str(clean.get("domains", instance.domains if instance else ""))):
        errors.setdefault(
            "domains", _("Name the organisation's email domains: a provider creates accounts only for them.")
        )
    protocol = clean.get("protocol", instance.protocol if instance else None)
    if protocol not in Protocol.values:
        errors["protocol"] = _("Choose OpenID Connect or SAML 2.0.")
    elif protocol == Protocol.OIDC:
        client_id = clean.get("client_id", instance.client_id if instance else "")
        secret = clean.get("secret", instance.secret if instance else "")
        if not client_id:
            errors["client_id"] = _("OpenID Connect needs the client ID the provider gave for Coopfunds.")
        if not secret:
            errors["secret"] = _("OpenID Connect needs the client secret the provider gave for Coopfunds.")
    elif not clean.get("client_id", instance.client_id if instance else ""):
        errors["client_id"] = _("SAML needs the identity provider's entity ID (it is in its metadata).")
    if errors:
        raise ValidationError(errors)
    return clean


_AUDITED = (
    "organisation",
    "protocol",
    "key",
    "name",
    "url",
    "client_id",
    "creates_accounts",
    "domains",
    "is_active",
)


def _unlink(key: str) -> int:
    """Forget whom a provider signed in (its subjects are matched again, by verified email)."""
    from allauth.socialaccount.models import SocialAccount

    return SocialAccount.objects.filter(provider=key).delete()[0]


def _keep_a_way_in(provider: IdentityProvider) -> None:
    """An organisation that requires single sign-on keeps at least one active provider: without one nobody of
    it could sign in, not even those who could change the rule."""
    organisation = Organisation.objects.select_for_update().get(pk=provider.organisation_id)
    others = [p for p in providers_active() if p.organisation_id == organisation.pk and p.key != provider.key]
    if organisation.sso_required and not others:
        raise ValidationError(
            {
                "is_active": _(
                    "%(organisation)s requires single sign-on and %(name)s is its only active identity provider: "
                    "turn the rule off first, or add another provider."
                )
                % {"organisation": organisation.name, "name": provider.name}
            }
        )


@transaction.atomic(durable=True)
def identity_provider_create(
    *,
    organisation: Organisation,
    protocol: str,
    key: str,
    name: str,
    url: str,
    client_id: str = "",
    secret: str = "",
    creates_accounts: bool = False,
    domains: str = "",
    actor: User,
) -> IdentityProvider:
    """A program manager adds an identity provider for an organisation (the vendor's, or a partner's)."""
    if not permissions.can_manage_partners(actor):
        raise PermissionDenied(_("Only a program manager can add identity providers."))
    values = _clean_provider(
        {
            "protocol": protocol,
            "key": key,
            "name": name,
            "url": url,
            "client_id": client_id,
            "secret": secret,
            "creates_accounts": creates_accounts,
            "domains": domains,
        },
        instance=None,
    )
    if IdentityProvider.objects.filter(key=values["key"]).exists():
        raise ValidationError({"key": _("Another provider has the key “%(key)s”.") % {"key": values["key"]}})
    try:
        with transaction.atomic():
            provider = IdentityProvider.objects.create(organisation=organisation, **values)
    except IntegrityError as exc:
        raise Conflict(_("Another provider has the key “%(key)s”.") % {"key": values["key"]}) from exc
    audit_record(
        actor=actor,
        verb="identity_provider.create",
        target=provider,
        changes={name: (None, getattr(provider, name)) for name in _AUDITED},
        organisation_id=partner_org_id(organisation),
    )
    return provider


@transaction.atomic(durable=True)
def identity_provider_update(*, provider: IdentityProvider, values: dict[str, Any], actor: User) -> IdentityProvider:
    """Change some of a provider's settings; a secret left empty is kept."""
    if not permissions.can_manage_partners(actor):
        raise PermissionDenied(_("Only a program manager can change identity providers."))
    provider = IdentityProvider.objects.select_for_update().select_related("organisation").get(pk=provider.pk)
    values = {name: value for name, value in values.items() if not (name == "secret" and not value)}
    clean = _clean_provider(values, instance=provider)
    if "key" in clean and IdentityProvider.objects.filter(key=clean["key"]).exclude(pk=provider.pk).exists():
        raise ValidationError({"key": _("Another provider has the key “%(key)s”.") % {"key": clean["key"]}})
    changes = {
        name: (getattr(provider, name), value)
        for name, value in clean.items()
        if name != "secret" and getattr(provider, name) != value
    }
    if "secret" in clean:
        changes["secret"] = ("", "(changed)")  # data of the audit row, never the secret itself
    if changes.get("is_active") == (True, False):
        _keep_a_way_in(provider)
    if any(name in changes for name in IDENTITY):
        unlinked = _unlink(provider.key)
        if unlinked:
            changes["linked_people"] = (unlinked, 0)
    for name, value in clean.items():
        setattr(provider, name, value)
    try:
        with transaction.atomic():
            provider.save()
    except IntegrityError as exc:
        raise Conflict(_("Another provider has the key “%(key)s”.") % {"key": provider.key}) from exc
    if changes:
        audit_record(
            actor=actor,
            verb="identity_provider.update",
            target=provider,
            changes=changes,
            organisation_id=partner_org_id(provider.organisation),
        )
    return provider


@transaction.atomic(durable=True)
def identity_provider_delete(*, provider: IdentityProvider, actor: User) -> None:
    """Remove a provider. The people it signed in keep their accounts; they sign in some other way."""
    if not permissions.can_manage_partners(actor):
        raise PermissionDenied(_("Only a program manager can remove identity providers."))
    _keep_a_way_in(provider)
    _unlink(provider.key)
    audit_record(
        actor=actor,
        verb="identity_provider.delete",
        target=provider,
        changes={name: (getattr(provider, name), None) for name in _AUDITED},
        organisation_id=partner_org_id(provider.organisation),
    )
    provider.delete()


# -------------------------------------------------------------------------------------------------- the rules


@transaction.atomic(durable=True)
def sign_in_rules_set(
    *, organisation: Organisation, sso_required: bool, mfa_required: bool, actor: User
) -> Organisation:
    """Require (or not) single sign-on and multi-factor sign-in of an organisation's people."""
    if not permissions.can_manage_users_of(actor, organisation):
        raise PermissionDenied(_("Only the organisation's administrators can change how its people sign in."))
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if sso_required and not any(p.organisation_id == organisation.pk for p in providers_active()):
        raise ValidationError(
            {
                "sso_required": _(
                    "%(organisation)s has no active identity provider; ask a program manager to add one before "
                    "single sign-on is required."
                )
                % {"organisation": organisation.name}
            }
        )
    changes = {
        name: (getattr(organisation, name), value)
        for name, value in (("sso_required", sso_required), ("mfa_required", mfa_required))
        if getattr(organisation, name) != value
    }
    if changes:
        for name, (_old, value) in changes.items():
            setattr(organisation, name, value)
        organisation.save(update_fields=[*changes, "updated_at"])
        audit_record(
            actor=actor,
            verb="organisation.sign_in_rules",
            target=organisation,
            changes=changes,
            organisation_id=partner_org_id(organisation),
        )
    return organisation


@transaction.atomic(durable=True)
def mfa_reset(*, user: User, actor: User) -> int:
    """An administrator removes every authenticator of someone who lost theirs (a phone, a key): they sign in with
    their password next time and add a new one. Each removal is audited and told to them (allauth's signal, as
    when they remove one themselves). Nobody resets their own: they remove theirs on their own page."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.signals import authenticator_removed

    if actor.pk == user.pk:
        raise PermissionDenied(_("Remove your own authenticators on your sign-in security page."))
    if not permissions.can_manage_users_of(actor, user.organisation):
        raise PermissionDenied(_("Only the organisation's administrators can reset someone's second step."))
    found = list(Authenticator.objects.select_for_update().filter(user=user).order_by("id"))
    if not found:
        raise Conflict(_("%(email)s has no authenticator to remove.") % {"email": user.email}, code="no_authenticator")
    for authenticator in found:
        authenticator.delete()
        authenticator_removed.send(
            sender=Authenticator, request=None, user=user, authenticator=authenticator, actor=actor
        )
    audit_record(
        actor=actor,
        verb="user.mfa_reset",
        target=user,
        changes={"authenticators": (len(found), 0)},
        organisation_id=partner_org_id(user.organisation),
    )
    return len(found)


def providers_linked_to(user: User) -> list[str]:
    """The keys of the identity providers that have signed this person in."""
    from allauth.socialaccount.models import SocialAccount

    return list(SocialAccount.objects.filter(user=user).order_by("provider").values_list("provider", flat=True))


def authenticators_of(user: User) -> list[Any]:
    from allauth.mfa.models import Authenticator

    return list(Authenticator.objects.filter(user=user).order_by("id"))


# ------------------------------------------------------------------------------------------------- matching


class Refused(Exception):
    """A single sign-on that may not sign anyone in; `reason` says why, to the person."""

    def __init__(self, reason: str, *, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class Match:
    user: User | None  # None: a new account, in `provider.organisation`
    email: str


def sso_match(*, provider: IdentityProvider, linked: User | None, emails: list[tuple[str, bool]]) -> Match:
    """Whom a provider's sign-in is for. `linked` is the account the provider's subject was matched to before;
    `emails` the (email, verified) pairs the provider gave. Raises `Refused`."""
    organisation = provider.organisation
    if linked is not None:
        if linked.organisation_id != organisation.pk:
            raise Refused(_("This identity provider does not sign in people of your organisation."), code="other_org")
        if not linked.is_active:
            raise Refused(_("Your account is deactivated; ask your administrator."), code="inactive")
        return Match(linked, linked.email)
    verified = [email.strip().lower() for email, ok in emails if ok and email]
    if not verified:
        raise Refused(
            _(
                "%(provider)s did not confirm your email address, so it cannot be matched to an account. Ask your "
                "IT department to have the provider send a verified email."
            )
            % {"provider": provider.name},
            code="unverified_email",
        )
    found = {user.email: user for user in User.objects.filter(email__in=verified).select_related("organisation")}
    for email in verified:
        user = found.get(email)
        if user is None:
            continue
        if user.organisation_id != organisation.pk:
            # said as for an address with no account: a provider learns nothing of other organisations' people
            raise Refused(_no_account(email, organisation), code="other_org")
        if not user.is_active:
            raise Refused(_("Your account is deactivated; ask your administrator."), code="inactive")
        return Match(user, email)
    allowed = domains_of(provider.domains)
    for email in verified:
        if provider.creates_accounts and email.rpartition("@")[2] in allowed:
            return Match(None, email)
    raise Refused(_no_account(verified[0], organisation), code="no_account")


def _no_account(email: str, organisation: Organisation) -> str:
    return _(
        "There is no account for %(email)s at %(organisation)s. Ask an administrator of your organisation to "
        "invite you."
    ) % {"email": email, "organisation": organisation.name}


# ---------------------------------------------------------------------------------------------------- audit

# What each sign-in event is recorded as (verb) and says (reason), in English like every audit row.
SIGNED_IN = "user.sign_in"
SIGN_IN_FAILED = "user.sign_in_failed"
LOCKED_OUT = "user.locked_out"
MFA_ADDED = "user.mfa_added"
MFA_REMOVED = "user.mfa_removed"
MFA_FAILED = "user.mfa_failed"
SSO_LINKED = "user.sso_linked"
SSO_CREATED = "user.sso_created"
REFUSALS = {
    "sso_required": gettext_noop("single sign-on is required"),
    "password": gettext_noop("wrong email or password"),
    "locked_out": gettext_noop("locked out after too many failures"),
}


def sign_in_audit(
    *,
    verb: str,
    user: User | None,
    actor: User | None = None,
    email: str = "",
    changes: dict[str, tuple[Any, Any]] | None = None,
    reason: str = "",
) -> None:
    """One sign-in event about `user` (its target). Its actor is who did it: the person once signed in, an
    administrator, or none ("system") for a failure, which anyone may have caused. For an email that has no
    account, the row names the email typed (its target id is empty), so attempts on unknown accounts are on
    record too."""
    target = user if user is not None else User(email=email.strip().lower()[:254])
    with transaction.atomic():
        entry = audit_entry(
            actor=actor,
            verb=verb,
            target=target,
            changes=changes,
            reason=reason,
            organisation_id=partner_org_id(user.organisation) if user is not None else None,
        )
        if user is None:
            entry.target_id = ""
        audit_record_all([entry])
