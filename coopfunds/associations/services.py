"""Customer associations: filing, review, the customer's consent, dispute, and the scheduled deadlines (one
service per transition).

Every transition re-reads the association under lock, checks the transition table, the actor's right and the
business rules, stamps its time, writes the history event and the audit row, sets or clears the items'
exclusivity and schedules notifications, all in one durable transaction."""

import re
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy, gettext_noop, ngettext_lazy

from coopfunds.accounts.models import Location, Role, User
from coopfunds.accounts.selectors import locations_visible_to, people_holding
from coopfunds.associations import consent, permissions, selectors
from coopfunds.associations.customers import normalise_domain, normalise_guid
from coopfunds.associations.models import (
    AWAITING_REVIEW,
    EDITABLE,
    HOLDING,
    LIVE,
    NOT_DISPUTABLE,
    OPEN,
    REVIEWER_REASONS,
    TRANSITIONS,
    Association,
    AssociationEvent,
    AssociationItem,
    AssociationStatus,
    ItemKind,
    OptionKind,
    RejectionReason,
)
from coopfunds.audit.services import audit_record
from coopfunds.core.errors import Conflict, NotFound
from coopfunds.core.i18n import Said, said_of
from coopfunds.core.notify import email_after_commit
from coopfunds.documents.models import Document
from coopfunds.documents.services import UploadPolicy, document_delete, document_lock, document_store
from coopfunds.notifications import escalation
from coopfunds.notifications.models import NotificationKind
from coopfunds.notifications.services import Text, notify
from coopfunds.programs import periods
from coopfunds.programs.models import Program

S = AssociationStatus
MB = 1024 * 1024
MAX_ITEMS = 50
# The consent link's signature expires after this at the latest; the consent window usually ends sooner.
CONSENT_LINK_MAX_AGE = timedelta(days=61)
TEXT_FIELDS = (
    "customer_name",
    "customer_contact_name",
    "customer_contact_email",
    "partner_contact_name",
    "partner_contact_email",
    "comments",
)
EDITABLE_FIELDS = (
    *TEXT_FIELDS,
    "customer_tenant_id",
    "customer_domain",
    "solution_area",
    "partner_role",
    "workloads",
    "subscription_ids",
)
REQUIRED_TO_SUBMIT = {
    "customer_contact_name": gettext_lazy("Name the customer's contact, who confirms or declines the association."),
    "customer_contact_email": gettext_lazy("Give the customer contact's email: the consent link goes there."),
    "partner_contact_name": gettext_lazy("Name your contact for this customer."),
    "partner_contact_email": gettext_lazy("Give your contact's email."),
    "solution_area": gettext_lazy("Choose the solution area."),
    "partner_role": gettext_lazy("Choose your role for this customer."),
}


def _day(value: date) -> str:
    """A day in the active language ("4 Dec 2026" in English)."""
    return date_format(value, "DATE_FORMAT")


# A day in each reader's language, for notifications.
_day_lazy = lazy(_day, str)


# The association's history (its events) is written once and kept in the source language.
RECORD_LANGUAGE = "en"


def _on_record(value: date) -> str:
    """A day in the association's history: "4 Dec 2026"."""
    return f"{value:%-d %b %Y}"


def _lock(association: Association) -> Association:
    return (
        Association.objects.select_for_update(of=("self",))
        .select_related("location__organisation", "program__vendor", "proof")
        .get(pk=association.pk)
    )


def _event(
    association: Association,
    actor: User | None,
    kind: str,
    message: str = "",
    *,
    internal: bool = False,
    old: str = "",
    new: str = "",
    reason: str = "",
) -> AssociationEvent:
    return AssociationEvent.objects.create(
        association=association,
        actor=actor,
        kind=kind,
        message=message,
        said=said_of(message),
        internal=internal,
        old_status=old,
        new_status=new,
        reason=reason,
    )


def _audit(association: Association, actor: User | None, verb: str, changes: dict[str, Any], reason: str = "") -> None:
    audit_record(
        actor=actor,
        verb=verb,
        target=association,
        changes=changes,
        reason=reason,
        organisation_id=association.location.organisation_id,
    )


def _move(association: Association, to: str, actor: User | None, message: str = "", reason: str = "") -> None:
    """Check the transition table, change the status, write the timeline event and the audit row."""
    if to not in TRANSITIONS[association.status]:
        raise Conflict(
            gettext("An association that is %(old)s cannot become %(new)s.")
            % {"old": S(association.status).label.lower(), "new": S(to).label.lower()},
            code="invalid_transition",
        )
    old, association.status = association.status, to
    _event(association, actor, AssociationEvent.Kind.STATUS, message, old=old, new=to, reason=reason)
    _audit(association, actor, f"association.{to}", {"status": (old, to)}, reason=message)


