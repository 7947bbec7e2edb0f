import hashlib
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from coopfunds.claims import services
from coopfunds.claims.models import ApprovalLimit
from coopfunds.funds.earnings import earnings_import
from coopfunds.funds.models import Fund
from coopfunds.funds.services import period_close
from coopfunds.funds.tests.conftest import csv_file
from coopfunds.programs.models import ActivityType
from coopfunds.programs.preset import preset_load

TODAY = date(2026, 11, 20)  # inside FY27 H1's claiming window (16 Aug 2026 – 15 Feb 2027)


def colour_of(text: str) -> str:
    """A colour that differs per text (so files differ per claim) and is the same every run."""
    return "#" + hashlib.sha256(text.encode()).hexdigest()[:6]


def pdf(name: str = "invoice.pdf", colour: str = "white") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(buffer, "PDF")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


def png(name: str = "screenshot.png", colour: str = "blue") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def claims_world(enrolled, time_machine, settings, tmp_path):
    """Berlin and Northwind each have 12,000.00 USD of FY27 H1 co-op available; today is 20 Nov 2026."""
    settings.MEDIA_ROOT = tmp_path / "media"
    time_machine.move_to(TODAY)
    preset_load(
        vendor=enrolled.vendor, code=enrolled.program.code, name="x", currency="USD", fiscal_year=2027, big=True
    )
    earnings_import(
        stream=csv_file("2026-03-15,FAB-001,coop,30000.00,USD,,,,A-1", "2026-03-15,NW-001,coop,30000.00,USD,,,,B-1"),
        file_name="e.csv",
        actor=enrolled.finance,
    )
    period_close(program=enrolled.program, today=TODAY)
    enrolled.fund = Fund.objects.get(location=enrolled.location)
    enrolled.other_fund = Fund.objects.get(location=enrolled.other_location)
    enrolled.activity = lambda code: ActivityType.objects.get(program=enrolled.program, fiscal_year=2027, code=code)
    return enrolled


def ready_claim(world, *, amount="1000.00", code="syndicated-content", invoice="INV-1", fund=None, actor=None, **extra):
    """A claim that passes every check: dates in the usage period, invoice, screenshot, metrics."""
    actor = actor or world.partner_admin
    fund = fund or world.fund
    activity = world.activity(code)
    claim = services.claim_create(
        fund=fund,
        activity_type=activity,
        name="Autumn campaign",
        actor=actor,
        execution_start=date(2026, 9, 1),
        execution_end=date(2026, 9, 30),
        amount=Decimal(amount),
        invoice_vendor="Contoso Media",
        invoice_number=invoice,
        invoice_date=date(2026, 10, 1),
        invoice_amount=Decimal(amount) + 100,
        invoice_currency="USD",
        metrics={m: "1200" for m in activity.metrics},
        **extra,
    )
    services.claim_add_documents(
        claim=claim, uploads=[pdf(f"{invoice}.pdf", colour=colour_of(invoice))], kind="invoice", note="", actor=actor
    )
    for req in activity.document_requirements.filter(required=True).exclude(kind="invoice"):
        services.claim_add_documents(
            claim=claim,
            uploads=[png(f"{req.kind}.png", colour=colour_of(invoice + req.kind))],
            kind=req.kind,
            note="",
            actor=actor,
        )
    return claim


def set_limit(user, program, amount):
    with transaction.atomic():
        ApprovalLimit.objects.create(user=user, program=program, amount=Decimal(amount))
