"""Shared API pieces: the id type, keyset pagination and the error schema used in responses' documentation."""

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.db.models import DateField, F, Q, QuerySet
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema
from ninja.files import UploadedFile
from ninja.pagination import PaginationBase
from ninja.params import FileEx, P
from pycountry import countries, currencies
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from coopfunds.programs.catalogue import FISCAL_YEARS, SLUG

MAX_ID = 2**63 - 1
# A row's id, as every parameter and field naming one: the schema states the range the databases hold.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


# The values a field's schema states, so that whatever the schema allows, the endpoint accepts (or refuses for
# a rule of the program, 422). Each pattern has the sentence a person reads when a value does not match it.
# Not only white space, in the schema's (ECMA) regex and in Python's alike: Python also counts U+001C-U+001F and
# U+0085 as space (str.strip removes them), ECMA does not, so they are named.
NOT_BLANK = r"[^\s\x1c-\x1f\x85]"
AMOUNT = r"^([1-9][0-9]{0,15}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
SIGNED_AMOUNT = r"^-?([1-9][0-9]{0,15}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
AMOUNT_OR_ZERO = r"^[0-9]{1,16}(\.[0-9]{1,2})?$"
PERCENT = r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$"
POSITIVE_PERCENT = r"^(100(\.0{1,2})?|[1-9][0-9]?(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
HOURS = r"^(10000(\.0{1,2})?|[1-9][0-9]{0,3}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
CODE = "^" + SLUG.pattern + "$"
MONTH = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$"
EMAIL = r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}$"
GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
DOMAIN = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
DOCUMENT_KIND = r"^[a-z][a-z0-9_]{0,31}$"
CURSOR = r"^[0-9]{1,19}$"
DATED_CURSOR = r"^[0-9]{1,7}\.[0-9]{1,19}$"
PATTERN_MESSAGES: dict[str, str | Promise] = {
    NOT_BLANK: _("Write something here: it cannot be empty or only spaces."),
    AMOUNT: _("Write an amount above zero with a dot and at most two decimals, e.g. 1250.00."),
    SIGNED_AMOUNT: _("Write a non-zero amount with a dot and at most two decimals, e.g. 500.00 or -200.00."),
    AMOUNT_OR_ZERO: _("Write an amount with a dot and at most two decimals, e.g. 1250.00 (0 is allowed)."),
    PERCENT: _("Write a percentage from 0 to 100 with at most two decimals, e.g. 12.5."),
    POSITIVE_PERCENT: _("Write a percentage above 0 and at most 100, with at most two decimals, e.g. 12.5."),
    HOURS: _("Write the hours above zero and at most 10000, with at most two decimals, e.g. 7.5."),
    CODE: _("Use lowercase letters and digits, with single hyphens or underscores between them, e.g. digital-ads."),
    MONTH: _("Write the month as YYYY-MM, e.g. 2026-11."),
    EMAIL: _("Enter an email address, e.g. ada@example.com."),
    GUID: _("A GUID looks like 72f988bf-86f1-41af-91ab-2d7cd011db47."),
    DOMAIN: _("A domain looks like contoso.com: lowercase labels joined by dots."),
    DOCUMENT_KIND: _(
        "Say what the document is in one short word such as invoice or proof (lowercase letters, digits "
        "and _, at most 32)."
    ),
    CURSOR: _("Not a cursor of this list: follow the `next` URL of the page before."),
    DATED_CURSOR: _("Not a cursor of this list: follow the `next` URL of the page before."),
}


def pattern_message(pattern: str | None, default: str = "") -> str:
    """The sentence for a value that does not match `pattern`, in the active language (the caller's: the API
    activates it before reading input). An entry is lazy (`gettext_lazy`) or marked with `gettext_noop`."""
    message = PATTERN_MESSAGES.get(pattern or "")
    if message is None:
        return default
    return str(message) if isinstance(message, Promise) else gettext(message)


# Text a person must write: not empty, not only spaces.
Text = Annotated[str, Field(pattern=NOT_BLANK)]


def _decimal(pattern: str, **constraints: Any) -> Any:
    """A decimal written as the pattern says (a JSON number is read as its digits): the schema states the
    pattern and the server checks that same pattern, with its sentence for a person."""

    def read(value: Any) -> Any:
        text = str(value).strip() if isinstance(value, str | int | float | Decimal) else ""
        if re.fullmatch(pattern, text) is None:
            raise PydanticCustomError("decimal_pattern", pattern_message(pattern))
        return Decimal(text)

    return Annotated[
        Decimal, BeforeValidator(read), Field(**constraints), WithJsonSchema({"type": "string", "pattern": pattern})
    ]


