"""The documents services: what they store, audit and refuse, and that a refusal changes nothing."""

import hashlib
import io
import os
import re
import shutil
import time
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from PIL import Image

from coopfunds.audit.models import AuditEvent
from coopfunds.core.errors import Conflict, NotFound
from coopfunds.documents import selectors, services
from coopfunds.documents.inspection import UploadPolicy
from coopfunds.documents.models import Document
from coopfunds.documents.tests import files
from coopfunds.documents.tests.helpers import state, stored_files

pytestmark = pytest.mark.django_db


def test_store_keeps_the_file_under_a_random_name_with_its_facts(world, media, store):
    data = files.pillow_pdf()
    document = store("Rechnung März.pdf", data, note="  Printing of flyers ", retain_from=date(2027, 3, 10))
    document.refresh_from_db()
    assert re.fullmatch(r"documents/\d{4}/\d{2}/[0-9a-f]{32}", document.file.name)
    assert stored_files(media) == [document.file.name]
    assert (media / document.file.name).read_bytes() == data
    assert (
        document.location,
        document.kind,
        document.note,
        document.original_name,
        document.file_type,
        document.content_type,
        document.size,
        document.sha256,
        document.uploaded_by,
        document.version_of,
        document.locked_at,
        document.retain_until,
        document.preview_state,
    ) == (
        world.location,
        "invoice",
        "Printing of flyers",
        "Rechnung März.pdf",
        "pdf",
        "application/pdf",
        len(data),
        hashlib.sha256(data).hexdigest(),
        world.partner_admin,
        None,
        None,
        date(2029, 3, 10),
        "pending",
    )
    event = AuditEvent.objects.get()
    assert (event.verb, event.actor, event.target_id, event.organisation_id, event.changes) == (
        "document.store",
        world.partner_admin,
        str(document.pk),
        world.partner.pk,
        {
            "name": [None, "Rechnung März.pdf"],
            "kind": [None, "invoice"],
            "file_type": [None, "pdf"],
            "size": [None, len(data)],
            "sha256": [None, hashlib.sha256(data).hexdigest()],
        },
    )


def test_a_refused_file_stores_nothing(media, store):
    before = state(media)
    with pytest.raises(ValidationError) as refused:
        store("image.pdf", files.png())
    assert refused.value.message_dict == {
        "file": ["“image.pdf” is named .pdf but is a PNG image; rename it to .png or upload the right file."]
    }
    assert state(media) == before == ([], 0, [])


def test_proof_needs_a_note_and_kind_must_be_a_short_word(media, store):
    with pytest.raises(ValidationError) as refused:
        store("photo.jpg", files.jpeg(), kind="proof", note="   ")
    assert refused.value.message_dict == {"note": ["Add a note that explains what this proof document shows."]}
    with pytest.raises(ValidationError) as refused:
        store("setup.exe", b"MZ" + bytes(50), kind="Proof of execution!", note="x" * 2001)
    assert refused.value.message_dict == {
        "kind": [
            "Say what the document is in one short word such as invoice or proof (lowercase letters, digits and _, "
            "at most 32)."
        ],
        "note": ["Keep the note to 2,000 characters; it is 2,001."],
        "file": [
            "“setup.exe” is a program, not a document; accepted here: PDF, PNG, JPEG, GIF, WEBP, TIFF, DOCX, XLSX, "
            "PPTX, CSV, TXT."
        ],
    }
    assert state(media) == ([], 0, [])


@pytest.mark.parametrize(
    ("persona", "location", "error"),
    [
        ("other_admin", "location", NotFound),
        ("partner_user", "second_location", NotFound),
        ("reviewer", "location", PermissionDenied),
        ("program_manager", "location", PermissionDenied),
        ("auditor", "location", PermissionDenied),
    ],
)
def test_only_partner_users_of_the_location_may_store(world, media, store, persona, location, error):
    before = state(media)
    with pytest.raises(error):
        store(actor=world.persona(persona), location=getattr(world, location))
    assert state(media) == before


def test_partner_user_with_a_role_on_the_location_may_store(world, store):
    assert store(actor=world.partner_user).uploaded_by == world.partner_user


