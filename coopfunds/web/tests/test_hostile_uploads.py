"""Every upload path of the product takes files through the one intake of `documents`: each hostile file of the
generated corpus is refused on each path with the reason a person understands, and nothing of it stays behind
(no document row, no stored file, no profile)."""

from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from coopfunds.claims import services as claims
from coopfunds.claims.tests.conftest import ready_claim
from coopfunds.documents.models import Document
from coopfunds.documents.services import documents_upload
from coopfunds.documents.tests import files
from coopfunds.documents.tests.files import upload
from coopfunds.documents.tests.hostile import CORPUS, png_with_text
from coopfunds.enrollments.models import TaxProfile
from coopfunds.enrollments.services import tax_profile_submit
from coopfunds.plans import proofs
from coopfunds.plans.tests.helpers import approved_plan, ready_proof
from coopfunds.testing import clamav
from coopfunds.testing.clamav import EICAR

EVERY_TYPE = "PDF, PNG, JPEG, GIF, WEBP, TIFF, DOCX, XLSX, PPTX, CSV, TXT"


def stored_files() -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def reason(name: str, tail: str, accepted: str) -> str:
    return f"“{name}” " + tail.format(accepted=accepted)


@pytest.fixture
def paths(plans_world):
    """Each upload path as (how to upload one file, where the refusal is said, the types it accepts)."""
    world = plans_world
    claim = ready_claim(world)
    proof = ready_proof(world, approved_plan(world))
    actor = world.partner_admin
    return {
        "location documents": (
            lambda f: documents_upload(
                uploads=[f], kind="proof", note="What it shows.", location=world.location, actor=actor
            ),
            "files",
            EVERY_TYPE,
        ),
        "claim": (
            lambda f: claims.claim_add_documents(
                claim=claim, uploads=[f], kind="proof", note="What it shows.", actor=actor
            ),
            "files",
            EVERY_TYPE,
        ),
        "proof of execution": (
            lambda f: proofs.proof_add_documents(
                proof=proof, uploads=[f], kind="proof", note="What it shows.", actor=actor
            ),
            "files",
            EVERY_TYPE,
        ),
        "tax certificate": (
            lambda f: tax_profile_submit(
                location=world.location,
                country="DE",
                tax_id="DE123456789",
                legal_name="Fabrikam GmbH",
                expires_on=date(2028, 12, 31),
                document=f,
                actor=actor,
            ),
            "document",
            "PDF, PNG, JPEG",
        ),
    }


@pytest.mark.parametrize("path", ["location documents", "claim", "proof of execution", "tax certificate"])
@pytest.mark.parametrize(("name", "data", "why"), CORPUS, ids=[name for name, _, _ in CORPUS])
def test_every_hostile_file_is_refused_on_every_upload_path(paths, path, name, data, why):
    send, field, accepted = paths[path]
    if path == "tax certificate" and name.endswith(".gif"):
        why = "is a GIF image; accepted here: {accepted}."  # refused by type before its content is read
    documents, stored, profiles = Document.objects.count(), stored_files(), TaxProfile.objects.count()
    with pytest.raises(ValidationError) as refused:
        send(upload(name, data))
    assert refused.value.message_dict == {field: [reason(name, why, accepted)]}
    assert (Document.objects.count(), stored_files(), TaxProfile.objects.count()) == (documents, stored, profiles)


def test_a_clean_certificate_is_kept_under_its_checked_name(paths):
    from coopfunds.documents.tests.files import pillow_pdf

    send, _, _ = paths["tax certificate"]
    content = pillow_pdf()
    profile = send(upload("Tax certificate (2026).pdf", content))
    assert profile.document.name.rsplit("/", 1)[-1].endswith(".pdf")
    assert profile.document.read() == content


# Malware: a real clamd (coopfunds.testing.clamav) scans each upload last, so the file below passes every other
# check (a well-formed PNG) and is refused only for the signature clamd finds in it.
INFECTED = ("holiday.png", png_with_text(EICAR))


@pytest.mark.parametrize("path", ["location documents", "claim", "proof of execution", "tax certificate"])
def test_malware_is_refused_on_every_upload_path_and_nothing_stays(paths, path, malware_scanning):
    send, field, _ = paths[path]
    name, data = INFECTED
    documents, stored, profiles = Document.objects.count(), stored_files(), TaxProfile.objects.count()
    with pytest.raises(ValidationError) as refused:
        send(upload(name, data))
    assert refused.value.message_dict == {
        field: [
            f"“{name}” contains malware ({clamav.FOUND}) and was not stored. Scan your computer, then upload a "
            "clean copy of the document."
        ]
    }
    assert (Document.objects.count(), stored_files(), TaxProfile.objects.count()) == (documents, stored, profiles)


@pytest.mark.parametrize("path", ["location documents", "tax certificate"])
def test_a_scanned_clean_file_is_stored_as_clean(paths, path, malware_scanning):
    send, _, _ = paths[path]
    stored = send(upload("receipt.png", files.image("PNG")))
    state = stored[0].scan_state if path == "location documents" else stored.document_scan_state
    assert state == "clean"


@pytest.mark.parametrize("address", ["", "unix:/nonexistent/clamd.sock", "127.0.0.1:9"])
def test_when_scanning_is_required_but_unavailable_the_upload_is_refused(paths, settings, address):
    settings.CLAMAV_ADDRESS, settings.CLAMAV_REQUIRED = address, True
    send, field, _ = paths["claim"]
    documents, stored = Document.objects.count(), stored_files()
    with pytest.raises(ValidationError) as refused:
        send(upload("receipt.png", files.image("PNG")))
    assert refused.value.message_dict == {
        field: [
            "“receipt.png” could not be checked for malware just now, so it was not stored; try again in a few minutes."
        ]
    }
    assert (Document.objects.count(), stored_files()) == (documents, stored)


def test_when_scanning_is_off_a_file_is_stored_and_shown_as_not_scanned(paths, settings, client):
    settings.CLAMAV_ADDRESS, settings.CLAMAV_REQUIRED = "", False
    send, _, _ = paths["location documents"]
    (document,) = send(upload("receipt.png", files.image("PNG")))
    assert document.scan_state == "not_scanned"
    client.force_login(document.uploaded_by)
    page = client.get(f"/documents/{document.pk}/").content.decode()
    assert "<dt>Malware scan</dt><dd>Not scanned for malware</dd>" in page
