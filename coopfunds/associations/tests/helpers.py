"""Shared by the associations tests: fixed customers, complete associations, and a snapshot of every table
an association action may write."""

import io
from datetime import date
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from coopfunds.associations import services
from coopfunds.associations.models import Association, AssociationEvent, AssociationItem
from coopfunds.audit.models import AuditEvent
from coopfunds.documents.models import Document
from coopfunds.notifications.models import Notification

TODAY = date(2026, 11, 20)  # a Friday
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
DOMAIN = "contoso.com"
OTHER_TENANT = "0b6f4c27-7a1e-4a0b-9c0e-5f5f1c2d3e4f"
SUBSCRIPTION = "5d4c3b2a-1908-4766-a554-433221100fed"
VENDOR = {"program_manager", "reviewer", "finance", "auditor"}
BERLIN = {"partner_admin", "partner_user"}  # Fabrikam Berlin's people
VISIBLE = BERLIN | VENDOR


def pdf(name: str = "sow.pdf", colour: str = "white") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(buffer, "PDF")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


def fields(**overrides: Any) -> dict[str, Any]:
    return {
        "customer_name": "Contoso Ltd",
        "customer_tenant_id": TENANT,
        "customer_domain": DOMAIN,
        "solution_area": "modern-work",
        "partner_role": "deployment",
        "workloads": ["exchange-online", "teams"],
        "subscription_ids": [],
        "customer_contact_name": "Carla Customer",
        "customer_contact_email": "carla@contoso.com",
        "partner_contact_name": "Ada Admin",
        "partner_contact_email": "ada.admin@fabrikam.example",
        **overrides,
    }


def draft(
    world: Any, *, actor: Any = None, location: Any = None, colour: str = "white", **overrides: Any
) -> Association:
    """A complete association in Editing, with its proof, ready to submit."""
    return services.association_create(
        location=location or world.location,
        program=world.program,
        actor=actor or world.partner_admin,
        proof=pdf(colour=colour),
        proof_note="Statement of work signed by the customer.",
        **fields(**overrides),
    )


def submitted(world: Any, **kw: Any) -> Association:
    association = draft(world, **kw)
    actor = kw.get("actor") or world.partner_admin
    return services.association_submit(association=association, actor=actor)


def approved(world: Any, **kw: Any) -> Association:
    return services.association_approve(association=submitted(world, **kw), actor=world.reviewer)


def rejected(world: Any, **kw: Any) -> Association:
    return services.association_reject(
        association=submitted(world, **kw), actor=world.reviewer, reason="insufficient_proof", note="Unsigned."
    )


def state() -> tuple[Any, ...]:
    """Everything an association action may change."""
    return (
        list(Association.objects.order_by("id").values_list()),
        list(AssociationItem.objects.order_by("id").values_list()),
        AssociationEvent.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
        Document.objects.count(),
    )
