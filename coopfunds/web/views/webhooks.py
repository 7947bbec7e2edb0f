"""Webhook endpoints for program managers: register one (its secret shown once), choose its events, rotate its
secret, read its delivery log and redeliver."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from coopfunds.accounts.models import User
from coopfunds.web.views.common import add_errors, not_found_as_404
from coopfunds.webhooks import selectors, services
from coopfunds.webhooks.models import EventKind

PAGE_SIZE = 50


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("Address"), required=False, help_text=gettext_lazy("https://… where events are POSTed.")
    )
    kinds = forms.MultipleChoiceField(
        label=gettext_lazy("Events"), choices=EventKind.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    description = forms.CharField(label=gettext_lazy("Description"), required=False)


class EndpointEditForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label=gettext_lazy("Events"), choices=EventKind.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    is_active = forms.BooleanField(label=pgettext_lazy("webhook", "Active"), required=False)


def _manager(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]  # @login_required
    if not services.can_manage_webhooks(user):
        raise Http404("Not found")
    return user


@login_required
@require_http_methods(["GET", "POST"])
def webhook_list(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    form = EndpointForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            endpoint, secret = services.endpoint_create(
                url=data["url"], kinds=data["kinds"], description=data["description"], actor=user
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request, _("Endpoint %(url)s registered. Copy its signing secret now.") % {"url": endpoint.url}
            )
            form = EndpointForm()
    page = Paginator(selectors.endpoints_for(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/webhooks/list.html", {"form": form, "page": page, "secret": secret})


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _manager(request)
    endpoint = selectors.endpoint_for(user, pk)
    form = EndpointEditForm(request.POST or None, initial={"kinds": endpoint.kinds, "is_active": endpoint.is_active})
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(
                endpoint=endpoint,
                actor=user,
                kinds=form.cleaned_data["kinds"],
                is_active=form.cleaned_data["is_active"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("webhook_detail", pk=endpoint.pk)
    page = Paginator(selectors.deliveries_of(endpoint), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/webhooks/detail.html", {"endpoint": endpoint, "form": form, "page": page})


@login_required
@require_POST
@not_found_as_404
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    user = _manager(request)
    endpoint = selectors.endpoint_for(user, pk)
    secret = services.endpoint_rotate_secret(endpoint=endpoint, actor=user)
    endpoint.refresh_from_db()
    page = Paginator(selectors.deliveries_of(endpoint), PAGE_SIZE).get_page(1)
    messages.success(request, _("New signing secret made; the old one still signs for 24 hours. Copy it now."))
    form = EndpointEditForm(initial={"kinds": endpoint.kinds, "is_active": endpoint.is_active})
    return render(
        request, "web/webhooks/detail.html", {"endpoint": endpoint, "form": form, "page": page, "secret": secret}
    )


@login_required
@require_POST
@not_found_as_404
def webhook_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    user = _manager(request)
    delivery = selectors.delivery_for(user, pk)
    services.delivery_redeliver(delivery=delivery, actor=user)
    messages.success(request, _("Delivery %(pk)s will be sent again within a minute.") % {"pk": delivery.pk})
    return redirect("webhook_detail", pk=delivery.endpoint_id)


urlpatterns = [
    path("webhooks/", webhook_list, name="webhook_list"),
    path("webhooks/<int:pk>/", webhook_detail, name="webhook_detail"),
    path("webhooks/<int:pk>/rotate/", webhook_rotate, name="webhook_rotate"),
    path("webhooks/deliveries/<int:pk>/redeliver/", webhook_redeliver, name="webhook_redeliver"),
]
