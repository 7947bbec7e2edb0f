"""/api/v1 documents endpoints: the authorisation matrix, exact bodies, all-or-nothing uploads."""

import hashlib
from typing import Any

import pytest

from conftest import PERSONAS
from coopfunds.documents.models import Document
from coopfunds.documents.tests import files
from coopfunds.documents.tests.helpers import state, stored_files

pytestmark = pytest.mark.django_db

API = "/api/v1"
SEES = {"partner_admin", "partner_user", "program_manager", "reviewer", "finance", "auditor"}
CHANGES = {"partner_admin", "partner_user"}


def expected_status(persona: str, kind: str, ok: int) -> int:
    if persona == "anonymous":
        return 401
    if persona in CHANGES or (kind == "read" and persona in SEES):
        return ok
    return 403 if persona in SEES else 404


def _upload_body() -> dict[str, Any]:
    return {"kind": "invoice", "note": "", "files": [files.upload("a.pdf", files.pillow_pdf())]}


# (name, method, kind, ok status, url(document, location), multipart body)
ENDPOINTS: list[tuple[str, str, str, int, Any, Any]] = [
    ("document_get", "get", "read", 200, lambda d, loc: f"/documents/{d.pk}", None),
    ("document_download", "get", "read", 200, lambda d, loc: f"/documents/{d.pk}/download", None),
    ("document_list", "get", "read", 200, lambda d, loc: f"/locations/{loc.pk}/documents", None),
    ("document_upload", "post", "change", 201, lambda d, loc: f"/locations/{loc.pk}/documents", _upload_body),
    (
        "document_version",
        "post",
        "change",
        201,
        lambda d, loc: f"/documents/{d.pk}/versions",
        lambda: {"note": "v2", "file": files.upload("b.pdf", files.pillow_pdf())},
    ),
    ("document_delete", "delete", "change", 204, lambda d, loc: f"/documents/{d.pk}", None),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("name", "method", "kind", "ok", "url", "body"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_endpoint_authorisation(world, as_persona, media, document, persona, name, method, kind, ok, url, body):
    before = state(media)
    client = as_persona(persona)
    path = API + url(document, world.location)
    response = client.post(path, body()) if method == "post" else getattr(client, method)(path)
    assert response.status_code == expected_status(persona, kind, ok)
    assert (state(media) != before) is (response.status_code in (201, 204))


def test_metadata(world, as_persona, document):
    assert as_persona("finance").get(f"{API}/documents/{document.pk}").json() == {
        "id": document.pk,
        "location_id": world.location.pk,
        "kind": "invoice",
        "note": "",
        "name": "invoice.pdf",
        "file_type": "pdf",
        "content_type": "application/pdf",
        "size": document.size,
        "sha256": document.sha256,
        "uploaded_by": "ada.admin@fabrikam.example",
        "created_at": document.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "version_of_id": None,
        "locked_at": None,
        "retain_until": None,
        "preview": "pending",
        "scan_state": "not_scanned",
        "download_url": f"/api/v1/documents/{document.pk}/download",
    }


def test_download_streams_the_file_with_safe_headers(as_persona, document):
    response = as_persona("partner_user").get(f"{API}/documents/{document.pk}/download")
    assert (response["Content-Type"], response["Content-Disposition"], response["X-Content-Type-Options"]) == (
        "application/pdf",
        'attachment; filename="invoice.pdf"',
        "nosniff",
    )
    assert (response["Content-Security-Policy"], response["Cache-Control"]) == (
        "default-src 'none'; sandbox",
        "private, no-store",
    )
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == document.sha256


def test_upload_of_many_files_at_once(world, as_persona):
    pdf, png = files.pillow_pdf(), files.png()
    response = as_persona("partner_user").post(
        f"{API}/locations/{world.location.pk}/documents",
        {
            "kind": "proof",
            "note": "Booth photos",
            "activity_date": "2027-03-10",
            "files": [files.upload("stand.pdf", pdf), files.upload("stand.png", png)],
        },
    )
    assert response.status_code == 201
    assert [(d["name"], d["kind"], d["note"], d["size"], d["retain_until"]) for d in response.json()] == [
        ("stand.pdf", "proof", "Booth photos", len(pdf), "2029-03-10"),
        ("stand.png", "proof", "Booth photos", len(png), "2029-03-10"),
    ]


def test_a_refused_file_refuses_the_whole_upload_naming_each_file(world, as_persona, media):
    response = as_persona("partner_admin").post(
        f"{API}/locations/{world.location.pk}/documents",
        {
            "kind": "proof",
            "note": "",
            "files": [
                files.upload("good.pdf", files.pillow_pdf()),
                files.upload("setup.pdf", b"MZ" + bytes(100)),
                files.upload("page.html", b"<html></html>"),
            ],
        },
    )
    assert (response.status_code, response.json()) == (
        422,
        {
            "code": "invalid",
            "message": "Some fields are not valid: files, note.",
            "fields": {
                "note": ["Add a note that explains what this proof document shows."],
                "files": [
                    "“setup.pdf” is a program, not a document; accepted here: PDF, PNG, JPEG, GIF, WEBP, TIFF, DOCX, "
                    "XLSX, PPTX, CSV, TXT.",
                    "“page.html” is a web page or SVG image, which can carry scripts; these are not accepted. Save it "
                    "as PDF and upload that.",
                ],
            },
        },
    )
    assert (Document.objects.count(), stored_files(media)) == (0, [])


def test_an_upload_without_files_or_kind_is_a_field_error(world, as_persona):
    response = as_persona("partner_admin").post(f"{API}/locations/{world.location.pk}/documents", {"note": "x"})
    assert (response.status_code, sorted(response.json()["fields"])) == (400, ["files", "kind"])


def test_deleting_a_locked_document_is_a_conflict(world, as_persona, document):
    from django.db import transaction

    from coopfunds.documents.services import document_lock

    with transaction.atomic():
        document_lock(documents=[document])
    response = as_persona("partner_admin").delete(f"{API}/documents/{document.pk}")
    assert (response.status_code, response.json()) == (
        409,
        {
            "code": "locked",
            "message": "“invoice.pdf” is locked: it belongs to something already submitted and is kept.",
            "fields": {},
        },
    )


def test_the_list_is_the_locations_documents_newest_first(world, as_persona, store):
    first, second = store("a.pdf"), store("b.pdf")
    store("c.pdf", location=world.second_location)
    body = as_persona("auditor").get(f"{API}/locations/{world.location.pk}/documents").json()
    assert ([d["id"] for d in body["results"]], body["next"]) == ([second.pk, first.pk], None)
    assert as_persona("partner_user").get(f"{API}/locations/{world.second_location.pk}/documents").status_code == 404
