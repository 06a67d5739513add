"""The win rules on hand-made histories (docs/governance.md, "Collaboration": what each win means).

Each history is a list of closed months with the status the scorecard gave them; the expected wins
are worked out from the definitions in the module's docstring, period by period, in the comments.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pactboard.core.errors import PactboardError
from pactboard.governance.win_rules import WinPeriod, wins_for_kpi


def _h(*statuses: str | None, milestone: dict[int, date] | None = None) -> list[WinPeriod]:
    """Months 2026-01.. with the given statuses; None = no value recorded."""
    out = []
    for i, s in enumerate(statuses):
        out.append(
            WinPeriod(
                label=f"2026-{i + 1:02d}",
                value=None if s is None else Decimal(i + 1),
                status="no_data" if s is None else s,  # type: ignore[arg-type]
                target=Decimal(80),
                stretch=Decimal(90),
                milestone_date=(milestone or {}).get(i + 1),
            )
        )
    return out


def _keys(history: list[WinPeriod], **kw) -> list[str]:
    return [w.key for w in wins_for_kpi(code="fcr", history=history, window=kw.pop("window", 99), **kw)]


def test_met_again_after_a_miss():
    # Jan met, Feb missed, Mar met -> Mar is met again; Apr met after met is nothing.
    assert _keys(_h("met", "missed", "met", "met")) == ["met_again:fcr:2026-03"]


def test_a_period_without_a_value_neither_breaks_nor_makes_the_sequence():
    # Feb missed, Mar no value, Apr met: the previous period with a value (Feb) was missed.
    assert _keys(_h("met", "missed", None, "met")) == ["met_again:fcr:2026-04"]


def test_at_risk_is_not_a_miss():
    # Feb missed, Mar at risk, Apr met: Apr's previous period with a value is at risk, not missed.
    assert _keys(_h("met", "missed", "at_risk", "met")) == []
    # The first period with a value cannot be "again".
    assert _keys(_h("met")) == []


def test_chronic_cleared_stands_in_for_met_again():
    # Three misses in a row (the default chronic_after = 3) make the KPI chronic; May met clears it.
    assert _keys(_h("met", "missed", "missed", "missed", "met")) == ["chronic_cleared:fcr:2026-05"]
    # Two misses are not chronic: May is merely met again.
    assert _keys(_h("met", "met", "missed", "missed", "met")) == ["met_again:fcr:2026-05"]
    # The threshold is the engagement's: with 2, two misses are chronic.
    assert _keys(_h("met", "met", "missed", "missed", "met"), chronic_after=2) == ["chronic_cleared:fcr:2026-05"]


def test_at_risk_keeps_a_chronic_kpi_chronic_and_ends_a_young_run():
    # Chronic after Jan-Mar; Apr at risk does not clear it; May met clears it.
    assert _keys(_h("missed", "missed", "missed", "at_risk", "met")) == ["chronic_cleared:fcr:2026-05"]
    # Jan-Feb missed, Mar at risk (ends the run of 2), Apr missed (run of 1), May met: met again, not chronic.
    assert _keys(_h("missed", "missed", "at_risk", "missed", "met")) == ["met_again:fcr:2026-05"]


def test_stretch_each_exceeded_period():
    # Exceeded is also met: Feb after Jan's miss is met again and a stretch win; Mar exceeded again.
    assert _keys(_h("missed", "exceeded", "exceeded")) == [
        "met_again:fcr:2026-02",
        "stretch:fcr:2026-02",
        "stretch:fcr:2026-03",
    ]


def test_milestone_reached_once_by_its_first_meeting_period():
    ms = date(2026, 3, 31)
    # Jan-Mar are judged against the milestone of 31 Mar. Jan missed, Feb met (reached), Mar met (already).
    history = _h("missed", "met", "met", "met", milestone={1: ms, 2: ms, 3: ms})
    assert _keys(history) == ["met_again:fcr:2026-02", "milestone:fcr:2026-03-31"]
    # Never met while it applied: not reached.
    assert _keys(_h("missed", "at_risk", "met", milestone={1: ms, 2: ms})) == []


def test_only_the_window_posts_but_older_periods_set_the_scene():
    # Six months; window 3 = Apr..Jun. Feb met again is too old; Jun is met again after May's miss,
    # and Apr clears a chronic run that began in January (outside the window).
    history = _h("missed", "missed", "missed", "met", "missed", "met")
    assert _keys(history, window=3) == ["chronic_cleared:fcr:2026-04", "met_again:fcr:2026-06"]
    assert _keys(history, window=1) == ["met_again:fcr:2026-06"]


def test_evidence_and_bad_arguments():
    (win,) = wins_for_kpi(code="fcr", history=_h("missed", "met"))
    assert win.kind == "met_again"
    assert win.period == "2026-02"
    assert win.evidence == {"value": "2", "target": "80", "missed_in": "2026-01"}
    with pytest.raises(PactboardError, match="chronic_after"):
        wins_for_kpi(code="fcr", history=[], chronic_after=0)
    with pytest.raises(PactboardError, match="window"):
        wins_for_kpi(code="fcr", history=[], window=0)
