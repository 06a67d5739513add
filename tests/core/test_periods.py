"""Periods: labels, calendar arithmetic, time-zone bounds (facts checked against the ISO 8601 calendar)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pactboard.core.errors import PactboardError
from pactboard.core.periods import (
    PERIOD_KINDS,
    Period,
    PeriodKind,
    latest_closed_period,
    local_date,
    period_has_started,
    period_is_closed,
    periods_between,
    periods_overlapping,
    zone,
)

BERLIN = "Europe/Berlin"

# --- construction -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "start"),
    [
        ("week", date(2026, 1, 6)),  # a Tuesday
        ("month", date(2026, 10, 2)),
        ("quarter", date(2026, 2, 1)),  # a month start, not a quarter start
    ],
)
def test_misaligned_start_is_refused(kind: PeriodKind, start: date) -> None:
    with pytest.raises(PactboardError, match="starts on"):
        Period(kind, start)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(PactboardError, match="use week, month or quarter"):
        Period("year", date(2026, 1, 1))  # type: ignore[arg-type]


def test_datetime_start_is_refused() -> None:
    with pytest.raises(TypeError):
        Period("month", datetime(2026, 1, 1))


def test_periods_are_frozen_hashable_and_equal_by_value() -> None:
    a = Period("month", date(2026, 10, 1))
    assert a == Period.parse("2026-10")
    assert len({a, Period.parse("2026-10"), Period.parse("2026-11")}) == 2
    with pytest.raises(AttributeError):
        a.start = date(2026, 11, 1)  # type: ignore[misc]


def test_ordering_is_by_start_then_length() -> None:
    q1, jan, w1 = Period.parse("2026-Q1"), Period.parse("2026-01"), Period.parse("2026-W01")
    # 2026-W01 starts Monday 29 December 2025, before January and Q1 (both 1 January 2026).
    assert sorted([q1, jan, w1]) == [w1, jan, q1]
    assert Period.parse("2026-09") < Period.parse("2026-10") <= Period.parse("2026-10")


# --- labels -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "kind", "start"),
    [
        ("2026-10", "month", date(2026, 10, 1)),
        ("2026-01", "month", date(2026, 1, 1)),
        ("2026-Q4", "quarter", date(2026, 10, 1)),
        ("2026-Q1", "quarter", date(2026, 1, 1)),
        # 1 January 2026 is a Thursday, so week 1 starts Monday 29 December 2025.
        ("2026-W01", "week", date(2025, 12, 29)),
        ("2026-W05", "week", date(2026, 1, 26)),
        # 2026 starts on a Thursday, so it has 53 ISO weeks; W53 starts Monday 28 December 2026.
        ("2026-W53", "week", date(2026, 12, 28)),
        # 2020 is a leap year starting on a Wednesday: 53 weeks too.
        ("2020-W53", "week", date(2020, 12, 28)),
    ],
)
def test_parse_and_label(label: str, kind: PeriodKind, start: date) -> None:
    period = Period.parse(label)
    assert period == Period(kind, start)
    assert period.label == label
    assert str(period) == label
    assert Period.parse(label, kind) == period


def test_last_days_of_2026_are_in_week_53_and_first_of_2027_too() -> None:
    assert Period.containing("week", date(2026, 12, 31)).label == "2026-W53"
    assert Period.containing("week", date(2027, 1, 3)).label == "2026-W53"  # Sunday
    assert Period.containing("week", date(2027, 1, 4)).label == "2027-W01"  # Monday


def test_week_label_uses_iso_week_year() -> None:
    # Monday 29 December 2025 belongs to ISO week-year 2026.
    assert Period.containing("week", date(2025, 12, 31)).label == "2026-W01"


def test_parse_is_lenient_on_blanks_and_case() -> None:
    assert Period.parse(" 2026-q4 ") == Period.parse("2026-Q4")
    assert Period.parse("2026-w05") == Period.parse("2026-W05")


@pytest.mark.parametrize(
    ("label", "fragment"),
    [
        ("2026-13", "month must be 01 to 12"),
        ("2026-00", "month must be 01 to 12"),
        ("2026-Q5", "Q1 to Q4"),
        ("2026-Q0", "Q1 to Q4"),
        ("2025-W53", "2025 has weeks W01 to W52"),  # 1 January 2025 is a Wednesday: 52 weeks
        ("2026-W00", "W01 to W53"),
        ("2026-W5", "is not a period label"),
        ("2026-1", "is not a period label"),
        ("26-10", "is not a period label"),
        ("2026/10", "is not a period label"),
        ("October 2026", "is not a period label"),
        ("", "is not a period label"),
        ("0000-01", "is not a period label"),
    ],
)
def test_bad_labels_are_refused(label: str, fragment: str) -> None:
    with pytest.raises(PactboardError, match=fragment) as excinfo:
        Period.parse(label)
    assert excinfo.value.details
    assert excinfo.value.details[0].location == "period"


def test_bad_label_message_lists_the_accepted_forms() -> None:
    with pytest.raises(PactboardError) as excinfo:
        Period.parse("Oct 2026")
    message = excinfo.value.message
    assert "YYYY-MM" in message
    assert "YYYY-Qn" in message
    assert "YYYY-Www" in message


def test_parse_with_kind_refuses_the_other_forms() -> None:
    with pytest.raises(PactboardError, match="is a month label but a week is expected") as excinfo:
        Period.parse("2026-10", "week")
    assert excinfo.value.details[0].code == "wrong_period_kind"
    with pytest.raises(PactboardError, match=r"YYYY-Qn \(e.g. 2026-Q4\)"):
        Period.parse("nonsense", "quarter")


def test_parse_location_is_reported() -> None:
    with pytest.raises(PactboardError) as excinfo:
        Period.parse("2026-13", location="row 4, column period")
    assert excinfo.value.details[0].location == "row 4, column period"


# --- calendar arithmetic ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "end", "last_day", "next_label", "previous_label"),
    [
        ("2026-12", date(2027, 1, 1), date(2026, 12, 31), "2027-01", "2026-11"),
        ("2024-02", date(2024, 3, 1), date(2024, 2, 29), "2024-03", "2024-01"),  # leap year
        ("2026-Q4", date(2027, 1, 1), date(2026, 12, 31), "2027-Q1", "2026-Q3"),
        ("2026-Q1", date(2026, 4, 1), date(2026, 3, 31), "2026-Q2", "2025-Q4"),
        ("2026-W53", date(2027, 1, 4), date(2027, 1, 3), "2027-W01", "2026-W52"),
        ("2026-W01", date(2026, 1, 5), date(2026, 1, 4), "2026-W02", "2025-W52"),
    ],
)
def test_end_next_previous(label: str, end: date, last_day: date, next_label: str, previous_label: str) -> None:
    period = Period.parse(label)
    assert period.end == end
    assert period.last_day == last_day
    assert period.next().label == next_label
    assert period.previous().label == previous_label


def test_shift() -> None:
    assert Period.parse("2026-10").shift(15).label == "2028-01"
    assert Period.parse("2026-10").shift(-10).label == "2025-12"
    assert Period.parse("2026-Q4").shift(-4).label == "2025-Q4"
    assert Period.parse("2026-W50").shift(4).label == "2027-W01"  # through W53
    assert Period.parse("2026-10").shift(0) == Period.parse("2026-10")


def test_shift_out_of_calendar_is_a_domain_error() -> None:
    with pytest.raises(PactboardError, match="outside the supported calendar"):
        Period.parse("9999-12").next()


def test_contains() -> None:
    october = Period.parse("2026-10")
    assert october.contains(date(2026, 10, 1))
    assert october.contains(date(2026, 10, 31))
    assert not october.contains(date(2026, 11, 1))
    assert not october.contains(date(2026, 9, 30))
    with pytest.raises(TypeError):
        october.contains(datetime(2026, 10, 5, tzinfo=UTC))


def test_days() -> None:
    assert len(Period.parse("2026-02").days()) == 28
    assert len(Period.parse("2026-Q1").days()) == 31 + 28 + 31
    assert Period.parse("2026-W01").days()[-1] == date(2026, 1, 4)


# --- time zones -------------------------------------------------------------------------------


def test_bounds_are_local_midnights() -> None:
    start, end = Period.parse("2026-10").bounds(BERLIN)
    assert start == datetime(2026, 10, 1, tzinfo=ZoneInfo(BERLIN))
    assert start.utcoffset() == timedelta(hours=2)  # CEST
    assert end.astimezone(UTC) == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)  # 1 November 00:00 CET


@pytest.mark.parametrize(
    ("label", "hours"),
    [
        # EU rule: DST starts on the last Sunday of March (29 March 2026), ends on the last Sunday
        # of October (25 October 2026). 31 days = 744 hours, minus or plus one.
        ("2026-03", 743),
        ("2026-10", 745),
        ("2026-11", 720),
        ("2026-Q1", (31 + 28 + 31) * 24 - 1),
        ("2026-W13", 167),  # 23-29 March 2026
        ("2026-W43", 169),  # 19-25 October 2026
    ],
)
def test_duration_across_dst(label: str, hours: int) -> None:
    assert Period.parse(label).duration(BERLIN) == timedelta(hours=hours)


def test_midnight_that_does_not_exist_starts_at_the_first_real_instant() -> None:
    # Paraguay started DST on 1 October 2023 at 00:00 (clocks jumped to 01:00, -04 to -03).
    start, _ = Period.parse("2023-10").bounds("America/Asuncion")
    assert (start.hour, start.utcoffset()) == (1, timedelta(hours=-3))
    assert start.astimezone(UTC) == datetime(2023, 10, 1, 4, 0, tzinfo=UTC)
    assert Period.parse("2023-09").bounds("America/Asuncion")[1] == start
    assert Period.parse("2023-10").duration("America/Asuncion") == timedelta(hours=31 * 24 - 1)


def test_containing_an_aware_instant_uses_the_engagement_zone() -> None:
    # 30 September 2026 23:30 UTC is already 1 October 01:30 in Berlin.
    moment = datetime(2026, 9, 30, 23, 30, tzinfo=UTC)
    assert Period.containing("month", moment, BERLIN).label == "2026-10"
    assert Period.containing("month", moment, "UTC").label == "2026-09"
    assert Period.containing("month", moment, "America/New_York").label == "2026-09"
    assert Period.containing("quarter", moment, BERLIN).label == "2026-Q4"
    fixed = datetime(2026, 10, 1, 0, 30, tzinfo=timezone(timedelta(hours=5)))  # 30 Sep 19:30 UTC
    assert Period.containing("month", fixed, BERLIN).label == "2026-09"


def test_containing_refuses_a_naive_datetime() -> None:
    with pytest.raises(PactboardError, match="has no time zone") as excinfo:
        Period.containing("month", datetime(2026, 10, 1, 12, 0), BERLIN)
    assert excinfo.value.details[0].code == "naive_datetime"


def test_containing_an_instant_needs_a_zone() -> None:
    with pytest.raises(TypeError):
        Period.containing("month", datetime(2026, 10, 1, 12, 0, tzinfo=UTC))


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(PactboardError, match="IANA"):
        Period.parse("2026-10").bounds("Mars/Olympus_Mons")
    with pytest.raises(PactboardError, match="IANA"):
        zone("../etc/passwd")
    assert zone(UTC) is UTC


# --- ranges -----------------------------------------------------------------------------------


def test_periods_between_is_inclusive() -> None:
    labels = [p.label for p in periods_between("quarter", Period.parse("2026-Q3"), Period.parse("2027-Q2"))]
    assert labels == ["2026-Q3", "2026-Q4", "2027-Q1", "2027-Q2"]
    assert periods_between("month", date(2026, 1, 31), date(2026, 1, 1)) == [Period.parse("2026-01")]
    assert periods_between("month", Period.parse("2026-03"), Period.parse("2026-01")) == []


def test_periods_between_refuses_another_kind() -> None:
    with pytest.raises(PactboardError, match="is a quarter"):
        periods_between("month", Period.parse("2026-Q1"), Period.parse("2026-06"))


def test_periods_overlapping() -> None:
    labels = [p.label for p in periods_overlapping("month", date(2026, 1, 15), date(2026, 3, 10))]
    assert labels == ["2026-01", "2026-02", "2026-03"]
    # 2026-12-30 (Wednesday) to 2027-01-05 (Tuesday): W53 and 2027-W01.
    weeks = [p.label for p in periods_overlapping("week", date(2026, 12, 30), date(2027, 1, 5))]
    assert weeks == ["2026-W53", "2027-W01"]
    assert periods_overlapping("quarter", date(2026, 5, 5), date(2026, 5, 5)) == [Period.parse("2026-Q2")]
    assert periods_overlapping("month", date(2026, 5, 5), date(2026, 5, 4)) == []


# --- properties -------------------------------------------------------------------------------

days = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
kinds = st.sampled_from(PERIOD_KINDS)
zones = st.sampled_from(["UTC", BERLIN, "America/New_York", "America/Asuncion", "Australia/Lord_Howe", "Asia/Kolkata"])


@st.composite
def periods(draw: st.DrawFn) -> Period:
    return Period.containing(draw(kinds), draw(days))


@given(periods())
def test_parse_of_label_round_trips(period: Period) -> None:
    assert Period.parse(period.label) == period
    assert Period.parse(period.label, period.kind) == period


@given(periods())
def test_next_then_previous_is_identity(period: Period) -> None:
    assert period.next().previous() == period
    assert period.previous().next() == period
    assert period < period.next()


@given(periods(), st.integers(min_value=-300, max_value=300), st.integers(min_value=-300, max_value=300))
def test_shift_composes(period: Period, a: int, b: int) -> None:
    assert period.shift(a).shift(b) == period.shift(a + b)


@given(periods())
def test_containing_start_is_the_period(period: Period) -> None:
    assert Period.containing(period.kind, period.start) == period
    assert Period.containing(period.kind, period.last_day) == period
    assert period.next().start == period.end


@given(periods(), st.integers(min_value=0, max_value=91))
def test_every_day_of_the_period_maps_to_it(period: Period, offset: int) -> None:
    day = period.start + timedelta(days=offset)
    assert period.contains(day) == (day < period.end)
    if day < period.end:
        assert Period.containing(period.kind, day) == period
    else:
        assert Period.containing(period.kind, day) > period


@given(periods(), zones)
def test_bounds_are_contiguous(period: Period, tz: str) -> None:
    start, end = period.bounds(tz)
    next_start, _ = period.next().bounds(tz)
    assert end == next_start
    assert start.astimezone(UTC) < end.astimezone(UTC)


@given(periods(), zones, st.floats(min_value=0, max_value=1, exclude_max=True))
def test_every_instant_in_bounds_maps_to_the_period(period: Period, tz: str, fraction: float) -> None:
    start, _ = period.bounds(tz)
    # Elapsed seconds after the start, in UTC so DST cannot distort it.
    elapsed = timedelta(seconds=int(period.duration(tz).total_seconds() * fraction))
    moment = start.astimezone(UTC) + elapsed
    assert Period.containing(period.kind, moment, tz) == period
    assert Period.containing(period.kind, start.astimezone(UTC) - timedelta(seconds=1), tz) == period.previous()


@given(kinds, days, st.integers(min_value=0, max_value=400))
def test_periods_overlapping_covers_the_range_without_gaps(kind: PeriodKind, first: date, length: int) -> None:
    last = first + timedelta(days=length)
    result = periods_overlapping(kind, first, last)
    assert result[0].contains(first)
    assert result[-1].contains(last)
    assert all(a.next() == b for a, b in itertools.pairwise(result))


# --- periods against "now" ---------------------------------------------------------------------
# 2026-10-31T23:30Z is 00:30 on 1 November in Berlin (CET, UTC+1 after the DST change of 25 October)
# and still 19:30 on 31 October in New York (EDT, UTC-4 until 1 November).


def test_latest_closed_period_follows_the_engagement_zone() -> None:
    now = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
    assert latest_closed_period("month", now=now, tz="Europe/Berlin") == Period("month", date(2026, 10, 1))
    assert latest_closed_period("month", now=now, tz="America/New_York") == Period("month", date(2026, 9, 1))
    november = Period("month", date(2026, 11, 1))
    assert period_has_started(november, now=now, tz="Europe/Berlin")
    assert not period_has_started(november, now=now, tz="America/New_York")
    assert not period_is_closed(november, now=now, tz="Europe/Berlin")
    assert period_is_closed(Period("month", date(2026, 10, 1)), now=now, tz="Europe/Berlin")
    # Quarter: 1 Nov is in Q4, so the last closed quarter is Q3; an ISO week: 1 Nov 2026 is a Sunday (W44).
    assert latest_closed_period("quarter", now=now, tz="Europe/Berlin").label == "2026-Q3"
    assert latest_closed_period("week", now=now, tz="Europe/Berlin").label == "2026-W43"


def test_local_date_refuses_a_naive_instant() -> None:
    with pytest.raises(TypeError):
        local_date(datetime(2026, 11, 1, 12), "Europe/Berlin")
