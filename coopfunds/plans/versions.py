"""Plan versions: the copy that starts a new version, and what changed between two versions (matched by the
campaigns' and activities' keys), in words a reviewer reads."""

from dataclasses import dataclass
from typing import Any

from django.utils.formats import date_format, number_format
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy
from django_countries import countries

from coopfunds.core.db import assert_in_transaction
from coopfunds.plans.models import Campaign, Plan, PlanActivity, PlanVersion

CAMPAIGN_FIELDS: dict[str, Promise] = {
    "name": gettext_lazy("Name"),
    "start": pgettext_lazy("campaign field", "Start"),
    "end": pgettext_lazy("campaign field", "End"),
    "budget": gettext_lazy("Budget"),
    "description": gettext_lazy("Description"),
}
ACTIVITY_FIELDS: dict[str, Promise] = {
    "activity_type": gettext_lazy("Activity"),
    "countries": gettext_lazy("Countries"),
    "planned_amount": gettext_lazy("Planned amount"),
    "description": gettext_lazy("Description"),
    "expected_reach": gettext_lazy("Expected reach"),
}
# A change in words, by what changed and how ("Campaign “Autumn” added").
_SAID: dict[tuple[str, str], Promise] = {
    ("campaign", "added"): gettext_lazy("Campaign %(label)s added"),
    ("campaign", "removed"): gettext_lazy("Campaign %(label)s removed"),
    ("campaign", "changed"): gettext_lazy("Campaign %(label)s changed"),
    ("activity", "added"): gettext_lazy("Activity %(label)s added"),
    ("activity", "removed"): gettext_lazy("Activity %(label)s removed"),
    ("activity", "changed"): gettext_lazy("Activity %(label)s changed"),
}


def version_copy(*, plan: Plan, source: PlanVersion) -> PlanVersion:
    """A new version (the next number) with copies of `source`'s campaigns and activities, keys kept.
    A building block: call it inside the service's transaction."""
    assert_in_transaction()
    number = (
        PlanVersion.objects.filter(plan=plan).order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    version = PlanVersion.objects.create(plan=plan, number=number)
    campaigns = {}
    for campaign in Campaign.objects.filter(version=source).order_by("id"):
        campaigns[campaign.pk] = Campaign.objects.create(
            version=version,
            key=campaign.key,
            name=campaign.name,
            start=campaign.start,
            end=campaign.end,
            budget=campaign.budget,
            description=campaign.description,
            proof_warned_at=campaign.proof_warned_at,
        )
    PlanActivity.objects.bulk_create(
        [
            PlanActivity(
                version=version,
                campaign=campaigns[a.campaign_id],
                key=a.key,
                activity_type_id=a.activity_type_id,
                countries=a.countries,
                planned_amount=a.planned_amount,
                description=a.description,
                expected_reach=a.expected_reach,
            )
            for a in PlanActivity.objects.filter(version=source).order_by("id")
        ]
    )
    return version


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class Change:
    kind: str  # added, removed, changed
    what: str  # campaign, activity
    label: str
    fields: tuple[FieldChange, ...] = ()

    def __str__(self) -> str:
        head = str(_SAID[(self.what, self.kind)]) % {"label": self.label}
        if not self.fields:
            return head + "."
        return head + ": " + "; ".join(f"{f.label} {f.old} → {f.new}" for f in self.fields) + "."


def _shown(value: Any, field: str) -> str:
    if value is None or value == "":
        return "—"
    if field == "countries":
        return ", ".join(str(countries.name(code)) or code for code in value) or "—"
    if field == "activity_type":
        return value.name
    if hasattr(value, "strftime"):
        return date_format(value, "DATE_FORMAT")
    if isinstance(value, int) and field == "expected_reach":
        return number_format(value, force_grouping=True)
    return str(value)


def _fields(old: Any, new: Any, names: dict[str, Promise]) -> tuple[FieldChange, ...]:
    out = []
    for name, label in names.items():
        a, b = getattr(old, name), getattr(new, name)
        if name == "activity_type":
            a, b = old.activity_type, new.activity_type
            if a.pk == b.pk:
                continue
        elif a == b:
            continue
        out.append(FieldChange(str(label), _shown(a, name), _shown(b, name)))
    return tuple(out)


def _quoted(name: str) -> str:
    return gettext("“%(name)s”") % {"name": name}


def _activity_label(activity: PlanActivity) -> str:
    return gettext("“%(activity)s” in “%(campaign)s”") % {
        "activity": activity.activity_type.name,
        "campaign": activity.campaign.name,
    }


def version_changes(old: PlanVersion, new: PlanVersion) -> list[Change]:
    """What changed from `old` to `new`: campaigns, then activities, each added, removed or changed."""
    out: list[Change] = []
    before = {c.key: c for c in Campaign.objects.filter(version=old)}
    after = {c.key: c for c in Campaign.objects.filter(version=new)}
    for key, campaign in after.items():
        if key not in before:
            out.append(Change("added", "campaign", _quoted(campaign.name)))
        elif changed := _fields(before[key], campaign, CAMPAIGN_FIELDS):
            out.append(Change("changed", "campaign", _quoted(before[key].name), changed))
    out += [Change("removed", "campaign", _quoted(c.name)) for key, c in before.items() if key not in after]
    related = ("activity_type", "campaign")
    was = {a.key: a for a in PlanActivity.objects.filter(version=old).select_related(*related)}
    now = {a.key: a for a in PlanActivity.objects.filter(version=new).select_related(*related)}
    for key, activity in now.items():
        if key not in was:
            out.append(Change("added", "activity", _activity_label(activity)))
        elif changed := _fields(was[key], activity, ACTIVITY_FIELDS):
            out.append(Change("changed", "activity", _activity_label(was[key]), changed))
    out += [Change("removed", "activity", _activity_label(a)) for key, a in was.items() if key not in now]
    return out