def test_new_version_keeps_the_old_one_and_only_the_newest_can_be_replaced(world, media, store):
    old = store("flyer.pdf", note="v1", kind="final_piece")
    with transaction.atomic():
        services.document_lock(documents=[old], retain_from=date(2027, 5, 1))
    with transaction.atomic():
        new = services.document_new_version(
            document=old,
            upload=files.upload("flyer-v2.png", files.png()),
            note="v2",
            policy=UploadPolicy(),
            actor=world.partner_user,
        )
    old.refresh_from_db()
    assert (new.version_of, new.kind, new.original_name, new.locked_at, new.retain_until) == (
        old,
        "final_piece",
        "flyer-v2.png",
        None,
        date(2029, 5, 1),
    )
    assert old.locked_at is not None
    assert old.original_name == "flyer.pdf"
    assert stored_files(media) == sorted([old.file.name, new.file.name])
    assert selectors.document_versions(old) == selectors.document_versions(new) == [old, new]
    assert AuditEvent.objects.filter(verb="document.new_version").get().changes["version_of"] == [None, old.pk]
    before = state(media)
    with pytest.raises(Conflict) as refused, transaction.atomic():
        services.document_new_version(
            document=old,
            upload=files.upload("v3.pdf", files.pillow_pdf()),
            note="",
            policy=UploadPolicy(),
            actor=world.partner_admin,
        )
    assert refused.value.message == "“flyer.pdf” has already been replaced by a newer version; replace that one."
    assert state(media) == before


def test_new_version_of_a_proof_needs_a_note_and_outsiders_get_404(world, media, store):
    proof = store("photo.jpg", files.jpeg(), kind="proof", note="Booth")
    before = state(media)
    with pytest.raises(ValidationError) as refused, transaction.atomic():
        services.document_new_version(
            document=proof,
            upload=files.upload("photo2.jpg", files.jpeg()),
            note="",
            policy=UploadPolicy(),
            actor=world.partner_admin,
        )
    assert refused.value.message_dict == {"note": ["Add a note that explains what this proof document shows."]}
    with pytest.raises(NotFound), transaction.atomic():
        services.document_new_version(
            document=proof,
            upload=files.upload("photo2.jpg", files.jpeg()),
            note="x",
            policy=UploadPolicy(),
            actor=world.other_admin,
        )
    assert state(media) == before


def test_lock_is_idempotent_and_only_moves_retention_later(world, store):
    document = store(retain_from=date(2027, 1, 31))
    with transaction.atomic():
        services.document_lock(documents=[document], actor=world.partner_admin)
    document.refresh_from_db()
    first = document.locked_at
    assert (first is not None, document.retain_until) == (True, date(2029, 1, 31))
    with transaction.atomic():
        services.document_lock(documents=[document], retain_from=date(2026, 6, 30))
    with transaction.atomic():
        services.document_lock(documents=[document], retain_from=date(2028, 2, 29))
    document.refresh_from_db()
    assert (document.locked_at, document.retain_until) == (first, date(2030, 2, 28))
    assert list(AuditEvent.objects.filter(verb="document.lock").order_by("id").values_list("changes", flat=True)) == [
        {"locked_at": [None, str(first)]},
        {"retain_until": ["2029-01-31", "2030-02-28"]},
    ]


@pytest.mark.parametrize(
    ("activity", "kept"),
    [
        (date(2027, 3, 10), date(2029, 3, 10)),
        (date(2028, 2, 29), date(2030, 2, 28)),
        (date(2026, 12, 31), date(2028, 12, 31)),
    ],
)
def test_retention_is_24_months_from_the_activity_date(activity, kept):
    assert services.retention_date(activity) == kept


def test_an_unlocked_document_can_be_deleted_and_its_file_goes_after_commit(
    world, media, store, django_capture_on_commit_callbacks
):
    document = store()
    with django_capture_on_commit_callbacks(execute=True):
        services.document_discard(document=document, actor=world.partner_user)
    assert (Document.objects.count(), stored_files(media)) == (0, [])
    assert AuditEvent.objects.filter(verb="document.delete").get().changes == {
        "name": ["invoice.pdf", None],
        "sha256": [document.sha256, None],
    }


def test_a_locked_document_cannot_be_deleted_until_its_retention_date_has_passed(world, media, store):
    kept = store(retain_from=date(2027, 3, 10))
    forever = store("other.pdf")
    with transaction.atomic():
        services.document_lock(documents=[kept, forever])
    before = state(media)
    with pytest.raises(Conflict) as refused:
        services.document_discard(document=kept, actor=world.partner_admin)
    assert refused.value.message == (
        "“invoice.pdf” is locked: it belongs to something already submitted and is kept until 10 March 2029."
    )
    with pytest.raises(Conflict) as refused:
        services.document_discard(document=forever, actor=world.partner_admin)
    assert refused.value.message == "“other.pdf” is locked: it belongs to something already submitted and is kept."
    assert state(media) == before
    past = store("old.pdf", retain_from=date(2020, 1, 15))
    with transaction.atomic():
        services.document_lock(documents=[past])
    services.document_discard(document=past, actor=world.partner_admin)
    assert list(Document.objects.order_by("id")) == [kept, forever]


