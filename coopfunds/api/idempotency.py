"""`Idempotency-Key` for the API's state-changing POSTs (docs/adr/0004-api-idempotency.md).

Put `@decorate_view(idempotent)` under the operation's `@router.post(...)`. A request without the header runs
as usual. With it, the first request with a key runs and, if it succeeds (2xx), its status and body are kept;
a retry with the same key (same user, endpoint and body) gets that response back, marked with the header
`Idempotent-Replayed: true`, and nothing runs again. The same key with another endpoint or body is 409
`idempotency_key_reused`; a retry while the first request still runs is 409 `idempotency_request_in_progress`.
A request that fails (4xx, 5xx) keeps nothing, so the client may fix it and retry with the same key."""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from ninja.params import HeaderEx, P

from coopfunds.accounts.models import User
from coopfunds.accounts.selectors import user_for_api_token
from coopfunds.core.models import IdempotentRequest

HEADER = "Idempotency-Key"
MAX_KEY = 200
# A first request that has not finished after this long is taken as lost (its process died); a retry runs.
ABANDONED_AFTER = timedelta(minutes=5)
KEPT_FOR = timedelta(days=7)

# Declared on each wrapped operation so that the OpenAPI document shows the header (the wrapper reads it).
IdempotencyKey = HeaderEx[
    str | None,
    P(
        alias=HEADER,
        max_length=MAX_KEY,
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


def _claim(user: User, key: str, endpoint: str, print_: str) -> IdempotentRequest | HttpResponse:
    """Start a new request under `key`, or answer from (or refuse because of) an earlier one."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return IdempotentRequest.objects.create(user=user, key=key, endpoint=endpoint, fingerprint=print_)
    except IntegrityError:
        pass
    earlier = IdempotentRequest.objects.get(user=user, key=key)
    if earlier.endpoint != endpoint or earlier.fingerprint != print_:
        return _error(
            409,
            "idempotency_key_reused",
            f"This Idempotency-Key was already used for another request ({earlier.endpoint}) or with another body; "
            "use a new key for a new request.",
        )
    if earlier.status_code is not None:
        replay = HttpResponse(earlier.body, status=earlier.status_code, content_type=earlier.content_type)
        replay["Idempotent-Replayed"] = "true"
        return replay
    if now - earlier.created_at < ABANDONED_AFTER:
        return _error(
            409,
            "idempotency_request_in_progress",
            "A request with this Idempotency-Key is still being processed; retry in a moment.",
        )
    taken = IdempotentRequest.objects.filter(pk=earlier.pk, status_code__isnull=True, created_at=earlier.created_at)
    if not taken.update(created_at=now):  # someone else took the abandoned request over first
        return _error(409, "idempotency_request_in_progress", "A request with this Idempotency-Key is being retried.")
    earlier.created_at = now
    return earlier


def _finish(record: IdempotentRequest, response: HttpResponseBase) -> None:
    if 200 <= response.status_code < 300 and isinstance(response, HttpResponse):
        IdempotentRequest.objects.filter(pk=record.pk).update(
            status_code=response.status_code,
            content_type=response.get("Content-Type", ""),
            body=response.content.decode(response.charset or "utf-8"),
            completed_at=timezone.now(),
        )
    else:
        IdempotentRequest.objects.filter(pk=record.pk, status_code__isnull=True).delete()


def idempotent(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Wraps a ninja operation (through `ninja.decorators.decorate_view`)."""

    @wraps(run)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        key = request.headers.get(HEADER)
        if key is None:
            return run(request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > MAX_KEY or not key.isprintable():
            return _error(
                400,
                "invalid",
                "The Idempotency-Key header is not valid.",
                {HEADER: [f"Send 1 to {MAX_KEY} printable characters, e.g. a UUID."]},
            )
        user = _caller(request)
        if user is None:
            return run(request, *args, **kwargs)  # the operation answers 401
        found = _claim(user, key, f"{request.method} {request.path}", fingerprint(request))
        if isinstance(found, HttpResponse):
            return found
        try:
            response = run(request, *args, **kwargs)
        except BaseException:
            _finish(found, HttpResponse(status=500))
            raise
        _finish(found, response)
        return response

    return wrapped


def idempotent_requests_purge(*, older_than: timedelta = KEPT_FOR) -> int:
    """Forget keys older than `older_than` (a retry after that acts again). Returns how many were deleted."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
