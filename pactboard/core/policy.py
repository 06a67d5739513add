"""The shape every room's policy answers in: allowed, or refused with the words that say why.

Each room has one ``policy`` module that says what an actor may do to its objects. Services call
``verdict_require`` (a refusal becomes the domain error a service raises), views render the same
verdicts as buttons, so a button shows exactly when the service would accept the action. An
actor outside the engagement is refused as ``not_found``, never ``forbidden``: a 404 does not
confirm that the object exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from pactboard.core.errors import PactboardError


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str = ""
    kind: str = "forbidden"  # "forbidden", "not_found" or "conflict" (PactboardError kinds)


ALLOWED = Verdict(True)
NOT_A_PARTY = Verdict(False, "No such engagement.", "not_found")


def verdict_require(verdict: Verdict) -> None:
    """Raise a refusal as the domain error services raise; do nothing when allowed."""
    if not verdict.allowed:
        raise PactboardError(verdict.reason, kind=verdict.kind)
