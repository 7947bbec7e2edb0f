"""`Idempotency-Key` for the API's state-changing POSTs (docs/adr/0004-api-idempotency.md).

Put `@decorate_view(idempotent)` under the operation's `@router.post(...)`. A request without the header runs
as usual. With it, the request runs in one transaction together with its key's record: the record is inserted
first, the operation's services join that transaction, and the response (if 2xx) is stored in it before it
commits. So the key and the effect commit together or not at all: a retry after any crash either finds the
stored response and gets it back (`Idempotent-Replayed: true`, nothing runs again) or finds nothing and runs
once. A retry while the first request still runs waits for it (the database holds its insert until the first
commits or dies) and then replays its answer; after `WAIT_SECONDS` it is 409 `idempotency_request_in_progress`.
The same key with another endpoint or body is 409 `idempotency_key_reused`. A request that fails (4xx, 5xx)
keeps nothing, so the client may fix it and retry with the same key."""

import hashlib
import json
import re
from collections.abc import Callable
from contextlib import nullcontext
from datetime import timedelta
from functools import wraps
from typing import Any

from django.db import IntegrityError, OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy
from ninja.params import HeaderEx, P

from coopfunds.accounts.models import User
from coopfunds.accounts.selectors import user_for_api_token
from coopfunds.api.common import PATTERN_MESSAGES, pattern_message
from coopfunds.core.models import IdempotentRequest

HEADER = "Idempotency-Key"
MAX_KEY = 200
PATTERN = r"^[!-~]{1,200}$"  # 1 to 200 visible ASCII characters (no spaces): what a header carries safely
PATTERN_MESSAGES[PATTERN] = gettext_lazy("Send 1 to 200 visible ASCII characters without spaces, e.g. a UUID.")
# How long a retry waits for the first request with its key to finish (then: 409 in progress). A first request
# whose process died is over at once: its transaction, the key's record with it, is gone with its connection.
WAIT_SECONDS = 10
KEPT_FOR = timedelta(days=7)

# Declared on each wrapped operation so that the OpenAPI document shows the header (the wrapper reads it).
IdempotencyKey = HeaderEx[
    str | None,
    P(
        alias=HEADER,
        min_length=1,
        max_length=MAX_KEY,
        pattern=PATTERN,
        description="Optional: a unique key (a UUID) per action. A retry with the same key and body returns the "
        "first response without acting again; the same key with another body is 409 idempotency_key_reused.",
    ),
]


def _error(status: int, code: str, message: str, fields: dict[str, list[str]] | None = None) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "fields": fields or {}}, status=status)


def _caller(request: HttpRequest) -> User | None:
    """Who sends the request, as the API's authentication will decide (None: it will answer 401)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return user_for_api_token(header[7:].strip())
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated and user.is_active else None  # type: ignore[return-value]


def _language_of(user: User | None) -> Any:
    """The caller's chosen language while answering (none chosen, or no caller: the request's)."""
    return translation.override(user.language) if user is not None and user.language else nullcontext()


def fingerprint(request: HttpRequest) -> str:
    """SHA-256 of what the request carries: the raw body, or for multipart the fields and each file's bytes."""
    digest = hashlib.sha256()
    if request.content_type == "multipart/form-data":
        fields = sorted((name, values) for name, values in request.POST.lists())
        digest.update(json.dumps(fields).encode())
        for name, files in sorted(request.FILES.lists(), key=lambda item: item[0]):
            for upload in files:
                digest.update(f"\0{name}\0{upload.name}\0{upload.size}\0".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _earlier(user: User, key: str, endpoint: str, print_: str) -> HttpResponse | None:
    """The answer for a key already used (a replay, or a refusal); None: the key is free (again)."""
    earlier = IdempotentRequest.objects.filter(user=user, key=key).first()
    if earlier is None:
        return None
    if earlier.endpoint != endpoint or earlier.fingerprint != print_:
        with _language_of(user):  # answered before the API reads the token: in its owner's language
            return _error(
                409,
                "idempotency_key_reused",
                gettext(
                    "This Idempotency-Key was already used for another request (%(endpoint)s) or with another body; "
                    "use a new key for a new request."
                )
                % {"endpoint": earlier.endpoint},
            )
    if earlier.status_code is None:
        # left "in progress" by the previous design, which stored the key apart from the effect: nothing waits
        # for it any more, so it was abandoned; run the request again (every transition re-checks its state)
        earlier.delete()
        return None
    replay = HttpResponse(earlier.body, status=earlier.status_code, content_type=earlier.content_type)
    replay["Idempotent-Replayed"] = "true"
    return replay


def _busy(user: User) -> JsonResponse:
    with _language_of(user):
        return _error(
            409,
            "idempotency_request_in_progress",
            gettext("A request with this Idempotency-Key is still being processed; retry in a moment."),
        )


def _run_once(
    request: HttpRequest, user: User, key: str, run: Callable[..., HttpResponseBase], *args: Any, **kwargs: Any
) -> HttpResponseBase:
    endpoint, print_ = f"{request.method} {request.path}", fingerprint(request)
    with transaction.atomic():
        # The operation's services open durable transactions of their own; here they join this one (as they do
        # inside a test case), so that the key's record commits with their effect.
        connection.atomic_blocks[-1]._from_testcase = True  # type: ignore[attr-defined]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # how long a retry waits for a first request still running
                cursor.execute(f"SET LOCAL lock_timeout = '{WAIT_SECONDS}s'")
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(user=user, key=key, endpoint=endpoint, fingerprint=print_)
        except IntegrityError:
            answer = _earlier(user, key, endpoint, print_)
            if answer is not None:
                return answer
            with transaction.atomic():
                record = IdempotentRequest.objects.create(user=user, key=key, endpoint=endpoint, fingerprint=print_)
        except OperationalError:
            transaction.set_rollback(True)
            return _busy(user)
        response = run(request, *args, **kwargs)
        if 200 <= response.status_code < 300 and isinstance(response, HttpResponse):
            IdempotentRequest.objects.filter(pk=record.pk).update(
                status_code=response.status_code,
                content_type=response.get("Content-Type", ""),
                body=response.content.decode(response.charset or "utf-8"),
                completed_at=timezone.now(),
            )
        else:
            transaction.set_rollback(True)  # a refusal keeps nothing: neither the key nor any write
        return response


def idempotent(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Wraps a ninja operation (through `ninja.decorators.decorate_view`)."""

    @wraps(run)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        key = request.headers.get(HEADER)
        if key is None:
            return run(request, *args, **kwargs)
        key = key.strip()
        if re.fullmatch(PATTERN, key) is None:
            # answered before the API reads the token: in its owner's language, as the API's own answers are
            with _language_of(_caller(request)):
                return _error(
                    400,
                    "invalid",
                    gettext("The Idempotency-Key header is not valid."),
                    {HEADER: [pattern_message(PATTERN)]},
                )
        user = _caller(request)
        if user is None:
            return run(request, *args, **kwargs)  # the operation answers 401
        try:
            return _run_once(request, user, key, run, *args, **kwargs)
        except OperationalError:
            return _busy(user)  # SQLite: the first request still holds the database's write lock

    return wrapped


def idempotent_requests_purge(*, older_than: timedelta = KEPT_FOR) -> int:
    """Forget keys older than `older_than` (a retry after that acts again). Returns how many were deleted."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
