"""API for webhook endpoints and their delivery log (program managers). Payloads and signatures:
docs/webhooks.md."""

from datetime import datetime
from typing import Any, cast

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from coopfunds.accounts.models import User
from coopfunds.api.common import ERRORS, Id, Keyset
from coopfunds.webhooks import selectors, services
from coopfunds.webhooks.models import Delivery, DeliveryStatus, Endpoint, EventKind

router = Router(tags=["webhooks"])


def _actor(request: HttpRequest) -> User:
    return cast(User, request.auth)  # type: ignore[attr-defined]  # every endpoint is authenticated


class EndpointOut(Schema):
    id: int
    url: str
    kinds: list[EventKind]
    description: str
    is_active: bool
    created_at: datetime
    previous_secret_until: datetime | None = Field(
        None, description="While set, deliveries also carry a signature by the previous secret."
    )

    @staticmethod
    def resolve_previous_secret_until(obj: Endpoint) -> datetime | None:
        return obj.previous_until


class EndpointCreatedOut(EndpointOut):
    secret: str = Field(..., description="The signing secret: shown this once.")


class EndpointIn(Schema):
    url: str = Field(..., max_length=500, description="https:// address events are POSTed to.")
    kinds: list[EventKind] = Field(..., min_length=1)
    description: str = Field("", max_length=200)


class EndpointPatchIn(Schema):
    kinds: list[EventKind] = Field(..., min_length=1)
    is_active: bool


class SecretOut(Schema):
    secret: str = Field(..., description="The new signing secret: shown this once; the old one signs for 24 hours.")


class DeliveryOut(Schema):
    id: int
    event_id: int = Field(..., description="The event's id: the same in every endpoint's delivery of it.")
    kind: EventKind
    event: str
    payload: dict[str, Any] = Field(..., description="The body POSTed (docs/webhooks.md).")
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime


@router.get("/webhooks", response={200: list[EndpointOut], **ERRORS})
@paginate(Keyset, ordering=("-id",))
def webhook_list(request: HttpRequest) -> Any:
    """The vendor's webhook endpoints, newest first."""
    return selectors.endpoints_for(_actor(request))


@router.post("/webhooks", response={201: EndpointCreatedOut, **ERRORS})
def webhook_create(request: HttpRequest, data: EndpointIn) -> Any:
    """Register an endpoint for some kinds of event; the answer holds its signing secret, this once."""
    endpoint, secret = services.endpoint_create(
        url=data.url, kinds=list(data.kinds), description=data.description, actor=_actor(request)
    )
    return Status(201, {**EndpointOut.from_orm(endpoint).model_dump(), "secret": secret})


@router.patch("/webhooks/{endpoint_id}", response={200: EndpointOut, **ERRORS})
def webhook_update(request: HttpRequest, endpoint_id: Id, data: EndpointPatchIn) -> Any:
    """Choose an endpoint's events, or switch it off and on."""
    user = _actor(request)
    endpoint = selectors.endpoint_for(user, endpoint_id)
    return services.endpoint_update(endpoint=endpoint, actor=user, kinds=list(data.kinds), is_active=data.is_active)


@router.post("/webhooks/{endpoint_id}/rotate-secret", response={200: SecretOut, **ERRORS})
def webhook_rotate_secret(request: HttpRequest, endpoint_id: Id) -> dict[str, str]:
    """A new signing secret; for 24 hours deliveries carry a signature by each."""
    user = _actor(request)
    endpoint = selectors.endpoint_for(user, endpoint_id)
    return {"secret": services.endpoint_rotate_secret(endpoint=endpoint, actor=user)}


@router.get("/webhooks/{endpoint_id}/deliveries", response={200: list[DeliveryOut], **ERRORS})
@paginate(Keyset, ordering=("-id",))
def webhook_deliveries(request: HttpRequest, endpoint_id: Id) -> Any:
    """The endpoint's delivery log, newest first: each event's attempts, last answer and state."""
    return selectors.deliveries_of(selectors.endpoint_for(_actor(request), endpoint_id))


@router.post("/webhook-deliveries/{delivery_id}/redeliver", response={200: DeliveryOut, **ERRORS})
def webhook_redeliver(request: HttpRequest, delivery_id: Id) -> Delivery:
    """Send a delivery again, at the next run (within a minute)."""
    user = _actor(request)
    return services.delivery_redeliver(delivery=selectors.delivery_for(user, delivery_id), actor=user)
