"""Reads of customer associations, scoped to what the user may see; the reviewers' queue and clock; who else
claims the same customer; and the checks the earnings import makes (`association_in_force`,
`customers_in_force`). Outsiders get NotFound (404), never a hint that a row exists."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from coopfunds.accounts import permissions as account_permissions
from coopfunds.accounts.models import PARTNER_ROLES, Location, User
from coopfunds.accounts.selectors import visible_to
from coopfunds.associations import permissions
from coopfunds.associations.customers import customer_reference_key
from coopfunds.associations.models import (
    AWAITING_REVIEW,
    HOLDING,
    OPEN,
    Association,
    AssociationEvent,
    AssociationItem,
    AssociationOption,
    AssociationPolicy,
    ItemKind,
    OptionKind,
)
from coopfunds.core.errors import NotFound
from coopfunds.enrollments.models import ENDED, Enrollment
from coopfunds.programs import periods
from coopfunds.programs.models import Program
from coopfunds.programs.selectors import programs_visible_to

# --------------------------------------------------------------------------------------------- visibility


def associations_visible_to(user: User) -> QuerySet[Association]:
    """Vendor staff: every association. Partner users: those of the locations (and programs) their roles cover."""
    return visible_to(
        user, Association.objects.select_related("location__organisation", "program", "proof", "reviewer")
    )


def association_for(user: User, pk: int) -> Association:
    try:
        return associations_visible_to(user).get(pk=pk)
    except (Association.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such association.")) from None


def review_queue(
    user: User, *, mine: bool = False, program_id: int | None = None, overdue: bool = False
) -> QuerySet[Association]:
    """Associations waiting for a reviewer's decision, the earliest due first (vendor staff only)."""
    if not account_permissions.is_vendor_staff(user):
        return Association.objects.none()
    qs = associations_visible_to(user).filter(status__in=AWAITING_REVIEW)
    if mine:
        qs = qs.filter(reviewer=user)
    if program_id:
        qs = qs.filter(program_id=program_id)
    if overdue:
        qs = qs.filter(due_on__lt=timezone.localdate())
    return qs.order_by("due_on", "id")


def timeline(user: User, association: Association) -> QuerySet[AssociationEvent]:
    qs = AssociationEvent.objects.filter(association=association).select_related("actor").order_by("-id")
    return qs if permissions.can_see_internal(user) else qs.filter(internal=False)


def items_of(association: Association) -> list[AssociationItem]:
    return list(association.items.order_by("kind", "value", "id"))


# --------------------------------------------------------------------------------------------- filing


def filing_locations(user: User) -> QuerySet[Location]:
    """The locations for which `user` may file associations (in at least one program)."""
    ids = {g.location_id for g in user.grants if g.role in PARTNER_ROLES and g.location_id}
    if not user.is_authenticated or not ids:
        return Location.objects.none()
    return Location.objects.filter(pk__in=ids, organisation_id=user.organisation_id).select_related("organisation")


def filing_programs(user: User, location: Location | None = None) -> QuerySet[Program]:
    """The programs in which a location `user` files for (or this one) has an enrollment that has not ended."""
    locations = filing_locations(user)
    if location is not None:
        locations = locations.filter(pk=location.pk)
    enrolled = Enrollment.objects.filter(location__in=locations).exclude(status__in=ENDED)
    return Program.objects.filter(pk__in=enrolled.values("program_id"), is_active=True).order_by("name", "id")


def is_enrolled(location: Location, program: Program) -> bool:
    return Enrollment.objects.filter(location=location, program=program).exclude(status__in=ENDED).exists()


# --------------------------------------------------------------------------------------------- configuration


def policy_for(program: Program) -> AssociationPolicy:
    """The program's association deadlines; the defaults (unsaved) if a program manager never set them."""
    return AssociationPolicy.objects.filter(program=program).first() or AssociationPolicy(program=program)


def options_of(program: Program, kind: str | None = None, *, active_only: bool = False) -> QuerySet[AssociationOption]:
    qs = AssociationOption.objects.filter(program=program)
    if kind:
        qs = qs.filter(kind=kind)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("kind", "label", "id")


