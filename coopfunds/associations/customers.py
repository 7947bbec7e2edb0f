"""Customer references in one normal form, so that "72F988BF-…", "{72f988bf-…}" and "Contoso.COM." compare
equal wherever they come from (a partner's form, the API, an earnings file). Pure functions, no queries."""

import re
import uuid
from typing import Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")


def normalise_guid(text: str, what: Literal["tenant ID", "subscription ID"] = "tenant ID") -> str:
    """A GUID in lowercase with hyphens. Raises ValidationError in words."""
    try:
        return str(uuid.UUID(text.strip()))
    except (ValueError, AttributeError):
        words = (
            _("“%(text)s” is not a subscription ID: it looks like 72f988bf-86f1-41af-91ab-2d7cd011db47.")
            if what == "subscription ID"
            else _("“%(text)s” is not a tenant ID: it looks like 72f988bf-86f1-41af-91ab-2d7cd011db47.")
        )
        raise ValidationError(words % {"text": text.strip()}) from None


def normalise_domain(text: str) -> str:
    """A DNS domain in lowercase (international names in their xn-- form), without a final dot."""
    cleaned = text.strip().rstrip(".").lower()
    try:
        ascii_name = cleaned.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_name = ""
    labels = ascii_name.split(".")
    if (
        not ascii_name
        or len(ascii_name) > 253
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or not _TLD.match(labels[-1])
    ):
        raise ValidationError(_("“%(text)s” is not a domain name such as contoso.com.") % {"text": text.strip()})
    return ascii_name


def customer_reference_key(text: str) -> str:
    """The normal form of a customer reference as an earnings line carries it: a tenant ID or a domain.
    Something that is neither comes back stripped and lowercased (it then matches no association)."""
    try:
        return normalise_guid(text)
    except ValidationError:
        pass
    try:
        return normalise_domain(text)
    except ValidationError:
        return text.strip().lower()
