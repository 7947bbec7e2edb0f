"""Web pages for enrollments (to be built)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
