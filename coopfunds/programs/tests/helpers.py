"""Shared by the programs tests: a snapshot of every table the programs services write."""

from coopfunds.audit.models import AuditEvent
from coopfunds.programs.models import ActivityType, Cap, DocumentRequirement, Holiday, Program


def counts() -> dict[str, int]:
    return {
        "programs": Program.objects.count(),
        "holidays": Holiday.objects.count(),
        "activity_types": ActivityType.objects.count(),
        "documents": DocumentRequirement.objects.count(),
        "caps": Cap.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def state() -> list[tuple[object, ...]]:
    """Every row's content, to assert that a refused action changed nothing at all."""
    return [
        *Program.objects.order_by("pk").values_list(),
        *Holiday.objects.order_by("pk").values_list(),
        *ActivityType.objects.order_by("pk").values_list(),
        *DocumentRequirement.objects.order_by("pk").values_list(),
        *Cap.objects.order_by("pk").values_list(),
        *AuditEvent.objects.order_by("pk").values_list("pk"),
    ]
