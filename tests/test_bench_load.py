"""The load benchmark's checks (bench/load_checks.py) catch what they are for: lost, duplicated or wrong values,
keys stored twice, uploads that made no version or two, failed requests. Pure functions, no database."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from load_checks import (
    Ledger,
    Sample,
    StoredUpload,
    StoredValue,
    check_keys,
    check_requests,
    check_uploads,
    check_values,
    figures,
    percentile,
)

SENT = {
    (0, "w0", "2026-W01"): Decimal("12.50"),
    (0, "w1", "2026-W01"): Decimal("7"),
    (1, "w0", "2026-W01"): Decimal("3"),
}


def _stored() -> list[StoredValue]:
    return [StoredValue(t, k, p, v, 1) for (t, k, p), v in SENT.items()]


def test_values_stored_once_as_sent_pass():
    assert check_values(SENT, _stored()) == []


def test_a_lost_a_duplicated_a_wrong_and_an_extra_value_are_each_named():
    rows = _stored()
    lost = rows[1:]  # tenant 0's w0 is missing
    assert check_values(SENT, lost) == ["lost: tenant 0 w0 2026-W01 (sent 12.50) is not stored"]
    twice = [*rows, rows[2]]
    assert check_values(SENT, twice) == ["duplicated: tenant 1 w0 2026-W01 stored 2 times"]
    revised = [*rows[:2], StoredValue(1, "w0", "2026-W01", Decimal("3"), 2)]
    assert check_values(SENT, revised) == ["duplicated write: tenant 1 w0 2026-W01 has 2 revisions, expected 1"]
    wrong = [StoredValue(0, "w0", "2026-W01", Decimal("12.49"), 1), *rows[1:]]
    assert check_values(SENT, wrong) == ["wrong value: tenant 0 w0 2026-W01: sent 12.50, stored 12.49"]
    extra = [*rows, StoredValue(0, "w2", "2026-W01", Decimal("1"), 1)]
    assert check_values(SENT, extra) == ["unexpected: tenant 0 w2 2026-W01 stored but never acknowledged"]


def test_keys_one_each():
    assert check_keys({0: {"a", "b"}}, {0: ["a", "b"]}) == []
    assert check_keys({0: {"a", "b"}}, {0: ["a", "b", "b"]}) == ["tenant 0: 1 keys stored more than once, e.g. b"]
    assert check_keys({0: {"a", "b"}}, {0: ["a"]}) == ["tenant 0: 1 acknowledged keys not stored, e.g. b"]


def test_uploads_one_version_each_and_their_task_succeeded():
    sent = {0: {10: "aa", 11: "bb"}}
    good = [
        StoredUpload(0, 10, "done", "aa", 1, ("SUCCESSFUL",)),
        StoredUpload(0, 11, "done", "bb", 1, ("SUCCESSFUL",)),
    ]
    assert check_uploads(sent, good, {0: 2}) == []
    bad = [StoredUpload(0, 10, "failed", "aa", 0, ("FAILED",)), StoredUpload(0, 11, "done", "cc", 2, ("SUCCESSFUL",))]
    assert check_uploads(sent, bad, {0: 2}) == [
        "tenant 0: batch 10 is 'failed', expected 'done'",
        "tenant 0: batch 10 made 0 dataset versions, expected 1",
        "tenant 0: batch 10's tasks ended ['FAILED']",
        "tenant 0: batch 11 stored a file that is not the one sent",
        "tenant 0: batch 11 made 2 dataset versions, expected 1",
    ]
    assert check_uploads(sent, good, {0: 3}) == ["tenant 0: 3 dataset versions for 2 uploads"]


def test_failed_requests_are_listed_and_figures_count_them():
    samples = [
        Sample("push", 201, 10.0, True),
        Sample("push", 500, 30.0, False, "boom"),
        Sample("scorecard", 200, 20.0, True),
    ]
    assert check_requests(samples) == ["push: HTTP 500 after 30 ms: boom"]
    rows = {r.kind: r for r in figures(samples, seconds=2.0)}
    # 3 requests in 2 s = 1.5 per second; nearest-rank p50 of [10, 20, 30] is the 2nd (20), p95 the 3rd (30).
    assert (rows["all"].requests, rows["all"].failed, rows["all"].per_second) == (3, 1, 1.5)
    assert (rows["all"].p50_ms, rows["all"].p95_ms, rows["push"].max_ms) == (20.0, 30.0, 30.0)


def test_percentile_is_nearest_rank():
    # Nearest rank: the ceil(p/100 x n)-th smallest. Of 1..20, p95 -> ceil(19) = 19th = 19; p50 -> 10th = 10.
    values = [float(v) for v in range(20, 0, -1)]
    assert (percentile(values, 95), percentile(values, 50), percentile(values, 100)) == (19.0, 10.0, 20.0)


def test_ledgers_of_clients_merge():
    a, b = Ledger(), Ledger()
    a.keys[0] = {"x"}
    b.keys[0] = {"y"}
    b.uploads[1] = {5: "s"}
    b.retries = 2
    a.merge(b)
    assert (a.keys, a.uploads, a.retries) == ({0: {"x", "y"}}, {1: {5: "s"}}, 2)
