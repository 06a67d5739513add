"""Reporting periods: ISO weeks, calendar months and quarters, in the engagement's time zone.

A ``Period`` is a calendar object (a kind and a first day); it becomes a span of instants only
through ``bounds(tz)``, where ``tz`` is the engagement's IANA zone. Every part of Pactboard
(measurements, scorecards, settlements, reports) labels and slices time with this module, so
the same label always means the same days.

Labels: month ``2026-10``, quarter ``2026-Q4``, ISO week ``2026-W05`` (ISO week-year: the week
of 2026-12-31 is ``2026-W53``, the week of 2027-01-01 too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cached_property, total_ordering
from typing import Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pactboard.core.errors import ErrorDetail, PactboardError

__all__ = [
    "PERIOD_KINDS",
    "Period",
    "PeriodKind",
    "latest_closed_period",
    "local_date",
    "period_has_started",
    "period_is_closed",
    "periods_between",
    "periods_overlapping",
    "zone",
]

PeriodKind = Literal["week", "month", "quarter"]
PERIOD_KINDS: tuple[PeriodKind, ...] = get_args(PeriodKind)

# Shorter kinds first when two periods start on the same day (a week before its month).
_KIND_RANK: dict[str, int] = {"week": 0, "month": 1, "quarter": 2}

_LABEL_FORMS = "YYYY-MM for a month (2026-10), YYYY-Qn for a quarter (2026-Q4) or YYYY-Www for an ISO week (2026-W05)"
_FORM_BY_KIND: dict[str, str] = {
    "month": "YYYY-MM (e.g. 2026-10)",
    "quarter": "YYYY-Qn (e.g. 2026-Q4)",
    "week": "YYYY-Www, the ISO week-year and week (e.g. 2026-W05)",
}
_LABEL_RE: dict[PeriodKind, re.Pattern[str]] = {
    "month": re.compile(r"(\d{4})-(\d{2})"),
    "quarter": re.compile(r"(\d{4})-Q(\d)"),
    "week": re.compile(r"(\d{4})-W(\d{2})"),
}


def zone(tz: str | tzinfo) -> tzinfo:
    """The ``tzinfo`` for an IANA zone name (a ``tzinfo`` passes through); unknown names are refused."""
    if isinstance(tz, tzinfo):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise PactboardError(
            f"Unknown time zone {tz!r}: use an IANA zone name such as Europe/Berlin or America/New_York.",
            details=[ErrorDetail("is not a known IANA time zone", "time_zone", "unknown_time_zone")],
        ) from None


def _invalid(message: str, location: str | None, code: str, detail: str | None = None) -> PactboardError:
    """The domain error: ``message`` for the user, ``detail`` (shorter, defaults to it) at ``location``."""
    return PactboardError(message, details=[ErrorDetail(detail or message, location, code)])


def _check_kind(kind: object) -> None:
    if kind not in PERIOD_KINDS:
        raise _invalid(
            f"Unknown period kind {kind!r}: use week, month or quarter.",
            "period_kind",
            "unknown_period_kind",
            "must be week, month or quarter",
        )


def _add_months(day: date, months: int) -> date:
    """The first of the month ``months`` after ``day``'s month (``day`` is a first of month)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, 1)


def _first_day(kind: PeriodKind, day: date) -> date:
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


