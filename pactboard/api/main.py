"""The one NinjaAPI object: auth, error mapping, and each app's router.

Every API error has one body, ``{"message", "kind", "details": [{"message", "location", "code"}]}``
(``pactboard.core.errors.error_body``): domain errors, ninja's validation and HTTP errors, 404s
here and, through ``pactboard.api.middleware``, Django's own 404/405/500 under /api/.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from pactboard.api.auth import TokenAuth
from pactboard.core.errors import HTTP_STATUS, ErrorDetail, PactboardError, error_body
from pactboard.dashboards.api import portfolio_router
from pactboard.dashboards.api import router as audit_router
from pactboard.engagements.api import router as engagements_router
from pactboard.measurements.api import router as measurements_router

NUL = "\x00"
NUL_MESSAGE = "Text must not contain the NUL character (\\u0000): remove it."


def _nul_locations(value: Any, where: str = "") -> Iterator[str]:
    """Where in a parsed JSON body a string (or a key) holds the NUL character, as error locations write it."""
    if isinstance(value, str):
        if NUL in value:
            yield where
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            yield from ([inner] if NUL in key else _nul_locations(item, inner))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nul_locations(item, f"{where}[{i}]")


def _refuse_nul(locations: list[str]) -> None:
    if locations:
        # No database stores it in text (PostgreSQL refuses it outright), and the forms refuse it too.
        raise PactboardError(
            NUL_MESSAGE, [ErrorDetail(NUL_MESSAGE, loc or "body", "nul_character") for loc in locations]
        )


class PactboardParser(Parser):
    """ninja's JSON and query parser, refusing text with the NUL character (a 422 naming where it is)."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = json.loads(request.body)
        # ninja answers any exception here as 400 "Cannot parse request body"; the http_error handler below
        # finds this PactboardError as its cause and answers it as itself (422, located).
        _refuse_nul(list(_nul_locations(data)))
        return data

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        _refuse_nul(
            [
                key
                for key, value in parsed.items()
                if NUL in key
                or any(isinstance(v, str) and NUL in v for v in (value if isinstance(value, list) else [value]))
            ]
        )
        return parsed


api = NinjaAPI(
    title="Pactboard API",
    version="1",
    description="Everything the web UI does, with bearer-token auth (create a token under Account → API tokens).",
    auth=TokenAuth(),
    urls_namespace="api",
    parser=PactboardParser(),
)

# The kind of an HTTP status that no PactboardError raised (ninja's and Django's own errors).
KIND_OF_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "throttled",
}
# Where ninja says a parameter came from: the first part of a validation error's location.
_SOURCES = {"path", "query", "header", "cookie", "body", "form", "file"}
UNAUTHORIZED = "Send a valid API token: Authorization: Bearer <token> (create one under Account → API tokens)."


def error_response(
    request: HttpRequest, *, status: int, message: str, details: Iterable[ErrorDetail] = ()
) -> HttpResponse:
    return api.create_response(
        request,
        error_body(message=message, kind=KIND_OF_STATUS.get(status, "error"), details=list(details)),
        status=status,
    )


def _location(loc: Iterable[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        # ["body", "payload", "statement"]: the payload's parameter name says nothing to the client.
        parts = parts[2:] if parts[0] == "body" and len(parts) > 2 else parts[1:]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@api.exception_handler(PactboardError)
def pactboard_error(request: HttpRequest, exc: PactboardError) -> HttpResponse:
    return api.create_response(request, exc.as_body(), status=HTTP_STATUS.get(exc.kind, 400))


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # Only the message, location and type of each error: pydantic's "input" and "ctx" would echo what was sent.
    details = [
        ErrorDetail(str(e.get("msg", "invalid")), _location(e.get("loc", ())), e.get("type")) for e in exc.errors
    ]
    problems = f"{len(details)} problem" + ("" if len(details) == 1 else "s")
    return error_response(
        request, status=422, message=f"The request was refused ({problems}); nothing was changed.", details=details
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, status=exc.status_code, message=UNAUTHORIZED)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, PactboardError):  # refused while parsing the body (PactboardParser)
        return pactboard_error(request, exc.__cause__)
    return error_response(request, status=exc.status_code, message=exc.message)


@api.exception_handler(RequestDataTooBig)
def body_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    # Django refuses to read a body past DATA_UPLOAD_MAX_MEMORY_SIZE (files go through the upload
    # handlers and have their own limit); without this it would answer 400 "Bad Request".
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_response(
        request,
        status=413,
        message=f"The request body is larger than the {limit:,} bytes a request may send: send fewer items at a "
        "time (split a batch of values into several requests).",
    )


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, status=404, message="Not found.")


api.add_router("/engagements", engagements_router)
api.add_router("", "pactboard.kpis.api.router")
api.add_router("/engagements", measurements_router)
api.add_router("", "pactboard.governance.api.router")
api.add_router("", "pactboard.governance.notify_api.router")
api.add_router("/engagements", audit_router)
api.add_router("", portfolio_router)
api.add_router("/engagements", "pactboard.incentives.api.router")
api.add_router("", "pactboard.documents.api.router")
api.add_router("/engagements", "pactboard.measurements.datasets_api.router")
api.add_router("/engagements", "pactboard.reports.api.router")
api.add_router("/organisation", "pactboard.accounts.api.router")
api.add_router("/provider-profiles", "pactboard.engagements.profiles_api.router")
