"""The local period of each record, found without converting every record to local time.

Pure: no Django, no ORM. Period boundaries are few and records are many: the boundaries of the
weeks, months or quarters that the data spans are worked out once in Python (``zoneinfo``) as
UTC instants, and every record finds its period by an integer join on its UTC bucket (an hour,
or a quarter of an hour for zones such as Asia/Kathmandu), a dense key DuckDB joins cheaply. The
result is the same as ``date_trunc(kind, timezone(tz, t))`` (tests/formulas compare the two).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

#: Widths of a UTC bucket tried in turn (seconds): every boundary must fall on a bucket's start.
_BUCKET_WIDTHS = (3600, 900, 60)
#: More buckets than this and the per-record conversion is used instead (the table would be large).
MAX_BUCKETS = 2_000_000


@dataclass(frozen=True)
class Bins:
    """Buckets ``[base + i * width, base + (i + 1) * width)`` in UTC seconds and the period each lies in."""

    base: int  # UTC epoch seconds of the first boundary
    width: int  # seconds per bucket
    periods: list[date]  # the period starts, in order
    first_bucket: list[int]  # bucket index where each period starts
    last_bucket: int  # one past the final bucket

    def key_sql(self, column_sql: str) -> str:
        """The bucket index of a timestamp column (UTC; a naive timestamp is read as UTC)."""
        return f"((epoch_us({column_sql}) - {self.base * 1_000_000}) // {self.width * 1_000_000})"

    def table_sql(self) -> str:
        """(key, period) for every bucket: one row per bucket, built from the few period starts."""
        ends = [*self.first_bucket[1:], self.last_bucket]
        rows = ", ".join(
            f"(DATE '{p.isoformat()}', {s}, {e})" for p, s, e in zip(self.periods, self.first_bucket, ends, strict=True)
        )
        return (
            "(SELECT unnest(range(s, e)) AS __pb_key, p AS __pb_period "  # noqa: S608 - numbers and dates only
            f"FROM (VALUES {rows}) AS b(p, s, e))"
        )


def period_start(day: date, kind: str) -> date:
    """The first day of the week (ISO Monday), month or quarter that contains ``day``."""
    if kind == "week":
        return day - timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def period_next(start: date, kind: str) -> date:
    if kind == "week":
        return start + timedelta(days=7)
    index = start.year * 12 + start.month - 1 + (1 if kind == "month" else 3)
    return date(index // 12, index % 12 + 1, 1)


def bins_build(
    *,
    first: datetime,
    last: datetime,
    kind: str,
    tz: str,
    period_from: date | None = None,
    period_to: date | None = None,
) -> Bins | None:
    """Buckets covering every period from ``first`` to ``last`` (aware datetimes), within from/to.

    No periods when none lies between from and to; None when the zone's boundaries need buckets
    too fine for a table (the caller then converts each record).
    """
    zone = ZoneInfo(tz)
    start = period_start(first.astimezone(zone).date(), kind)
    stop = period_start(last.astimezone(zone).date(), kind)
    periods: list[date] = []
    instants: list[int] = []
    day = start
    while day <= period_next(stop, kind):
        periods.append(day)
        # A local midnight that a DST change skips is read with the offset before it (fold=0):
        # the boundary is then the instant of the change, the first instant of that local day.
        instants.append(int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()))
        day = period_next(day, kind)
    keep = [
        i
        for i, p in enumerate(periods[:-1])
        if (period_from is None or p >= period_from) and (period_to is None or p <= period_to)
    ]
    width = next((w for w in _BUCKET_WIDTHS if all(s % w == 0 for s in instants)), None)
    if width is None:
        return None
    base = instants[0]
    if not keep:
        return Bins(base=base, width=width, periods=[], first_bucket=[], last_bucket=0)
    buckets = (instants[-1] - base) // width
    if buckets > MAX_BUCKETS:
        return None
    # Periods outside from/to keep their place in the range but get no buckets: their records find no row.
    kept_periods, starts = [], []
    ends: list[int] = []
    for i in keep:
        kept_periods.append(periods[i])
        starts.append((instants[i] - base) // width)
        ends.append((instants[i + 1] - base) // width)
    if any(starts[j + 1] != ends[j] for j in range(len(starts) - 1)):
        raise AssertionError("kept periods are contiguous")  # from/to select one run of periods
    return Bins(base=base, width=width, periods=kept_periods, first_bucket=starts, last_bucket=ends[-1])
