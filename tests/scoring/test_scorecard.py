"""Scorecards and trend arrows, worked out by hand (docs/scoring.md is the definition)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pactboard.core.errors import PactboardError
from pactboard.scoring import (
    Direction,
    KpiTerms,
    Milestone,
    Trend,
    kpi_result,
    scorecard_compute,
    trend_direction,
    trend_is_better,
)

D = Decimal
OCTOBER_LAST_DAY = date(2026, 10, 31)

TERMS = (
    KpiTerms(code="SL", direction="higher", target=D(80), amber=D(75), stretch=D(90), weight=D(3)),
    KpiTerms(code="AHT", direction="lower", target=D(300), amber=D(330), weight=D(2)),
    KpiTerms(code="CSAT", direction="higher", target=D("4.5"), amber=D("4.2"), weight=D(1)),
    KpiTerms(code="FCR", direction="higher", target=D(70), amber=D(65), weight=D(2)),
)


def test_worked_example() -> None:
    card = scorecard_compute(
        terms=TERMS,
        values={"SL": D(84), "AHT": D(330), "CSAT": D("4.0"), "FCR": None},
        period_last_day=OCTOBER_LAST_DAY,
    )
    sl, aht, csat, fcr = card.results
    assert (sl.status, sl.attainment) == ("met", D("1.0500"))  # 84 / 80
    assert (aht.status, aht.attainment) == ("at_risk", D("0.9090"))  # 300 / 330 = 0.90909..., at amber
    assert (csat.status, csat.attainment) == ("missed", D("0.8888"))  # 4.0 / 4.5 = 0.8888..., below 4.2
    assert (fcr.status, fcr.attainment) == ("no_data", None)
    # score = (3 x 1.05 + 2 x 0.9090 + 1 x 0.8888) / (3 + 2 + 1) x 100
    #       = (3.15 + 1.818 + 0.8888) / 6 x 100 = 5.8568 / 6 x 100 = 97.61333... -> 97.6
    assert card.score == D("97.6")
    # status score = (3 x 100 + 2 x 50 + 1 x 0) / 6 = 66.666... -> 66.7
    assert card.status_score == D("66.7")
    # coverage = weight with data / total weight = 6 / 8
    assert card.coverage == D("0.75")
    assert dict(card.counts) == {"exceeded": 0, "met": 1, "at_risk": 1, "missed": 1, "no_data": 1}
    assert card.result("AHT") is aht
    with pytest.raises(KeyError):
        card.result("NOPE")


def test_a_missing_code_has_no_data() -> None:
    card = scorecard_compute(terms=TERMS, values={"SL": D(84)}, period_last_day=OCTOBER_LAST_DAY)
    assert card.result("FCR").status == "no_data"
    assert card.score == D("105.0")  # only SL: 1.05 x 100
    assert card.coverage == D("0.375")  # 3 / 8


def test_the_cap_stops_one_kpi_hiding_another_miss() -> None:
    terms = (
        KpiTerms(code="A", direction="higher", target=D(100), amber=D(90)),
        KpiTerms(code="B", direction="higher", target=D(100), amber=D(90)),
    )
    card = scorecard_compute(terms=terms, values={"A": D(200), "B": D(50)}, period_last_day=OCTOBER_LAST_DAY)
    # A: 200 / 100 = 2, capped at 1.2; B: 0.5. (1.2 + 0.5) / 2 x 100 = 85.0 (uncapped it would be 125).
    assert card.score == D("85.0")
    # A met (100), B missed (0): 50.0
    assert card.status_score == D("50.0")


def test_exceeded_counts_as_met_in_the_status_score() -> None:
    card = scorecard_compute(terms=TERMS[:1], values={"SL": D(95)}, period_last_day=OCTOBER_LAST_DAY)
    assert card.result("SL").status == "exceeded"
    assert card.status_score == D("100.0")
    assert card.score == D("118.8")  # 95 / 80 = 1.1875 (below the 1.2 cap) -> 118.75 -> 118.8 (half up)


def test_score_rounds_half_up() -> None:
    terms = (
        KpiTerms(code="A", direction="higher", target=D(1000)),
        KpiTerms(code="B", direction="higher", target=D(1000)),
    )
    # A: 1.0000, B: 997 / 1000 = 0.997. Mean 0.9985 -> 99.85 -> 99.9 (half up; half even would give 99.8).
    card = scorecard_compute(terms=terms, values={"A": D(1000), "B": D(997)}, period_last_day=OCTOBER_LAST_DAY)
    assert card.score == D("99.9")


def test_no_data_at_all() -> None:
    card = scorecard_compute(terms=TERMS, values={}, period_last_day=OCTOBER_LAST_DAY)
    assert card.score is None
    assert card.status_score is None
    assert card.coverage == D(0)
    assert card.counts["no_data"] == 4


def test_no_terms() -> None:
    card = scorecard_compute(terms=(), values={}, period_last_day=OCTOBER_LAST_DAY)
    assert (card.results, card.score, card.status_score, card.coverage) == ((), None, None, D(0))


def test_unknown_codes_and_duplicate_terms_are_refused() -> None:
    with pytest.raises(PactboardError) as excinfo:
        scorecard_compute(terms=TERMS, values={"SLA": D(1)}, period_last_day=OCTOBER_LAST_DAY)
    assert [(d.location, d.code) for d in excinfo.value.details] == [("values.SLA", "unknown_kpi")]
    with pytest.raises(PactboardError) as excinfo:
        scorecard_compute(terms=(*TERMS, TERMS[0]), values={}, period_last_day=OCTOBER_LAST_DAY)
    assert [(d.location, d.code) for d in excinfo.value.details] == [("terms[4].code", "duplicate_code")]


def test_results_use_the_target_in_force() -> None:
    terms = KpiTerms(
        code="SL",
        direction="higher",
        target=D(80),
        amber=D(75),
        milestones=(Milestone(date=date(2026, 12, 31), target=D(70)),),
    )
    # October: the 31 December milestone applies: target 70, amber 65. 72 meets it (but not 80).
    result = kpi_result(terms=terms, value=D(72), period_last_day=OCTOBER_LAST_DAY)
    assert (result.target, result.amber, result.milestone_date) == (D(70), D(65), date(2026, 12, 31))
    assert result.status == "met"
    assert result.attainment == D("1.0285")  # 72 / 70 = 1.028571...
    # January 2027: the final target 80 applies: 72 is below the amber 75.
    later = kpi_result(terms=terms, value=D(72), period_last_day=date(2027, 1, 31))
    assert (later.target, later.status, later.milestone_date) == (D(80), "missed", None)


def test_per_kpi_cap() -> None:
    terms = (KpiTerms(code="A", direction="higher", target=D(100), max_cap=D("1.5")),)
    card = scorecard_compute(terms=terms, values={"A": D(200)}, period_last_day=OCTOBER_LAST_DAY)
    assert card.score == D("150.0")


# --- trends -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "target", "expected"),
    [
        # Reference = mean of the three periods before the last; flat within 1 % of the target.
        (["90", "92", "94", "97"], "95", "up"),  # ref 92, +5 > 0.95
        (["97", "95", "96", "96.5"], "95", "flat"),  # ref 96, +0.5 <= 0.95
        (["97", "95", "96", "96.95"], "95", "flat"),  # ref 96, +0.95: exactly the tolerance
        (["97", "95", "96", "96.96"], "95", "up"),  # +0.96
        (["100", "100", "100", "98"], "95", "down"),  # -2
        (["200", "90", "92", "94", "93"], "95", "up"),  # 200 is outside the window: ref 92, +1
        (["90", None, "94", "97"], "95", "up"),  # gaps skipped: ref (90 + 94) / 2 = 92
        (["90", "92", "94", None], "95", None),  # no data in the last period
        (["90"], "95", None),  # nothing to compare with
        ([None, None, None, "90"], "95", None),
        ([], "95", None),
        # No target: 1 % of the larger of |last| and |reference|.
        (["100", "100", "100", "100.5"], None, "flat"),  # 0.5 <= 1.005
        (["100", "100", "100", "102"], None, "up"),
        (["0", "0", "0", "0"], None, "flat"),
        (["0", "0", "0", "0"], "0", "flat"),  # a zero target falls back to the values
        (["-20", "-20", "-20", "-10"], "-15", "up"),  # NPS: +10 > 0.15
    ],
)
def test_trend_direction(values: list[str | None], target: str | None, expected: Trend | None) -> None:
    parsed = [None if v is None else D(v) for v in values]
    assert trend_direction(values=parsed, target=None if target is None else D(target)) == expected


def test_trend_window_is_configurable() -> None:
    values = [D(200), D(90), D(92), D(94), D(93)]
    # Window 4: ref (200 + 90 + 92 + 94) / 4 = 119, so 93 is down.
    assert trend_direction(values=values, target=D(95), window=4) == "down"
    with pytest.raises(ValueError, match="window"):
        trend_direction(values=values, window=0)


@pytest.mark.parametrize(
    ("trend", "direction", "better"),
    [
        ("up", "higher", True),
        ("down", "higher", False),
        ("up", "lower", False),
        ("down", "lower", True),
        ("flat", "higher", None),
        ("flat", "lower", None),
        (None, "higher", None),
    ],
)
def test_trend_is_better(trend: Trend | None, direction: Direction, better: bool | None) -> None:
    assert trend_is_better(trend=trend, direction=direction) is better


def test_remembered_results_keep_each_value_as_stored_and_stay_bounded(monkeypatch) -> None:
    from collections import OrderedDict

    from pactboard.scoring import scorecard

    monkeypatch.setattr(scorecard, "_JUDGED", OrderedDict())
    sl = TERMS[0]
    # 84 and 84.0 are equal numbers and judge alike (met, 84 / 80 = 1.05), but each result keeps its own value.
    whole = scorecard.kpi_result_memoised(terms=sl, value=D("84"), period_last_day=OCTOBER_LAST_DAY)
    tenths = scorecard.kpi_result_memoised(terms=sl, value=D("84.0"), period_last_day=OCTOBER_LAST_DAY)
    assert (whole.status, whole.attainment, str(whole.value)) == ("met", D("1.0500"), "84")
    assert (tenths.status, tenths.attainment, str(tenths.value)) == ("met", D("1.0500"), "84.0")
    assert scorecard.kpi_result_memoised(terms=sl, value=D("84"), period_last_day=OCTOBER_LAST_DAY) is whole
    # Not a Decimal: refused with kpi_result's own error, never remembered.
    with pytest.raises(TypeError, match="must be a Decimal"):
        scorecard.kpi_result_memoised(terms=sl, value=84.0, period_last_day=OCTOBER_LAST_DAY)  # type: ignore[arg-type]
    assert len(scorecard._JUDGED[sl]) == 2

    # Bounded in all: past the limit of entries everything is forgotten; past the limit of terms the oldest go.
    monkeypatch.setattr(scorecard, "_judged_entries", 2)
    monkeypatch.setattr(scorecard, "_JUDGED_ENTRIES", 3)
    scorecard.kpi_result_memoised(terms=TERMS[1], value=D(300), period_last_day=OCTOBER_LAST_DAY)
    assert scorecard._judged_entries == 3
    scorecard.kpi_result_memoised(terms=TERMS[1], value=D(301), period_last_day=OCTOBER_LAST_DAY)
    assert scorecard._judged_entries == 1
    assert list(scorecard._JUDGED) == [TERMS[1]]
    assert len(scorecard._JUDGED[TERMS[1]]) == 1  # only the result judged after the reset
    monkeypatch.setattr(scorecard, "_JUDGED_TERMS", 2)
    scorecard.kpi_results_memo(TERMS[2])
    scorecard.kpi_results_memo(TERMS[3])
    assert list(scorecard._JUDGED) == [TERMS[2], TERMS[3]]  # the oldest terms went first, and their entries
    assert scorecard._judged_entries == 0
