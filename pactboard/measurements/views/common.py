"""What every measurement page shares: the actor, the engagement, status labels, error mapping."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.accounts.models import Membership
from pactboard.core.errors import PactboardError
from pactboard.core.uploads import upload_received_check
from pactboard.engagements.models import Engagement
from pactboard.engagements.selectors import engagement_get, engagement_people
from pactboard.measurements import policy

STATUS_LABELS: dict[str, tuple[str, str]] = {
    # status: (text, symbol) -- the symbol repeats the text for sighted readers, never replaces it.
    "exceeded": ("Exceeded", "★"),
    "met": ("Met", "✓"),
    "at_risk": ("At risk", "!"),
    "missed": ("Missed", "✗"),
    "no_data": ("No data", "–"),
}


_LOCATION = re.compile(r"^row (?P<row>\d+)(?:, column (?P<column>.+))?$|^column (?P<only_column>.+)$")


# A value a correction of the records left undefined (its revision's note says why).
UNDEFINED = "undefined"


def _actor(request: AuthenticatedHttpRequest) -> Membership:
    return request.membership


def _engagement(request: AuthenticatedHttpRequest, pk: int) -> Engagement:
    return engagement_get(membership=_actor(request), engagement_id=pk)


def _reraise_access(exc: PactboardError) -> None:
    """Not-found and forbidden are pages of their own (404, 403), never form errors."""
    if exc.kind in ("not_found", "forbidden"):
        raise exc


def _people(engagement: Engagement) -> dict[int, str]:
    """Display names of both parties' members by user id (one query, whatever the number of rows shown)."""
    return {
        m.user_id: f"{m.user.display_name} ({m.organisation.name})" for m in engagement_people(engagement=engagement)
    }


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _upload_too_large(request: HttpRequest, form: Any) -> bool:
    """Put the refusal of a file cut off at the size limit on the form's file field; True if there was one."""
    for upload in request.FILES.values():
        try:
            upload_received_check(upload)
        except PactboardError as exc:
            form.is_valid()
            form.errors["file"] = form.error_class([exc.message])
            return True
    return False


def _require(actor: Membership, engagement: Engagement, action: policy.Action) -> None:
    """The measurements policy's refusal as the page's 403 (an outsider never gets this far: 404 first)."""
    verdict = policy.measurements_may(actor=actor, engagement=engagement, action=action)
    if not verdict.allowed:
        raise PermissionDenied(verdict.reason)
