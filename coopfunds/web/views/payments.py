"""Web pages for payments (to be built)."""

urlpatterns: list = []
