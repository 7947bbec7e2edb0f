"""Web pages for plans (to be built)."""

urlpatterns: list = []
