"""REST endpoints for an engagement's audit trail: its events (paged, filtered) and its verification."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Query, Schema

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.audit import selectors as audit_selectors
from pactboard.audit.describe import event_describe
from pactboard.audit.models import AuditEvent
from pactboard.audit.selectors import AuditFilters
from pactboard.core.api import ApiRouter, Mapped, mapped, paged
from pactboard.engagements.selectors import engagement_get

router = ApiRouter(tags=["audit"])


class AuditQuery(Schema):
    actor: str = ""
    action: str = ""
    object_type: str = ""
    date_from: date | None = None
    date_to: date | None = None


class ChangeOut(Schema):
    field: str
    before: str
    after: str


class AuditEventOut(Schema):
    chain: str
    seq: int
    occurred_at: datetime
    actor_email: str
    organisation_name: str
    action: str
    what: str
    object_type: str
    object_id: str
    object_repr: str
    changes: list[ChangeOut]
    before: Any
    after: Any
    prev_hash: str
    hash: str


class ProblemOut(Schema):
    seq: int
    kind: str
    message: str


class AuditVerifyOut(Schema):
    ok: bool
    chain: str
    count: int
    head_seq: int
    head_hash: str
    problem: ProblemOut | None


def _event_out(e: AuditEvent) -> dict[str, Any]:
    words = event_describe(
        actor_email=e.actor_email,
        organisation_name=e.organisation_name,
        action=e.action,
        object_type=e.object_type,
        object_id=e.object_id,
        object_repr=e.object_repr,
        before=e.before,
        after=e.after,
    )
    return {
        "chain": e.chain,
        "seq": e.seq,
        "occurred_at": e.occurred_at,
        "actor_email": e.actor_email,
        "organisation_name": e.organisation_name,
        "action": e.action,
        "what": words.what,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "object_repr": e.object_repr,
        "changes": [vars(c) for c in words.changes],
        "before": e.before,
        "after": e.after,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


@router.get("/{engagement_id}/audit/events", response=list[AuditEventOut])
@paged
def audit_events(
    request: AuthenticatedHttpRequest, engagement_id: int, q: Query[AuditQuery]
) -> Mapped[AuditEvent, dict[str, Any]]:
    """The engagement's audit events, newest first; dates are calendar days in the engagement's zone."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    filters = AuditFilters(
        actor=q.actor,
        action=q.action,
        object_type=q.object_type,
        date_from=q.date_from,
        date_to=q.date_to,
        zone=engagement.time_zone,
    )
    return mapped(audit_selectors.audit_event_list(engagement_id=engagement.pk, filters=filters), _event_out)


@router.get("/{engagement_id}/audit/verify", response=AuditVerifyOut)
def audit_verify(request: AuthenticatedHttpRequest, engagement_id: int, head: str = "") -> dict[str, Any]:
    """Recompute the engagement's chain; with ``head`` (kept from a report), also check that it is still in it."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    result = audit_selectors.audit_engagement_verify(engagement_id=engagement.pk, head_hash=head or None)
    problem = result.problem
    return {
        "ok": result.ok,
        "chain": result.chain,
        "count": result.count,
        "head_seq": result.head_seq,
        "head_hash": result.head_hash,
        "problem": None if problem is None else {"seq": problem.seq, "kind": problem.kind, "message": problem.message},
    }
