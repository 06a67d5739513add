"""Canonical content and hashing of audit events (pure: no ORM)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


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


def event_hash(*, prev_hash: str, content: dict[str, Any]) -> str:
    payload = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + "\n" + payload).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    kind: str  # "edited", "deleted", "inserted or reordered"
    message: str


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    prev_hash: str
    hash: str
    content: dict[str, Any]


def _problem(event: StoredEvent, expected_seq: int, expected_prev: str) -> ChainProblem | None:
    seq = event.seq
    if seq > expected_seq:
        missing = f"#{expected_seq}" + (f" to #{seq - 1}" if seq - 1 > expected_seq else "")
        return ChainProblem(seq, "deleted", f"event #{seq}: expected #{expected_seq}; event {missing} is missing")
    if seq < expected_seq:
        return ChainProblem(
            seq, "inserted or reordered", f"event #{seq}: its sequence number repeats or goes backwards"
        )
    if event.prev_hash != expected_prev:
        return ChainProblem(
            seq,
            "inserted or reordered",
            f"event #{seq}: its link to the previous event does not match "
            "(an event before it was inserted, rewritten or moved)",
        )
    if event_hash(prev_hash=event.prev_hash, content=event.content) != event.hash:
        return ChainProblem(
            seq, "edited", f"event #{seq}: its content does not match its hash (it was edited after it was written)"
        )
    return None


def chain_verify(events: Iterable[StoredEvent]) -> tuple[int, str, ChainProblem | None]:
    """Walk events in seq order; return (count read, last good hash, first problem or None)."""
    expected_prev = GENESIS_HASH
    count = 0
    for event in events:
        count += 1
        problem = _problem(event, count, expected_prev)
        if problem is not None:
            return count, expected_prev, problem
        expected_prev = event.hash
    return count, expected_prev, None
