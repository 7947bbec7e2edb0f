"""Web pages for associations (to be built)."""

urlpatterns: list = []
