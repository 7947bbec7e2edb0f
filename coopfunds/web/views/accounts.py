"""Web pages for accounts (placeholder list pages: replace)."""

from django.http import HttpResponse
from django.urls import path


def placeholder(request):  # type: ignore[no-untyped-def]
    return HttpResponse("")


urlpatterns = [
    path("partner_list/", placeholder, name="partner_list"),
    path("location_list/", placeholder, name="location_list"),
    path("user_list/", placeholder, name="user_list"),
    path("token_list/", placeholder, name="token_list"),
]