@total_ordering
@dataclass(frozen=True, eq=True)
class Period:
    """One ISO week, calendar month or calendar quarter, identified by its kind and first day.

    Periods are ordered by first day, then by length (week < month < quarter on the same day),
    so sorting a list of one kind gives calendar order.

    Pages handle thousands of periods per request, so the label, end and last day are computed once
    per period (``cached_property`` writes the instance's ``__dict__``, which a frozen dataclass
    allows), and periods derived from a checked one (``shift``, ``containing``) skip the checks
    their construction already guarantees.
    """

    kind: PeriodKind
    start: date

    def __post_init__(self) -> None:
        _check_kind(self.kind)
        # datetime is a subclass of date; a period starts on a day, not at an instant.
        if not isinstance(self.start, date) or isinstance(self.start, datetime):
            raise TypeError(f"Period.start must be a date, not {type(self.start).__name__}")
        expected = _first_day(self.kind, self.start)
        if expected != self.start:
            what = {"week": "a Monday", "month": "the first day of a month", "quarter": "the first day of a quarter"}
            raise _invalid(
                f"A {self.kind} starts on {what[self.kind]}; {self.start.isoformat()} is not (did you mean "
                f"{expected.isoformat()}?).",
                "period",
                "misaligned_period_start",
            )

    @classmethod
    def _aligned(cls, kind: PeriodKind, start: date) -> Period:
        """A period whose kind is known and whose start is that kind's first day by construction (no checks)."""
        period = object.__new__(cls)
        period.__dict__.update(kind=kind, start=start)
        return period

    # --- ordering -------------------------------------------------------------------------

    def _key(self) -> tuple[date, int]:
        return (self.start, _KIND_RANK[self.kind])

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self._key() < other._key()

    # --- labels ---------------------------------------------------------------------------

    @cached_property
    def label(self) -> str:
        """``2026-10``, ``2026-Q4`` or ``2026-W05``."""
        if self.kind == "month":
            return f"{self.start.year:04d}-{self.start.month:02d}"
        if self.kind == "quarter":
            return f"{self.start.year:04d}-Q{(self.start.month - 1) // 3 + 1}"
        iso = self.start.isocalendar()
        return f"{iso.year:04d}-W{iso.week:02d}"

    def __str__(self) -> str:
        return self.label

    @classmethod
    def parse(cls, label: str, kind: PeriodKind | None = None, *, location: str | None = "period") -> Period:
        """The period a label names; ``kind``, when given, must match the label's form.

        Surrounding blanks are ignored and the ``Q``/``W`` may be lower case.
        ``location`` goes into the error detail (an importer passes e.g. "row 12, column period").
        """
        if kind is not None:
            _check_kind(kind)
        text = label.strip().upper() if isinstance(label, str) else ""
        for form, pattern in _LABEL_RE.items():
            match = pattern.fullmatch(text)
            if match is None:
                continue
            if kind is not None and form != kind:
                raise _invalid(
                    f"{label!r} is a {form} label but a {kind} is expected: write it as {_FORM_BY_KIND[kind]}.",
                    location,
                    "wrong_period_kind",
                    f"must be a {kind} label: {_FORM_BY_KIND[kind]}",
                )
            year, number = int(match.group(1)), int(match.group(2))
            if year < 1:
                break
            if form == "month":
                if not 1 <= number <= 12:
                    raise _invalid(
                        f"{label!r} is not a month: the month must be 01 to 12.",
                        location,
                        "invalid_period",
                        "the month must be 01 to 12",
                    )
                return cls("month", date(year, number, 1))
            if form == "quarter":
                if not 1 <= number <= 4:
                    raise _invalid(
                        f"{label!r} is not a quarter: the quarter must be Q1 to Q4.",
                        location,
                        "invalid_period",
                        "the quarter must be Q1 to Q4",
                    )
                return cls("quarter", date(year, 3 * (number - 1) + 1, 1))
            weeks = date(year, 12, 28).isocalendar().week  # 28 December is always in the year's last ISO week
            if not 1 <= number <= weeks:
                raise _invalid(
                    f"{label!r} is not an ISO week: {year} has weeks W01 to W{weeks}.",
                    location,
                    "invalid_period",
                    f"{year} has ISO weeks W01 to W{weeks}",
                )
            return cls("week", date.fromisocalendar(year, number, 1))
        accepted = _FORM_BY_KIND[kind] if kind is not None else _LABEL_FORMS
        raise _invalid(
            f"{label!r} is not a period label: use {accepted}.", location, "invalid_period", f"must be {accepted}"
        )

    # --- calendar arithmetic --------------------------------------------------------------

    @cached_property
    def end(self) -> date:
        """The first day after the period (exclusive end)."""
        return self.shift(1).start

    @cached_property
    def last_day(self) -> date:
        """The period's last day (inclusive)."""
        return self.end - timedelta(days=1)

    def shift(self, n: int) -> Period:
        """The period ``n`` periods of the same kind later (earlier when ``n`` is negative)."""
        try:
            if self.kind == "week":
                return Period._aligned("week", self.start + timedelta(weeks=n))
            return Period._aligned(self.kind, _add_months(self.start, n if self.kind == "month" else 3 * n))
        except (OverflowError, ValueError):
            raise _invalid(
                f"{self.label} shifted by {n} falls outside the supported calendar (years 1 to 9999).",
                "period",
                "period_out_of_range",
            ) from None

    def next(self) -> Period:
        return self.shift(1)

    def previous(self) -> Period:
        return self.shift(-1)

    def contains(self, day: date) -> bool:
        """Whether the calendar day falls in the period; for an instant use ``Period.containing``."""
        if isinstance(day, datetime):
            raise TypeError("Period.contains takes a date; map an instant with Period.containing(kind, moment, tz)")
        return self.start <= day < self.end

    def days(self) -> list[date]:
        """Every day of the period, in order."""
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days)]

    # --- instants -------------------------------------------------------------------------

    def bounds(self, tz: str | tzinfo) -> tuple[datetime, datetime]:
        """The period as ``[start, end)`` aware datetimes in ``tz``: local midnight to local midnight.

        Filter with ``start <= t < end``. Beware that Python subtracts two datetimes that share a
        ``tzinfo`` by wall clock; use ``duration(tz)`` (or convert to UTC first) for elapsed time.
        """
        z = zone(tz)
        return _local_midnight(self.start, z), _local_midnight(self.end, z)

    def duration(self, tz: str | tzinfo) -> timedelta:
        """Elapsed time of the period in ``tz`` (a Berlin month with the DST change lasts 743 or 745 hours)."""
        start, end = self.bounds(tz)
        return end.astimezone(UTC) - start.astimezone(UTC)

    @classmethod
    def containing(cls, kind: PeriodKind, moment: date | datetime, tz: str | tzinfo | None = None) -> Period:
        """The period of ``kind`` that holds a day, or an aware instant as seen in ``tz``.

        A naive datetime is refused: its zone would be a guess.
        """
        _check_kind(kind)
        if isinstance(moment, datetime):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise _invalid(
                    f"The instant {moment.isoformat()} has no time zone: give an aware datetime "
                    "(with an offset or zone) so that it maps to the right period.",
                    "timestamp",
                    "naive_datetime",
                )
            if tz is None:
                raise TypeError("Period.containing needs the engagement's time zone (tz) to place an instant")
            day = moment.astimezone(zone(tz)).date()
        elif isinstance(moment, date):
            day = moment
        else:
            raise TypeError(f"Period.containing takes a date or an aware datetime, not {type(moment).__name__}")
        return cls._aligned(kind, _first_day(kind, day))


