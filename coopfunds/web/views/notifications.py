"""The notifications inbox: what asks for the user's action or tells them of a decision, newest first.
Everyone sees only their own notifications (anyone else's is 404)."""

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coopfunds.accounts.models import User
from coopfunds.notifications.models import NotificationKind
from coopfunds.notifications.selectors import notifications_of, unread_count
from coopfunds.notifications.services import email_settings_of, email_settings_update, notifications_mark_read
from coopfunds.web.views.common import add_errors

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
        return HttpResponseBadRequest(gettext("Notification ids are whole numbers."))
    ids = [int(pk) for pk in chosen] or None
    count = notifications_mark_read(user=user, ids=ids)
    messages.success(
        request,
        ngettext("%(n)s notification marked as read.", "%(n)s notifications marked as read.", count) % {"n": count},
    )
    return redirect("notification_list")


class EmailSettingsForm(forms.Form):
    emailed = forms.MultipleChoiceField(
        label=gettext_lazy("Also email me about"),
        choices=NotificationKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("Every notification is in this inbox; the ones you leave unticked are not emailed."),
    )
    weekly_digest = forms.BooleanField(label=gettext_lazy("One weekly digest instead of an email each"), required=False)


@login_required
@require_http_methods(["GET", "POST"])
def email_settings(request: HttpRequest) -> HttpResponse:
    """Which notifications also reach the user by email, and whether as a weekly digest."""
    user = _user(request)
    current = email_settings_of(user)
    initial = {
        "emailed": [k for k in NotificationKind.values if k not in current.muted],
        "weekly_digest": current.weekly_digest,
    }
    form = EmailSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        emailed = set(form.cleaned_data["emailed"])
        try:
            email_settings_update(
                user=user,
                muted=[k for k in NotificationKind.values if k not in emailed],
                weekly_digest=form.cleaned_data["weekly_digest"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, gettext("Your email settings are saved."))
            return redirect("notification_list")
    return render(request, "web/notifications/settings.html", {"form": form})


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
    path("notifications/settings/", email_settings, name="notification_settings"),
]
