"""Document download and preview (to be built)."""

urlpatterns: list = []