# Money in: above zero, at most two decimals, e.g. "1250.00".
Amount = _decimal(AMOUNT, examples=["1250.00"])
AmountOrZero = _decimal(AMOUNT_OR_ZERO)
Percent = _decimal(PERCENT)
PositivePercent = _decimal(POSITIVE_PERCENT)
Hours = _decimal(HOURS)
FiscalYear = Annotated[
    int, Field(ge=FISCAL_YEARS[0], le=FISCAL_YEARS[-1], description="The fiscal year's number: FY27 is 2027.")
]
CURRENCIES = sorted(c.alpha_3 for c in currencies)
COUNTRIES = sorted(c.alpha_2 for c in countries)
Currency = Annotated[str, Field(json_schema_extra={"enum": CURRENCIES}, description="ISO 4217 code, e.g. EUR.")]
Country = Annotated[str, Field(json_schema_extra={"enum": COUNTRIES}, description="ISO 3166 alpha-2 code, e.g. DE.")]
Code = Annotated[str, Field(pattern=CODE, max_length=64)]
Email = Annotated[str, Field(pattern=EMAIL, max_length=254)]
DocumentKind = Annotated[str, Field(pattern=DOCUMENT_KIND)]
# Uploaded files of a multipart request: one or more parts of this name.
Files = FileEx[list[UploadedFile], P(min_length=1, description="One file or more: repeat the part.")]
# An optional date in a multipart form: a form has no null, so leaving it out (or empty) is how to give none.
FormDate = Annotated[
    date | None,
    BeforeValidator(lambda value: None if value == "" else value),
    WithJsonSchema({"type": "string", "format": "date"}),
]
Guid = Annotated[str, Field(pattern=GUID)]
Domain = Annotated[str, Field(pattern=DOMAIN, max_length=253)]


class PartnerItemOut(Schema):
    """The first fields of what a partner location files for a program (a claim, a plan)."""

    id: int
    location_id: Id
    partner_id: str = Field(..., alias="location.partner_id")
    program_id: Id
    program_code: str = Field(..., alias="program.code")


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[str]]


class PageQuery(Schema):
    page_size: int = Field(50, ge=1, le=500, description="Rows per page.")
    cursor: str | None = Field(
        None, pattern=CURSOR, examples=["1234"], description="Where the page starts: `next` carries it."
    )


class DatedPageQuery(PageQuery):
    cursor: str | None = Field(
        None, pattern=DATED_CURSOR, examples=["739954.1234"], description="Where the page starts: `next` carries it."
    )


class Keyset(PaginationBase):
    """Keyset pagination: a page of rows in a fixed order, and `next`, the URL of the page after it.

    The cursor is the last row's sort key written in digits: `<id>`, or `<day>.<id>` for a list ordered by a date
    first (the day is the date's ordinal, 0 for no date; rows without one come last). Every cursor the schema
    allows is one the server reads, pages are stable under inserts and deletions, and each costs the same."""

    def __init__(
        self,
        *,
        ordering: tuple[str, ...] = ("id",),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if ordering[-1].lstrip("-") != "id" or len(ordering) > 2:
            raise ValueError("Keyset orders by id, or by one date field and then id.")
        self.ordering = ordering
        self.Input = DatedPageQuery if len(ordering) == 2 else PageQuery  # type: ignore[assignment]

    items_attribute = "results"

    class Output(Schema):
        next: str | None = Field(..., description="The URL of the next page; null on the last one.")
        results: list[Any]

    def paginate_queryset(self, queryset: QuerySet, pagination: Any, request: HttpRequest, **params: Any) -> Any:
        size: int = pagination.page_size
        rows = queryset.order_by(*self._order()).filter(self._after(queryset, pagination.cursor))
        page = list(rows[: size + 1])
        more, page = len(page) > size, page[:size]
        return {"next": self._url(request, self._cursor(page[-1])) if more else None, "results": page}

    def _order(self) -> list[Any]:
        *first, last = self.ordering
        order: list[Any] = [F(name).asc(nulls_last=True) for name in first]
        return [*order, last]

    def _after(self, queryset: QuerySet, cursor: str | None) -> Q:
        if not cursor:
            return Q()
        *day, last = cursor.split(".")
        pk = min(int(last), MAX_ID)
        after_id = Q(id__lt=pk) if self.ordering[-1].startswith("-") else Q(id__gt=pk)
        if not day:
            return after_id
        name = self.ordering[0]
        if not isinstance(queryset.model._meta.get_field(name), DateField):
            raise ValueError(f"{name} is not a date field.")
        ordinal = min(int(day[0]), date.max.toordinal())
        if ordinal == 0:
            return Q(**{f"{name}__isnull": True}) & after_id
        on = date.fromordinal(ordinal)
        return Q(**{f"{name}__gt": on}) | Q(**{name: on}) & after_id | Q(**{f"{name}__isnull": True})

    def _cursor(self, row: Any) -> str:
        if len(self.ordering) == 1:
            return str(row.id)
        on = getattr(row, self.ordering[0])
        return f"{on.toordinal() if on else 0}.{row.id}"

    @staticmethod
    def _url(request: HttpRequest, cursor: str) -> str:
        scheme, netloc, path, query, fragment = urlsplit(request.build_absolute_uri())
        pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "cursor"]
        return urlunsplit((scheme, netloc, path, urlencode([*pairs, ("cursor", cursor)]), fragment))


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
