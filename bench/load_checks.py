"""The load benchmark's figures and checks, without Django: what the clients sent against what was stored.

``bench_load.py`` fills a ``Ledger`` while its clients run, reads the database once the worker's
queue has drained, and hands both to the functions here. Each check returns a list of problems
(empty: the check holds), so that a test can run them on a few hand-made rows.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

# Cell: (tenant, KPI code, period label).
Cell = tuple[int, str, str]


@dataclass(frozen=True)
class Sample:
    """One request as a client saw it."""

    kind: str
    status: int  # 0: no HTTP answer (connection error, timeout)
    ms: float
    ok: bool  # the status (and body) the client expected
    detail: str = ""  # what was wrong, for a failure


@dataclass
class Ledger:
    """What the clients sent and what the server acknowledged."""

    samples: list[Sample] = field(default_factory=list)
    values: dict[Cell, Decimal] = field(default_factory=dict)  # acknowledged values, by cell
    keys: dict[int, set[str]] = field(default_factory=dict)  # tenant -> Idempotency-Keys acknowledged
    uploads: dict[int, dict[int, str]] = field(default_factory=dict)  # tenant -> {import batch id: SHA-256 sent}
    files: dict[int, tuple[str, bytes]] = field(default_factory=dict)  # import batch id -> (file name, content)
    retries: int = 0  # deliberate second sends of an acknowledged key
    resent: int = 0  # uploads refused as a conflict by the worker and sent again, as the refusal asks

    def merge(self, other: Ledger) -> None:
        self.samples.extend(other.samples)
        self.values.update(other.values)
        for tenant, keys in other.keys.items():
            self.keys.setdefault(tenant, set()).update(keys)
        for tenant, uploads in other.uploads.items():
            self.uploads.setdefault(tenant, {}).update(uploads)
        self.files.update(other.files)
        self.retries += other.retries
        self.resent += other.resent


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (the smallest value with at least p % of the values at or below it)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class KindFigures:
    kind: str
    requests: int
    failed: int
    per_second: float
    p50_ms: float
    p95_ms: float
    max_ms: float


def figures(samples: Iterable[Sample], seconds: float) -> list[KindFigures]:
    """Requests per second and latency per kind of request, then all of them together ("all")."""
    by_kind: dict[str, list[Sample]] = {}
    everything: list[Sample] = []
    for s in samples:
        by_kind.setdefault(s.kind, []).append(s)
        everything.append(s)
    rows = []
    for kind, group in [*sorted(by_kind.items()), ("all", everything)]:
        times = [s.ms for s in group]
        rows.append(
            KindFigures(
                kind=kind,
                requests=len(group),
                failed=sum(not s.ok for s in group),
                per_second=len(group) / seconds if seconds > 0 else math.nan,
                p50_ms=percentile(times, 50),
                p95_ms=percentile(times, 95),
                max_ms=max(times) if times else math.nan,
            )
        )
    return rows


def check_requests(samples: Iterable[Sample], *, show: int = 20) -> list[str]:
    """Every request answered as expected; the first ``show`` failures in full, then their count."""
    failed = [s for s in samples if not s.ok]
    problems = [f"{s.kind}: HTTP {s.status or 'no answer'} after {s.ms:.0f} ms: {s.detail}" for s in failed[:show]]
    if len(failed) > show:
        problems.append(f"... and {len(failed) - show} more failed requests")
    return problems


@dataclass(frozen=True)
class StoredValue:
    """One stored measurement row of a KPI the clients push to."""

    tenant: int
    kpi: str
    period: str
    value: Decimal | None
    revisions: int  # revision rows stored for it


def check_values(sent: Mapping[Cell, Decimal], stored: Iterable[StoredValue]) -> list[str]:
    """Every acknowledged value stored exactly once, with one revision and the value sent; nothing else stored."""
    rows = list(stored)
    problems = []
    counts = Counter((r.tenant, r.kpi, r.period) for r in rows)
    for cell, n in sorted(counts.items()):
        if n > 1:
            problems.append(f"duplicated: tenant {cell[0]} {cell[1]} {cell[2]} stored {n} times")
    seen = {(r.tenant, r.kpi, r.period): r for r in rows}
    for cell, value in sorted(sent.items()):
        row = seen.get(cell)
        if row is None:
            problems.append(f"lost: tenant {cell[0]} {cell[1]} {cell[2]} (sent {value}) is not stored")
            continue
        if row.value is None or row.value != value:
            problems.append(f"wrong value: tenant {cell[0]} {cell[1]} {cell[2]}: sent {value}, stored {row.value}")
        if row.revisions != 1:
            problems.append(
                f"duplicated write: tenant {cell[0]} {cell[1]} {cell[2]} has {row.revisions} revisions, expected 1"
            )
    for cell in sorted(set(seen) - set(sent)):
        problems.append(f"unexpected: tenant {cell[0]} {cell[1]} {cell[2]} stored but never acknowledged")
    return problems


def check_keys(sent: Mapping[int, set[str]], stored: Mapping[int, Sequence[str]]) -> list[str]:
    """One stored Idempotency-Key per acknowledged batch, per tenant; retries add none."""
    problems = []
    for tenant in sorted(set(sent) | set(stored)):
        keys = Counter(stored.get(tenant, ()))
        twice = [k for k, n in keys.items() if n > 1]
        if twice:
            problems.append(f"tenant {tenant}: {len(twice)} keys stored more than once, e.g. {twice[0]}")
        missing = sent.get(tenant, set()) - set(keys)
        if missing:
            problems.append(f"tenant {tenant}: {len(missing)} acknowledged keys not stored, e.g. {sorted(missing)[0]}")
        extra = set(keys) - sent.get(tenant, set())
        if extra:
            problems.append(f"tenant {tenant}: {len(extra)} keys stored that no client had acknowledged")
    return problems


@dataclass(frozen=True)
class StoredUpload:
    """An import batch of records as the database holds it once the queue has drained."""

    tenant: int
    batch_id: int
    status: str  # ImportBatch.status
    file_sha256: str
    versions: int  # dataset versions made from a file with this SHA-256
    task_statuses: tuple[str, ...]  # every task result whose first argument is this batch
    message: str = ""  # the batch's outcome in words


def check_uploads(
    sent: Mapping[int, Mapping[int, str]], stored: Iterable[StoredUpload], versions_per_tenant: Mapping[int, int]
) -> list[str]:
    """Every accepted upload became exactly one dataset version, its task succeeded once, and no version is extra."""
    problems = []
    rows = {r.batch_id: r for r in stored}
    for tenant, uploads in sorted(sent.items()):
        for batch_id, sha in sorted(uploads.items()):
            row = rows.get(batch_id)
            if row is None or row.tenant != tenant:
                problems.append(f"tenant {tenant}: upload batch {batch_id} is not stored")
                continue
            if row.file_sha256 != sha:
                problems.append(f"tenant {tenant}: batch {batch_id} stored a file that is not the one sent")
            if row.status != "done":
                why = f": {row.message[:200]}" if row.message else ""
                problems.append(f"tenant {tenant}: batch {batch_id} is {row.status!r}, expected 'done'{why}")
            if row.versions != 1:
                problems.append(f"tenant {tenant}: batch {batch_id} made {row.versions} dataset versions, expected 1")
            if row.task_statuses != ("SUCCESSFUL",):
                problems.append(f"tenant {tenant}: batch {batch_id}'s tasks ended {list(row.task_statuses)}")
    for tenant in sorted(set(sent) | set(versions_per_tenant)):
        expected = len(sent.get(tenant, {}))
        if versions_per_tenant.get(tenant, 0) != expected:
            problems.append(
                f"tenant {tenant}: {versions_per_tenant.get(tenant, 0)} dataset versions for {expected} uploads"
            )
    return problems
