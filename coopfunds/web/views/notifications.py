"""The notifications inbox: what asks for the user's action or tells them of a decision, newest first.
Everyone sees only their own notifications (anyone else's is 404)."""

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from coopfunds.accounts.models import User
from coopfunds.notifications.selectors import notifications_of, unread_count
from coopfunds.notifications.services import notifications_mark_read

PAGE_SIZE = 25


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # every view is @login_required


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    unread_only = request.GET.get("unread") == "1"
    items = notifications_of(user)
    if unread_only:
        items = items.filter(read_at__isnull=True)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "unread": unread_count(user),
        "unread_only": unread_only,
        "querystring_prefix": "unread=1&" if unread_only else "",
    }
    return render(request, "web/notifications/list.html", context)


@login_required
@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    """Mark the chosen notifications read (`id`, repeated), or all of them when none is chosen."""
    user = _user(request)
    chosen = request.POST.getlist("id")
    if not all(pk.isdigit() for pk in chosen):
        return HttpResponseBadRequest("Notification ids are whole numbers.")
    ids = [int(pk) for pk in chosen] or None
    count = notifications_mark_read(user=user, ids=ids)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked as read.")
    return redirect("notification_list")


@login_required
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read and go to the page it is about."""
    user = _user(request)
    notification = notifications_of(user).filter(pk=pk).first()
    if notification is None:
        raise Http404("Not found")
    notifications_mark_read(user=user, ids=[notification.pk])
    link = notification.link
    if link.startswith("/") and url_has_allowed_host_and_scheme(link, {request.get_host()}):
        return redirect(link)
    return redirect("notification_list")


urlpatterns = [
    path("notifications/", notification_list, name="notification_list"),
    path("notifications/read/", notification_read, name="notification_read"),
    path("notifications/<int:pk>/open/", notification_open, name="notification_open"),
]