def _partners_of(association: Association) -> list[User]:
    """The people who filed it and the location's incentives admins."""
    return people_holding(
        Role.INCENTIVES_ADMIN,
        program_id=association.program_id,
        location_id=association.location_id,
        also=(association.created_by_id, association.submitted_by_id),
    )


def reviewers_of(program: Program) -> list[User]:
    return people_holding(Role.REVIEWER, program_id=program.pk)


def _link(association: Association) -> str:
    return f"/associations/{association.pk}/"


def _today() -> date:
    return timezone.localdate()


# --------------------------------------------------------------------------------------------- input


def _clean_items(program: Program, values: dict[str, Any], errors: dict[str, str]) -> None:
    if "workloads" in values:
        active = {o.code for o in selectors.options_of(program, OptionKind.WORKLOAD, active_only=True)}
        codes = list(dict.fromkeys(str(c).strip() for c in values["workloads"] or [] if str(c).strip()))
        unknown = [c for c in codes if c not in active]
        if unknown:
            errors["workloads"] = gettext("%(codes)s: not a workload of %(program)s.") % {
                "codes": ", ".join(unknown),
                "program": program.name,
            }
        values["workloads"] = codes
    if "subscription_ids" in values:
        raw = values["subscription_ids"] or []
        if isinstance(raw, str):
            raw = re.split(r"[\s,;]+", raw)
        subscriptions, bad = [], []
        for text in (str(t).strip() for t in raw):
            if not text:
                continue
            try:
                subscriptions.append(normalise_guid(text, "subscription ID"))
            except ValidationError:
                bad.append(text)
        if bad:
            errors["subscription_ids"] = gettext(
                "Not a subscription ID: %(ids)s. A subscription ID looks like 72f988bf-86f1-41af-91ab-2d7cd011db47."
            ) % {"ids": ", ".join(bad)}
        values["subscription_ids"] = list(dict.fromkeys(subscriptions))
    count = len(values.get("workloads", [])) + len(values.get("subscription_ids", []))
    if count > MAX_ITEMS:
        errors["workloads"] = gettext("Claim at most %(n)s workloads and subscriptions in one association.") % {
            "n": MAX_ITEMS
        }


def _clean(program: Program, values: dict[str, Any]) -> dict[str, Any]:
    """Normalise and check the fields given; every problem comes back at once, by field."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: gettext("This field cannot be changed here.") for name in sorted(unknown)})
    errors: dict[str, str] = {}
    for name in TEXT_FIELDS:
        if name in values:
            values[name] = (values[name] or "").strip()
    if "customer_name" in values and not values["customer_name"]:
        errors["customer_name"] = gettext("Give the customer's name.")
    for name, limit in (("customer_name", 200), ("customer_contact_name", 200), ("partner_contact_name", 200)):
        if len(values.get(name, "")) > limit:
            errors[name] = gettext("Keep it to %(n)s characters.") % {"n": limit}
    if len(values.get("comments", "")) > 5000:
        errors["comments"] = gettext("Keep comments to 5,000 characters.")
    for name in ("customer_contact_email", "partner_contact_email"):
        if values.get(name):
            try:
                validate_email(values[name])
            except ValidationError:
                errors[name] = gettext("“%(email)s” is not an email address.") % {"email": values[name]}
            values[name] = values[name].lower()
    if "customer_tenant_id" in values:
        try:
            values["customer_tenant_id"] = normalise_guid(values["customer_tenant_id"] or "")
        except ValidationError as e:
            errors["customer_tenant_id"] = e.messages[0]
    if "customer_domain" in values:
        try:
            values["customer_domain"] = normalise_domain(values["customer_domain"] or "")
        except ValidationError as e:
            errors["customer_domain"] = e.messages[0]
    for name, kind in (("solution_area", OptionKind.SOLUTION_AREA), ("partner_role", OptionKind.PARTNER_ROLE)):
        if values.get(name):
            values[name] = str(values[name]).strip()
            active = {o.code for o in selectors.options_of(program, kind, active_only=True)}
            if values[name] not in active:
                errors[name] = gettext("“%(code)s” is not a %(kind)s of %(program)s.") % {
                    "code": values[name],
                    "kind": OptionKind(kind).label.lower(),
                    "program": program.name,
                }
        elif name in values:
            values[name] = ""
    _clean_items(program, values, errors)
    if errors:
        raise ValidationError(errors)
    return values


def _set_items(association: Association, values: dict[str, Any]) -> None:
    """Replace the association's workloads and/or subscriptions with the ones given."""
    for kind, name in ((ItemKind.WORKLOAD, "workloads"), (ItemKind.SUBSCRIPTION, "subscription_ids")):
        if name not in values:
            continue
        AssociationItem.objects.filter(association=association, kind=kind).delete()
        AssociationItem.objects.bulk_create(
            AssociationItem(
                association=association,
                program_id=association.program_id,
                customer_tenant_id=association.customer_tenant_id,
                kind=kind,
                value=value,
            )
            for value in values[name]
        )
    if "customer_tenant_id" in values:
        association.items.update(customer_tenant_id=association.customer_tenant_id)


