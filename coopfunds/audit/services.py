from typing import Any

from django.db import models
from django.utils import translation

from coopfunds.audit.models import AuditEvent
from coopfunds.core.db import assert_in_transaction


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


def audit_entry(
    *,
    actor: Any,
    verb: str,
    target: models.Model,
    changes: dict[str, tuple[Any, Any]] | None = None,
    reason: str = "",
    organisation_id: int | None = None,
) -> AuditEvent:
    """One action, not yet saved: `audit_record` saves one, `audit_record_all` several in one INSERT. The row is
    data, the same whoever reads it: names and labels in it are written untranslated (as in the source), whatever
    the language of the request that made it."""
    with translation.override(None):
        target_repr = str(target)[:200]
        plain = {field: [_plain(old), _plain(new)] for field, (old, new) in (changes or {}).items()}
        reason = str(reason)
    return AuditEvent(
        actor=actor if actor is not None and actor.pk else None,
        actor_label=actor.email if actor is not None and actor.pk else "system",
        verb=verb,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=target_repr,
        organisation_id=organisation_id,
        changes=plain,
        reason=reason,
    )


def audit_record(
    *,
    actor: Any,
    verb: str,
    target: models.Model,
    changes: dict[str, tuple[Any, Any]] | None = None,
    reason: str = "",
    organisation_id: int | None = None,
) -> AuditEvent:
    """Record one action. Call it inside the service's transaction; never put secrets in `changes`."""
    return audit_record_all(
        [
            audit_entry(
                actor=actor,
                verb=verb,
                target=target,
                changes=changes,
                reason=reason,
                organisation_id=organisation_id,
            )
        ]
    )[0]


def audit_record_all(entries: list[AuditEvent]) -> list[AuditEvent]:
    """Record several actions of one service call (made with `audit_entry`), in its transaction."""
    assert_in_transaction()
    return AuditEvent.objects.bulk_create(entries)


def diff(instance: models.Model, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The fields of `values` that differ from `instance`, as {field: (old, new)}."""
    return {name: (getattr(instance, name), new) for name, new in values.items() if getattr(instance, name) != new}
