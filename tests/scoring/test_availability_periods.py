"""Availability over the exact minutes of calendar periods (pactboard.scoring.availability).

Minutes of a month: days x 1,440 (24 h x 60), less 60 in the month the clocks go forward, plus 60
in the month they go back (Europe/Berlin: 29 March and 25 October 2026, EU summer-time rule:
last Sunday of March and of October).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest

from pactboard.core.periods import Period
from pactboard.scoring.availability import DECIMAL_CONTEXT, Interval, availability_compute

D = Decimal


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _ratio(up: int, of: int) -> Decimal:
    """up / of in the module's 60-digit context, as it divides."""
    with localcontext(DECIMAL_CONTEXT):
        return D(up) / D(of)


def _month(label: str, tz: str, outages: list[Interval] = ()):  # type: ignore[assignment]
    start, end = Period.parse(label, "month").bounds(tz)
    return availability_compute(start=start, end=end, outages=outages)


@pytest.mark.parametrize(
    ("label", "tz", "minutes"),
    [
        ("2026-09", "UTC", 43_200),  # 30 x 1,440
        ("2026-10", "UTC", 44_640),  # 31 x 1,440
        ("2026-02", "UTC", 40_320),  # 28 x 1,440 (2026 is not a leap year)
        ("2026-10", "Europe/Berlin", 44_700),  # 44,640 + 60: the 25-hour day of 25 October
        ("2026-03", "Europe/Berlin", 44_580),  # 44,640 - 60: the 23-hour day of 29 March
    ],
)
def test_a_period_has_its_exact_minutes(label: str, tz: str, minutes: int) -> None:
    result = _month(label, tz)
    assert result.period_minutes == minutes
    assert result.percent == 100


def test_an_outage_across_a_month_boundary_counts_in_both_months_clipped() -> None:
    # 31 Oct 23:00 to 1 Nov 02:00 UTC: 60 minutes in October, 120 in November.
    outage = [Interval(start=_at("2026-10-31T23:00"), end=_at("2026-11-01T02:00"))]
    october, november = _month("2026-10", "UTC", outage), _month("2026-11", "UTC", outage)
    assert (october.downtime_minutes, november.downtime_minutes) == (60, 120)
    # (44,640 - 60) / 44,640 x 100 = 99.865591... ; (43,200 - 120) / 43,200 x 100 = 99.722222...
    assert october.percent.quantize(D("0.000001"), rounding=ROUND_HALF_UP) == D("99.865591")
    assert october.ratio == _ratio(44_580, 44_640)
    assert november.ratio == _ratio(43_080, 43_200)


def test_overlapping_outages_count_once() -> None:
    # 10:00-11:00 and 10:30-11:30 are one stretch 10:00-11:30: 90 minutes, not 120.
    outages = [
        Interval(start=_at("2026-10-05T10:00"), end=_at("2026-10-05T11:00")),
        Interval(start=_at("2026-10-05T10:30"), end=_at("2026-10-05T11:30")),
    ]
    result = _month("2026-10", "UTC", outages)
    assert result.downtime_minutes == 90
    assert result.ratio == _ratio(44_550, 44_640)