def _upload_policy(program: Program) -> UploadPolicy:
    limit = program.max_upload_mb * MB
    return UploadPolicy(allowed=frozenset(program.upload_types), max_file_bytes=limit, max_total_bytes=limit)


def _store_proof(association: Association, upload: File, note: str, actor: User) -> Document:
    """Keep the proof through the documents' safe handling; its errors come back under proof/proof_note."""
    try:
        return document_store(
            upload=upload,
            kind="proof",
            note=note,
            location=association.location,
            policy=_upload_policy(association.program),
            actor=actor,
        )
    except ValidationError as error:
        names = {"file": "proof", "note": "proof_note"}
        raise ValidationError({names.get(k, k): v for k, v in error.message_dict.items()}) from None


def _authorise_filing(actor: User, location: Location, program: Program) -> None:
    if permissions.can_file_for(actor, location, program):
        return
    if locations_visible_to(actor).filter(pk=location.pk).exists():
        raise PermissionDenied(
            gettext("Only the location's incentives admins and users can file its customer associations.")
        )
    raise NotFound(gettext("No such location."))


# --------------------------------------------------------------------------------------------- filing


@transaction.atomic(durable=True)
def association_create(
    *,
    location: Location,
    program: Program,
    actor: User,
    customer_name: str,
    customer_tenant_id: str,
    customer_domain: str,
    proof: File | None = None,
    proof_note: str = "",
    **fields: Any,
) -> Association:
    """Start an association (Editing) of a location with a customer in a program."""
    _authorise_filing(actor, location, program)
    if not selectors.is_enrolled(location, program):
        raise ValidationError(
            {
                "program": gettext("%(location)s is not enrolled in %(program)s.")
                % {"location": location.name, "program": program.name}
            }
        )
    values = _clean(
        program,
        {
            "customer_name": customer_name,
            "customer_tenant_id": customer_tenant_id,
            "customer_domain": customer_domain,
            **fields,
        },
    )
    association = Association(location=location, program=program, created_by=actor)
    for key, value in values.items():
        if key not in ("workloads", "subscription_ids"):
            setattr(association, key, value)
    association.save()
    _set_items(association, {"workloads": [], "subscription_ids": [], **values})
    if proof is not None:
        association.proof = _store_proof(association, proof, proof_note, actor)
        association.save(update_fields=["proof", "updated_at"])
    _event(
        association,
        actor,
        AssociationEvent.Kind.CREATED,
        Said(gettext_noop("Started for %(customer)s."), customer=association.customer_name),
    )
    _audit(
        association,
        actor,
        "association.create",
        {
            "customer_tenant_id": (None, association.customer_tenant_id),
            "customer_domain": (None, association.customer_domain),
        },
    )
    return association


