"""Web pages for accounts (to be built)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
