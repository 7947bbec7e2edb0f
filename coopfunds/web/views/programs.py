"""Web pages for programs (placeholder list pages: replace)."""

from django.http import HttpResponse
from django.urls import path


def placeholder(request):  # type: ignore[no-untyped-def]
    return HttpResponse("")


urlpatterns = [
    path("program_list/", placeholder, name="program_list"),
]
