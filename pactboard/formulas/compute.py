"""Computing compiled KPI formulas with DuckDB over a dataset's Parquet files.

Pure: no Django, no ORM. Every formula of a dataset is computed for every period (and group)
in one vectorised query; the time column is mapped to its local period start in the given
time zone. Also the raw records behind one value, and growth against the previous period.
Values are Decimals rounded half up to ``DECIMAL_PLACES``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import pyarrow as pa
import sqlglot

from pactboard.formulas.compile import (
    _READ_DIALECT,
    CompiledFormula,
    _connect,
    _duck,
    _executable_tree,
    _invalid,
    _quote,
)
from pactboard.formulas.schema import DatasetSchema

PeriodKind = Literal["week", "month", "quarter"]
PERIOD_KINDS: tuple[PeriodKind, ...] = get_args(PeriodKind)

#: Every computed value is a Decimal quantized to this many places, rounding half up.
DECIMAL_PLACES = 6
_QUANTUM = Decimal(1).scaleb(-DECIMAL_PLACES)

_PERIOD_COL = "__pb_period"
_GROUP_COL = "__pb_group"


# --- computation -----------------------------------------------------------------------------


def _validate_common(*, period_kind: str, tz: str, schema: DatasetSchema, group_by: str | None) -> None:
    if period_kind not in PERIOD_KINDS:
        raise _invalid(
            f"unknown period '{period_kind}' (use one of: {', '.join(PERIOD_KINDS)})",
            location="period_kind",
            code="period_kind",
        )
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise _invalid(
            f"unknown time zone '{tz}': use an IANA name such as 'Europe/Berlin'", location="tz", code="time_zone"
        ) from err
    if group_by is not None and schema.column(group_by) is None:
        raise _invalid(
            f"cannot group by unknown column '{group_by}' (declared: {', '.join(schema.column_names)})",
            location="group_by",
            code="formula_unknown_column",
        )


def _source(
    con: duckdb.DuckDBPyConnection, *, paths: list[str], schema: DatasetSchema, period_kind: str
) -> tuple[dict[str, str], str]:
    """The files' column types and the SQL that maps the time column to its local period start."""
    try:
        described = con.execute(
            "DESCRIBE SELECT * FROM read_parquet($paths, union_by_name = true)", {"paths": paths}
        ).fetchall()
    except duckdb.Error as err:
        raise _invalid(
            f"could not read the files of dataset '{schema.name}': {str(err).splitlines()[0]}",
            location="parquet_paths",
            code="dataset_unreadable",
        ) from err
    types = {str(row[0]): str(row[1]) for row in described}
    time_col = schema.time_column
    time_type = types.get(time_col)
    quoted = _quote(time_col)
    if time_type is None:
        raise _invalid(
            f"the files of dataset '{schema.name}' lack the time column '{time_col}'",
            location=time_col,
            code="dataset_missing_column",
        )
    if time_type.startswith("TIMESTAMP WITH TIME ZONE"):
        local = f"timezone($tz, {quoted})"
    elif time_type.startswith("TIMESTAMP"):
        # A timestamp without zone is read as UTC (how Pactboard writes uploads), then made local.
        local = f"timezone($tz, timezone('UTC', CAST({quoted} AS TIMESTAMP)))"
    elif time_type == "DATE":
        local = quoted  # a calendar date has no zone to convert
    else:
        raise _invalid(
            f"the time column '{time_col}' of dataset '{schema.name}' is {time_type}, not a timestamp or date",
            location=time_col,
            code="dataset_time_type",
        )
    return types, f"CAST(date_trunc('{period_kind}', {local}) AS DATE)"


def _require_columns(needed: set[str], *, types: Mapping[str, str], schema: DatasetSchema) -> None:
    missing = sorted(needed - types.keys())
    if missing:
        raise _invalid(
            f"the files of dataset '{schema.name}' lack column(s) {', '.join(repr(m) for m in missing)}",
            location=", ".join(missing),
            code="dataset_missing_column",
        )


def _to_decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return Decimal(int(value)).quantize(_QUANTUM)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return Decimal(repr(value)).quantize(_QUANTUM, rounding=ROUND_HALF_UP)
    if isinstance(value, (int, Decimal)):
        return Decimal(value).quantize(_QUANTUM, rounding=ROUND_HALF_UP)
    raise _invalid(
        f"a formula produced {type(value).__name__}, not a number", location="expression", code="formula_type"
    )