def test_an_earlier_version_is_kept_and_vendor_staff_cannot_delete(world, media, store):
    old = store()
    services.document_replace(
        document=old, upload=files.upload("new.pdf", files.pillow_pdf()), note="", actor=world.partner_admin
    )
    before = state(media)
    with pytest.raises(Conflict) as refused:
        services.document_discard(document=old, actor=world.partner_admin)
    assert refused.value.message == "“invoice.pdf” has a newer version; earlier versions are kept."
    with pytest.raises(PermissionDenied):
        services.document_discard(document=old, actor=world.program_manager)
    assert state(media) == before


def test_upload_of_many_is_all_or_nothing_and_counts_the_locations_unlocked_documents(world, media, store):
    held = store("big.csv", b"x," * 40_000)  # 80,000 bytes, unlocked
    before = state(media)
    with pytest.raises(ValidationError) as refused:
        services.documents_upload(
            uploads=[files.upload("a.pdf", files.pillow_pdf()), files.upload("b.html", b"<html>")],
            kind="invoice",
            note="",
            location=world.location,
            actor=world.partner_admin,
        )
    assert refused.value.message_dict == {
        "files": [
            "“b.html” is a web page or SVG image, which can carry scripts; these are not accepted. Save it as PDF "
            "and upload that."
        ]
    }
    assert state(media) == before
    stored = services.documents_upload(
        uploads=[files.upload("a.pdf", files.pillow_pdf()), files.upload("b.png", files.png())],
        kind="invoice",
        note="",
        location=world.location,
        actor=world.partner_admin,
        retain_from=date(2027, 4, 1),
    )
    assert [(d.original_name, d.retain_until) for d in stored] == [
        ("a.pdf", date(2029, 4, 1)),
        ("b.png", date(2029, 4, 1)),
    ]
    assert selectors.unattached_bytes(world.location) == held.size + sum(d.size for d in stored)


def test_images_get_a_png_preview_after_commit(world, store, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        document = store("photo.jpg", files.image("JPEG", (1600, 1200)))
    document.refresh_from_db()
    assert (
        document.preview_state,
        re.fullmatch(r"previews/\d{4}/\d{2}/[0-9a-f]{32}\.png", document.preview.name) is not None,
    ) == ("ready", True)
    with document.preview.open("rb") as f, Image.open(io.BytesIO(f.read())) as preview:
        assert (preview.format, preview.size) == ("PNG", (800, 600))


def test_without_a_renderer_a_pdf_has_no_png_preview(store, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        document = store()
    document.refresh_from_db()
    assert (document.preview_state, document.preview.name, document.has_preview) == ("none", "", False)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is not installed")
def test_with_pdftoppm_a_pdfs_first_page_is_rendered(settings, store, django_capture_on_commit_callbacks):
    settings.DOCUMENTS_PDFTOPPM = shutil.which("pdftoppm")
    with django_capture_on_commit_callbacks(execute=True):
        document = store("flyer.pdf", files.image("PDF", (400, 200)))
    document.refresh_from_db()
    with document.preview.open("rb") as f, Image.open(io.BytesIO(f.read())) as preview:
        assert (document.preview_state, preview.format, preview.size) == ("ready", "PNG", (800, 400))


def test_office_files_have_no_preview(store, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        document = store("deck.pptx", files.pptx())
    assert (document.preview_state, document.has_preview, len(callbacks)) == ("none", False, 0)


def test_the_sweep_deletes_only_old_files_that_no_document_names(media, store):
    document = store()
    orphan, fresh = media / "documents/2020/01/" / ("a" * 32), media / "previews/2026/11/" / ("b" * 32 + ".png")
    for path in (orphan, fresh):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"left behind")
    old = time.time() - 3 * 86400
    os.utime(orphan, (old, old))
    os.utime(media / document.file.name, (old, old))
    assert services.storage_orphans_delete(older_than=timedelta(days=1)) == ["documents/2020/01/" + "a" * 32]
    assert stored_files(media) == sorted([document.file.name, "previews/2026/11/" + "b" * 32 + ".png"])


@pytest.mark.parametrize(
    ("field", "value"), [("size", 0), ("sha256", "a" * 63), ("kind", ""), ("file_type", "exe"), ("preview_state", "x")]
)
def test_the_database_refuses_impossible_rows(world, document, field, value):
    setattr(document, field, value)
    document.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        document.save()


def test_the_database_allows_one_newer_version_only(world, document):
    copy = Document.objects.get(pk=document.pk)
    copy.pk, copy.version_of = None, document
    copy.save()
    copy.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()
