#!/usr/bin/env python3
"""Check an exported Pactboard audit chain offline, with nothing but the Python standard library.

    python standalone_verify.py engagement-12.jsonl [--head HASH]

The file is what ``pactboard audit export ENGAGEMENT -o FILE.jsonl`` writes: one JSON object per
line, ``{"chain": ..., "prev_hash": ..., "hash": ..., "content": {...}}``, oldest first. Each event's
hash is

    sha256_hex( prev_hash + "\\n" + canonical_json(content) )   (UTF-8 bytes)

where ``canonical_json`` is ``json.dumps(content, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)``, ``prev_hash`` is the previous event's hash (64 zeros for the first), and
``content["seq"]`` counts 1, 2, 3, ... within the chain. docs/audit.md states the rule in full so
that anyone can write their own verifier; this file is one such verifier and the application uses
the same functions, so the two cannot drift apart.

``--head HASH`` checks a head hash kept from a report or settlement: a chain from which the newest
events were deleted still links up, but no longer contains the head that was handed out.

Exit status: 0 intact, 1 broken (the first broken event is named), 2 the file cannot be read.
Only the standard library is imported, so it runs under ``python -I`` on any machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

GENESIS_HASH = "0" * 64

# The keys every event's content has, in no particular order (the canonical form sorts them).
CONTENT_KEYS = frozenset(
    {
        "seq",
        "occurred_at",
        "actor_id",
        "actor_email",
        "organisation_id",
        "organisation_name",
        "engagement_id",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "before",
        "after",
    }
)


def canonical_json(content: dict[str, Any]) -> str:
    """The one text of an event's content that is hashed."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(*, prev_hash: str, content: dict[str, Any]) -> str:
    """SHA-256 (hex) of the previous hash, a newline and the canonical content, in UTF-8."""
    return hashlib.sha256((prev_hash + "\n" + canonical_json(content)).encode("utf-8")).hexdigest()


def chain_key(*, engagement_id: int | None, organisation_id: int | None) -> str:
    """Which chain an event belongs to: its engagement's, else its organisation's, else the system's."""
    if engagement_id is not None:
        return f"engagement:{engagement_id}"
    if organisation_id is not None:
        return f"organisation:{organisation_id}"
    return "system"


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    kind: str  # "edited", "deleted", "inserted", "inserted or reordered", "moved", "head missing"
    message: str


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    prev_hash: str
    hash: str
    content: dict[str, Any]


@dataclass(frozen=True)
class ChainResult:
    chain: str
    count: int  # events read, up to and including the first broken one
    head_seq: int  # the last intact event's seq (0 for an empty chain)
    head_hash: str  # the last intact event's hash (GENESIS_HASH for an empty chain)
    problem: ChainProblem | None
    hashes: dict[str, int]  # hash -> seq of every intact event, to check kept heads against

    @property
    def ok(self) -> bool:
        return self.problem is None


def _link_problem(event: StoredEvent, seen: dict[str, int]) -> ChainProblem:
    seq = event.seq
    before = seen.get(event.prev_hash)
    if before is not None and before == seq - 2:
        # It is chained to the event two places back: the one in between does not belong here.
        return ChainProblem(
            seq - 1,
            "inserted",
            f"event #{seq - 1} was inserted: event #{seq} is chained to event #{seq - 2}, not to it",
        )
    return ChainProblem(
        seq,
        "inserted or reordered",
        f"event #{seq}: its link to the previous event does not match "
        "(an event before it was inserted, deleted, rewritten or moved)",
    )


def _problem(
    event: StoredEvent, *, chain: str | None, expected_seq: int, expected_prev: str, seen: dict[str, int]
) -> ChainProblem | None:
    seq = event.seq
    if seq > expected_seq:
        missing = f"#{expected_seq}" + (f" to #{seq - 1}" if seq - 1 > expected_seq else "")
        return ChainProblem(seq, "deleted", f"event #{seq}: expected #{expected_seq}; event {missing} is missing")
    if seq < expected_seq:
        return ChainProblem(
            seq, "inserted or reordered", f"event #{seq}: its sequence number repeats or goes backwards"
        )
    if chain is not None:
        belongs = chain_key(
            engagement_id=event.content.get("engagement_id"), organisation_id=event.content.get("organisation_id")
        )
        if belongs != chain:
            return ChainProblem(
                seq, "moved", f"event #{seq} belongs to chain {belongs}, not to {chain} (moved or its ids edited)"
            )
    # The link is checked before the event's own hash: an event renumbered to make room for an
    # inserted one no longer matches its hash either, but the link tells what happened.
    if event.prev_hash != expected_prev:
        return _link_problem(event, seen)
    if event_hash(prev_hash=event.prev_hash, content=event.content) != event.hash:
        return ChainProblem(
            seq, "edited", f"event #{seq}: its content does not match its hash (it was edited after it was written)"
        )
    return None


