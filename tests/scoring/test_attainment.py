"""Threshold checks, statuses and attainment, worked out by hand (docs/scoring.md is the definition)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pactboard.core.errors import PactboardError
from pactboard.scoring import DEFAULT_CAP, Direction, Status, kpi_attainment, kpi_status, thresholds_check

D = Decimal

# --- thresholds_check -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "target", "amber", "stretch"),
    [
        ("higher", "95", "90", "98"),
        ("higher", "95", None, None),
        ("higher", "-10", "-20", "0"),  # NPS
        ("lower", "300", "330", "270"),
        ("lower", "0", "2", None),  # zero incidents
    ],
)
def test_consistent_thresholds_have_no_problem(
    direction: Direction, target: str, amber: str | None, stretch: str | None
) -> None:
    assert (
        thresholds_check(
            direction=direction,
            target=D(target),
            amber=None if amber is None else D(amber),
            stretch=None if stretch is None else D(stretch),
        )
        == []
    )


@pytest.mark.parametrize(
    ("direction", "amber", "stretch", "location", "message"),
    [
        # higher-is-better, target 95: amber must be below, stretch above; equal is not allowed.
        ("higher", "95", None, "thresholds.amber", "must be below the target for a higher-is-better KPI"),
        ("higher", "96", None, "thresholds.amber", "must be below the target for a higher-is-better KPI"),
        ("higher", None, "95", "thresholds.stretch", "must be above the target for a higher-is-better KPI"),
        ("higher", None, "94", "thresholds.stretch", "must be above the target for a higher-is-better KPI"),
        # lower-is-better, target 95: mirrored.
        ("lower", "95", None, "thresholds.amber", "must be above the target for a lower-is-better KPI"),
        ("lower", "94", None, "thresholds.amber", "must be above the target for a lower-is-better KPI"),
        ("lower", None, "95", "thresholds.stretch", "must be below the target for a lower-is-better KPI"),
        ("lower", None, "96", "thresholds.stretch", "must be below the target for a lower-is-better KPI"),
    ],
)
def test_inconsistent_thresholds_are_located(
    direction: Direction, amber: str | None, stretch: str | None, location: str, message: str
) -> None:
    problems = thresholds_check(
        direction=direction,
        target=D(95),
        amber=None if amber is None else D(amber),
        stretch=None if stretch is None else D(stretch),
    )
    assert len(problems) == 1
    assert problems[0].location == location
    assert problems[0].message.startswith(message)


def test_both_thresholds_wrong_gives_two_problems() -> None:
    problems = thresholds_check(direction="lower", target=D(300), amber=D(250), stretch=D(350))
    assert [p.location for p in problems] == ["thresholds.amber", "thresholds.stretch"]
    assert [p.code for p in problems] == ["amber_not_worse_than_target", "stretch_not_better_than_target"]
    assert "(amber 250, target 300)" in problems[0].message


def test_non_finite_and_unknown_direction() -> None:
    problems = thresholds_check(direction="higher", target=D("NaN"), amber=D("Infinity"), stretch=None)
    assert [(p.location, p.code) for p in problems] == [("target", "not_finite"), ("thresholds.amber", "not_finite")]
    problems = thresholds_check(direction="up", target=D(1), amber=None, stretch=None)  # type: ignore[arg-type]
    assert [(p.location, p.code) for p in problems] == [("direction", "invalid_direction")]


# --- kpi_status -------------------------------------------------------------------------------

# Service level, higher is better: target 95, amber 90, stretch 98.
HIGHER = {"direction": "higher", "target": D(95), "amber": D(90), "stretch": D(98)}
# Average handle time in seconds, lower is better: target 300, amber 330, stretch 270.
LOWER = {"direction": "lower", "target": D(300), "amber": D(330), "stretch": D(270)}


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("99", "exceeded"),
        ("98", "exceeded"),  # tie at stretch: the better status
        ("97.99", "met"),
        ("95", "met"),  # tie at target
        ("94.99", "at_risk"),
        ("90", "at_risk"),  # tie at amber
        ("89.99", "missed"),
        ("0", "missed"),
        ("-5", "missed"),
        (None, "no_data"),
    ],
)
def test_status_higher_is_better(value: str | None, status: Status) -> None:
    assert kpi_status(value=None if value is None else D(value), **HIGHER) == status  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("0", "exceeded"),
        ("260", "exceeded"),
        ("270", "exceeded"),  # tie at stretch
        ("270.01", "met"),
        ("300", "met"),  # tie at target
        ("300.01", "at_risk"),
        ("330", "at_risk"),  # tie at amber
        ("330.01", "missed"),
        (None, "no_data"),
    ],
)
def test_status_lower_is_better(value: str | None, status: Status) -> None:
    assert kpi_status(value=None if value is None else D(value), **LOWER) == status  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "status"),
    [
        # NPS, higher is better: target -10, amber -20, stretch 0.
        ("5", "exceeded"),
        ("0", "exceeded"),
        ("-10", "met"),
        ("-15", "at_risk"),
        ("-20", "at_risk"),
        ("-25", "missed"),
    ],
)
def test_status_with_negative_levels(value: str, status: Status) -> None:
    assert kpi_status(direction="higher", value=D(value), target=D(-10), amber=D(-20), stretch=D(0)) == status


def test_status_without_stretch_or_amber() -> None:
    # Without a stretch nothing is exceeded; without an amber anything worse than target is missed.
    assert kpi_status(direction="higher", value=D(500), target=D(95)) == "met"
    assert kpi_status(direction="higher", value=D("94.99"), target=D(95)) == "missed"
    assert kpi_status(direction="lower", value=D(0), target=D(0)) == "met"
    assert kpi_status(direction="lower", value=D(1), target=D(0)) == "missed"


def test_status_refuses_bad_input() -> None:
    with pytest.raises(PactboardError, match="finite"):
        kpi_status(direction="higher", value=D("NaN"), target=D(1))
    with pytest.raises(PactboardError, match="'higher' or 'lower'"):
        kpi_status(direction="up", value=D(1), target=D(1))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Decimal"):
        kpi_status(direction="higher", value=0.5, target=D(1))  # type: ignore[arg-type]


# --- kpi_attainment ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "target", "value", "expected"),
    [
        # higher is better, target 95: value / target, floored to 4 places, clamped to [0, 1.2].
        ("higher", "95", "95", "1.0000"),
        ("higher", "95", "76", "0.8000"),  # 76 / 95 = 0.8
        ("higher", "95", "100", "1.0526"),  # 100 / 95 = 1.052631...
        ("higher", "95", "94.99", "0.9998"),  # 0.999894... floored, so a miss never shows 100 %
        ("higher", "95", "114", "1.2000"),  # 114 / 95 = 1.2 exactly: at the cap
        ("higher", "95", "120", "1.2000"),  # 1.263... capped
        ("higher", "95", "0", "0.0000"),
        ("higher", "95", "-5", "0.0000"),  # -0.0526 clamped to 0
        # lower is better, target 300: target / value.
        ("lower", "300", "300", "1.0000"),
        ("lower", "300", "360", "0.8333"),  # 300 / 360 = 0.8333...
        ("lower", "300", "600", "0.5000"),
        ("lower", "300", "270", "1.1111"),  # 300 / 270 = 1.1111...
        ("lower", "300", "200", "1.2000"),  # 1.5 capped
        ("lower", "300", "0", "1.2000"),  # zero is the best a lower-is-better value can be: the cap
        ("lower", "300", "-1", "1.2000"),  # past zero: better still, the cap
        # higher is better with a negative target (NPS -10): target / value while the value is
        # negative; at or above zero the value is better than any negative: the cap.
        ("higher", "-10", "-10", "1.0000"),
        ("higher", "-10", "-20", "0.5000"),  # -10 / -20
        ("higher", "-10", "-12.5", "0.8000"),  # -10 / -12.5
        ("higher", "-10", "-11", "0.9090"),  # 0.90909... floored
        ("higher", "-10", "-9", "1.1111"),  # -10 / -9
        ("higher", "-10", "-8", "1.2000"),  # 1.25 capped
        ("higher", "-10", "0", "1.2000"),
        ("higher", "-10", "5", "1.2000"),
        # lower is better with a negative target (cost variance at most -5 %): value / target,
        # the mirror of higher-is-better with target 5.
        ("lower", "-5", "-5", "1.0000"),
        ("lower", "-5", "-4", "0.8000"),  # -4 / -5
        ("lower", "-5", "-5.5", "1.1000"),  # -5.5 / -5
        ("lower", "-5", "-6", "1.2000"),
        ("lower", "-5", "0", "0.0000"),
        ("lower", "-5", "3", "0.0000"),  # -0.6 clamped to 0
        # target zero: 1 at the target, the cap when better, 0 when worse.
        ("higher", "0", "0", "1.0000"),  # revenue growth 0 %
        ("higher", "0", "0.1", "1.2000"),
        ("higher", "0", "-0.1", "0.0000"),
        ("lower", "0", "0", "1.0000"),  # zero security incidents
        ("lower", "0", "1", "0.0000"),
        ("lower", "0", "-1", "1.2000"),
    ],
)
def test_attainment_table(direction: Direction, target: str, value: str, expected: str) -> None:
    result = kpi_attainment(direction=direction, value=D(value), target=D(target))
    assert result == D(expected)
    assert str(result) == expected  # always four places


def test_attainment_without_data_is_none() -> None:
    assert kpi_attainment(direction="higher", value=None, target=D(95)) is None


def test_attainment_cap_is_configurable() -> None:
    assert D("1.2") == DEFAULT_CAP
    assert kpi_attainment(direction="higher", value=D(150), target=D(100), cap=D("1.5")) == D("1.5")
    assert kpi_attainment(direction="higher", value=D(200), target=D(100), cap=D("1.5")) == D("1.5")
    assert kpi_attainment(direction="higher", value=D(110), target=D(100), cap=D(1)) == D(1)


def test_attainment_refuses_floats() -> None:
    with pytest.raises(TypeError, match="never uses float"):
        kpi_attainment(direction="higher", value=D(1), target=95.0)  # type: ignore[arg-type]
