"""Documents on the web: a document's page (facts, versions, preview), its download and its preview.
Uploading happens where documents belong (claims, plans); those pages call the documents services."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from coopfunds.accounts.models import User
from coopfunds.documents import selectors, serving
from coopfunds.documents.inspection import human_size
from coopfunds.web.views.common import not_found_as_404


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # every view is @login_required


@login_required
@require_GET
@not_found_as_404
def document_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    document = selectors.document_for(user, pk)
    versions = selectors.document_versions(document)  # all of one location: visible alike
    return render(
        request,
        "web/documents/document_detail.html",
        {"document": document, "versions": versions, "size": human_size(document.size)},
    )


@login_required
@require_GET
@not_found_as_404
def document_download(request: HttpRequest, pk: int) -> FileResponse:
    return serving.download_response(selectors.document_for(_user(request), pk))


@login_required
@require_GET
@not_found_as_404
def document_preview(request: HttpRequest, pk: int) -> FileResponse:
    return serving.preview_response(selectors.document_for(_user(request), pk))


urlpatterns = [
    path("documents/<int:pk>/", document_detail, name="document_detail"),
    path("documents/<int:pk>/download", document_download, name="document_download"),
    path("documents/<int:pk>/preview", document_preview, name="document_preview"),
]
