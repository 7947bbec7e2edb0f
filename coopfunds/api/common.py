"""Shared API pieces: the id type, keyset pagination and the error schema used in responses' documentation."""

from datetime import date
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.db.models import DateField, F, Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase

MAX_ID = 2**63 - 1
# A row's id, as every parameter and field naming one: the schema states the range the databases hold.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[str]]


CURSOR = r"^[0-9]{1,19}$"
DATED_CURSOR = r"^[0-9]{1,7}\.[0-9]{1,19}$"
# What a person is told when a value does not match a pattern of the schema: the pattern itself says nothing to them.
PATTERN_MESSAGES = {
    CURSOR: "Not a cursor of this list: follow the `next` URL of the page before.",
    DATED_CURSOR: "Not a cursor of this list: follow the `next` URL of the page before.",
}


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


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
