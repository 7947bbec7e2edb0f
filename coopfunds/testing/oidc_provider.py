"""A real OpenID Connect provider for tests: django-oauth-toolkit in a process of its own on loopback, with its
own database, people and one client (Coopfunds). Started by `running_provider`; nothing in it is a stand-in for
the client library under test (django-allauth), which talks to it over HTTP like to Entra ID or Keycloak.

Its people are given as JSON: [{"email", "password", "name", "verified"}]; "verified": false makes it say
`email_verified: false` of that email."""

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

CLIENT_ID = "coopfunds-tests"
CLIENT_SECRET = "a client secret for tests only"  # noqa: S105 (test data)


@dataclass(frozen=True)
class Provider:
    url: str  # the issuer: what an IdentityProvider's `url` is set to
    client_id: str
    secret: str

    def signed_in(self, email: str, password: str) -> httpx.Client:
        """A browser signed in at the provider (its own sign-in page), to follow an authorisation request."""
        browser = httpx.Client(base_url=self.url.removesuffix("/o"), follow_redirects=False)
        response = browser.post("/login/", data={"username": email, "password": password})
        assert response.status_code == 302, response.text
        return browser


@contextmanager
def running_provider(people: list[dict[str, Any]], redirect_uris: list[str]) -> Iterator[Provider]:
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "spec.json"
        spec.write_text(json.dumps({"people": people, "redirect_uris": redirect_uris}))
        log = open(Path(folder) / "provider.log", "w+b")  # noqa: SIM115 (read back on failure)
        child = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "coopfunds.testing.oidc_provider", str(spec), folder],
            stdout=subprocess.PIPE,
            stderr=log,
            env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        )
        try:
            assert child.stdout is not None
            line = child.stdout.readline().decode().strip()
            if not line.startswith("port "):
                log.seek(0)
                raise RuntimeError(f"the test OIDC provider did not start: {log.read().decode()[-3000:]}")
            base = f"http://127.0.0.1:{line.split()[1]}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/o/.well-known/openid-configuration").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the test OIDC provider does not answer")
                time.sleep(0.1)
            yield Provider(url=f"{base}/o", client_id=CLIENT_ID, secret=CLIENT_SECRET)
        finally:
            child.terminate()
            child.wait(timeout=10)
            log.close()


# ------------------------------------------------------------------------------------ the provider process


def _serve(spec_path: str, folder: str) -> None:
    import django
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.conf import settings

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    settings.configure(
        DEBUG=False,
        SECRET_KEY="provider-only",  # noqa: S106 (a test process's own)
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "oauth2_provider",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(Path(folder) / "provider.db")}},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        LOGIN_URL="/login/",
        USE_TZ=True,
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}],
        OAUTH2_PROVIDER={
            "OIDC_ENABLED": True,
            "OIDC_RSA_PRIVATE_KEY": pem,
            "PKCE_REQUIRED": True,
            "SCOPES": {"openid": "OpenID Connect", "email": "Email", "profile": "Profile"},
            "OAUTH2_VALIDATOR_CLASS": f"{__name__}.Validator",
        },
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import User
    from oauth2_provider.models import Application

    spec = json.loads(Path(spec_path).read_text())
    for person in spec["people"]:
        User.objects.create_user(
            username=person["email"],
            email=person["email"],
            password=person["password"],
            first_name=person.get("name", ""),
            last_name="" if person.get("verified", True) else "unverified",
        )
    Application.objects.create(
        name="Coopfunds",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(spec["redirect_uris"]),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from django.core.wsgi import get_wsgi_application

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=Quiet)
    print(f"port {server.server_port}", flush=True)
    server.serve_forever()


def _urls() -> list[Any]:
    from django.contrib.auth import authenticate, login
    from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
    from django.urls import include, path
    from django.views.decorators.csrf import csrf_exempt

    @csrf_exempt
    def sign_in(request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            user = authenticate(request, username=request.POST["username"], password=request.POST["password"])
            if user is not None:
                login(request, user)
                return HttpResponseRedirect(request.GET.get("next", "/"))
            return HttpResponse("wrong email or password", status=401)
        return HttpResponse("<form method='post'><input name='username'><input name='password'></form>")

    return [path("login/", sign_in), path("o/", include("oauth2_provider.urls", namespace="oauth2_provider"))]


def __getattr__(name: str) -> Any:
    if name == "urlpatterns":  # the provider process's ROOT_URLCONF, built once Django is set up
        return _urls()
    if name == "Validator":
        from oauth2_provider.oauth2_validators import OAuth2Validator

        class Validator(OAuth2Validator):  # type: ignore[misc]
            oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "email_verified": "email"}

            def get_additional_claims(self, request: Any) -> dict[str, Any]:
                user = request.user
                return {
                    "email": user.email,
                    "email_verified": user.last_name != "unverified",
                    "name": user.first_name,
                }

        return Validator
    raise AttributeError(name)


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2])
