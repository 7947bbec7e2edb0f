from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path

from coopfunds.api.api import api

# The admin site signs people in through the one sign-in page, with its second step and its rules.
admin.site.login = login_required(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("coopfunds.web.urls")),
]
