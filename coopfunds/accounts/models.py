from functools import cached_property
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower, Upper
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django_countries.fields import CountryField

from coopfunds.core.crypto import EncryptedTextField
from coopfunds.core.models import TimeStamped, status_constraint


class OrganisationKind(models.TextChoices):
    VENDOR = "vendor", gettext_lazy("Vendor")
    PARTNER = "partner", gettext_lazy("Partner")


class Organisation(TimeStamped):
    Kind = OrganisationKind

    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Names need not be unique: two partners may share a trading name; the partner ID is the key.
    name = models.CharField(max_length=200)
    # How its people sign in (ADR 0014); the vendor organisation's rules are those of all vendor staff.
    sso_required = models.BooleanField(
        gettext_lazy("single sign-on required"),
        default=False,
        help_text=gettext_lazy("Its people sign in only through one of its identity providers, never with a password."),
    )
    mfa_required = models.BooleanField(
        gettext_lazy("multi-factor sign-in required"),
        default=False,
        help_text=gettext_lazy(
            "Its people must add an authenticator app or a security key before they can use Coopfunds."
        ),
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [status_constraint("kind", OrganisationKind, "organisation_kind_valid")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_vendor(self) -> bool:
        return self.kind == self.Kind.VENDOR


class Location(TimeStamped):
    """A partner organisation's place of business: enrollments, funds, claims and roles hang off it."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="locations")
    partner_id = models.CharField(gettext_lazy("partner ID"), max_length=32, unique=True)
    name = models.CharField(max_length=200)
    country = CountryField()

    class Meta:
        ordering = ["organisation__name", "name", "id"]
        # "fab-001" and "FAB-001" are the same partner ID; services say so in words, this is the backstop.
        constraints = [models.UniqueConstraint(Upper("partner_id"), name="location_partner_id_ci_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.partner_id})"


class Role(models.TextChoices):
    INCENTIVES_ADMIN = "incentives_admin", gettext_lazy("Incentives admin")
    INCENTIVES_USER = "incentives_user", gettext_lazy("Incentives user")
    PROGRAM_MANAGER = "program_manager", gettext_lazy("Program manager")
    REVIEWER = "reviewer", gettext_lazy("Reviewer")
    FINANCE = "finance", gettext_lazy("Finance")
    AUDITOR = "auditor", gettext_lazy("Auditor")


PARTNER_ROLES = frozenset({Role.INCENTIVES_ADMIN, Role.INCENTIVES_USER})
VENDOR_ROLES = frozenset({Role.PROGRAM_MANAGER, Role.REVIEWER, Role.FINANCE, Role.AUDITOR})


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: object) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)  # None gives an unusable password (an invited user sets their own)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> "User":
        if "organisation" not in fields and "organisation_id" not in fields:
            fields["organisation"], _ = Organisation.objects.get_or_create(
                kind=Organisation.Kind.VENDOR, defaults={"name": "Vendor"}
            )
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with email and password. Belongs to exactly one organisation."""

    email = models.EmailField(gettext_lazy("email"), unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="users")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text=gettext_lazy("May use the Django admin site."))
    date_joined = models.DateTimeField(default=timezone.now)
    language = models.CharField(
        max_length=8,
        blank=True,
        default="",
        choices=settings.LANGUAGES,
        help_text=gettext_lazy("The language of pages and emails for this person; empty: their browser's."),
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.full_name or self.email

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def invitation_pending(self) -> bool:
        """Invited, and has neither chosen a password nor signed in (an account that an identity provider made
        has no password either, but it has signed in)."""
        return not self.has_usable_password() and self.last_login is None

    @property
    def is_vendor_staff(self) -> bool:
        return self.organisation.kind == Organisation.Kind.VENDOR

    @cached_property
    def grants(self) -> tuple["RoleAssignment", ...]:
        """This user's role assignments, loaded once per request; permission predicates read these."""
        return tuple(self.role_assignments.all())


class RoleAssignment(TimeStamped):
    """A role held by a user. Partner roles name a location; `program` empty means every program."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=32, choices=Role.choices)
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey("programs.Program", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [
            status_constraint("role", Role, "roleassignment_role_valid"),
            models.CheckConstraint(
                # sorted: a set's order changes between runs and would make the migration look stale
                condition=(
                    models.Q(role__in=sorted(r.value for r in PARTNER_ROLES), location__isnull=False)
                    | models.Q(role__in=sorted(r.value for r in VENDOR_ROLES), location__isnull=True)
                ),
                name="roleassignment_location_matches_role",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "location", "program"],
                condition=models.Q(location__isnull=False, program__isnull=False),
                name="roleassignment_unique_loc_prog",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "location"],
                condition=models.Q(location__isnull=False, program__isnull=True),
                name="roleassignment_unique_loc",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "program"],
                condition=models.Q(location__isnull=True, program__isnull=False),
                name="roleassignment_unique_prog",
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(location__isnull=True, program__isnull=True),
                name="roleassignment_unique_global",
            ),
        ]

    def __str__(self) -> str:
        where = [str(x) for x in (self.location, self.program) if x is not None]
        everywhere = gettext("all")
        return f"{self.get_role_display()} ({', '.join(where) or everywhere})"


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once, at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text=gettext_lazy("The first characters, to recognise a token."))
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Protocol(models.TextChoices):
    OIDC = "openid_connect", gettext_lazy("OpenID Connect")
    SAML = "saml", gettext_lazy("SAML 2.0")


class IdentityProvider(TimeStamped):
    """An organisation's identity provider for single sign-on. People it signs in are matched by their verified
    email among that organisation's accounts only (`accounts.sso`); it never grants a role."""

    Protocol = Protocol

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="identity_providers")
    protocol = models.CharField(gettext_lazy("protocol"), max_length=16, choices=Protocol.choices)
    key = models.SlugField(
        gettext_lazy("key"),
        max_length=40,
        unique=True,
        help_text=gettext_lazy("Part of the sign-in and callback addresses; letters, digits and hyphens."),
    )
    name = models.CharField(gettext_lazy("name"), max_length=100, help_text=gettext_lazy("Shown on the sign-in page."))
    url = models.URLField(
        gettext_lazy("address"),
        max_length=500,
        help_text=gettext_lazy(
            "OpenID Connect: the issuer (its /.well-known/openid-configuration is read). SAML: the identity "
            "provider's metadata address."
        ),
    )
    client_id = models.CharField(
        gettext_lazy("client ID or entity ID"),
        max_length=200,
        blank=True,
        help_text=gettext_lazy("OpenID Connect: the client ID. SAML: the identity provider's entity ID."),
    )
    secret = EncryptedTextField(gettext_lazy("client secret"), blank=True)
    creates_accounts = models.BooleanField(
        gettext_lazy("creates accounts"),
        default=False,
        help_text=gettext_lazy(
            "A person it signs in who has no account yet gets one in the organisation, with no role, if their "
            "email is of one of its domains."
        ),
    )
    domains = models.CharField(
        gettext_lazy("email domains"),
        max_length=500,
        blank=True,
        help_text=gettext_lazy(
            "The organisation's email domains, separated by commas (e.g. “fabrikam.com, fabrikam.de”); needed to "
            "create accounts: no one gets an account for an address of another domain."
        ),
    )
    is_active = models.BooleanField(gettext_lazy("active"), default=True)

    class Meta:
        ordering = ["organisation__name", "name", "id"]
        constraints = [status_constraint("protocol", Protocol, "identityprovider_protocol_valid")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_protocol_display()})"
