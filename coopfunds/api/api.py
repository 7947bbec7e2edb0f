"""The HTTP API: /api/v1/. Typed endpoints per domain, one error shape for every 4xx:
`{"code": "...", "message": "...", "fields": {"field": ["reason", ...]}}`.

Messages are in the caller's language: a token's owner's (User.language, activated when the token is read,
before any input is), else the request's (Accept-Language, the language cookie, or a signed-in session user's
choice: LocaleMiddleware and web.middleware.PreferredLanguage)."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy, ngettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth

from coopfunds.accounts.models import User
from coopfunds.accounts.selectors import user_for_api_token
from coopfunds.api import roles
from coopfunds.api.common import pattern_message
from coopfunds.core.errors import DomainError, NotFound


class TokenAuth(HttpBearer):
    """`Authorization: Bearer cf_...`: a personal API token, acting with its owner's roles."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_api_token(token)
        if user is not None:
            request.user = user
            if user.language:  # the owner's language over the request's Accept-Language
                translation.activate(user.language)
            roles.gate(request, user)
        return user


class ActiveSessionAuth(SessionAuth):
    """The browser's session (CSRF-checked for writes), so the web pages' htmx calls can use the API."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if not (user.is_authenticated and user.is_active):
            return None
        roles.gate(request, user)
        return user


class Api(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        return roles.describe(super().get_openapi_schema(*args, **kwargs))


api = Api(
    title="Coopfunds API",
    version="1",
    description=(
        "Every request is authenticated with a personal API token (`Authorization: Bearer <token>`, create one "
        "under *API tokens* in the app) and acts with its owner's roles. Lists are keyset-paginated: follow "
        "`next`. Errors share one shape: `{code, message, fields}`. A 400 means the request does not match this "
        "document (a type, length, pattern, range or required field); a 422 means it does, but a rule of the "
        "program that a schema cannot state refuses it (a date in the past, an id that names nothing you can see, "
        "a cap, the state of the enrollment); `fields` names each field and why. Each operation names the roles that may call "
        "it (`x-roles`, and *Who may call* in its description); any other caller gets 403 `forbidden` before "
        "its input is read."
    ),
    auth=[TokenAuth(), ActiveSessionAuth()],
    urls_namespace="api",
)


def error(
    request: HttpRequest, status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, "fields": fields or {}}, status=status)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        fields = {name: [m for e in errs for m in e.messages] for name, errs in exc.error_dict.items()}
        general = fields.pop("__all__", [])
        message = "; ".join(general) or gettext("Some fields are not valid: %(fields)s.") % {
            "fields": ", ".join(sorted(fields))
        }
        return error(request, 422, "invalid", message, fields)
    return error(request, 422, "invalid", " ".join(exc.messages))


@api.exception_handler(SchemaValidationError)
def on_schema_error(request: HttpRequest, exc: SchemaValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for err in exc.errors:
        if "loc" not in err and "msg" not in err:  # e.g. the paginator's {"cursor": "Invalid Cursor"}
            for name, message in err.items():
                fields.setdefault(str(name), []).append(str(message))
            continue
        loc = [str(p) for p in err.get("loc", ())]
        if loc and loc[0] == "body" and len(loc) > 2:
            loc = loc[2:]  # ("body", <parameter name>, field, ...): the field is what the client sent
        elif loc and loc[0] in ("body", "form", "file", "query", "path", "header", "cookie"):
            loc = loc[1:]
        fields.setdefault(".".join(loc) or "__all__", []).append(_message(err))
    message = gettext("The request is not valid: %(fields)s.") % {"fields": ", ".join(sorted(fields))}
    return error(request, 400, "invalid", message, fields)


# pydantic's messages of the commonest kinds, to translate (in English pydantic's own words are kept as they are).
_SCHEMA_MESSAGES = {
    "missing": gettext_lazy("Field required"),
    "extra_forbidden": gettext_lazy("Extra inputs are not permitted"),
    "greater_than": gettext_lazy("Input should be greater than %(gt)s"),
    "greater_than_equal": gettext_lazy("Input should be greater than or equal to %(ge)s"),
    "less_than": gettext_lazy("Input should be less than %(lt)s"),
    "less_than_equal": gettext_lazy("Input should be less than or equal to %(le)s"),
    "string_type": gettext_lazy("Input should be a valid string"),
    "enum": gettext_lazy("Input should be %(expected)s"),
    "literal_error": gettext_lazy("Input should be %(expected)s"),
    "dict_type": gettext_lazy("Input should be a valid dictionary"),
    "model_attributes_type": gettext_lazy("Input should be a valid dictionary or object to extract fields from"),
    "list_type": gettext_lazy("Input should be a valid list"),
    "bool_type": gettext_lazy("Input should be a valid boolean"),
    "bool_parsing": gettext_lazy("Input should be a valid boolean, unable to interpret input"),
    "int_type": gettext_lazy("Input should be a valid integer"),
    "int_parsing": gettext_lazy("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": gettext_lazy("Input should be a valid integer, got a number with a fractional part"),
    "float_parsing": gettext_lazy("Input should be a valid number, unable to parse string as a number"),
    "decimal_parsing": gettext_lazy("Input should be a valid decimal"),
    "date_type": gettext_lazy("Input should be a valid date"),
}


def _schema_message(err: dict[str, Any]) -> str:
    """pydantic's message in the active language, for the kinds above; any other as pydantic wrote it."""
    kind, ctx, msg = err.get("type"), err.get("ctx") or {}, str(err.get("msg", "Invalid value."))
    if (translation.get_language() or "en").startswith("en"):
        return msg
    n = ctx.get("min_length" if kind == "string_too_short" else "max_length")
    if kind in ("string_too_short", "string_too_long") and isinstance(n, int):
        words = (
            ngettext("String should have at least %(n)s character", "String should have at least %(n)s characters", n)
            if kind == "string_too_short"
            else ngettext(
                "String should have at most %(n)s character", "String should have at most %(n)s characters", n
            )
        )
        return words % {"n": n}
    template = _SCHEMA_MESSAGES.get(str(kind))
    if template is None:
        return msg if "msg" in err else gettext("Invalid value.")
    try:
        return str(template) % {k: str(v) for k, v in ctx.items()}
    except (KeyError, TypeError, ValueError):
        return msg


