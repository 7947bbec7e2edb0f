"""Shared API pieces: keyset pagination and the error schema used in responses' documentation."""

from typing import Annotated

from ninja import Field, Schema
from ninja.pagination import CursorPagination

# A row's id, as every parameter and field naming one: the schema states the range the databases hold.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[str]]


class Keyset(CursorPagination):
    """Keyset (cursor) pagination ordered by id: stable under inserts, constant cost per page."""

    def __init__(self, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("ordering", ("id",))
        kwargs.setdefault("page_size", 50)
        kwargs.setdefault("max_page_size", 500)
        super().__init__(**kwargs)


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}
