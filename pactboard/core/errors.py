"""The one error type for domain failures.

Services raise ``PactboardError``; the API maps it once to an HTTP status, views turn it
into form errors, and the CLI prints it and exits non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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


def invalid(message: str, *, location: str | None = None, details: list[ErrorDetail] | None = None) -> PactboardError:
    """Bad input; with ``location`` the message is placed at that field."""
    if details is None:
        details = [ErrorDetail(message=message, location=location)] if location else []
    return PactboardError(message=message, details=details, kind="invalid")
