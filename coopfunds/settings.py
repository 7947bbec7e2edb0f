"""The one settings module. Every knob is an environment variable; none is needed.

With no variables at all Coopfunds runs on the embedded default: a SQLite file, files on local disk,
tasks run immediately in-process, email printed to the console, and keys created on first run in the
data directory. Production sets `COOPFUNDS_ENV=production` plus the variables listed in the README.
"""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


PRODUCTION = env("COOPFUNDS_ENV", "development") == "production"
DATA_DIR = Path(env("COOPFUNDS_DATA_DIR", str(BASE_DIR / "var")))


def local_key(name: str, make: Callable[[], str]) -> str:
    """A key kept in the data directory, created on first use (embedded default only)."""
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set in production.")
    path = DATA_DIR / "keys" / name.lower()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "x", encoding="ascii") as handle:
                os.chmod(path, 0o600)
                handle.write(make())
        except FileExistsError:
            pass  # another process created it first; read theirs
    return path.read_text(encoding="ascii").strip()


SECRET_KEY = env("SECRET_KEY") or local_key("SECRET_KEY", lambda: Fernet.generate_key().decode())
# Bank details are encrypted with these keys (Fernet). The first encrypts; all decrypt (rotation).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS") or [
    local_key("FIELD_ENCRYPTION_KEY", lambda: Fernet.generate_key().decode())
]
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    # First, so that its registration/* pages (sign-in, password reset) win over django.contrib.admin's.
    "coopfunds.web",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_countries",
    "django_htmx",
    "axes",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "allauth.mfa",
    "django_tasks_db",
    "ninja",
    "coopfunds.core",
    "coopfunds.audit",
    "coopfunds.accounts",
    "coopfunds.documents",
    "coopfunds.programs",
    "coopfunds.enrollments",
    "coopfunds.funds",
    "coopfunds.claims",
    "coopfunds.associations",
    "coopfunds.plans",
    "coopfunds.mdf",
    "coopfunds.payments",
    "coopfunds.notifications",
    "coopfunds.webhooks",
    "coopfunds.demo",
    "coopfunds.jobs",
    "coopfunds.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "coopfunds.web.middleware.PreferredLanguage",
    "coopfunds.web.middleware.SignInRules",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "coopfunds.urls"
WSGI_APPLICATION = "coopfunds.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "coopfunds.web.context.navigation",
            ],
            "builtins": ["coopfunds.web.templatetags.money"],
        },
    },
]

# Database: SQLite file by default; DATABASE_URL (postgres://...) for production and scale.
if env("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(env("DATABASE_URL"), conn_max_age=60, conn_health_checks=True)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "coopfunds.sqlite3"),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sign-in (django-allauth, ADR 0014): email and password, single sign-on with OpenID Connect or SAML 2.0
# providers (coopfunds.accounts.sso), and multi-factor sign-in with TOTP, WebAuthn passkeys and recovery codes.
# Nobody signs up: people are invited, or created on their first single sign-on where their organisation allows it.
ACCOUNT_ADAPTER = "coopfunds.web.signin.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "coopfunds.web.signin.ProviderAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"  # an invitation proves the address; a provider proves its own
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = True  # a session lasts SESSION_HOURS, as it always did; no "remember me" box
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
# Wrong passwords are counted by django-axes (below, per email and address, on every app server); allauth counts
# wrong second steps (codes, keys): five per person in five minutes.
ACCOUNT_RATE_LIMITS = {"login": False, "login_failed": "5/5m/key"}
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # accounts are matched by coopfunds.accounts.sso, within an organisation
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10
# Providers for the vendor's staff may be given here, as JSON (README, "Single sign-on"); program managers add
# providers for any organisation on the sign-in settings page or through the API.
SSO_PROVIDERS = env("SSO_PROVIDERS")
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", "Coopfunds")
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION  # http://127.0.0.1 while developing

# Lockout: after AXES_FAILURE_LIMIT failures for one email from one address, that pair is locked for the
# cool-off period and unlocks by itself. Locking by (username, ip) means an attacker elsewhere cannot lock
# the real user out.
AXES_FAILURE_LIMIT = int(env("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(env("LOGIN_COOLOFF_MINUTES", "15")) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"
AXES_USERNAME_CALLABLE = "coopfunds.accounts.auth.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
AXES_VERBOSE = False
# With Redis (REDIS_URL) the failure counters live in the shared cache, so every app server counts the same
# failures; without it, in the database.
AXES_HANDLER = (
    "axes.handlers.cache.AxesCacheHandler" if env("REDIS_URL") else "axes.handlers.database.AxesDatabaseHandler"
)

# Sessions and cookies.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(env("SESSION_HOURS", "12")) * 3600
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
}
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Malware scanning of uploads with ClamAV's clamd (coopfunds/documents/malware.py): CLAMAV_ADDRESS is
# `unix:/run/clamav/clamd.ctl` or `host:port`. CLAMAV_REQUIRED (on in production) refuses uploads that cannot be
# scanned; off, they are stored and shown as "not scanned".
CLAMAV_ADDRESS = env("CLAMAV_ADDRESS")
CLAMAV_REQUIRED = env_bool("CLAMAV_REQUIRED", PRODUCTION)

# Webhook endpoints must be https:// in production; WEBHOOKS_ALLOW_HTTP lets a development or test setup use http://.
WEBHOOKS_ALLOW_HTTP = env_bool("WEBHOOKS_ALLOW_HTTP", not PRODUCTION)

# Files: local disk by default; S3-compatible object storage when S3_BUCKET is set.
MEDIA_ROOT = DATA_DIR / "media"
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if env("S3_BUCKET"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("S3_BUCKET"),
            "endpoint_url": env("S3_ENDPOINT_URL") or None,
            "region_name": env("S3_REGION") or None,
            "access_key": env("S3_ACCESS_KEY_ID") or None,
            "secret_key": env("S3_SECRET_ACCESS_KEY") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
if not PRODUCTION:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    WHITENOISE_USE_FINDERS = True
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Tasks: run immediately in-process by default; TASK_BACKEND=database queues them in the database for
# `manage.py db_worker` processes on any number of machines.
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks_db.DatabaseBackend"
            if env("TASK_BACKEND") == "database"
            else "django.tasks.backends.immediate.ImmediateBackend"
        )
    }
}

# Email: printed to the console by default; EMAIL_HOST switches to SMTP. Production always sends through
# SMTP (EMAIL_HOST, default the machine's own mail server on localhost), never to the console.
MAILERS = {
    "default": (
        {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": env("EMAIL_HOST", "localhost"),
                "port": int(env("EMAIL_PORT", "587")),
                "username": env("EMAIL_HOST_USER"),
                "password": env("EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
            },
        }
        if env("EMAIL_HOST") or PRODUCTION
        else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    )
}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Coopfunds <coopfunds@localhost>")

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env("REDIS_URL")}
        if env("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# English is the source; Swedish the first translation (locale/sv). A person's choice (User.language) wins over
# the browser's (LocaleMiddleware: the language cookie, then Accept-Language).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("sv", "Svenska")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["coopfunds.formats"]  # pages' dates per language: date:"DATE_FORMAT" and the like
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
    "loggers": {"axes": {"level": "WARNING"}, "django.tasks": {"level": "WARNING"}},
}

NINJA_PAGINATION_PER_PAGE = 50