def chain_verify(events: Iterable[StoredEvent], *, chain: str | None) -> ChainResult:
    """Walk one chain's events in seq order; stop at the first problem and name it.

    ``chain`` is the key the events must belong to (None: do not check, for the pre-0003 global chain).
    """
    expected_prev = GENESIS_HASH
    head_seq = 0
    count = 0
    seen: dict[str, int] = {}
    for event in events:
        count += 1
        problem = _problem(event, chain=chain, expected_seq=count, expected_prev=expected_prev, seen=seen)
        if problem is not None:
            return ChainResult(chain or "", count, head_seq, expected_prev, problem, seen)
        seen[event.hash] = event.seq
        expected_prev = event.hash
        head_seq = event.seq
    return ChainResult(chain or "", count, head_seq, expected_prev, None, seen)


def head_check(result: ChainResult, *, head_hash: str) -> ChainProblem | None:
    """Is a head hash kept from a report still part of this (intact) chain?"""
    if result.problem is not None or head_hash in result.hashes:
        return None
    return ChainProblem(
        result.head_seq + 1,
        "head missing",
        f"the kept head hash {head_hash} is not in chain {result.chain}, whose head is now event "
        f"#{result.head_seq}: the newest events were deleted, or the chain was rewritten",
    )


class FileError(Exception):
    """The export file cannot be read as a chain."""


def events_from_lines(lines: Iterable[str]) -> Iterator[tuple[str, StoredEvent]]:
    """Parse export lines into (chain, event); a malformed line raises FileError naming it."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            content = record["content"]
            if not isinstance(content, dict) or set(content) != CONTENT_KEYS:
                raise ValueError(f"content must have exactly the keys {sorted(CONTENT_KEYS)}")
            seq = content["seq"]
            if not isinstance(seq, int) or isinstance(seq, bool):
                raise ValueError("content.seq must be a whole number")
            event = StoredEvent(seq=seq, prev_hash=str(record["prev_hash"]), hash=str(record["hash"]), content=content)
            yield str(record["chain"]), event
        except (ValueError, KeyError, TypeError) as exc:
            raise FileError(f"line {number}: not an audit event ({exc})") from None


def file_verify(lines: Iterable[str], *, head_hash: str | None = None) -> ChainResult:
    """Verify one exported chain; with ``head_hash``, also that this kept head is still in it."""
    parsed = list(events_from_lines(lines))
    if not parsed:
        raise FileError("the file holds no events")
    chain = parsed[0][0]
    others = sorted({c for c, _ in parsed} - {chain})
    if others:
        raise FileError(f"the file mixes chains ({chain}, {', '.join(others)}): export one chain per file")
    result = chain_verify((e for _, e in parsed), chain=chain)
    if head_hash is not None:
        problem = head_check(result, head_hash=head_hash)
        if problem is not None:
            return ChainResult(chain, result.count, result.head_seq, result.head_hash, problem, result.hashes)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify an exported Pactboard audit chain (JSON lines).")
    parser.add_argument("file", help="the .jsonl file written by `pactboard audit export`")
    parser.add_argument("--head", help="a head hash kept from a report or settlement: check it is still in the chain")
    args = parser.parse_args(argv)
    try:
        with open(args.file, encoding="utf-8") as fh:
            result = file_verify(fh, head_hash=args.head)
    except (OSError, UnicodeDecodeError, FileError) as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    if result.problem is not None:
        p = result.problem
        print(f"BROKEN: chain {result.chain}, event #{p.seq} ({p.kind}): {p.message}")
        return 1
    print(f"OK: chain {result.chain} intact, {result.count} events, head event #{result.head_seq} {result.head_hash}")
    if args.head:
        print(f"The kept head hash is event #{result.hashes[args.head]} of this chain.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
