"""The stored form of a scheme reads back to the same JSON; the renewal rule (F13) worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pactboard.core.errors import PactboardError
from pactboard.incentives.calc import (
    RenewalPeriod,
    RenewalRule,
    renewal_recommend,
    scheme_from_json,
    scheme_to_json,
    settlement_compute,
)
from pactboard.incentives.calc.settlement import PeriodFigures
from tests.incentives.conftest import qa_scheme

D = Decimal


def test_json_round_trip_is_stable() -> None:
    stored = scheme_to_json(scheme_from_json(qa_scheme(earn_back={"periods": 3})))
    assert scheme_to_json(scheme_from_json(stored)) == stored
    assert stored["credit_rules"][0]["bands"][1]["amount"] == {"percent": "5", "base": "monthly_fee"}


def test_stored_scheme_settles_like_the_contract_reads() -> None:
    # QA 86 is in 85 ≤ v < 90: 5 % × 20,000 = 1,000.00.
    terms = scheme_from_json(qa_scheme())
    statement = settlement_compute(
        scheme=terms.scheme,
        figures=PeriodFigures(period="2026-05", values={"qa_score": D("86")}, fee_bases={"monthly_fee": D("20000")}),
    )
    assert statement.line("qa-credit").amount == D("1000.00")


def test_problems_are_named_at_their_place() -> None:
    bad = qa_scheme()
    bad["credit_rules"][0]["bands"][0]["amount"] = {"percent": 10.5, "base": "monthly_fee"}  # a float: refused
    bad["credit_rules"][0]["bands"][1]["lower"] = {"value": "86", "inclusive": True}  # a gap at 85..86
    with pytest.raises(PactboardError) as caught:
        scheme_from_json(bad)
    assert [d.location for d in caught.value.details] == ["credit_rules[0].bands[0].amount.percent"]
    bad["credit_rules"][0]["bands"][0]["amount"] = {"percent": "10", "base": "monthly_fee"}
    with pytest.raises(PactboardError) as caught:
        scheme_from_json(bad)
    assert any("credit_rules[0].bands" in (d.location or "") for d in caught.value.details)


def _history(scores: list[str | None], missed: dict[str, list[bool]] | None = None) -> list[RenewalPeriod]:
    missed = missed or {}
    return [
        RenewalPeriod(
            period=f"2026-{i + 1:02d}",
            score=None if s is None else D(s),
            missed={code: flags[i] for code, flags in missed.items()},
        )
        for i, s in enumerate(scores)
    ]


RULE = RenewalRule(score_target=D("85"), periods_required=10, window=12)


def test_ten_of_twelve_and_no_chronic_kpi_renews() -> None:
    # 10 scores ≥ 85 (85 itself counts: "at or above"), 2 below.
    scores = ["85", "90", "91", "88", "80", "86", "87", "89", "90", "84", "95", "85"]
    result = renewal_recommend(rule=RULE, history=_history(scores))
    assert (result.outcome, result.periods_met, result.periods_seen) == ("renew", 10, 12)
    assert result.evidence[0].startswith("score held in 10 of the last 12 periods")


def test_a_chronic_kpi_turns_renew_into_conditions() -> None:
    # Missed in 3 of the last 6 periods (the default chronic rule: 3 in 6).
    flags = [False] * 6 + [True, False, True, False, True, False]
    result = renewal_recommend(rule=RULE, history=_history(["90"] * 12, {"fcr": flags}))
    assert (result.outcome, result.chronic) == ("renew_with_conditions", ("fcr",))


@pytest.mark.parametrize(
    ("met", "outcome"), [(9, "renew_with_conditions"), (8, "renew_with_conditions"), (7, "review")]
)
def test_below_the_rule(met: int, outcome: str) -> None:
    # Conditions from two fewer than required (8); below that, review.
    scores = ["90"] * met + ["70"] * (12 - met)
    assert renewal_recommend(rule=RULE, history=_history(scores)).outcome == outcome


def test_only_the_window_counts_and_no_history_is_review() -> None:
    scores = ["70"] * 5 + ["90"] * 12  # the five early misses fall outside the last 12
    assert renewal_recommend(rule=RULE, history=_history(scores)).outcome == "renew"
    assert renewal_recommend(rule=RULE, history=[]).outcome == "review"
