"""The pure alert rules on hand-worked series (pactboard/governance/alert_rules.py, docs/governance.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pactboard.core.errors import PactboardError
from pactboard.governance.alert_rules import PeriodResult, causes_for_kpi


def _p(label: str, value: int | None, status: str, closes_on: date = date(2026, 11, 1)) -> PeriodResult:
    return PeriodResult(
        label=label,
        closes_on=closes_on,
        value=None if value is None else Decimal(value),
        status=status,  # type: ignore[arg-type]
    )


def _keys(
    history: list[PeriodResult], *, direction: str = "higher", today: date = date(2026, 11, 2), **kw
) -> list[str]:
    return sorted(
        c.key
        for c in causes_for_kpi(code="k", direction=direction, history=history, today=today, **kw)  # type: ignore[arg-type]
    )


def test_breach_and_at_risk_name_the_latest_closed_period():
    assert _keys([_p("2026-09", 85, "met"), _p("2026-10", 70, "missed")]) == ["breach:k:2026-10"]
    assert _keys([_p("2026-09", 70, "missed"), _p("2026-10", 77, "at_risk")]) == ["at_risk:k:2026-10"]


def test_an_older_breach_is_gone_once_a_newer_period_closes():
    # The alert says what needs attention now: August's miss and September's amber are history
    # once October (met) has closed; the scorecard keeps them.
    history = [_p("2026-08", 70, "missed"), _p("2026-09", 77, "at_risk"), _p("2026-10", 85, "met")]
    assert _keys(history) == []


def test_late_looks_at_the_last_three_closed_periods_only():
    closed = date(2026, 1, 1)
    history = [_p(f"2025-{m:02d}", None, "no_data", closes_on=closed) for m in range(7, 13)]
    assert _keys(history, today=date(2026, 11, 2)) == ["late:k:2025-10", "late:k:2025-11", "late:k:2025-12"]


def test_late_from_the_day_the_grace_period_ends():
    # October closes on 1 Nov (its first day after); 5 days' grace: 1-5 Nov are grace, late from 6 Nov.
    history = [_p("2026-10", None, "no_data", closes_on=date(2026, 11, 1))]
    assert _keys(history, today=date(2026, 11, 5), grace_days=5) == []
    assert _keys(history, today=date(2026, 11, 6), grace_days=5) == ["late:k:2026-10"]
    assert _keys(history, today=date(2026, 11, 2), grace_days=1) == ["late:k:2026-10"]


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        # Three missed in a row (N = 3): chronic since the run's first period.
        (["missed", "missed", "missed"], ["chronic:k:p1"]),
        # Two are not enough.
        (["met", "missed", "missed"], []),
        # At risk ends a run before it is chronic ...
        (["missed", "missed", "at_risk", "missed"], []),
        # ... but is not "met again", so it does not clear a chronic KPI.
        (["missed", "missed", "missed", "at_risk"], ["chronic:k:p1"]),
        # Met again clears it.
        (["missed", "missed", "missed", "met"], []),
        # A later run is a new cause, named by its own first period.
        (["missed", "missed", "missed", "exceeded", "missed", "missed", "missed"], ["chronic:k:p5"]),
        # A period without a value neither extends nor ends the run.
        (["missed", None, "missed", "missed"], ["chronic:k:p1"]),
    ],
)
def test_chronic_runs(statuses, expected):
    history = [
        _p(f"p{i + 1}", None if s is None else 1, s or "no_data", closes_on=date(2026, 11, 1))
        for i, s in enumerate(statuses)
    ]
    chronic = [k for k in _keys(history, today=date(2026, 11, 1)) if k.startswith("chronic")]
    assert chronic == expected


def test_chronic_threshold_is_a_setting():
    history = [_p("p1", 1, "missed"), _p("p2", 1, "missed")]
    assert "chronic:k:p1" in _keys(history, chronic_after=2)
    with pytest.raises(PactboardError):
        _keys(history, chronic_after=0)


# A flat-ish history and one fall: values 50, 52, 50, 52, 50, 52, 50, 20.
# Centre = 376 / 8 = 47; moving ranges 2 (x6) and 30: mean 42 / 7 = 6; sigma = 6 / 1.128 = 5.319;
# lower 3-sigma limit 47 - 15.957 = 31.04, so 20 is a rule-1 point below the centre; no other
# point is beyond 1 sigma (41.68 / 52.32) and no run of 8 lies on one side.
DIP_VALUES = [50, 52, 50, 52, 50, 52, 50, 20]


def test_dip_on_the_unfavourable_side_only():
    history = [_p(f"2026-{i + 1:02d}", v, "met") for i, v in enumerate(DIP_VALUES)]
    causes = causes_for_kpi(code="k", direction="higher", history=history, today=date(2026, 9, 2))
    dips = [c for c in causes if c.kind == "dip"]
    assert [c.key for c in dips] == ["dip:k:2026-08"]
    assert dips[0].evidence["rules"] == ["we1"]
    # For a lower-is-better KPI a fall is good news: no dip.
    assert [
        c
        for c in causes_for_kpi(code="k", direction="lower", history=history, today=date(2026, 9, 2))
        if c.kind == "dip"
    ] == []


def test_no_dip_on_a_short_history():
    history = [_p(f"2026-{i + 1:02d}", v, "met") for i, v in enumerate(DIP_VALUES[1:])]  # seven values
    assert [k for k in _keys(history) if k.startswith("dip")] == []
