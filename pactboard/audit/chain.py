"""Canonical content and hashing of audit events (pure: no ORM).

The hashing rule and the chain walk live in ``standalone_verify`` (standard library only), so the
application and the offline verifier that a party runs on an export use the very same code.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pactboard.audit.standalone_verify import (
    GENESIS_HASH,
    ChainProblem,
    ChainResult,
    StoredEvent,
    canonical_json,
    chain_key,
    chain_verify,
    event_hash,
    head_check,
)

__all__ = [
    "GENESIS_HASH",
    "ChainProblem",
    "ChainResult",
    "StoredEvent",
    "canonical_json",
    "chain_key",
    "chain_verify",
    "event_content",
    "event_hash",
    "head_check",
]


def event_content(
    *,
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    actor_email: str,
    organisation_id: int | None,
    organisation_name: str,
    engagement_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    object_repr: str,
    before: Any,
    after: Any,
) -> dict[str, Any]:
    return {
        "seq": seq,
        # Microsecond ISO form in UTC: identical whichever database stored it.
        "occurred_at": _utc_iso(occurred_at),
        "actor_id": actor_id,
        "actor_email": actor_email,
        "organisation_id": organisation_id,
        "organisation_name": organisation_name,
        "engagement_id": engagement_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr,
        "before": before,
        "after": after,
    }


def _utc_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
