from typing import cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from coopfunds.accounts import permissions
from coopfunds.accounts.models import User
from coopfunds.enrollments import selectors as enrollment_selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Partner home: my enrollments and what needs my action. Vendor home: the queues that need the vendor."""
    user = cast(User, request.user)
    if permissions.is_vendor_staff(user):
        return render(request, "web/home_vendor.html", enrollment_selectors.vendor_home(user))
    return render(request, "web/home_partner.html", enrollment_selectors.partner_home(user))
