"""Helpers shared by the plan pages, the plans' review pages and the proof of execution pages."""

from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from coopfunds.accounts.models import User
from coopfunds.accounts.permissions import is_vendor_staff
from coopfunds.plans import checks
from coopfunds.plans.models import Campaign, Plan, PlanEvent, PlanStatus, ProofStatus

TIMELINE_PAGE_SIZE = 50


def user_of(request: HttpRequest) -> User:
    return cast(User, request.user)  # every view is @login_required


def is_htmx(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request  # type: ignore[union-attr]


def require(allowed: bool, message: str | Promise) -> None:
    if not allowed:
        raise PermissionDenied(str(message))


def staff(request: HttpRequest) -> User:
    """The review pages are for vendor staff; to anyone else they do not exist."""
    user = user_of(request)
    if not is_vendor_staff(user):
        raise Http404("Not found")
    return user


def timeline_events(page: Page) -> list[tuple[Any, str, str, list[tuple[Any, str]]]]:
    """(event, old status, new status, [(reason, what it is about)]) for the timeline."""
    labels = dict(PlanStatus.choices) | dict(ProofStatus.choices)
    out = []
    for e in page.object_list:
        reasons = []
        for r in e.reasons.all():
            if r.activity_id:
                about = _("activity “%(name)s”") % {"name": r.activity.activity_type.name}
            elif r.campaign_id:
                about = _("campaign “%(name)s”") % {"name": r.campaign.name}
            elif r.field:
                about = _("field: %(field)s") % {"field": r.field.replace("_", " ")}
            else:
                about = ""
            reasons.append((r, about))
        out.append((e, str(labels.get(e.old_status, "")), str(labels.get(e.new_status, "")), reasons))
    return out


def history(request: HttpRequest, events: QuerySet[PlanEvent]) -> dict[str, Any]:
    """A page of the history for the timeline template."""
    page = Paginator(events, TIMELINE_PAGE_SIZE).get_page(request.GET.get("page"))
    return {"page": page, "events": timeline_events(page), "querystring_prefix": ""}


def checker_context(plan: Plan, campaigns: list[Campaign], vendor: bool) -> dict[str, Any]:
    today = timezone.localdate()
    found = checks.plan_findings(plan, plan.current, today, campaigns=campaigns)
    return {
        "totals": checks.plan_totals(plan, plan.current, campaigns),
        "findings": [(f, f.for_reviewer() if vendor else f.message) for f in found],
        "blocking": len(checks.blocking(found)),
        "by_place": by_place(found, vendor),
    }


def by_place(found: list[checks.Finding], vendor: bool) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in found:
        out.setdefault(f.field, []).append(f.for_reviewer() if vendor else f.message)
    return out
