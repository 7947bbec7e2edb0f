"""API for the audit log: search, and a complete export (auditors and program managers)."""

from datetime import date, datetime
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from coopfunds.accounts.models import User
from coopfunds.accounts.permissions import can_read_audit_log
from coopfunds.api.common import ERRORS, Keyset
from coopfunds.audit.models import AuditEvent
from coopfunds.audit.selectors import audit_csv_lines, audit_search_of

router = Router(tags=["audit"])


def _reader(request: HttpRequest) -> User:
    user = cast(User, request.auth)  # type: ignore[attr-defined]  # every endpoint is authenticated
    if not can_read_audit_log(user):
        raise PermissionDenied(gettext("Only auditors and program managers read the audit log."))
    return user


class AuditEventOut(Schema):
    id: int
    created_at: datetime
    actor: str = Field(..., description="The actor's email, or system.")
    verb: str
    target_type: str
    target_id: str
    target: str
    organisation_id: int | None
    changes: dict[str, Any] = Field(..., description="{field: [old, new]}")
    reason: str
    seal_seq: int | None = Field(..., description="Its place in the hash chain; null until it is sealed.")
    seal_hash: str

    @staticmethod
    def resolve_actor(obj: AuditEvent) -> str:
        return obj.actor_label

    @staticmethod
    def resolve_target(obj: AuditEvent) -> str:
        return obj.target_repr


class AuditQuery(Schema):
    actor: str = Field("", max_length=254, description="Part of the actor's email, or system.")
    verb: str = Field("", max_length=64, description="A verb (claim.approve) or its prefix ending in a dot (claim.).")
    target_type: str = Field("", max_length=64, description="app_label.model, e.g. claims.claim.")
    target_id: str = Field("", max_length=64)
    text: str = Field("", max_length=200, description="Part of the object's name or of the reason.")
    since: date | None = Field(None, description="From this day (site's clock), included.")
    until: date | None = Field(None, description="To this day, included.")

    def search(self) -> QuerySet[AuditEvent]:
        if self.since and self.until and self.since > self.until:
            raise ValidationError({"until": gettext("The last day comes on or after the first.")})
        return audit_search_of(self.model_dump())


@router.get("/audit-events", response={200: list[AuditEventOut], **ERRORS})
@paginate(Keyset, ordering=("-id",))
def audit_event_list(request: HttpRequest, filters: Query[AuditQuery]) -> QuerySet[AuditEvent]:
    """Audit rows that match, newest first."""
    _reader(request)
    return filters.search()


@router.get(
    "/audit-events/export",
    response={200: None, **ERRORS},
    openapi_extra={"responses": {"200": {"description": "Every matching row, as CSV", "content": {"text/csv": {}}}}},
)
def audit_event_export(request: HttpRequest, filters: Query[AuditQuery]) -> StreamingHttpResponse:
    """Every matching row as CSV (ISO times in UTC, changes as JSON), streamed: the export is always complete."""
    _reader(request)
    response = StreamingHttpResponse(audit_csv_lines(filters.search()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="coopfunds-audit-{timezone.localdate():%Y-%m-%d}.csv"'
    return response
