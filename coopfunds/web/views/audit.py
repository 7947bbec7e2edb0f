"""The auditor's audit log: search every recorded action and export all that matches (auditors and program
managers; anyone else gets 404)."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET

from coopfunds.accounts.models import User
from coopfunds.accounts.permissions import can_read_audit_log
from coopfunds.audit.models import AuditEvent
from coopfunds.audit.selectors import audit_csv_lines, audit_search, audit_search_of

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    actor = forms.CharField(
        label=gettext_lazy("Who"), required=False, help_text=gettext_lazy("Part of an email, or system.")
    )
    verb = forms.CharField(
        label=gettext_lazy("Action"), required=False, help_text=gettext_lazy("e.g. claim.approve, or claim. for all.")
    )
    target_type = forms.CharField(
        label=gettext_lazy("Object type"), required=False, help_text=gettext_lazy("e.g. claims.claim.")
    )
    target_id = forms.CharField(label=gettext_lazy("Object id"), required=False)
    text = forms.CharField(
        label=gettext_lazy("Text"), required=False, help_text=gettext_lazy("In the object's name or the reason.")
    )
    since = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", gettext("The last day comes on or after the first."))
        return data


def _reader(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]  # @login_required
    if not can_read_audit_log(user):
        raise Http404("Not found")
    return user


def _search(form: AuditFilterForm) -> QuerySet[AuditEvent]:
    return audit_search_of(form.cleaned_data)


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    _reader(request)
    form = AuditFilterForm(request.GET or None)
    rows = AuditEvent.objects.none()
    if form.is_bound and form.is_valid():
        rows = _search(form)
    elif not form.is_bound:
        rows = audit_search()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "web/audit/list.html", {"form": form, "page": page})


@login_required
@require_GET
def audit_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """Every matching row, streamed as it is read."""
    _reader(request)
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(request, "web/audit/list.html", {"form": form, "page": None}, status=400)
    rows = _search(form) if form.is_bound else audit_search()
    response = StreamingHttpResponse(audit_csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="coopfunds-audit-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


urlpatterns = [
    path("audit/", audit_list, name="audit_list"),
    path("audit/export.csv", audit_csv, name="audit_csv"),
]
