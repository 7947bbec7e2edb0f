"""Country codes as people type them: a list, or one text with commas or semicolons."""

from typing import Any

from django.utils.translation import gettext as _
from django_countries import countries as all_countries


def country_codes(codes: Any, errors: dict[str, str], field: str = "countries") -> list[str]:
    """The ISO 3166 alpha-2 codes of `codes` (upper case, each once, in the order given). Codes that are not
    countries put one message under `field` in `errors`, naming them."""
    if isinstance(codes, str):
        codes = codes.replace(";", ",").split(",")
    cleaned: list[str] = []
    unknown: list[str] = []
    for code in codes or []:
        text = str(code).strip().upper()
        if not text:
            continue
        if len(text) != 2 or not all_countries.alpha2(text):
            unknown.append(str(code).strip())
        elif text not in cleaned:
            cleaned.append(text)
    if unknown:
        quoted = ", ".join(_("“%(code)s”") % {"code": u} for u in unknown)
        errors[field] = _("Use two-letter country codes (DE, FR, US); not known: %(codes)s.") % {"codes": quoted}
    return cleaned
