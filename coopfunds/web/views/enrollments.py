"""Web pages for enrollments (placeholder list pages: replace)."""

from django.http import HttpResponse
from django.urls import path


def placeholder(request):  # type: ignore[no-untyped-def]
    return HttpResponse("")


urlpatterns = [
    path("enrollment_list/", placeholder, name="enrollment_list"),
]