def _message(err: dict[str, Any]) -> str:
    if err.get("type") == "string_pattern_mismatch":
        return pattern_message(err.get("ctx", {}).get("pattern"), str(err["msg"]))
    return _schema_message(err)


@api.exception_handler(PermissionDenied)
def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error(request, 403, "forbidden", str(exc) or gettext("You are not allowed to do this."))


@api.exception_handler(NotFound)
def on_not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return error(request, 404, exc.code, str(exc.message))


@api.exception_handler(Http404)
def on_http404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error(request, 404, "not_found", gettext("Not found."))


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return error(request, 409, exc.code, str(exc.message))


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error(request, 401, "unauthenticated", gettext("Send a valid API token: Authorization: Bearer <token>."))


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400 and str(exc) == "Cannot parse request body":  # ninja's word for malformed JSON
        return error(
            request,
            400,
            "invalid",
            gettext("The request body is not valid JSON."),
            {"body": [gettext("Not valid JSON.")]},
        )
    return error(request, exc.status_code, "error", str(exc))


def register_routers() -> None:
    from coopfunds.api import (
        accounts,
        associations,
        audit,
        budgets,
        claims,
        documents,
        enrollments,
        fund_requests,
        funds,
        notifications,
        payments,
        plans,
        programs,
        review,
        signin,
        webhooks,
    )

    api.add_router("", accounts.router)
    api.add_router("", signin.router)
    api.add_router("", programs.router)
    api.add_router("", enrollments.router)
    api.add_router("", funds.router)
    api.add_router("", budgets.router)
    api.add_router("", fund_requests.router)
    api.add_router("", documents.router)
    api.add_router("", associations.router)
    api.add_router("", plans.router)
    api.add_router("", payments.router)
    api.add_router("", claims.router)
    api.add_router("", review.router)
    api.add_router("", notifications.router)
    api.add_router("", audit.router)
    api.add_router("", webhooks.router)


register_routers()
