"""Computing compiled KPI formulas with DuckDB over a dataset's Parquet files.

Pure: no Django, no ORM. Every formula of a dataset is computed for every period (and group)
in one vectorised query: records find their local period by a join on UTC buckets (periods.py,
bins.py), aggregates are exact and the arithmetic on them runs in Python (exact.py). Also the raw
records behind one value, and growth against the previous period. Values are Decimals
rounded once, half up, to ``DECIMAL_PLACES``.
"""

from __future__ import annotations

import contextlib
import math
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import sqlglot

from pactboard.core.errors import PactboardError
from pactboard.formulas.compile import CompiledFormula, _duck, _quote
from pactboard.formulas.duckdb_session import DEFAULT_TIMEOUT_SECONDS, Deadline, _connect
from pactboard.formulas.exact import exact_number, plan_build, program_run, round_half_up
from pactboard.formulas.periods import (
    _PERIOD_COL,
    PERIOD_KINDS,
    PeriodKind,
    _period_previous,
    _period_start,
    _periods_source,
)
from pactboard.formulas.schema import DatasetSchema
from pactboard.formulas.whitelist import _READ_DIALECT, _invalid

if TYPE_CHECKING:  # pyarrow is imported by formula_records only: computing values does not need it
    import pyarrow as pa

#: Every computed value is a Decimal quantized to this many places, rounding half up.
DECIMAL_PLACES = 6
_QUANTUM = Decimal(1).scaleb(-DECIMAL_PLACES)

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


@dataclass(frozen=True)
class ParquetFiles:
    """A dataset version's Parquet file(s): local paths (``filesystem`` None) or paths on a pyarrow filesystem."""

    paths: tuple[str, ...]
    filesystem: Any = None


