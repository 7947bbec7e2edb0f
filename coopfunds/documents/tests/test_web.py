"""The document pages: who may open them, what they send, and the headers that keep browsers safe."""

import pytest
from django.urls import reverse

from conftest import PERSONAS
from coopfunds.documents.tests import files
from coopfunds.documents.tests.helpers import state

pytestmark = pytest.mark.django_db

SEES = {"partner_admin", "partner_user", "program_manager", "reviewer", "finance", "auditor"}
PAGES = ["document_detail", "document_download", "document_preview"]
SAFE = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


def _headers(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {name: response[name] for name in (*SAFE, "Content-Type", "Content-Disposition")}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", PAGES)
def test_page_authorisation(as_persona, media, document, persona, page, store, django_capture_on_commit_callbacks):
    if page == "document_preview":  # a preview exists once it is rendered (an image's, without poppler)
        with django_capture_on_commit_callbacks(execute=True):
            document = store("booth.jpg", files.jpeg())
    before = state(media)
    url = reverse(page, args=[document.pk])
    response = as_persona(persona).get(url)
    expected = 200 if persona in SEES else 302 if persona == "anonymous" else 404
    assert (response.status_code, response.get("Location")) == (
        expected,
        f"/login/?next={url}" if persona == "anonymous" else None,
    )
    assert state(media) == before


def test_a_partner_user_without_a_role_on_the_location_gets_404(world, as_persona, store):
    document = store(location=world.second_location)
    assert [as_persona("partner_user").get(reverse(p, args=[document.pk])).status_code for p in PAGES] == [404] * 3


def test_a_missing_document_is_404(as_persona, world):
    assert as_persona("reviewer").get(reverse("document_detail", args=[999999])).status_code == 404


def test_download_is_an_attachment_with_the_verified_type_and_safe_headers(as_persona, store):
    data = files.pillow_pdf()
    document = store("Rechnung März.pdf", data)
    response = as_persona("reviewer").get(reverse("document_download", args=[document.pk]))
    assert b"".join(response.streaming_content) == data
    assert _headers(response) == {
        **SAFE,
        "Content-Type": "application/pdf",
        "Content-Disposition": "attachment; filename*=utf-8''Rechnung%20M%C3%A4rz.pdf",
    }


def test_a_pdf_without_a_rendered_preview_is_never_shown_inline_as_itself(as_persona, document):
    response = as_persona("partner_user").get(reverse("document_preview", args=[document.pk]))
    assert (response.status_code, document.has_preview) == (404, False)
    page = as_persona("partner_user").get(reverse("document_detail", args=[document.pk])).content.decode()
    assert reverse("document_preview", args=[document.pk]) not in page


def test_an_image_preview_is_the_png_thumbnail_inline(as_persona, store, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        document = store("booth.jpg", files.jpeg(), kind="proof", note="Our booth")
    response = as_persona("partner_admin").get(reverse("document_preview", args=[document.pk]))
    assert b"".join(response.streaming_content).startswith(b"\x89PNG\r\n\x1a\n")
    assert _headers(response) == {
        **SAFE,
        "Content-Type": "image/png",
        "Content-Disposition": 'inline; filename="booth.png"',
    }


def test_types_without_a_preview_answer_404(as_persona, store):
    document = store("guests.xlsx", files.xlsx())
    assert as_persona("partner_admin").get(reverse("document_preview", args=[document.pk])).status_code == 404


def test_the_page_shows_the_facts_and_every_version(world, as_persona, store):
    from coopfunds.documents import services

    old = store("flyer.pdf", note="First print")
    new = services.document_replace(
        document=old,
        upload=files.upload("flyer-v2.pdf", files.pillow_pdf()),
        note="Second print",
        actor=world.partner_admin,
    )
    response = as_persona("auditor").get(reverse("document_detail", args=[old.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>flyer.pdf</h1>" in page
    assert old.sha256 in page
    assert page.count('href="/documents/') == 3  # the two versions and download (a PDF not rendered: no preview)
    assert f'<a href="/documents/{new.pk}/">flyer-v2.pdf</a>' in page
    assert f'href="/documents/{old.pk}/download"' in page


def test_pages_refuse_posts(as_persona, document):
    assert as_persona("partner_admin").post(reverse("document_download", args=[document.pk])).status_code == 405


def test_the_row_partial_for_other_pages_links_download_and_preview(
    document, store, django_capture_on_commit_callbacks
):
    from django.template.loader import render_to_string

    row = render_to_string("web/documents/_document.html", {"document": document})
    assert f'<a href="/documents/{document.pk}/">invoice.pdf</a> <span class="badge warning"' in row
    assert f'<td><a href="/documents/{document.pk}/download" download>Download</a></td>' in row  # not rendered
    with django_capture_on_commit_callbacks(execute=True):
        image = store("booth.jpg", files.jpeg())
    image.refresh_from_db()
    row = render_to_string("web/documents/_document.html", {"document": image})
    assert f'href="/documents/{image.pk}/preview" target="_blank" rel="noopener noreferrer">Preview</a>' in row
