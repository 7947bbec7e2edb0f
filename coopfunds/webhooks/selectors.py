from django.db.models import QuerySet
from django.utils.translation import gettext as _

from coopfunds.accounts.models import User
from coopfunds.core.errors import NotFound
from coopfunds.webhooks.models import Delivery, Endpoint
from coopfunds.webhooks.services import can_manage_webhooks


def endpoints_for(user: User) -> QuerySet[Endpoint]:
    return Endpoint.objects.all() if can_manage_webhooks(user) else Endpoint.objects.none()


def endpoint_for(user: User, pk: int) -> Endpoint:
    endpoint = endpoints_for(user).filter(pk=pk).first()
    if endpoint is None:
        raise NotFound(_("No such webhook endpoint."))
    return endpoint


def deliveries_of(endpoint: Endpoint) -> QuerySet[Delivery]:
    return Delivery.objects.filter(endpoint=endpoint).order_by("-id")


def delivery_for(user: User, pk: int) -> Delivery:
    delivery = Delivery.objects.filter(pk=pk, endpoint__in=endpoints_for(user)).select_related("endpoint").first()
    if delivery is None:
        raise NotFound(_("No such delivery."))
    return delivery
