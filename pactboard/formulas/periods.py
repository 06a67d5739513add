"""Which period each record of a dataset belongs to, and the calendar steps between periods.

Pure: no Django, no ORM. ``compute`` asks here how its query finds each record's local period:
by a join on UTC buckets (``bins``) when the zone's boundaries allow it, or by converting each
record's time to local time otherwise, within ``period_from``/``period_to``. The first day of a
period and the period before follow the same calendar rules as ``pactboard.core.periods``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import Any, Literal, get_args

import duckdb

from pactboard.formulas.bins import bins_build
from pactboard.formulas.compile import _quote
from pactboard.formulas.schema import DatasetSchema
from pactboard.formulas.whitelist import _invalid

PeriodKind = Literal["week", "month", "quarter"]
PERIOD_KINDS: tuple[PeriodKind, ...] = get_args(PeriodKind)

_PERIOD_COL = "__pb_period"


@dataclass(frozen=True)
class _PeriodSource:
    period: str  # SQL naming the period column
    from_sql: str  # FROM ... (the files as r, joined to the period buckets when they are used)
    table: str | None = None  # the temporary table of buckets, dropped after the query


def _periods_source(
    con: duckdb.DuckDBPyConnection,
    *,
    files: str,
    params: dict[str, Any],
    types: Mapping[str, str],
    schema: DatasetSchema,
    period_sql: str,
    period_kind: PeriodKind,
    tz: str,
    period_from: date | None,
    period_to: date | None,
) -> tuple[_PeriodSource | None, dict[str, Any]]:
    """How each record finds its period: a join on its UTC bucket (bins.py), or a conversion per record."""
    time_col = _quote(schema.time_column)
    bins = None
    if types[schema.time_column].startswith("TIMESTAMP"):
        # Answered from the Parquet statistics, without reading the column.
        bounds = f"SELECT min({time_col}), max({time_col}) FROM {files}"  # noqa: S608 - a quoted declared name
        first, last = con.execute(bounds, params).fetchone() or (None, None)
        if first is None or last is None:
            return None, {}
        if first.tzinfo is None:  # a timestamp without zone is UTC (how Pactboard writes uploads)
            first, last = first.replace(tzinfo=UTC), last.replace(tzinfo=UTC)
        bins = bins_build(
            first=first, last=last, kind=period_kind, tz=tz, period_from=period_from, period_to=period_to
        )  # None when the zone's boundaries are off the minute: convert per record below
        if bins is not None and not bins.periods:
            return None, {}  # no period between period_from and period_to
    if bins is not None:
        # A table, not a subquery: DuckDB then knows the keys' range and joins by direct lookup.
        table = f"__pb_bins_{uuid.uuid4().hex}"
        con.execute(f"CREATE TEMP TABLE {table} AS {bins.table_sql()}")
        return (
            _PeriodSource(
                period=f"bins.__pb_period AS {_PERIOD_COL}",
                from_sql=f"FROM {files} AS r JOIN {table} AS bins ON {bins.key_sql('r.' + time_col)} = bins.__pb_key",
                table=table,
            ),
            {},
        )
    extra: dict[str, Any] = {"tz": tz} if "$tz" in period_sql else {}
    where = []
    if period_from is not None:
        where.append(f"{period_sql} >= $period_from")
        extra["period_from"] = period_from
    if period_to is not None:
        where.append(f"{period_sql} <= $period_to")
        extra["period_to"] = period_to
    return (
        _PeriodSource(
            period=f"{period_sql} AS {_PERIOD_COL}",
            from_sql=f"FROM {files} AS r" + (f" WHERE {' AND '.join(where)}" if where else ""),
        ),
        extra,
    )


def _period_start(day: date, period_kind: PeriodKind) -> date:
    """The first day of the week (ISO Monday), month or quarter that contains ``day``."""
    if period_kind == "week":
        return day - timedelta(days=day.weekday())
    if period_kind == "month":
        return day.replace(day=1)
    if period_kind == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    raise _invalid(f"unknown period '{period_kind}'", location="period_kind", code="period_kind")


def _period_previous(start: date, period_kind: PeriodKind) -> date:
    """The start of the period just before the one starting on ``start``."""
    if period_kind == "week":
        return start - timedelta(days=7)
    months = 1 if period_kind == "month" else 3
    index = start.year * 12 + start.month - 1 - months
    year, month = divmod(index, 12)
    return _period_start(date(year, month + 1, 1), period_kind)
