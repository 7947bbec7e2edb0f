from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import include, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from coopfunds.api.api import api


def admin_login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin site's sign-in is the one sign-in page, with its second step and rules: the admin's own form
    (which signs in with a password alone) is never shown nor accepted."""
    wanted = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}):
        wanted = ""
    if request.user.is_authenticated:
        if not request.user.is_staff:
            raise PermissionDenied("The admin site is for staff accounts.")
        return redirect(wanted or "admin:index")
    return redirect_to_login(wanted or reverse("admin:index"), "login")


admin.site.login = admin_login  # type: ignore[method-assign,assignment]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("coopfunds.web.urls")),
]