def formula_compute(
    *,
    formulas: Mapping[str, CompiledFormula],
    parquet_paths: Sequence[Path | str],
    schema: DatasetSchema,
    period_kind: PeriodKind,
    tz: str,
    group_by: str | None = None,
    period_from: date | None = None,
    period_to: date | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> dict[Any, Any]:
    """Compute every formula for every period (and group) in one DuckDB query.

    Returns ``{key: {period_start: Decimal | None}}``, or with ``group_by``
    ``{group_value: {key: {period_start: Decimal | None}}}``. A period appears when the dataset
    (or group) has at least one record in it; ``period_from``/``period_to`` keep the periods
    whose start date lies between them, both inclusive.
    """
    _validate_common(period_kind=period_kind, tz=tz, schema=schema, group_by=group_by)
    for key, formula in formulas.items():
        unknown = sorted(formula.columns - set(schema.column_names))
        if unknown:
            raise _invalid(
                f"formula '{key}' reads column(s) {', '.join(unknown)} that dataset '{schema.name}' does not declare",
                location=key,
                code="formula_unknown_column",
            )
    paths = [str(p) for p in parquet_paths]
    if not formulas or not paths:
        return {}
    keys = list(formulas)
    con = connection if connection is not None else _connect()
    try:
        types, period_sql = _source(con, paths=paths, schema=schema, period_kind=period_kind)
        needed = set().union(*(f.columns for f in formulas.values())) | ({group_by} if group_by else set())
        _require_columns(needed, types=types, schema=schema)
        projection = [_quote(c) for c in sorted(needed)] + [f"{period_sql} AS {_PERIOD_COL}"]
        keys_sql = [_PERIOD_COL]
        if group_by is not None:
            projection.append(f"{_quote(group_by)} AS {_GROUP_COL}")
            keys_sql.insert(0, _GROUP_COL)
        aggregates = [f"{_duck(_executable_tree(formulas[k]))} AS {_quote(f'f{i}')}" for i, k in enumerate(keys)]
        params: dict[str, Any] = {"paths": paths} | ({"tz": tz} if "$tz" in period_sql else {})
        where = []
        if period_from is not None:
            where.append(f"{_PERIOD_COL} >= $period_from")
            params["period_from"] = period_from
        if period_to is not None:
            where.append(f"{_PERIOD_COL} <= $period_to")
            params["period_to"] = period_to
        query = (
            f"WITH src AS (SELECT {', '.join(projection)} "  # noqa: S608 - every name is declared and quoted
            "FROM read_parquet($paths, union_by_name = true)) "
            f"SELECT {', '.join(keys_sql)}, {', '.join(aggregates)} FROM src "
            + (f"WHERE {' AND '.join(where)} " if where else "")
            + f"GROUP BY {', '.join(keys_sql)} ORDER BY {', '.join(keys_sql)}"
        )
        try:
            rows = con.execute(query, params).fetchall()
        except duckdb.Error as err:
            raise _invalid(
                f"could not compute formulas over dataset '{schema.name}': {str(err).splitlines()[0]}",
                location="parquet_paths",
                code="formula_runtime",
            ) from err
    finally:
        if connection is None:
            con.close()
    # Only the aggregated rows (periods x groups) become Python objects.
    offset = 2 if group_by is not None else 1
    if group_by is None:
        flat: dict[str, dict[date, Decimal | None]] = {k: {} for k in keys}
        for row in rows:
            for i, k in enumerate(keys):
                flat[k][row[0]] = _to_decimal(row[offset + i])
        return flat
    grouped: dict[Any, dict[str, dict[date, Decimal | None]]] = {}
    for row in rows:
        per_key = grouped.setdefault(row[0], {k: {} for k in keys})
        for i, k in enumerate(keys):
            per_key[k][row[1]] = _to_decimal(row[offset + i])
    return grouped


def formula_records(
    *,
    formula: CompiledFormula,
    parquet_paths: Sequence[Path | str],
    schema: DatasetSchema,
    period_kind: PeriodKind,
    tz: str,
    period_start: date,
    group_by: str | None = None,
    group_value: Any = None,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> pa.Table:
    """The raw records behind one value: rows of the period (and group) that pass the row filter.

    Columns are the schema's declared columns found in the files, in declared order; rows are
    ordered by the time column. With ``group_by``, ``group_value`` selects the group (None
    selects the records whose group column is empty).
    """
    _validate_common(period_kind=period_kind, tz=tz, schema=schema, group_by=group_by)
    if _period_start(period_start, period_kind) != period_start:
        raise _invalid(
            f"{period_start.isoformat()} is not the first day of a {period_kind}",
            location="period_start",
            code="period_start",
        )
    paths = [str(p) for p in parquet_paths]
    con = connection if connection is not None else _connect()
    try:
        if not paths:
            return pa.table({})
        types, period_sql = _source(con, paths=paths, schema=schema, period_kind=period_kind)
        _require_columns(set(formula.columns) | ({group_by} if group_by else set()), types=types, schema=schema)
        shown = [_quote(c) for c in schema.column_names if c in types]
        where = [f"{period_sql} = $period_start"]
        params: dict[str, Any] = {"paths": paths, "period_start": period_start}
        if "$tz" in period_sql:
            params["tz"] = tz
        if formula.row_filter is not None:
            where.append(f"({_duck(sqlglot.parse_one(formula.row_filter, read=_READ_DIALECT))})")
        if group_by is not None:
            where.append(f"{_quote(group_by)} IS NOT DISTINCT FROM $group_value")
            params["group_value"] = group_value
        query = (
            f"SELECT {', '.join(shown)} FROM read_parquet($paths, union_by_name = true) "  # noqa: S608 - quoted
            f"WHERE {' AND '.join(where)} ORDER BY {_quote(schema.time_column)}"
        )
        try:
            return con.sql(query, params=params).to_arrow_table()
        except duckdb.Error as err:
            raise _invalid(
                f"could not read the records of dataset '{schema.name}': {str(err).splitlines()[0]}",
                location="parquet_paths",
                code="formula_runtime",
            ) from err
    finally:
        if connection is None:
            con.close()


# --- periods and derived values (same calendar rules as pactboard.core.periods) ----------


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


def formula_growth_vs_previous(
    *, values: Mapping[date, Decimal | None], period_kind: PeriodKind
) -> dict[date, Decimal | None]:
    """Per period, (value - previous) / previous x 100 against the immediately preceding period.

    None where the previous period is missing, None, zero or negative (growth from a
    non-positive base has no meaning), or where the value itself is None.
    """
    growth: dict[date, Decimal | None] = {}
    for start, value in sorted(values.items()):
        previous = values.get(_period_previous(start, period_kind))
        if value is None or previous is None or previous <= 0:
            growth[start] = None
        else:
            growth[start] = ((value - previous) / previous * 100).quantize(_QUANTUM, rounding=ROUND_HALF_UP)
    return growth
