"""The domain's errors. Interfaces map them to responses in one place each (web forms, the API handler).

- `django.core.exceptions.ValidationError`: the user can correct it; messages name the field.
- `django.core.exceptions.PermissionDenied`: the actor may see the object but not do this.
- `NotFound`: the object does not exist *for this actor* (outsiders get 404, never 403).
- `Conflict`: the object is in a state that forbids the action (a workflow transition out of order,
  a duplicate that a unique constraint caught).
"""

from django.core.exceptions import PermissionDenied, ValidationError

__all__ = ["Conflict", "DomainError", "NotFound", "PermissionDenied", "ValidationError"]


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"
