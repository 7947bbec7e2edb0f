"""Pure predicates: who may see and add documents. No queries of their own (grants are loaded once).

Partner users with a role on the document's location may upload and see it; vendor staff may see every
document (and change none); nobody else sees anything (404)."""

from coopfunds.accounts.models import PARTNER_ROLES, Location, User
from coopfunds.accounts.permissions import holds, is_vendor_staff
from coopfunds.documents.models import Document


def can_add_documents(user: User, location: Location) -> bool:
    """Upload to the location (and replace or delete its unlocked documents)."""
    return (
        user.is_authenticated
        and user.organisation_id == location.organisation_id
        and holds(user, PARTNER_ROLES, location=location)
    )


def can_see_document(user: User, document: Document) -> bool:
    return is_vendor_staff(user) or can_add_documents(user, document.location)


def can_change_document(user: User, document: Document) -> bool:
    return can_add_documents(user, document.location)
