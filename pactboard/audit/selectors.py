"""Reading, exporting and verifying the audit trail, one chain at a time.

Selectors that take an ``engagement_id`` trust that the caller resolved the engagement for the
actor first (``engagements.selectors.engagement_get``): the audit room sits below engagements and
cannot check tenancy itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pactboard.audit.chain import (
    GENESIS_HASH,
    ChainResult,
    StoredEvent,
    chain_key,
    chain_verify,
    event_content,
    head_check,
)
from pactboard.audit.models import AuditEvent, AuditEventQuerySet


def engagement_chain(engagement_id: int) -> str:
    return chain_key(engagement_id=engagement_id, organisation_id=None)


def event_content_of(e: AuditEvent) -> dict[str, Any]:
    """The hashed content of a stored event, as the verifier recomputes it."""
    return event_content(
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
    )


def _stored_events(chain: str, batch: int = 2000) -> Iterator[StoredEvent]:
    for e in AuditEvent.objects.filter(chain=chain).order_by("seq").iterator(chunk_size=batch):
        yield StoredEvent(seq=e.seq, prev_hash=e.prev_hash, hash=e.hash, content=event_content_of(e))


@dataclass(frozen=True)
class AuditVerification:
    """The result of checking every chain."""

    chains: list[ChainResult]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.chains)

    @property
    def count(self) -> int:
        return sum(c.count for c in self.chains)

    @property
    def broken(self) -> list[ChainResult]:
        return [c for c in self.chains if not c.ok]


def audit_chain_verify(*, chain: str) -> ChainResult:
    """Recompute one chain and name its first broken event."""
    return chain_verify(_stored_events(chain), chain=chain)


def audit_verify() -> AuditVerification:
    """Recompute every chain (engagements, organisations, system) and name the first broken event in each."""
    keys = AuditEvent.objects.order_by("chain").values_list("chain", flat=True).distinct()
    return AuditVerification(chains=[audit_chain_verify(chain=key) for key in keys])


def audit_engagement_verify(*, engagement_id: int, head_hash: str | None = None) -> ChainResult:
    """Verify one engagement's chain; with ``head_hash`` (kept from a report), also that it is still in it."""
    result = audit_chain_verify(chain=engagement_chain(engagement_id))
    if head_hash:
        problem = head_check(result, head_hash=head_hash)
        if problem is not None:
            return ChainResult(result.chain, result.count, result.head_seq, result.head_hash, problem, result.hashes)
    return result


@dataclass(frozen=True)
class AuditHead:
    chain: str
    seq: int  # 0 while the chain is empty
    hash: str  # GENESIS_HASH while the chain is empty


def audit_head(*, engagement_id: int) -> AuditHead:
    """The newest event of an engagement's chain: what a report or settlement records when it is made."""
    chain = engagement_chain(engagement_id)
    last = AuditEvent.objects.filter(chain=chain).order_by("-seq").values("seq", "hash").first()
    if last is None:
        return AuditHead(chain=chain, seq=0, hash=GENESIS_HASH)
    return AuditHead(chain=chain, seq=last["seq"], hash=last["hash"])


def audit_chain_export(*, engagement_id: int) -> Iterator[str]:
    """One engagement's chain as JSON lines (oldest first), the format the standalone verifier reads."""
    chain = engagement_chain(engagement_id)
    for e in AuditEvent.objects.filter(chain=chain).order_by("seq").iterator(chunk_size=2000):
        record = {"chain": e.chain, "prev_hash": e.prev_hash, "hash": e.hash, "content": event_content_of(e)}
        yield json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class AuditFilters:
    """What the audit page and API narrow the events by; dates are calendar days in ``zone``."""

    actor: str = ""  # an e-mail, or "system" for events without an actor
    action: str = ""
    object_type: str = ""
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    zone: str = "UTC"


SYSTEM_ACTOR = "system"


def audit_event_list(*, engagement_id: int, filters: AuditFilters | None = None) -> AuditEventQuerySet:
    """An engagement's events, newest first, narrowed by the filters (the caller checked visibility)."""
    f = filters or AuditFilters()
    qs = AuditEvent.objects.filter(chain=engagement_chain(engagement_id))
    if f.actor:
        qs = qs.filter(actor_email="" if f.actor == SYSTEM_ACTOR else f.actor)
    if f.action:
        qs = qs.filter(action=f.action)
    if f.object_type:
        qs = qs.filter(object_type=f.object_type)
    zone = ZoneInfo(f.zone)
    if f.date_from:
        qs = qs.filter(occurred_at__gte=datetime.combine(f.date_from, time.min, tzinfo=zone))
    if f.date_to:
        qs = qs.filter(occurred_at__lt=datetime.combine(f.date_to + timedelta(days=1), time.min, tzinfo=zone))
    return qs.order_by("-seq")


@dataclass(frozen=True)
class AuditFilterOptions:
    actors: list[str]
    actions: list[str]
    object_types: list[str]


def audit_filter_options(*, engagement_id: int) -> AuditFilterOptions:
    """The actors, actions and object types that occur in an engagement's chain (three queries)."""
    qs = AuditEvent.objects.filter(chain=engagement_chain(engagement_id))

    def distinct(field: str) -> list[str]:
        return list(qs.order_by(field).values_list(field, flat=True).distinct())

    actors = [a or SYSTEM_ACTOR for a in distinct("actor_email")]
    return AuditFilterOptions(actors=actors, actions=distinct("action"), object_types=distinct("object_type"))


def audit_events_for_engagement(*, engagement_id: int, limit: int = 200) -> AuditEventQuerySet:
    """The newest events of one engagement's chain (the caller has already checked visibility)."""
    return audit_event_list(engagement_id=engagement_id)[:limit]
