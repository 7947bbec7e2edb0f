"""Web pages for funds (to be built)."""

urlpatterns: list = []