@contextlib.contextmanager
def parquet_relation(
    con: duckdb.DuckDBPyConnection, *, paths: Sequence[str], filesystem: Any = None, name: str = "dataset"
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The SQL FROM item that reads the Parquet files, and its parameters.

    Local paths DuckDB reads itself (``read_parquet``, within the connection's allowed paths).
    Files on a pyarrow ``filesystem`` (an S3-compatible object store) are a pyarrow dataset
    registered into the connection for the block: DuckDB scans it with projection and filter
    pushdown, and the connection keeps its lockdown (no network, no extension).
    """
    if filesystem is None:
        yield "read_parquet($paths, union_by_name = true)", {"paths": list(paths)}
        return
    import pyarrow.dataset as pads

    try:
        dataset = pads.dataset(list(paths), filesystem=filesystem, format="parquet")
    except (OSError, ValueError) as err:
        raise _invalid(
            f"could not read the files of dataset '{name}': {str(err).splitlines()[0]}",
            location="parquet_paths",
            code="dataset_unreadable",
        ) from err
    view = f"__pb_files_{uuid.uuid4().hex}"
    con.register(view, dataset)
    try:
        yield view, {}
    finally:
        con.unregister(view)


def _source(
    con: duckdb.DuckDBPyConnection, *, files: str, params: dict[str, Any], schema: DatasetSchema, period_kind: str
) -> tuple[dict[str, str], str]:
    """The files' column types and the SQL that maps the time column to its local period start."""
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {files}", params).fetchall()  # noqa: S608 - our FROM item
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
    threads: int | None = None,
    memory_limit: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
    filesystem: Any = None,
) -> dict[Any, Any]:
    """Compute every formula for every period (and group) in one DuckDB query.

    Returns ``{key: {period_start: Decimal | None}}``, or with ``group_by``
    ``{group_value: {key: {period_start: Decimal | None}}}``. A period appears when the dataset
    (or group) has at least one record in it; ``period_from``/``period_to`` keep the periods
    whose start date lies between them, both inclusive. ``threads`` and ``memory_limit`` bound
    the DuckDB connection this call opens (a given ``connection`` keeps its own settings); the
    values do not depend on them. Work that takes longer than ``timeout`` seconds is interrupted
    and refused (``formula_timeout``). With a pyarrow ``filesystem`` the paths are on it (an object
    store; see ``parquet_relation``), and the connection may read no local file at all.
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
    con = (
        connection
        if connection is not None
        else _connect(threads=threads, memory_limit=memory_limit, allowed_paths=paths if filesystem is None else ())
    )
    try:
        with Deadline(con, timeout) as deadline:
            try:
                with parquet_relation(con, paths=paths, filesystem=filesystem, name=schema.name) as (files, params):
                    rows, plan = _compute_rows(
                        con, formulas=formulas, files=files, params=params, schema=schema,
                        period_kind=period_kind, tz=tz, group_by=group_by, period_from=period_from,
                        period_to=period_to, own_connection=connection is None,
                    )  # fmt: skip
            except (duckdb.Error, PactboardError) as err:
                if deadline.expired:
                    raise deadline.error() from err
                raise
            if deadline.expired:  # interrupted between two statements: the work still overran
                raise deadline.error()
    finally:
        if connection is None:
            con.close()
    if rows is None:
        return {}
    # Only the aggregated rows (periods x groups) become Python objects.
    offset = 2 if group_by is not None else 1
    results: dict[Any, dict[str, dict[date, Decimal | None]]] = {}
    for row in rows:
        raw = row[offset:]
        exact = [exact_number(0 if v is None and i in plan.count_leaves else v) for i, v in enumerate(raw)]
        per_key = results.setdefault(row[0] if group_by is not None else None, {k: {} for k in keys})
        for k in keys:
            if k in plan.whole:
                value = _to_decimal(raw[plan.whole[k]])
            else:
                number = program_run(plan.programs[k], exact)
                value = None if number is None else round_half_up(number, DECIMAL_PLACES)
            per_key[k][row[offset - 1]] = value
    if group_by is None:
        return results.get(None, {k: {} for k in keys})
    return results


def _compute_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    formulas: Mapping[str, CompiledFormula],
    files: str,
    params: dict[str, Any],
    schema: DatasetSchema,
    period_kind: PeriodKind,
    tz: str,
    group_by: str | None,
    period_from: date | None,
    period_to: date | None,
    own_connection: bool,
) -> tuple[list[tuple[Any, ...]] | None, Any]:
    """The aggregated rows (periods x groups) and the plan that turns them into values; None without periods."""
    types, period_sql = _source(con, files=files, params=params, schema=schema, period_kind=period_kind)
    needed = set().union(*(f.columns for f in formulas.values())) | ({group_by} if group_by else set())
    _require_columns(needed, types=types, schema=schema)
    params = dict(params)

    def bind_types(expressions: list[str]) -> list[str]:
        probe = f"SELECT {', '.join(expressions)} FROM {files} LIMIT 0"  # noqa: S608 - compiled, quoted
        return [str(t) for t in con.sql(probe, params=params).types]

    plan = plan_build(formulas=formulas, types=types, bind_types=bind_types)
    source, period_params = _periods_source(
        con,
        files=files,
        params=params,
        types=types,
        schema=schema,
        period_sql=period_sql,
        period_kind=period_kind,
        tz=tz,
        period_from=period_from,
        period_to=period_to,
    )
    if source is None:
        return None, plan
    params |= period_params
    projection = [f"r.{_quote(c)}" for c in sorted(needed)] + [
        f"({sql}) AS {alias}" for sql, alias in plan.conditions.items()
    ]
    keys_sql = [_PERIOD_COL]
    if group_by is not None:
        projection.append(f"r.{_quote(group_by)} AS {_GROUP_COL}")
        keys_sql.insert(0, _GROUP_COL)
    leaves = [f"{sql} AS __pb_l{i}" for sql, i in plan.leaves.items()]
    query = (
        f"WITH src AS (SELECT {source.period}, {', '.join(projection)} {source.from_sql}) "  # noqa: S608 - quoted
        f"SELECT {', '.join(keys_sql)}, {', '.join(leaves)} FROM src "
        f"GROUP BY {', '.join(keys_sql)} ORDER BY {', '.join(keys_sql)}"
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
        if source.table is not None and not own_connection:
            con.execute(f"DROP TABLE IF EXISTS {source.table}")
    return rows, plan


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
    filesystem: Any = None,
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
    con = connection if connection is not None else _connect(allowed_paths=paths if filesystem is None else ())
    try:
        if not paths:
            import pyarrow as pa

            return pa.table({})
        with parquet_relation(con, paths=paths, filesystem=filesystem, name=schema.name) as (files, file_params):
            return _records_query(
                con, files=files, file_params=file_params, formula=formula, schema=schema, period_kind=period_kind,
                tz=tz, period_start=period_start, group_by=group_by, group_value=group_value,
            )  # fmt: skip
    finally:
        if connection is None:
            con.close()


def _records_query(
    con: duckdb.DuckDBPyConnection,
    *,
    files: str,
    file_params: dict[str, Any],
    formula: CompiledFormula,
    schema: DatasetSchema,
    period_kind: PeriodKind,
    tz: str,
    period_start: date,
    group_by: str | None,
    group_value: Any,
) -> pa.Table:
    """The records of one period (and group) that pass the row filter, ordered by time."""
    types, period_sql = _source(con, files=files, params=file_params, schema=schema, period_kind=period_kind)
    _require_columns(set(formula.columns) | ({group_by} if group_by else set()), types=types, schema=schema)
    shown = [_quote(c) for c in schema.column_names if c in types]
    where = [f"{period_sql} = $period_start"]
    params: dict[str, Any] = {**file_params, "period_start": period_start}
    if "$tz" in period_sql:
        params["tz"] = tz
    if formula.row_filter is not None:
        where.append(f"({_duck(sqlglot.parse_one(formula.row_filter, read=_READ_DIALECT))})")
    if group_by is not None:
        where.append(f"{_quote(group_by)} IS NOT DISTINCT FROM $group_value")
        params["group_value"] = group_value
    query = (
        f"SELECT {', '.join(shown)} FROM {files} "  # noqa: S608 - quoted
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
