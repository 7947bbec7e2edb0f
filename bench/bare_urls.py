from django.http import HttpRequest, HttpResponse
from django.urls import path

from coopfunds.accounts.models import Location


def bare_location(request: HttpRequest, pk: int) -> HttpResponse:
    """The same database read as the API endpoint, with nothing around it."""
    location = Location.objects.select_related("organisation").get(pk=pk)
    return HttpResponse(f"{location.pk} {location.partner_id} {location.name} {location.country}")


urlpatterns = [path("bare/locations/<int:pk>", bare_location)]