def option_labels(program: Program | int) -> dict[tuple[str, str], str]:
    """{(kind, code): label} of every option of the program, active or not (old associations keep theirs)."""
    program_id = program if isinstance(program, int) else program.pk
    rows = AssociationOption.objects.filter(program_id=program_id).values_list("kind", "code", "label")
    return {(kind, code): label for kind, code, label in rows}


def option_for(user: User, pk: int) -> AssociationOption:
    """An option of a program the user can see."""
    try:
        return AssociationOption.objects.select_related("program").get(pk=pk, program__in=programs_visible_to(user))
    except (AssociationOption.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such option.")) from None


def item_label(item: AssociationItem, labels: dict[tuple[str, str], str]) -> str:
    if item.kind == ItemKind.WORKLOAD:
        return labels.get((OptionKind.WORKLOAD, item.value), item.value)
    return _("Subscription %(id)s") % {"id": item.value}


# --------------------------------------------------------------------------------------------- competition


@dataclass(frozen=True)
class Competitor:
    """Another association that claims one of the same workloads or subscriptions."""

    item: AssociationItem  # this association's item
    other: Association
    holding: bool  # the other one is approved or in force (else: still open)


def _item_key(item: AssociationItem) -> tuple[str, str, str]:
    tenant = item.customer_tenant_id if item.kind == ItemKind.WORKLOAD else ""
    return (item.kind, tenant, item.value)


def _rivals(items: list[AssociationItem]) -> list[AssociationItem]:
    """Items of other open or holding associations that claim the same things as `items` (one query)."""
    if not items:
        return []
    match = Q(pk__in=[])
    for item in items:
        if item.kind == ItemKind.WORKLOAD:
            match |= Q(
                program_id=item.program_id, kind=item.kind, customer_tenant_id=item.customer_tenant_id, value=item.value
            )
        else:
            match |= Q(program_id=item.program_id, kind=item.kind, value=item.value)
    return list(
        AssociationItem.objects.filter(match, association__status__in=OPEN | HOLDING)
        .select_related("association__location__organisation")
        .order_by("association_id", "id")
    )


def competitors(association: Association) -> list[Competitor]:
    """Every other open or holding association claiming one of this one's workloads or subscriptions."""
    mine = items_of(association)
    by_key = {_item_key(item): item for item in mine}
    found = []
    for rival in _rivals(mine):
        if rival.association_id == association.pk:
            continue
        item = by_key[_item_key(rival)]
        found.append(Competitor(item=item, other=rival.association, holding=rival.association.status in HOLDING))
    return found


def competition_counts(associations: Iterable[Association]) -> dict[int, int]:
    """{association id: how many other associations claim one of its items} for a page of associations."""
    rows = list(associations)
    items = list(AssociationItem.objects.filter(association__in=[a.pk for a in rows]))
    owners: dict[tuple[str, str, str], set[int]] = {}
    for item in items:
        owners.setdefault(_item_key(item), set()).add(item.association_id)
    counts: dict[int, set[int]] = {a.pk: set() for a in rows}
    for rival in _rivals(items):
        for owner in owners.get(_item_key(rival), set()):
            if owner != rival.association_id:
                counts[owner].add(rival.association_id)
    return {pk: len(others) for pk, others in counts.items()}


def contact_outside_domain(association: Association) -> bool:
    """The customer contact's email is not at the customer's domain (or a subdomain of it): the consent link
    might reach someone other than the customer."""
    email = association.customer_contact_email
    if not email or not association.customer_domain:
        return False
    host = email.rsplit("@", 1)[-1].lower()
    return host != association.customer_domain and not host.endswith("." + association.customer_domain)


def flags_for(user: User, association: Association) -> list[str]:
    """What the viewer is told about competing claims (partners learn that another partner holds or claims
    the same thing, never who; vendor staff see who and since when) and about a customer contact whose email
    is not at the customer's domain."""
    labels = option_labels(association.program_id)
    flags = []
    if contact_outside_domain(association):
        flags.append(
            _(
                "The customer contact's email is not at %(domain)s: the consent link should reach the customer, "
                "not a partner."
            )
            % {"domain": association.customer_domain}
        )
    vendor = permissions.can_see_internal(user)
    for c in competitors(association):
        what = item_label(c.item, labels)
        other = c.other
        if vendor:
            facts = {
                "what": what,
                "where": _("%(location)s of %(organisation)s")
                % {"location": other.location, "organisation": other.location.organisation.name},
                "pk": other.pk,
                "status": other.get_status_display().lower(),
            }
            if c.holding:
                since = date_format(other.approved_on, "DATE_FORMAT") if other.approved_on else "–"
                flags.append(
                    _("%(what)s: associated with %(where)s since %(since)s (association %(pk)s, %(status)s).")
                    % {**facts, "since": since}
                )
            else:
                when = date_format(timezone.localdate(other.submitted_at), "DATE_FORMAT") if other.submitted_at else "–"
                flags.append(
                    _("%(what)s: also claimed by %(where)s, submitted %(when)s (association %(pk)s, %(status)s).")
                    % {**facts, "when": when}
                )
        elif other.location.organisation_id == association.location.organisation_id:
            flags.append(
                _("%(what)s: also claimed by your organisation's association %(pk)s.") % {"what": what, "pk": other.pk}
            )
        elif c.holding:
            flags.append(_("%(what)s: already associated with another partner.") % {"what": what})
        else:
            flags.append(
                _("%(what)s: another partner claims it too; a reviewer decides on the proof.") % {"what": what}
            )
    return flags


# --------------------------------------------------------------------------------------------- service levels


@dataclass(frozen=True)
class Clock:
    """The review clock in business days on the program's calendar."""

    age: int
    due_on: date | None
    days_left: int | None
    breached: bool


def clock(association: Association, today: date | None = None) -> Clock:
    today = today or timezone.localdate()
    since = association.disputed_at or association.submitted_at
    started = timezone.localdate(since) if since else today
    program = association.program
    age = periods.business_days_between(program, started, today) if started < today else 0
    due = association.due_on
    if due is None or association.status not in AWAITING_REVIEW:
        return Clock(age, due, None, False)
    if today <= due:
        return Clock(age, due, periods.business_days_between(program, today, due), False)
    return Clock(age, due, -periods.business_days_between(program, due, today), True)


# --------------------------------------------------------------------------------------------- earnings


def _in_force_on(on: date) -> Q:
    return Q(in_force_from__isnull=False, in_force_from__lte=on) & (
        Q(in_force_until__isnull=True) | Q(in_force_until__gt=on)
    )


def association_in_force(*, location_id: int, program_id: int, customer_reference: str, on: date) -> bool:
    """Is an association of this location with this customer (a tenant ID or a domain, in any spelling)
    in force on `on`? In force from the approval day (once the consent window passed without a decline)
    until it ends."""
    key = customer_reference_key(customer_reference)
    return Association.objects.filter(
        _in_force_on(on),
        Q(customer_tenant_id=key) | Q(customer_domain=key),
        location_id=location_id,
        program_id=program_id,
    ).exists()


def customers_in_force(program_id: int, on: date | None = None) -> set[tuple[int, str]]:
    """{(location id, customer key)} of every association of the program in force on `on` (default today),
    each under its tenant ID and its domain, for checking many earning lines with one query. Normalise a
    line's reference with `customer_reference_key` before looking it up."""
    on = on or timezone.localdate()
    rows = Association.objects.filter(_in_force_on(on), program_id=program_id).values_list(
        "location_id", "customer_tenant_id", "customer_domain"
    )
    found: set[tuple[int, str]] = set()
    for location_id, tenant, domain in rows:
        found.add((location_id, tenant))
        found.add((location_id, domain))
    return found


def customer_windows(program_id: int) -> dict[tuple[int, str], list[tuple[date, date | None]]]:
    """{(location id, customer key): [(in force from, until or None)]} of the program, for checking lines of
    many dates with one query: a line of day d counts if from <= d and (until is None or d < until)."""
    rows = Association.objects.filter(program_id=program_id, in_force_from__isnull=False).values_list(
        "location_id", "customer_tenant_id", "customer_domain", "in_force_from", "in_force_until"
    )
    found: dict[tuple[int, str], list[tuple[date, date | None]]] = {}
    for location_id, tenant, domain, start, until in rows:
        assert start is not None
        for key in (tenant, domain):
            found.setdefault((location_id, key), []).append((start, until))
    return found