def _changes(association: Association, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    current = {
        "workloads": sorted(i.value for i in association.items.all() if i.kind == ItemKind.WORKLOAD),
        "subscription_ids": sorted(i.value for i in association.items.all() if i.kind == ItemKind.SUBSCRIPTION),
    }
    out = {}
    for key, new in values.items():
        old = current[key] if key in current else getattr(association, key)
        if (sorted(new) if key in current else new) != old:
            out[key] = (", ".join(old) if key in current else old, ", ".join(new) if key in current else new)
    return out


@transaction.atomic(durable=True)
def association_update(*, association: Association, actor: User, **fields: Any) -> Association:
    """Change an association that is being edited or waits for the partner's answer."""
    association = _lock(association)
    if not permissions.can_file(actor, association):
        raise PermissionDenied(gettext("Only the location's incentives admins and users can change its associations."))
    if association.status not in EDITABLE:
        raise Conflict(
            gettext("An association that is %(status)s cannot be changed.")
            % {"status": association.get_status_display().lower()},
            code="not_editable",
        )
    values = _clean(association.program, fields)
    changes = _changes(association, values)
    if not changes:
        return association
    for key, value in values.items():
        if key not in ("workloads", "subscription_ids"):
            setattr(association, key, value)
    association.save()
    _set_items(association, values)
    _event(
        association,
        actor,
        AssociationEvent.Kind.UPDATED,
        Said(gettext_noop("Changed %(fields)s."), fields=", ".join(k.replace("_", " ") for k in changes)),
    )
    _audit(association, actor, "association.update", changes)
    return association


@transaction.atomic(durable=True)
def association_attach_proof(*, association: Association, upload: File, note: str, actor: User) -> Association:
    """Attach the proof document (it replaces an earlier one; a submitted proof is kept in the history)."""
    association = _lock(association)
    if not permissions.can_file(actor, association):
        raise PermissionDenied(
            gettext("Only the location's incentives admins and users can add proof to its associations.")
        )
    if association.status not in EDITABLE:
        raise Conflict(
            gettext("Proof can be added while the association is being edited or your answer is required."),
            code="not_editable",
        )
    old = association.proof
    association.proof = _store_proof(association, upload, note, actor)
    association.save(update_fields=["proof", "updated_at"])
    if old is not None and not old.is_locked:
        document_delete(document=old, actor=actor)
    _event(
        association,
        actor,
        AssociationEvent.Kind.PROOF,
        Said(gettext_noop("Proof attached: “%(name)s”."), name=association.proof.original_name),
    )
    _audit(
        association,
        actor,
        "association.proof",
        {"proof": (old.pk if old else None, association.proof.pk)},
    )
    return association


def _own_duplicates(association: Association) -> dict[str, list[str]]:
    """Workloads and subscriptions the same partner organisation already claims in another association."""
    labels = selectors.option_labels(association.program_id)
    errors: dict[str, list[str]] = {}
    for c in selectors.competitors(association):
        if c.other.location.organisation_id != association.location.organisation_id:
            continue
        what = selectors.item_label(c.item, labels)
        field = "workloads" if c.item.kind == ItemKind.WORKLOAD else "subscription_ids"
        errors.setdefault(field, []).append(
            gettext("%(what)s is already claimed by your organisation's association %(pk)s (%(status)s).")
            % {"what": what, "pk": c.other.pk, "status": c.other.get_status_display().lower()}
        )
    return errors


def _pairing_errors(association: Association) -> dict[str, list[str]]:
    """A domain belongs to one tenant: an association approved before (with any partner, in any of the
    vendor's programs) that pairs this domain with another tenant ID shows that one of them is wrong."""
    known = Association.objects.filter(
        program__vendor_id=association.program.vendor_id,
        customer_domain=association.customer_domain,
        approved_on__isnull=False,
    ).exclude(customer_tenant_id=association.customer_tenant_id)
    if known.exists():
        return {
            "customer_domain": [
                gettext(
                    "This domain belongs to another tenant ID. Check the tenant ID and the domain in the customer's "
                    "admin centre."
                )
            ]
        }
    return {}


def _completeness(association: Association) -> dict[str, list[str]]:
    errors = {name: [str(message)] for name, message in REQUIRED_TO_SUBMIT.items() if not getattr(association, name)}
    if not association.items.exists():
        errors["workloads"] = [gettext("Claim at least one workload or subscription.")]
    if association.proof_id is None:
        errors["proof"] = [gettext("Attach the proof, e.g. a statement of work signed by the customer.")]
    return errors


@transaction.atomic(durable=True)
def association_submit(*, association: Association, actor: User) -> Association:
    """Submit for review, or send the partner's answer to a request for action."""
    association = _lock(association)
    if not permissions.can_file(actor, association):
        raise PermissionDenied(gettext("Only the location's incentives admins and users can submit its associations."))
    if association.status not in EDITABLE:
        raise Conflict(
            gettext("An association that is %(status)s cannot be submitted.")
            % {"status": association.get_status_display().lower()},
            code="invalid_transition",
        )
    today = _today()
    if association.status == S.ACTION_REQUIRED and association.action_due_on and today > association.action_due_on:
        raise Conflict(
            gettext("Your answer was due by %(day)s; the association is being rejected.")
            % {"day": _day(association.action_due_on)},
            code="answer_overdue",
        )
    errors = _completeness(association)
    for extra in (_pairing_errors(association), _own_duplicates(association)):
        for field, messages in extra.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    first = association.submissions == 0
    _move(
        association,
        S.SUBMITTED,
        actor,
        Said(gettext_noop("Submitted for review.") if first else gettext_noop("Answer sent; back to review.")),
    )
    assert association.proof is not None
    document_lock(documents=[association.proof], actor=actor, retain_from=today)
    association.submissions += 1
    association.submitted_by, association.submitted_at = actor, timezone.now()
    association.due_on = periods.add_business_days(
        association.program, today, association.program.review_sla_business_days
    )
    association.action_due_on = None
    association.save()
    rivals = selectors.competitors(association)
    body = format_lazy(
        gettext_lazy("{location} claims to be partner of record for {domain}. Review due {day}."),
        location=str(association.location),
        domain=association.customer_domain,
        day=_day_lazy(association.due_on),
    )
    if rivals:
        contest = format_lazy(
            ngettext_lazy(
                "It competes with {n} other claim(s) on the same customer.",
                "It competes with {n} other claim(s) on the same customer.",
                len(rivals),
            ),
            n=len(rivals),
        )
        body = format_lazy("{} {}", body, contest)
    notify(
        users=reviewers_of(association.program),
        subject=format_lazy(
            gettext_lazy("Association {pk} to review: {name}"), pk=association.pk, name=association.customer_name
        ),
        kind=NotificationKind.REVIEW,
        body=body,
        link=_link(association),
    )
    return association


# --------------------------------------------------------------------------------------------- review


def _reviewable(association: Association, actor: User) -> None:
    if not permissions.can_review(actor, association):
        raise PermissionDenied(
            gettext("Only reviewers of this program who did not file the association can decide it.")
        )
    if association.status not in AWAITING_REVIEW:
        raise Conflict(
            gettext("An association that is %(status)s is not waiting for a decision.")
            % {"status": association.get_status_display().lower()},
            code="invalid_transition",
        )
    if association.status == S.SUBMITTED:  # deciding straight from the queue starts the review
        _move(
            association,
            S.UNDER_REVIEW,
            actor,
            Said(gettext_noop("Review started by %(name)s."), name=actor.get_full_name()),
        )
        association.reviewer, association.review_started_at = actor, timezone.now()


@transaction.atomic(durable=True)
def association_take(*, association: Association, actor: User) -> Association:
    """A reviewer takes the association (“assign to me”); a submitted one goes under review."""
    association = _lock(association)
    if not permissions.can_review(actor, association):
        raise PermissionDenied(gettext("Only reviewers of this program who did not file the association can take it."))
    if association.status not in AWAITING_REVIEW:
        raise Conflict(gettext("Only associations waiting for review can be taken."), code="invalid_transition")
    if association.status == S.SUBMITTED:
        _move(
            association,
            S.UNDER_REVIEW,
            actor,
            Said(gettext_noop("Review started by %(name)s."), name=actor.get_full_name()),
        )
        association.review_started_at = timezone.now()
    elif association.reviewer_id != actor.pk:
        _event(
            association,
            actor,
            AssociationEvent.Kind.NOTE,
            Said(gettext_noop("Taken by %(name)s."), name=actor.get_full_name()),
            internal=True,
        )
        _audit(association, actor, "association.assign", {"reviewer": (association.reviewer_id, actor.pk)})
    association.reviewer = actor
    association.save()
    return association


@transaction.atomic(durable=True)
def association_request_action(*, association: Association, actor: User, message: str) -> Association:
    """Ask the partner to correct or add something; without an answer in time the association is rejected."""
    association = _lock(association)
    _reviewable(association, actor)
    message = message.strip()
    if not message:
        raise ValidationError({"message": gettext("Say what the partner must correct or add.")})
    policy = selectors.policy_for(association.program)
    _move(association, S.ACTION_REQUIRED, actor, message)
    association.action_due_on = periods.add_business_days(
        association.program, _today(), policy.partner_action_business_days
    )
    association.decision_note, association.decided_at = message, timezone.now()
    association.save()
    notify(
        users=_partners_of(association),
        subject=format_lazy(
            gettext_lazy("Association {pk} needs your answer: {name}"),
            pk=association.pk,
            name=association.customer_name,
        ),
        body=format_lazy(
            gettext_lazy("{message} Answer by {day}, or the association is rejected (reason: no partner response)."),
            message=message,
            day=_day_lazy(association.action_due_on),
        ),
        link=_link(association),
    )
    return association


def _holders(association: Association) -> list[str]:
    labels = selectors.option_labels(association.program_id)
    return [
        gettext("%(what)s is already associated with %(location)s (association %(pk)s)")
        % {"what": selectors.item_label(c.item, labels), "location": c.other.location, "pk": c.other.pk}
        for c in selectors.competitors(association)
        if c.holding
    ]


def _consent_email(association: Association, token: str) -> None:
    url = settings.SITE_URL.rstrip("/") + f"/consent/{token}/"
    assert association.consent_closes_on is not None
    partner = association.location.organisation.name
    # The customer has no account and so no language of their own: the site's.
    with translation.override(settings.LANGUAGE_CODE):
        labels = selectors.option_labels(association.program_id)
        claimed = [selectors.item_label(i, labels) for i in selectors.items_of(association)]
        subject = gettext("Please confirm your partner of record: %(partner)s") % {"partner": partner}
        body = gettext(
            "Hello %(contact)s,\n\n"
            "%(partner)s says it is the partner of record for %(customer)s (%(domain)s) in %(vendor)s's "
            "%(program)s program, for: %(claimed)s.\n\n"
            "If this is right, you need do nothing. To confirm it, or to decline it, open this link by "
            "%(day)s; it works once:\n\n%(url)s\n\n"
            "If you decline, the association is rejected."
        ) % {
            "contact": association.customer_contact_name,
            "partner": partner,
            "customer": association.customer_name,
            "domain": association.customer_domain,
            "vendor": association.program.vendor.name,
            "program": association.program.name,
            "claimed": ", ".join(claimed),
            "day": _day(association.consent_closes_on),
            "url": url,
        }
    email_after_commit(to=[association.customer_contact_email], subject=subject, body=body)


def _grant(association: Association, actor: User, note: str) -> None:
    """Approve: hold the items exclusively, open the consent window and send the customer the link."""
    conflicts = _holders(association)
    if conflicts:
        raise Conflict(
            gettext("%(conflicts)s. Reject this one, or the other must end first.")
            % {"conflicts": "; ".join(conflicts)},
            code="already_associated",
        )
    policy = selectors.policy_for(association.program)
    _move(association, S.APPROVED, actor, note or "Approved.")  # the history is kept in English (RECORD_LANGUAGE)
    try:
        with transaction.atomic():
            association.items.update(holds=True)
    except IntegrityError:
        raise Conflict(
            gettext(
                "Another partner's association on the same customer was approved a moment ago; reload and decide again."
            ),
            code="already_associated",
        ) from None
    today = _today()
    token, digest = consent.make_token()
    association.approved_on, association.consent_closes_on = today, today + timedelta(days=policy.consent_days)
    association.consent_nonce_hash, association.consent_sent_at = digest, timezone.now()
    association.consent_answer, association.consent_answered_at = "", None
    association.rejection_reason, association.rejected_at = "", None
    association.in_force_from = association.in_force_until = None  # a re-approval starts a new period
    association.decision_note, association.decided_at = note, timezone.now()
    association.save()
    _consent_email(association, token)
    window = format_lazy(
        gettext_lazy("The customer contact has until {day} to decline; then the association is in force."),
        day=_day_lazy(association.consent_closes_on),
    )
    notify(
        users=_partners_of(association),
        subject=format_lazy(
            gettext_lazy("Association {pk} approved: {name}"), pk=association.pk, name=association.customer_name
        ),
        body=format_lazy("{} {}", note, window) if note else window,
        link=_link(association),
    )


@transaction.atomic(durable=True)
def association_approve(*, association: Association, actor: User, note: str = "") -> Association:
    association = _lock(association)
    _reviewable(association, actor)
    _grant(association, actor, note.strip())
    return association


def _end(association: Association, actor: User | None, reason: str, message: Text) -> None:
    """Reject (from any live status): release the items, kill the consent link, close the in-force period.
    `message` is the reviewer's or partner's words, or the application's own (lazy: the partners read it in their
    language; the history keeps it in English)."""
    label = RejectionReason(reason).label
    with translation.override(RECORD_LANGUAGE):
        words = str(message)
        said = f"{label}. {words}".strip() if words else f"{label}."
    _move(association, S.REJECTED, actor, said, reason=reason)
    association.items.update(holds=False)
    today = _today()
    if association.in_force_from is not None and association.in_force_until is None:
        association.in_force_until = max(today, association.in_force_from)
    association.rejection_reason, association.rejected_at = reason, timezone.now()
    association.consent_nonce_hash = ""
    association.action_due_on = None
    association.decision_note = words
    association.save()
    deadline = today + timedelta(days=selectors.policy_for(association.program).dispute_days)
    body = (
        format_lazy(gettext_lazy("Reason: {label}. {message}"), label=label, message=message)
        if words
        else format_lazy(gettext_lazy("Reason: {label}."), label=label)
    )
    if reason not in NOT_DISPUTABLE:
        tail = format_lazy(gettext_lazy("You can dispute the rejection until {day}."), day=_day_lazy(deadline))
        body = format_lazy("{} {}", body, tail)
    notify(
        users=_partners_of(association),
        subject=format_lazy(
            gettext_lazy("Association {pk} rejected: {name}"), pk=association.pk, name=association.customer_name
        ),
        body=body,
        link=_link(association),
    )


@transaction.atomic(durable=True)
def association_reject(*, association: Association, actor: User, reason: str, note: str = "") -> Association:
    """Reject an association waiting for review, or revoke an approved or in-force one, with a reason from the
    catalogue."""
    association = _lock(association)
    if association.status in HOLDING:
        if not permissions.can_review(actor, association):
            raise PermissionDenied(
                gettext("Only reviewers of this program who did not file the association can revoke it.")
            )
        if not note.strip():
            raise ValidationError({"note": gettext("Say why an approved association is revoked.")})
    else:
        _reviewable(association, actor)
    if reason not in REVIEWER_REASONS:
        choices = ", ".join(f"{r.value} ({r.label.lower()})" for r in REVIEWER_REASONS)
        raise ValidationError({"reason": gettext("Choose a reason: %(choices)s.") % {"choices": choices}})
    _end(association, actor, reason, note.strip())
    return association


@transaction.atomic(durable=True)
def association_withdraw(*, association: Association, actor: User, note: str = "") -> Association:
    """The partner ends its own association, in any status (reason: partner request; not disputable)."""
    association = _lock(association)
    if not permissions.can_file(actor, association):
        raise PermissionDenied(
            gettext("Only the location's incentives admins and users can withdraw its associations.")
        )
    if association.status not in LIVE:
        raise Conflict(gettext("This association has already ended."), code="invalid_transition")
    was_open = association.status in OPEN | HOLDING
    _end(association, actor, RejectionReason.PARTNER_REQUEST, note.strip())
    if was_open and association.reviewer is not None:
        notify(
            users=[association.reviewer],
            subject=format_lazy(gettext_lazy("Association {pk} withdrawn by the partner"), pk=association.pk),
            body=note.strip(),
            link=_link(association),
        )
    return association


def dispute_deadline(association: Association) -> date | None:
    """The last day the rejection can be disputed (None: not rejected, or not disputable)."""
    if association.status != S.REJECTED or association.rejected_at is None:
        return None
    if association.rejection_reason in NOT_DISPUTABLE:
        return None
    policy = selectors.policy_for(association.program)
    return timezone.localdate(association.rejected_at) + timedelta(days=policy.dispute_days)


@transaction.atomic(durable=True)
def association_dispute(*, association: Association, actor: User, reason: str) -> Association:
    association = _lock(association)
    if not permissions.can_dispute(actor, association):
        raise PermissionDenied(gettext("Only the location's incentives admins can dispute a rejection."))
    if association.status != S.REJECTED:
        raise Conflict(gettext("Only a rejected association can be disputed."), code="invalid_transition")
    if association.rejection_reason in NOT_DISPUTABLE:
        raise Conflict(
            gettext("You withdrew this association yourself; start a new one instead."), code="not_disputable"
        )
    deadline = dispute_deadline(association)
    if deadline is not None and _today() > deadline:
        raise Conflict(
            gettext("The rejection could be disputed until %(day)s; start a new association instead.")
            % {"day": _day(deadline)},
            code="dispute_window_closed",
        )
    if not reason.strip():
        raise ValidationError({"reason": gettext("Say why the rejection is wrong.")})
    _move(association, S.DISPUTED, actor, reason.strip())
    association.disputed_at = timezone.now()
    association.due_on = periods.add_business_days(
        association.program, _today(), association.program.dispute_sla_business_days
    )
    association.save()
    notify(
        users=reviewers_of(association.program),
        subject=format_lazy(
            gettext_lazy("Association {pk} disputed: {name}"), pk=association.pk, name=association.customer_name
        ),
        body=format_lazy(
            gettext_lazy("{reason} Decision due {day}."), reason=reason.strip(), day=_day_lazy(association.due_on)
        ),
        link=_link(association),
    )
    return association


@transaction.atomic(durable=True)
def association_comment(
    *, association: Association, actor: User, message: str, internal: bool = False
) -> AssociationEvent:
    association = _lock(association)
    allowed = permissions.can_see_internal(actor) if internal else permissions.can_comment(actor, association)
    if not allowed:
        raise PermissionDenied(
            gettext("Only vendor staff write internal notes.")
            if internal
            else gettext("You cannot comment on this association.")
        )
    if not message.strip():
        raise ValidationError({"message": gettext("Write a comment.")})
    kind = AssociationEvent.Kind.NOTE if internal else AssociationEvent.Kind.COMMENT
    return _event(association, actor, kind, message.strip(), internal=internal)


# --------------------------------------------------------------------------------------------- consent


def association_for_consent(token: str) -> Association:
    """The association a consent link stands for, while the customer may still answer; else NotFound (one
    answer for an altered, expired, used or unknown link)."""
    digest = consent.token_hash(token, max_age=CONSENT_LINK_MAX_AGE)
    found = (
        Association.objects.select_related("location__organisation", "program__vendor")
        .filter(consent_nonce_hash=digest, status=S.APPROVED, consent_closes_on__gte=_today())
        .first()
        if digest
        else None
    )
    if found is None:
        raise NotFound(gettext("This link is not valid (any more)."), code="link_invalid")
    return found


@transaction.atomic(durable=True)
def association_consent_answer(*, token: str, confirm: bool) -> Association:
    """The customer contact confirms (in force at once) or declines (rejected: customer decline). The link
    works once."""
    found = association_for_consent(token)
    association = _lock(found)
    if (
        association.status != S.APPROVED
        or association.consent_nonce_hash != found.consent_nonce_hash
        or association.consent_closes_on is None
        or association.consent_closes_on < _today()
    ):
        raise NotFound(gettext("This link is not valid (any more)."), code="link_invalid")
    association.consent_nonce_hash = ""
    association.consent_answer = "confirmed" if confirm else "declined"
    association.consent_answered_at = timezone.now()
    contact = association.customer_contact_email
    _event(
        association,
        None,
        AssociationEvent.Kind.CONSENT,
        Said(
            gettext_noop("Confirmed by the customer contact (%(contact)s).")
            if confirm
            else gettext_noop("Declined by the customer contact (%(contact)s)."),
            contact=contact,
        ),
    )
    if confirm:
        _move(association, S.IN_FORCE, None, Said(gettext_noop("Confirmed by the customer: in force.")))
        association.in_force_from = association.approved_on
        association.save()
        notify(
            users=_partners_of(association),
            subject=format_lazy(
                gettext_lazy("Association {pk} in force: {name}"), pk=association.pk, name=association.customer_name
            ),
            body=gettext_lazy("The customer confirmed the association."),
            link=_link(association),
        )
    else:
        _end(association, None, RejectionReason.CUSTOMER_DECLINE, gettext_lazy("The customer contact declined."))
    return association


# --------------------------------------------------------------------------------------------- deadlines


def partner_actions_expire(*, today: date | None = None) -> int:
    """Reject associations whose partner did not answer a request for action by its deadline. Idempotent."""
    today = today or _today()
    count = 0
    late = Association.objects.filter(status=S.ACTION_REQUIRED, action_due_on__lt=today)
    for pk in late.values_list("pk", flat=True):
        with transaction.atomic(durable=True):
            association = _lock(Association(pk=pk))
            due = association.action_due_on
            if association.status != S.ACTION_REQUIRED or due is None or due >= today:
                continue
            _end(
                association,
                None,
                RejectionReason.NO_PARTNER_RESPONSE,
                format_lazy(gettext_lazy("No answer by {day}."), day=_day_lazy(due)),
            )
            count += 1
    return count


def consent_windows_close(*, today: date | None = None) -> int:
    """Put in force the approved associations whose customer did not decline within the window. Idempotent."""
    today = today or _today()
    count = 0
    ended = Association.objects.filter(status=S.APPROVED, consent_closes_on__lt=today)
    for pk in ended.values_list("pk", flat=True):
        with transaction.atomic(durable=True):
            association = _lock(Association(pk=pk))
            closes = association.consent_closes_on
            if association.status != S.APPROVED or closes is None or closes >= today:
                continue
            _move(
                association,
                S.IN_FORCE,
                None,
                Said(gettext_noop("The customer did not decline by %(day)s: in force."), day=_on_record(closes)),
            )
            association.in_force_from = association.approved_on
            association.consent_nonce_hash = ""
            association.consent_answer = "lapsed"
            association.save()
            notify(
                users=_partners_of(association),
                subject=format_lazy(
                    gettext_lazy("Association {pk} in force: {name}"),
                    pk=association.pk,
                    name=association.customer_name,
                ),
                body=format_lazy(gettext_lazy("The customer did not decline by {day}."), day=_day_lazy(closes)),
                link=_link(association),
            )
            count += 1
    return count


def associations_escalate(*, today: date | None = None) -> int:
    """Tell program managers about association reviews past their due date (once per due date), as for claims."""
    return escalation.escalate_overdue(
        Association.objects.all(),
        today or _today(),
        lock=lambda pk: _lock(Association(pk=pk)),
        note=lambda association, text: _event(association, None, AssociationEvent.Kind.NOTE, text, internal=True),
        noun="association",
        link=_link,
        awaiting=frozenset({S.SUBMITTED, S.UNDER_REVIEW, S.DISPUTED}),
    )
