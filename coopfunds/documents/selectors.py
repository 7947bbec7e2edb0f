"""Reads, scoped to what a user may see. Outsiders get NotFound (404), never a hint that a row exists."""

from django.db.models import QuerySet, Sum
from django.utils.translation import gettext as _

from coopfunds.accounts.models import Location, User
from coopfunds.accounts.selectors import locations_visible_to
from coopfunds.core.errors import NotFound
from coopfunds.documents.models import Document


def documents_visible_to(user: User) -> QuerySet[Document]:
    """Vendor staff: every document. Partner users: those of the locations their roles cover."""
    return Document.objects.select_related("location__organisation", "uploaded_by").filter(
        location__in=locations_visible_to(user)
    )


def document_for(user: User, pk: int) -> Document:
    try:
        return documents_visible_to(user).get(pk=pk)
    except (Document.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such document.")) from None


def documents_of(user: User, location: Location) -> QuerySet[Document]:
    """A location's documents as `user` may see them, newest first."""
    return documents_visible_to(user).filter(location=location).order_by("-id")


def document_versions(document: Document) -> list[Document]:
    """Every version of the document, the oldest first (the chain through `version_of`, both ways)."""
    chain = [document]
    older = document.version_of
    while older is not None:
        chain.insert(0, older)
        older = older.version_of
    newer = Document.objects.filter(version_of=document).first()
    while newer is not None:
        chain.append(newer)
        newer = Document.objects.filter(version_of=newer).first()
    return chain


def newer_version_of(document: Document) -> Document | None:
    return Document.objects.filter(version_of=document).first()


def unattached_bytes(location: Location) -> int:
    """What the location holds in documents not yet locked to something submitted (the per-owner limit of
    documents uploaded on their own, before a claim or plan takes them)."""
    total = Document.objects.filter(location=location, locked_at__isnull=True).aggregate(total=Sum("size"))["total"]
    return int(total or 0)