def _local_midnight(day: date, z: tzinfo) -> datetime:
    # Round-trip through UTC so a midnight that does not exist (a DST gap at 00:00) becomes the
    # day's real first instant (e.g. 01:00), and an ambiguous one takes its earlier reading.
    return datetime.combine(day, time(0), tzinfo=z).astimezone(UTC).astimezone(z)


def _as_period(kind: PeriodKind, value: Period | date, location: str) -> Period:
    if isinstance(value, Period):
        if value.kind != kind:
            raise _invalid(
                f"{value.label} is a {value.kind}, but {kind}s were asked for.", location, "wrong_period_kind"
            )
        return value
    return Period.containing(kind, value)


def periods_between(kind: PeriodKind, first: Period | date, last: Period | date) -> list[Period]:
    """Every period of ``kind`` from ``first`` to ``last``, both included (dates name their periods).

    Empty when ``last`` is before ``first``.
    """
    current = _as_period(kind, first, "first")
    stop = _as_period(kind, last, "last")
    out: list[Period] = []
    while current <= stop:
        out.append(current)
        current = current.next()
    return out


def periods_overlapping(kind: PeriodKind, start_date: date, end_date: date) -> list[Period]:
    """Every period of ``kind`` that shares at least one day with ``start_date``..``end_date`` (both included).

    An engagement running 2026-01-15 to 2026-03-10 overlaps the months 2026-01, 2026-02 and 2026-03.
    Empty when ``end_date`` is before ``start_date``.
    """
    for name, value in (("start_date", start_date), ("end_date", end_date)):
        if isinstance(value, datetime) or not isinstance(value, date):
            raise TypeError(f"periods_overlapping: {name} must be a date")
    if end_date < start_date:
        return []
    return periods_between(kind, start_date, end_date)


# --- now: which periods have begun and ended ---------------------------------------------------
# These take "now" as an argument (an aware instant) rather than reading a clock, so callers can
# pass a fixed instant in tests and a page computes every verdict from one reading of the clock.


def local_date(now: datetime, tz: str | tzinfo) -> date:
    """The calendar day an aware instant falls on in ``tz`` (the engagement's zone)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise TypeError("local_date needs an aware datetime: a naive one's zone would be a guess")
    return now.astimezone(zone(tz)).date()


def period_has_started(period: Period, *, now: datetime, tz: str | tzinfo) -> bool:
    """Whether the period's first day has begun in ``tz`` (a value for a later period is a forecast, not a fact)."""
    return period.start <= local_date(now, tz)


def period_is_closed(period: Period, *, now: datetime, tz: str | tzinfo) -> bool:
    """Whether the period has ended in ``tz``: its value can no longer grow with new records."""
    return period.end <= local_date(now, tz)


def latest_closed_period(kind: PeriodKind, *, now: datetime, tz: str | tzinfo) -> Period:
    """The last period of ``kind`` that has ended in ``tz`` (on 2026-11-29 in Berlin: the month 2026-10)."""
    return Period.containing(kind, local_date(now, tz)).previous()
