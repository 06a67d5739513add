"""Availability over the exact minutes of a period: (minutes of the period − minutes down) / minutes of the period.

The period is given as aware instants (``Period.bounds(tz)`` in the engagement's zone), so a
30-day month has 43,200 minutes, a 31-day month 44,640, February 40,320 (41,760 in a leap
year), and a month with a DST change one hour less or more. All arithmetic runs on UTC instants.

Pure (no Django): incentive schemes (``pactboard.incentives.calc``) and the measurements'
availability KPIs (``pactboard.measurements.availability``) both count minutes here.

The contract's choices are options:

- ``minutes="exact"``: downtime to the microsecond, as a fraction of minutes;
- ``minutes="whole_minutes"``: whole clock minutes only: a minute with any downtime in it is a
  minute down ("the percentage of minutes during the month in which ... was unavailable");
- ``minutes="drop_partial"``: each continuous stretch of downtime counts its whole minutes only;
  the partial minute (and any stretch shorter than a minute) is dropped;
- ``maintenance="excluded"`` (default): maintenance windows leave the measurement: neither
  period minutes nor downtime; ``"as_uptime"``: downtime inside a window is forgiven but the
  window stays in the period; ``"none"``: windows are not special.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal, DivisionByZero, InvalidOperation, Overflow, localcontext
from typing import Literal, get_args

from pactboard.core.errors import ErrorDetail, PactboardError

__all__ = [
    "MAINTENANCE_RULES",
    "MINUTE_RULES",
    "Availability",
    "Interval",
    "MaintenanceRule",
    "MinuteRule",
    "availability_compute",
    "intervals_merge",
]

MinuteRule = Literal["exact", "whole_minutes", "drop_partial"]
MINUTE_RULES: tuple[MinuteRule, ...] = get_args(MinuteRule)
MaintenanceRule = Literal["excluded", "as_uptime", "none"]
MAINTENANCE_RULES: tuple[MaintenanceRule, ...] = get_args(MaintenanceRule)

# The same 60-digit context as the incentives' money arithmetic: a ratio rounded only far past any
# band edge. Kept here (not imported) because this floor is below incentives.
DECIMAL_CONTEXT = Context(prec=60, traps=[InvalidOperation, DivisionByZero, Overflow])
HUNDRED = Decimal(100)

_MINUTE = timedelta(minutes=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _aware(moment: object, location: str) -> datetime:
    if not isinstance(moment, datetime):
        raise TypeError(f"{location} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise PactboardError(
            f"The instant {moment.isoformat()} has no time zone: give an aware datetime (with an offset or zone).",
            details=[ErrorDetail("has no time zone", location, "naive_datetime")],
        )
    return moment.astimezone(UTC)


@dataclass(frozen=True, kw_only=True)
class Interval:
    """A stretch of time ``[start, end)`` between two aware instants."""

    start: datetime
    end: datetime

    def minutes(self) -> Decimal:
        return _minutes(self.end - self.start)


_MICROS_PER_MINUTE = 60_000_000


def _micros(span: timedelta) -> int:
    return (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds


def _minutes(span: timedelta | int) -> Decimal:
    # A whole number of microseconds in minutes: exact whenever the count is a multiple of 3
    # (60,000,000 = 2^8 × 3 × 5^7); otherwise carried to 60 significant digits.
    micro = _micros(span) if isinstance(span, timedelta) else span
    with localcontext(DECIMAL_CONTEXT):
        return Decimal(micro) / Decimal(_MICROS_PER_MINUTE)


def _checked(intervals: Sequence[Interval], name: str) -> list[Interval]:
    out: list[Interval] = []
    for i, interval in enumerate(intervals):
        start = _aware(interval.start, f"{name}[{i}].start")
        end = _aware(interval.end, f"{name}[{i}].end")
        if end <= start:
            raise PactboardError(
                f"{name}[{i}] ends ({interval.end.isoformat()}) at or before it starts "
                f"({interval.start.isoformat()}): give the end after the start.",
                details=[ErrorDetail("must be after the start", f"{name}[{i}].end", "end_not_after_start")],
            )
        out.append(Interval(start=start, end=end))
    return out


def intervals_merge(intervals: Sequence[Interval]) -> list[Interval]:
    """Overlapping or touching intervals joined into one, in time order (UTC), so no minute counts twice."""
    merged: list[Interval] = []
    for interval in sorted(_checked(intervals, "intervals"), key=lambda x: x.start):
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(start=merged[-1].start, end=interval.end)
        else:
            merged.append(interval)
    return merged


def _clip(intervals: Sequence[Interval], start: datetime, end: datetime) -> list[Interval]:
    out = []
    for interval in intervals:
        s, e = max(interval.start, start), min(interval.end, end)
        if s < e:
            out.append(Interval(start=s, end=e))
    return out


def _subtract(intervals: Sequence[Interval], holes: Sequence[Interval]) -> list[Interval]:
    """``intervals`` without the parts inside ``holes`` (both merged and in order)."""
    out: list[Interval] = []
    for interval in intervals:
        pieces = [interval]
        for hole in holes:
            next_pieces = []
            for piece in pieces:
                if hole.end <= piece.start or hole.start >= piece.end:
                    next_pieces.append(piece)
                    continue
                if piece.start < hole.start:
                    next_pieces.append(Interval(start=piece.start, end=hole.start))
                if hole.end < piece.end:
                    next_pieces.append(Interval(start=hole.end, end=piece.end))
            pieces = next_pieces
        out.extend(pieces)
    return out


def _clock_minutes(intervals: Sequence[Interval]) -> int:
    """How many clock minutes (aligned to UTC minutes) hold any part of the intervals."""
    spans: list[tuple[int, int]] = []
    for interval in intervals:
        first = (interval.start - _EPOCH) // _MINUTE
        last = -((_EPOCH - interval.end) // _MINUTE)  # ceiling: the minute the interval ends in counts
        spans.append((first, last))
    total, reach = 0, None
    for first, last in sorted(spans):
        if reach is not None and first < reach:
            first = reach
        if last > first:
            total += last - first
        reach = last if reach is None else max(reach, last)
    return total


@dataclass(frozen=True, kw_only=True)
class Availability:
    """The period's measured minutes, its downtime and the availability (ratio and percentage).

    Exact, except that a microsecond count not divisible by 3 is a repeating decimal in minutes,
    carried to 60 significant digits: far finer than any band edge.
    """

    period_minutes: Decimal
    maintenance_minutes: Decimal
    measured_minutes: Decimal
    downtime_minutes: Decimal
    ratio: Decimal
    percent: Decimal
    downtime: tuple[Interval, ...]


def availability_compute(
    *,
    start: datetime,
    end: datetime,
    outages: Sequence[Interval],
    maintenance: Sequence[Interval] = (),
    minutes: MinuteRule = "exact",
    maintenance_rule: MaintenanceRule = "excluded",
) -> Availability:
    """Downtime minutes and availability of ``[start, end)`` given outages and maintenance windows.

    Outages may overlap each other and reach outside the period; they are merged and clipped, so
    no minute counts twice. ``ratio`` and ``percent`` are not rounded: a value exactly on a band edge
    stays on it.
    """
    with localcontext(DECIMAL_CONTEXT):
        return _availability(
            start=start, end=end, outages=outages, maintenance=maintenance, minutes=minutes,
            maintenance_rule=maintenance_rule,
        )  # fmt: skip


def _availability(
    *,
    start: datetime,
    end: datetime,
    outages: Sequence[Interval],
    maintenance: Sequence[Interval],
    minutes: MinuteRule,
    maintenance_rule: MaintenanceRule,
) -> Availability:
    if minutes not in MINUTE_RULES:
        raise PactboardError(
            f"Unknown minute rule {minutes!r}: use {', '.join(MINUTE_RULES)}.",
            details=[ErrorDetail("is not a known minute rule", "minutes", "invalid_option")],
        )
    if maintenance_rule not in MAINTENANCE_RULES:
        raise PactboardError(
            f"Unknown maintenance rule {maintenance_rule!r}: use {', '.join(MAINTENANCE_RULES)}.",
            details=[ErrorDetail("is not a known maintenance rule", "maintenance_rule", "invalid_option")],
        )
    t0, t1 = _aware(start, "start"), _aware(end, "end")
    if t1 <= t0:
        raise PactboardError(
            "The period ends at or before it starts: give the end after the start.",
            details=[ErrorDetail("must be after the start", "end", "end_not_after_start")],
        )
    down = _clip(intervals_merge(_checked(outages, "outages")), t0, t1)
    windows = _clip(intervals_merge(_checked(maintenance, "maintenance")), t0, t1)
    if maintenance_rule != "none":
        down = _subtract(down, windows)
    # Everything is counted in whole microseconds (integers) and divided once at the end, so the
    # ratio is the exact quotient, rounded only at its 60th significant digit.
    period_us = _micros(t1 - t0)
    maintenance_us = sum(_micros(w.end - w.start) for w in windows)
    measured_us = period_us - maintenance_us if maintenance_rule == "excluded" else period_us
    if measured_us <= 0:
        raise PactboardError(
            "Maintenance windows cover the whole period: nothing is left to measure availability on.",
            details=[ErrorDetail("covers the whole period", "maintenance", "nothing_measured")],
        )
    if minutes == "exact":
        down_us = sum(_micros(d.end - d.start) for d in down)
    elif minutes == "drop_partial":
        # Floor division: each stretch keeps its whole minutes; the partial minute drops.
        down_us = sum(_micros(d.end - d.start) // _MICROS_PER_MINUTE for d in down) * _MICROS_PER_MINUTE
    else:
        down_us = min(_clock_minutes(down) * _MICROS_PER_MINUTE, measured_us)
    ratio = Decimal(measured_us - down_us) / Decimal(measured_us)
    percent = ratio * HUNDRED
    period_minutes = _minutes(period_us)
    maintenance_minutes = _minutes(maintenance_us)
    measured = _minutes(measured_us)
    downtime = _minutes(down_us)
    return Availability(
        period_minutes=period_minutes,
        maintenance_minutes=maintenance_minutes,
        measured_minutes=measured,
        downtime_minutes=downtime,
        ratio=ratio,
        percent=percent,
        downtime=tuple(down),
    )
