"""The one error type for domain failures.

Services raise ``PactboardError``; the API maps it once to an HTTP status, views turn it
into form errors, and the CLI prints it and exits non-zero.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# What an error body may echo: input can be a 309-digit number or a megabyte of text, and an error
# body that repeats it is a way to amplify requests and leak what was sent. Shown: MAX_DETAILS
# problems, each unbroken run of characters (a number, a token) cut after EXCERPT characters.
MAX_DETAILS = 100  # as many as a file import lists (docs/data-in.md, max_errors)
EXCERPT = 20
MAX_TEXT = 300
_LONG_RUN = re.compile(rf"\S{{{EXCERPT + 2},}}")
# In a location ("kpis[3].thresholds.amber"), each part between dots and brackets is a run of its own.
_LONG_PART = re.compile(rf"[^\s.\[\]]{{{EXCERPT + 2},}}")


@dataclass(frozen=True)
class ErrorDetail:
    """One problem, located where the user can find it (a row and column, a field, a path)."""

    message: str
    location: str | None = None  # e.g. "row 12, column value", "end_date", "kpis[3].thresholds.amber"
    code: str | None = None

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, "location": self.location, "code": self.code}


@dataclass
class PactboardError(Exception):
    """A domain failure with a message that tells the user what to do, and its details."""

    message: str
    details: list[ErrorDetail] = field(default_factory=list)
    # "invalid" -> 422, "conflict" -> 409, "bad_request" -> 400, "forbidden" -> 403, "not_found" -> 404,
    # "too_large" -> 413
    kind: str = "invalid"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        if not self.details:
            return self.message
        lines = [self.message, *(f"  - {d}" for d in self.details)]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, "kind": self.kind, "details": [d.as_dict() for d in self.details]}

    def as_body(self) -> dict[str, Any]:
        """The error as the API sends it: the one body of every API error, capped (``error_body``)."""
        return error_body(message=self.message, kind=self.kind, details=self.details)


HTTP_STATUS = {
    "invalid": 422,
    "conflict": 409,
    "bad_request": 400,
    "forbidden": 403,
    "not_found": 404,
    "too_large": 413,
}


def not_found(message: str = "Not found.") -> PactboardError:
    """The object does not exist or the actor may not see it: both look the same (404)."""
    return PactboardError(message=message, kind="not_found")


def forbidden(message: str) -> PactboardError:
    """The actor sees the object but their role does not allow the change."""
    return PactboardError(message=message, kind="forbidden")


def invalid(
    message: str, *, location: str | None = None, code: str | None = None, details: list[ErrorDetail] | None = None
) -> PactboardError:
    """Bad input; with ``location`` the message is placed at that field, with ``code`` naming the problem."""
    if details is None:
        details = [ErrorDetail(message=message, location=location, code=code)] if location or code else []
    return PactboardError(message=message, details=details, kind="invalid")


def text_excerpt(text: str) -> str:
    """``text`` with each unbroken run past EXCERPT characters cut to an excerpt, and at most MAX_TEXT long."""
    # A run one or two longer than EXCERPT is left: cutting it would save nothing.
    cut = _LONG_RUN.sub(lambda m: m.group(0)[:EXCERPT] + "…", text)
    return cut if len(cut) <= MAX_TEXT else cut[: MAX_TEXT - 1] + "…"


def location_excerpt(location: str) -> str:
    """A location with each part (between dots and brackets) past EXCERPT characters cut, at most MAX_TEXT long."""
    cut = _LONG_PART.sub(lambda m: m.group(0)[:EXCERPT] + "…", location)
    return cut if len(cut) <= MAX_TEXT else cut[: MAX_TEXT - 1] + "…"


def error_body(*, message: str, kind: str, details: Sequence[ErrorDetail] = ()) -> dict[str, Any]:
    """The one body of every API error: message, kind, and at most MAX_DETAILS located details, as excerpts."""
    shown = [
        {
            "message": text_excerpt(d.message),
            "location": location_excerpt(d.location) if d.location else d.location,
            "code": d.code,
        }
        for d in details[:MAX_DETAILS]
    ]
    if len(details) > MAX_DETAILS:
        shown.append({"message": f"and {len(details) - MAX_DETAILS} more problems", "location": None, "code": "more"})
    return {"message": text_excerpt(message), "kind": kind, "details": shown}
