"""Program configuration of customer associations: solution areas, partner roles and workloads (rows per
program), the deadlines (AssociationPolicy) and whether earnings need an association in force (a Program
field). Program managers of the program change them; every change is audited."""

import re
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from coopfunds.accounts.models import User
from coopfunds.associations import permissions
from coopfunds.associations.models import AssociationOption, AssociationPolicy, OptionKind
from coopfunds.audit.services import audit_record
from coopfunds.programs.models import Program

_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
LIMITS = {
    "partner_action_business_days": (1, 60, "business days"),
    "consent_days": (1, 60, "days"),
    "dispute_days": (1, 365, "days"),
}


def _out_of_range(unit: str, low: int, high: int) -> str:
    words = (
        gettext("Give a whole number of business days from %(low)s to %(high)s.")
        if unit == "business days"
        else gettext("Give a whole number of days from %(low)s to %(high)s.")
    )
    return words % {"low": low, "high": high}


# The preset's lists (Microsoft's co-op partner-of-record vocabulary), loaded by `association_defaults_load`.
DEFAULTS: dict[str, list[tuple[str, str]]] = {
    OptionKind.SOLUTION_AREA: [
        ("modern-work", "Modern Work"),
        ("security", "Security"),
        ("infrastructure", "Azure Infrastructure"),
        ("data-ai", "Data & AI"),
        ("digital-apps", "Digital & App Innovation"),
        ("business-applications", "Business Applications"),
    ],
    OptionKind.PARTNER_ROLE: [
        ("deployment", "Deployment partner"),
        ("usage", "Usage (adoption) partner"),
        ("managed-services", "Managed services partner"),
        ("transacting", "Transacting partner"),
    ],
    OptionKind.WORKLOAD: [
        ("exchange-online", "Exchange Online"),
        ("sharepoint-online", "SharePoint Online"),
        ("teams", "Microsoft Teams"),
        ("defender", "Microsoft Defender"),
        ("entra-id", "Microsoft Entra ID"),
        ("intune", "Microsoft Intune"),
        ("azure-compute", "Azure compute"),
        ("azure-data", "Azure data services"),
        ("dynamics-sales", "Dynamics 365 Sales"),
        ("power-platform", "Power Platform"),
    ],
}


def _authorise(actor: User, program: Program) -> None:
    if not permissions.can_configure(actor, program):
        raise PermissionDenied(gettext("Only a program manager of this program can change its association settings."))


def _clean_label(label: str) -> str:
    label = (label or "").strip()
    if not label:
        raise ValidationError({"label": gettext("Give the option a name people understand.")})
    if len(label) > 200:
        raise ValidationError({"label": gettext("Keep the name to 200 characters.")})
    return label


@transaction.atomic(durable=True)
def association_option_add(*, program: Program, kind: str, code: str, label: str, actor: User) -> AssociationOption:
    """Add a solution area, partner role or workload to the program's lists."""
    _authorise(actor, program)
    errors: dict[str, str] = {}
    if kind not in OptionKind.values:
        errors["kind"] = gettext("Choose solution area, partner role or workload.")
    code = (code or "").strip().lower()
    if not _CODE.match(code):
        errors["code"] = gettext("Use lowercase letters, digits and hyphens (at most 64), e.g. exchange-online.")
    try:
        label = _clean_label(label)
    except ValidationError as e:
        errors.update({k: v[0] for k, v in e.message_dict.items()})
    if not errors and AssociationOption.objects.filter(program=program, kind=kind, code=code).exists():
        errors["code"] = gettext("%(program)s already has the %(kind)s “%(code)s”.") % {
            "program": program.name,
            "kind": OptionKind(kind).label.lower(),
            "code": code,
        }
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            option = AssociationOption.objects.create(program=program, kind=kind, code=code, label=label)
    except IntegrityError:
        raise ValidationError(
            {"code": gettext("%(program)s already has “%(code)s”.") % {"program": program.name, "code": code}}
        ) from None
    audit_record(actor=actor, verb="association_option.add", target=option, changes={"label": (None, label)})
    return option


@transaction.atomic(durable=True)
def association_option_update(
    *, option: AssociationOption, actor: User, label: str | None = None, is_active: bool | None = None
) -> AssociationOption:
    """Rename an option, or switch it off (it stays on the associations that chose it) and on again."""
    option = AssociationOption.objects.select_for_update().select_related("program").get(pk=option.pk)
    _authorise(actor, option.program)
    values: dict[str, Any] = {}
    if label is not None:
        values["label"] = _clean_label(label)
    if is_active is not None:
        values["is_active"] = bool(is_active)
    changes = {k: (getattr(option, k), v) for k, v in values.items() if getattr(option, k) != v}
    if changes:
        for key, value in values.items():
            setattr(option, key, value)
        option.save()
        audit_record(actor=actor, verb="association_option.update", target=option, changes=changes)
    return option


@transaction.atomic(durable=True)
def association_policy_update(*, program: Program, actor: User, **values: Any) -> AssociationPolicy:
    """Change the deadlines (`partner_action_business_days`, `consent_days`, `dispute_days`) and
    `earnings_require_association`. Absent or None: unchanged."""
    program = Program.objects.select_for_update().get(pk=program.pk)
    _authorise(actor, program)
    unknown = set(values) - {*LIMITS, "earnings_require_association"}
    if unknown:
        raise ValidationError({name: gettext("This setting does not exist.") for name in sorted(unknown)})
    errors: dict[str, str] = {}
    for name, (low, high, unit) in LIMITS.items():
        value = values.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[name] = _out_of_range(unit, low, high)
    if errors:
        raise ValidationError(errors)
    policy, _ = AssociationPolicy.objects.get_or_create(program=program)
    changes = {
        name: (getattr(policy, name), values[name])
        for name in LIMITS
        if values.get(name) is not None and getattr(policy, name) != values[name]
    }
    if changes:
        for name, (_, new) in changes.items():
            setattr(policy, name, new)
        policy.save()
        audit_record(actor=actor, verb="association_policy.update", target=policy, changes=changes)
    required = values.get("earnings_require_association")
    if required is not None and bool(required) != program.earnings_require_association:
        old, program.earnings_require_association = program.earnings_require_association, bool(required)
        program.save(update_fields=["earnings_require_association", "updated_at"])
        audit_record(
            actor=actor,
            verb="program.update",
            target=program,
            changes={"earnings_require_association": (old, program.earnings_require_association)},
        )
    return policy


@transaction.atomic(durable=True)
def association_defaults_load(*, program: Program, actor: User | None = None) -> list[AssociationOption]:
    """Load the preset's solution areas, partner roles and workloads into the program (those it lacks).
    Idempotent: a second run adds nothing. `actor` None: a command run by the operator."""
    if actor is not None:
        _authorise(actor, program)
    have = set(AssociationOption.objects.filter(program=program).values_list("kind", "code"))
    added = []
    for kind, rows in DEFAULTS.items():
        for code, label in rows:
            if (kind, code) not in have:
                option = AssociationOption.objects.create(program=program, kind=kind, code=code, label=label)
                audit_record(
                    actor=actor, verb="association_option.add", target=option, changes={"label": (None, label)}
                )
                added.append(option)
    AssociationPolicy.objects.get_or_create(program=program)
    return added
