"""Reading and verifying the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pactboard.audit.chain import ChainProblem, StoredEvent, chain_verify, event_content
from pactboard.audit.models import AuditEvent, AuditEventQuerySet


@dataclass(frozen=True)
class AuditVerification:
    count: int
    head_hash: str
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _stored_events(batch: int = 2000) -> Iterator[StoredEvent]:
    for e in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch):
        yield StoredEvent(
            seq=e.seq,
            prev_hash=e.prev_hash,
            hash=e.hash,
            content=event_content(
                seq=e.seq,
                occurred_at=e.occurred_at,
                actor_id=e.actor_id,
                actor_email=e.actor_email,
                organisation_id=e.organisation_id,
                organisation_name=e.organisation_name,
                engagement_id=e.engagement_id,
                action=e.action,
                object_type=e.object_type,
                object_id=e.object_id,
                object_repr=e.object_repr,
                before=e.before,
                after=e.after,
            ),
        )


def audit_verify() -> AuditVerification:
    """Recompute the whole chain and name the first event that breaks it."""
    count, head, problem = chain_verify(_stored_events())
    return AuditVerification(count=count, head_hash=head, problem=problem)


def audit_events_for_engagement(*, engagement_id: int, limit: int = 200) -> AuditEventQuerySet:
    """The newest events about one engagement (the caller has already checked visibility)."""
    return AuditEvent.objects.for_engagement(engagement_id).order_by("-seq")[:limit]
