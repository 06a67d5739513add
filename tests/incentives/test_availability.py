"""Availability over the exact minutes of a month, and the Amazon Compute schedule at every edge.

Minutes of a month: days × 1,440, less (spring) or plus (autumn) 60 in a month with a DST change.
The schedule is quoted in tests/incentives/tables.py; its credit is a percentage of "the total
charges paid by you ... for the monthly billing cycle". The monthly charges below
(USD 1,234.56) are illustrative, not from the source.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from pactboard.core.errors import PactboardError
from pactboard.core.periods import Period
from pactboard.incentives.calc import (
    Interval,
    PeriodFigures,
    Scheme,
    availability_compute,
    intervals_merge,
    settlement_compute,
)
from tests.incentives.tables import aws_compute_rule

D = Decimal
ZONE = "Europe/Berlin"
CHARGES = D("1234.56")
# 10 % of 1,234.56 = 123.456 → 123.46 (half-up); 30 % = 370.368 → 370.37; 100 % = 1,234.56.
TEN, THIRTY, ALL = D("123.46"), D("370.37"), D("1234.56")


def month(year: int, number: int) -> tuple[datetime, datetime]:
    return Period("month", date(year, number, 1)).bounds(ZONE)


@pytest.mark.parametrize(
    ("year", "number", "minutes"),
    [
        (2026, 4, 43_200),  # 30 days × 1,440
        (2026, 7, 44_640),  # 31 days × 1,440
        (2026, 2, 40_320),  # 28 days × 1,440
        (2028, 2, 41_760),  # 29 days (leap year)
        (2026, 3, 44_580),  # 31 days, clocks go forward on 29 March: 44,640 − 60
        (2026, 10, 44_700),  # 31 days, clocks go back on 25 October: 44,640 + 60
    ],
)
def test_minutes_of_the_month_in_the_engagement_zone(year: int, number: int, minutes: int) -> None:
    start, end = month(year, number)
    result = availability_compute(start=start, end=end, outages=[])
    assert result.period_minutes == minutes
    assert result.percent == 100


def _credit(start: datetime, end: datetime, down: timedelta, minutes: str) -> tuple[Decimal, Decimal]:
    """Uptime percentage and the credit for one outage of ``down`` that starts 10 hours into the month."""
    outage = Interval(start=start + timedelta(hours=10), end=start + timedelta(hours=10) + down)
    uptime = availability_compute(start=start, end=end, outages=[outage], minutes=minutes).percent  # type: ignore[arg-type]
    scheme = Scheme(currency="USD", credit_rules=[aws_compute_rule()])
    statement = settlement_compute(
        scheme=scheme,
        figures=PeriodFigures(period="m", values={"uptime": uptime}, fee_bases={"monthly_charges": CHARGES}),
    )
    return uptime, statement.credits_due


# 30-day month (April 2026), 43,200 minutes:
#   99.99 % up leaves 0.01 % × 43,200 = 4.32 min down. 4 whole minutes: 43,196 / 43,200 = 99.99074 % ≥ 99.99
#   → no credit; 5 minutes: 43,195 / 43,200 = 99.98843 % → 10 %. Exactly 4.32 min (259.2 s) is 99.99 % →
#   no credit; one microsecond more is below → 10 %.
#   99.0 %: 1 % × 43,200 = 432 min. 432 min down is exactly 99.0 % → still 10 %; 433 → 30 %; 431 → 10 %.
#   95.0 %: 5 % × 43,200 = 2,160 min. 2,160 is exactly 95.0 % → 30 %; 2,161 → 100 %; 2,159 → 30 %.
# 31-day month (July 2026), 44,640 minutes:
#   0.01 % × 44,640 = 4.464 min: 4 min → 99.99104 % (none), 5 min → 99.98880 % (10 %); exactly 267.84 s → none.
#   1 % × 44,640 = 446.4 min: 446 min → 44,194 / 44,640 = 99.000896 % (10 %), 447 → 98.998656 % (30 %);
#   exactly 446.4 min (26,784 s) is 99.0 % → 10 %.
#   5 % × 44,640 = 2,232 min: 2,232 → 95.0 % (30 %), 2,231 → 30 %, 2,233 → 100 %.
MIN, SEC, MICRO = timedelta(minutes=1), timedelta(seconds=1), timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("number", "down", "minutes", "credit"),
    [
        (4, 4 * MIN, "whole_minutes", D(0)),
        (4, 5 * MIN, "whole_minutes", TEN),
        (4, D("259.2"), "exact", D(0)),
        (4, (D("259.2"), MICRO), "exact", TEN),
        (4, 431 * MIN, "whole_minutes", TEN),
        (4, 432 * MIN, "whole_minutes", TEN),
        (4, 433 * MIN, "whole_minutes", THIRTY),
        (4, 2_159 * MIN, "whole_minutes", THIRTY),
        (4, 2_160 * MIN, "whole_minutes", THIRTY),
        (4, 2_161 * MIN, "whole_minutes", ALL),
        (7, 4 * MIN, "whole_minutes", D(0)),
        (7, 5 * MIN, "whole_minutes", TEN),
        (7, D("267.84"), "exact", D(0)),
        (7, (D("267.84"), MICRO), "exact", TEN),
        (7, 446 * MIN, "whole_minutes", TEN),
        (7, D(26_784), "exact", TEN),
        (7, 447 * MIN, "whole_minutes", THIRTY),
        (7, 2_231 * MIN, "whole_minutes", THIRTY),
        (7, 2_232 * MIN, "whole_minutes", THIRTY),
        (7, 2_233 * MIN, "whole_minutes", ALL),
    ],
)
def test_aws_compute_credit_at_and_either_side_of_every_edge(
    number: int, down: timedelta | Decimal | tuple[Decimal, timedelta], minutes: str, credit: Decimal
) -> None:
    start, end = month(2026, number)
    if isinstance(down, tuple):
        down = timedelta(seconds=float(down[0])) + down[1]  # 259.2 s and 267.84 s are exact in microseconds
    elif isinstance(down, Decimal):
        down = timedelta(seconds=float(down))
    _, paid = _credit(start, end, down, minutes)
    assert paid == credit


def test_exact_allowance_sits_on_the_edge() -> None:
    start, end = month(2026, 4)
    uptime, _ = _credit(start, end, timedelta(seconds=259, microseconds=200_000), "exact")
    assert uptime == D("99.99")


def test_overlapping_outages_count_once() -> None:
    start, end = month(2026, 4)
    at = start + timedelta(days=3)
    outages = [
        Interval(start=at, end=at + 3 * MIN),  # 10:00-10:03
        Interval(start=at + 2 * MIN, end=at + 5 * MIN),  # 10:02-10:05, overlaps: together 5 minutes, not 6
        Interval(start=at + 5 * MIN, end=at + 6 * MIN),  # touches: joins the same stretch
        Interval(start=at + 60 * MIN, end=at + 62 * MIN),  # separate: 2 minutes
    ]
    result = availability_compute(start=start, end=end, outages=outages)
    assert result.downtime_minutes == 8
    assert [(d.end - d.start) for d in result.downtime] == [6 * MIN, 2 * MIN]
    assert len(intervals_merge(outages)) == 2


def test_outages_are_clipped_to_the_period() -> None:
    start, end = month(2026, 4)  # Berlin: 1 April 00:00 CEST = 31 March 22:00 UTC
    outage = Interval(start=start - 2 * MIN, end=start + 3 * MIN)
    assert availability_compute(start=start, end=end, outages=[outage]).downtime_minutes == 3


def test_minute_rules() -> None:
    start, end = month(2026, 4)
    at = start + timedelta(days=1)
    outages = [
        Interval(start=at + 30 * SEC, end=at + 2 * MIN + 10 * SEC),  # 1 min 40 s over the clock minutes 0, 1, 2
        Interval(start=at + 10 * MIN, end=at + 10 * MIN + 59 * SEC),  # 59 s within clock minute 10
    ]
    exact = availability_compute(start=start, end=end, outages=outages).downtime_minutes
    assert exact == D(100 + 59) / 60  # 159 seconds
    # Whole clock minutes touched: 0, 1, 2 and 10 → 4.
    assert availability_compute(start=start, end=end, outages=outages, minutes="whole_minutes").downtime_minutes == 4
    # Partial minutes dropped: 1 min 40 s → 1, 59 s → 0.
    assert availability_compute(start=start, end=end, outages=outages, minutes="drop_partial").downtime_minutes == 1


def test_maintenance_windows() -> None:
    start, end = month(2026, 4)
    window = Interval(start=start + timedelta(days=5), end=start + timedelta(days=5, hours=2))  # 120 minutes
    outage = Interval(start=window.end - 4 * MIN, end=window.end + 6 * MIN)  # 10 minutes, 4 of them in the window
    excluded = availability_compute(start=start, end=end, outages=[outage], maintenance=[window])
    # Out of the measurement: 43,200 − 120 = 43,080 minutes measured, 6 down.
    assert (excluded.measured_minutes, excluded.downtime_minutes) == (43_080, 6)
    # 43,074 / 43,080, compared to 20 places (the ratio itself is carried to 60 digits).
    assert excluded.ratio.quantize(D("1e-20")) == (D(43_074) / D(43_080)).quantize(D("1e-20"))
    as_uptime = availability_compute(
        start=start, end=end, outages=[outage], maintenance=[window], maintenance_rule="as_uptime"
    )
    assert (as_uptime.measured_minutes, as_uptime.downtime_minutes) == (43_200, 6)
    ignored = availability_compute(
        start=start, end=end, outages=[outage], maintenance=[window], maintenance_rule="none"
    )
    assert (ignored.measured_minutes, ignored.downtime_minutes) == (43_200, 10)


def test_naive_instants_and_reversed_intervals_are_refused() -> None:
    start, end = month(2026, 4)
    with pytest.raises(PactboardError) as caught:
        availability_compute(start=start, end=end, outages=[Interval(start=datetime(2026, 4, 2), end=end)])
    assert caught.value.details[0].location == "outages[0].start"
    with pytest.raises(PactboardError) as caught:
        availability_compute(start=start, end=end, outages=[Interval(start=end, end=start)])
    assert caught.value.details[0].location == "outages[0].end"
    with pytest.raises(PactboardError):
        availability_compute(start=end, end=start, outages=[])
    with pytest.raises(PactboardError) as caught:
        availability_compute(start=start, end=end, outages=[], maintenance=[Interval(start=start, end=end)])
    assert caught.value.details[0].code == "nothing_measured"


def test_instants_in_any_zone_are_compared_in_utc() -> None:
    start, end = month(2026, 4)
    utc_outage = Interval(start=datetime(2026, 4, 10, 8, 0, tzinfo=UTC), end=datetime(2026, 4, 10, 8, 7, tzinfo=UTC))
    assert availability_compute(start=start, end=end, outages=[utc_outage]).downtime_minutes == 7
