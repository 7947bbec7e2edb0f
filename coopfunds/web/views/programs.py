"""Web pages for programs (to be built)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
