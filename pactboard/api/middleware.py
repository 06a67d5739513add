"""Django's own error responses under /api/ (unknown path, method not allowed, server error) as the API's body.

Ninja maps the errors raised inside an operation (``pactboard.api.main``); a path no operation
matches, a method no operation accepts and a crash never reach those handlers and would come
back as HTML or plain text.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from pactboard.api.main import KIND_OF_STATUS
from pactboard.core.errors import error_body

API_PREFIX = "/api/"
MESSAGES = {
    404: "Not found: no API operation at this path (the operations are listed at /api/docs).",
    405: "Method not allowed at this path.",
    500: "Something went wrong on the server; the request may be retried later.",
}


class ApiErrorBodyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX) and "\x00" in request.path:
            # No object's key holds the NUL character, and a database query with it would fail (PostgreSQL).
            return JsonResponse(error_body(message=MESSAGES[404], kind="not_found"), status=404)
        response = self.get_response(request)
        if (
            not request.path.startswith(API_PREFIX)
            or response.status_code < 400
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        status = response.status_code
        message = MESSAGES.get(status, response.reason_phrase or "Error.")
        replaced = JsonResponse(error_body(message=message, kind=KIND_OF_STATUS.get(status, "error")), status=status)
        if "Allow" in response:
            replaced["Allow"] = response["Allow"]
        return replaced
