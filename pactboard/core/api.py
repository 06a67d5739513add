"""What every room's REST router shares: the error body's schema, the documented error codes, and pages.

- ``ErrorOut`` is the schema of the one error body (``core.errors.error_body``).
- ``ApiRouter`` is the router every room's ``api*.py`` uses: it adds the error codes each operation can
  answer to its ``response=`` (401, 404 and 422 for every operation; 400, 403, 409 and 413 for those
  that change something), so the OpenAPI document names every status a client can meet, with that body.
- ``@paged`` (ninja's ``@paginate`` with ``Pages``) pages a list: ``?page=&page_size=`` in, ``{count, page, pages,
  page_size, items}`` out, ordered by a unique key so that pages never overlap. A view returns a
  queryset (sliced in SQL: one query for the count, one for the page) or, when each item must be
  built in Python, ``mapped(queryset, build)``, which builds only the page's items.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import ceil
from typing import Any, get_type_hints

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.constants import NOT_SET
from ninja.pagination import PaginationBase, paginate

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class ErrorDetailOut(Schema):
    message: str
    location: str | None
    code: str | None


class ErrorOut(Schema):
    """The one body of every API error: what went wrong, its kind, and where (``core.errors.error_body``)."""

    message: str
    kind: str
    details: list[ErrorDetailOut]


# Every operation: no or a bad token (401), an object the actor may not see or that does not exist (404),
# a parameter or body that fails validation (422).
ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
# Operations that change something also: a malformed body (400), a role that may not (403), a state
# that does not allow it (409), a body past the size limit (413).
WRITE_ERRORS: dict[int, Any] = {**ERRORS, 400: ErrorOut, 403: ErrorOut, 409: ErrorOut, 413: ErrorOut}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def with_errors(response: Any, methods: Sequence[str]) -> dict[int, Any]:
    """``response`` (a schema or a ``{status: schema}`` dict) with the error codes its methods can answer."""
    if response is NOT_SET:
        # Nothing declared (a JSON document built by hand, or a file): any body, as before.
        declared: dict[int, Any] = {200: Any}
    elif isinstance(response, dict):
        declared = dict(response)
    else:
        declared = {200: response}
    errors = WRITE_ERRORS if WRITE_METHODS & {m.upper() for m in methods} else ERRORS
    return {**errors, **declared}


def file_answer(*media_types: str, description: str) -> dict[str, Any]:
    """``response=`` and ``openapi_extra=`` of an operation that answers a file: its 200 is one of ``media_types``.

    ``@router.get(path, **file_answer("text/csv", description="..."))``; the view returns an HttpResponse.
    """
    content = {m.split(";")[0].strip(): {"schema": {"type": "string", "format": "binary"}} for m in media_types}
    return {
        "response": {200: None},
        "openapi_extra": {"responses": {200: {"description": description, "content": content}}},
    }


class ApiRouter(Router):
    """A ninja router whose operations all document the error codes they can answer (``with_errors``)."""

    def add_api_operation(self, path: str, methods: list[str], view_func: Callable[..., Any], **kwargs: Any) -> None:
        # A view whose one success status is not 200 must return ``Status(code, ...)``: with the error codes
        # added, ninja no longer takes a plain return value for that one status.
        response = kwargs.pop("response", NOT_SET)
        super().add_api_operation(path, methods, view_func, response=with_errors(response, methods), **kwargs)


class Mapped[M, T]:
    """Items (a queryset, or a list built in order) built by ``build`` only when sliced: a page builds its own."""

    def __init__(self, source: QuerySet[Any] | Sequence[M], build: Callable[[M], T]) -> None:
        self.source = source
        self.build = build

    def count(self) -> int:
        return self.source.count() if isinstance(self.source, QuerySet) else len(self.source)

    def __getitem__(self, key: slice) -> list[T]:
        return [self.build(item) for item in self.source[key]]


def mapped[M, T](source: QuerySet[Any] | Sequence[M], build: Callable[[M], T]) -> Mapped[M, T]:
    """``source`` paged (a queryset in SQL), each item of the page built by ``build`` (for ``@paginate(Pages)``)."""
    return Mapped(stable(source) if isinstance(source, QuerySet) else source, build)


def stable[Q: QuerySet[Any]](queryset: Q) -> Q:
    """``queryset`` in its own order, then by primary key: a total order, so pages never share an item."""
    order = list(queryset.query.order_by) or list(queryset.query.get_meta().ordering or ())
    if order and order[-1] in ("pk", "-pk", "id", "-id"):
        return queryset.order_by(*order)
    return queryset.order_by(*order, "pk")


class Pages(PaginationBase):
    """Page-number pages: ``{count, page, pages, page_size, items}`` (``@paginate(Pages)``)."""

    class Input(Schema):
        page: int = Field(1, ge=1, description="The page, from 1; past the last page, items is empty.")
        page_size: int = Field(
            DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=f"Items per page, at most {MAX_PAGE_SIZE}."
        )

    class Output(Schema):
        count: int
        page: int
        pages: int
        page_size: int
        items: list[Any]

    def paginate_queryset(
        self, queryset: Any, pagination: Input, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        if isinstance(queryset, QuerySet):
            queryset = stable(queryset)
            count = queryset.count()
        elif isinstance(queryset, Mapped):
            count = queryset.count()
        else:  # a list built in Python, in a deterministic order by its builder
            queryset = list(queryset)
            count = len(queryset)
        size = pagination.page_size
        start = (pagination.page - 1) * size
        items = queryset[start : start + size] if start < count else []
        return {
            "count": count,
            "page": pagination.page,
            "pages": max(1, ceil(count / size)),
            "page_size": size,
            "items": items,
        }


def paged[F: Callable[..., Any]](view: F) -> F:
    """``@paginate(Pages)`` for a view of a module with ``from __future__ import annotations``.

    ninja reads the view's parameter types through its wrapper, whose module is ninja's: a type named
    only in the view's module (a date, a model's choices) would not resolve, so they are resolved here first.
    """
    view.__annotations__ = get_type_hints(view, include_extras=True)
    return paginate(Pages)(view)
