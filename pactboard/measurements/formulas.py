"""KPI formulas: a restricted SQL aggregate language, whitelisted with sqlglot, run by DuckDB.

Pure: no Django, no ORM. A formula is compiled once (parsed, whitelisted against the dataset's
declared columns, normalised, type-checked, fingerprinted) and then computed for every period
of a dataset in one vectorised DuckDB query over its Parquet files. The language, the period
and time-zone rules, NULL and division-by-zero handling and rounding are described in
``docs/formulas.md``.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.measurements.schema import ColumnType, DatasetSchema

__all__ = [
    "DECIMAL_PLACES",
    "MAX_FORMULA_LENGTH",
    "CompiledFormula",
    "PeriodKind",
    "formula_compile",
    "formula_compute",
    "formula_growth_vs_previous",
    "formula_records",
]

PeriodKind = Literal["week", "month", "quarter"]
PERIOD_KINDS: tuple[PeriodKind, ...] = get_args(PeriodKind)

#: Every computed value is a Decimal quantized to this many places, rounding half up.
DECIMAL_PLACES = 6
_QUANTUM = Decimal(1).scaleb(-DECIMAL_PLACES)

_READ_DIALECT = "duckdb"

#: Longest formula or row filter accepted, in characters (the catalogue's longest is ~150).
MAX_FORMULA_LENGTH = 4000

# Aggregates a formula may use, by sqlglot node, with the name users write.
_AGGREGATES: dict[type[exp.Expr], str] = {
    exp.Count: "count",
    exp.Sum: "sum",
    exp.Avg: "avg",
    exp.Min: "min",
    exp.Max: "max",
    exp.Median: "median",
    exp.PercentileCont: "quantile_cont",
    exp.PercentileDisc: "quantile_disc",
    exp.Stddev: "stddev",
    exp.StddevSamp: "stddev_samp",
    exp.StddevPop: "stddev_pop",
    exp.Variance: "variance",
    exp.LogicalAnd: "bool_and",
    exp.LogicalOr: "bool_or",
    exp.ArgMax: "arg_max",
    exp.ArgMin: "arg_min",
}
_AGGREGATE_TYPES = tuple(_AGGREGATES)

# Scalar functions (row by row, no I/O, no state).
_SCALARS: dict[type[exp.Expr], str] = {
    exp.Coalesce: "coalesce",
    exp.Nullif: "nullif",
    exp.Abs: "abs",
    exp.Round: "round",
    exp.Floor: "floor",
    exp.Ceil: "ceil",
    exp.Sqrt: "sqrt",
    exp.Least: "least",
    exp.Greatest: "greatest",
    exp.DateDiff: "date_diff",
    exp.TimeToUnix: "epoch",
    exp.Extract: "extract",
    exp.Case: "case",
    exp.If: "if",
    exp.Cast: "cast",
    exp.TryCast: "try_cast",
}

# Operators, literals and the grammar's glue.
_STRUCTURAL: tuple[type[exp.Expr], ...] = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren, exp.Neg, exp.Not,
    exp.And, exp.Or, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.NullSafeEQ, exp.NullSafeNEQ,
    exp.In, exp.Between, exp.Like, exp.ILike, exp.Filter, exp.Where, exp.Star, exp.Distinct,
    exp.DataType, exp.DataTypeParam, exp.Var, exp.Interval,
)  # fmt: skip

_CAST_TARGETS = exp.DataType.NUMERIC_TYPES | {
    exp.DataType.Type.BOOLEAN,
    exp.DataType.Type.DATE,
    exp.DataType.Type.TIMESTAMP,
    exp.DataType.Type.TIMESTAMPTZ,
    exp.DataType.Type.INTERVAL,
}

# Words allowed as date parts (extract(epoch from ...), date_diff('second', ...), interval 20 second).
_DATE_PARTS = frozenset(
    {
        "EPOCH", "MICROSECOND", "MICROSECONDS", "MILLISECOND", "MILLISECONDS", "SECOND", "SECONDS",
        "MINUTE", "MINUTES", "HOUR", "HOURS", "DAY", "DAYS", "WEEK", "WEEKS", "MONTH", "MONTHS",
        "QUARTER", "QUARTERS", "YEAR", "YEARS", "DOW", "ISODOW", "DOY",
    }
)  # fmt: skip

# DuckDB type of each declared column type, for compile-time type checking.
_DUCKDB_TYPES: dict[ColumnType, str] = {
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
    "integer": "BIGINT",
    "decimal": "DECIMAL(38, 10)",
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "text": "VARCHAR",
}

_NUMERIC_RESULT_TYPES = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
     "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "BOOLEAN"}
)  # fmt: skip

_PERIOD_COL = "__pb_period"
_GROUP_COL = "__pb_group"


def _invalid(message: str, *, location: str, code: str) -> PactboardError:
    return PactboardError(message=message, details=[ErrorDetail(message=message, location=location, code=code)])


def _snippet(node: exp.Expr) -> str:
    text = node.sql(dialect=_READ_DIALECT)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class CompiledFormula:
    """A whitelisted, normalised formula; ``fingerprint`` identifies this version of it."""

    expression: str
    row_filter: str | None
    columns: frozenset[str]
    fingerprint: str

    def to_sql(self, dialect: str = "duckdb") -> str:
        """The complete aggregate in ``dialect``: row filter folded into FILTER clauses, safe divisions."""
        tree = _executable_tree(self)
        if dialect in ("postgres", "postgresql"):
            tree = _argmax_for_postgres(tree)
        try:
            return tree.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
        except (SqlglotError, ValueError) as err:
            raise _invalid(
                f"the formula cannot be written in {dialect}: {err}", location="dialect", code="formula_dialect"
            ) from err


def formula_compile(*, expression: str, schema: DatasetSchema, row_filter: str | None = None) -> CompiledFormula:
    """Parse, whitelist, normalise and type-check a formula over ``schema``; raise PactboardError if refused."""
    tree = _parse(expression, location="expression")
    _check_nodes(tree, schema=schema, location="expression")
    _check_aggregation(tree)
    filter_tree: exp.Expr | None = None
    if row_filter is not None and row_filter.strip():
        filter_tree = _parse(row_filter, location="row_filter")
        _check_nodes(filter_tree, schema=schema, location="row_filter")
        _check_row_filter(filter_tree)
    columns = frozenset(col.name for t in (tree, filter_tree) if t is not None for col in t.find_all(exp.Column))
    normalised = tree.sql(dialect=_READ_DIALECT)
    normalised_filter = filter_tree.sql(dialect=_READ_DIALECT) if filter_tree is not None else None
    digest = hashlib.sha256(json.dumps([normalised, normalised_filter]).encode()).hexdigest()
    compiled = CompiledFormula(expression=normalised, row_filter=normalised_filter, columns=columns, fingerprint=digest)
    _type_check(compiled, schema=schema)
    return compiled


# --- parsing and whitelisting ------------------------------------------------------------------


def _parse(text: str, *, location: str) -> exp.Expr:
    if not text or not text.strip():
        raise _invalid(f"the {_what(location)} is empty", location=location, code="formula_empty")
    if len(text) > MAX_FORMULA_LENGTH:
        raise _invalid(
            f"the {_what(location)} is {len(text)} characters long; the limit is {MAX_FORMULA_LENGTH}",
            location=location,
            code="formula_too_long",
        )
    try:
        tokens = Dialect.get_or_raise(_READ_DIALECT).tokenize(text)
    except TokenError as err:
        raise _invalid(
            f"could not read the {_what(location)}: {err}", location=location, code="formula_syntax"
        ) from err
    if not tokens or any(tok.comments for tok in tokens):
        raise _invalid(
            f"comments are not allowed in a {_what(location)}: remove '--' and '/* */'",
            location=location,
            code="formula_comment",
        )
    try:
        statements = [s for s in sqlglot.parse(text, read=_READ_DIALECT) if s is not None]
    except RecursionError as err:
        raise _invalid(
            f"the {_what(location)} nests too deeply to read", location=location, code="formula_syntax"
        ) from err
    except ParseError as err:
        first = err.errors[0] if err.errors else {}
        near = first.get("highlight") or ""
        desc = first.get("description") or str(err)
        where = f" near '{near}'" if near else ""
        raise _invalid(
            f"could not read the {_what(location)}{where}: {desc}", location=location, code="formula_syntax"
        ) from err
    if len(statements) != 1:
        raise _invalid(
            f"a {_what(location)} is one expression; found {len(statements)} statements "
            f"({'; '.join(_snippet(s) for s in statements)})",
            location=location,
            code="formula_statements",
        )
    return statements[0]


def _what(location: str) -> str:
    return "row filter" if location == "row_filter" else "formula"


def _check_nodes(tree: exp.Expr, *, schema: DatasetSchema, location: str) -> None:
    what = _what(location)
    declared = schema.column_names
    for node in tree.walk():
        snippet = _snippet(node)
        if isinstance(node, (exp.Query, exp.Subquery)):
            raise _invalid(
                f"subqueries are not allowed in a {what}: '{snippet}'", location=location, code="formula_subquery"
            )
        if isinstance(node, (exp.Table, exp.From, exp.Join)):
            raise _invalid(
                f"table references are not allowed in a {what}: '{snippet}'", location=location, code="formula_table"
            )
        if isinstance(node, exp.WithinGroup):
            raise _invalid(
                "WITHIN GROUP (ORDER BY ...) is not supported: write quantile_cont(column, fraction) instead",
                location=location,
                code="formula_construct",
            )
        if isinstance(node, exp.Window):
            raise _invalid(
                f"window functions are not allowed in a {what}: '{snippet}'", location=location, code="formula_window"
            )
        if isinstance(node, exp.Column):
            if node.table or node.args.get("db") or node.args.get("catalog"):
                raise _invalid(
                    f"qualified column '{snippet}' is not allowed: name the column only",
                    location=location,
                    code="formula_column",
                )
            if node.name not in declared:
                raise _invalid(
                    f"unknown column '{node.name}' (declared: {', '.join(declared)})",
                    location=location,
                    code="formula_unknown_column",
                )
            continue
        if type(node) in _STRUCTURAL:
            _check_structural(node, location=location)
            continue
        if type(node) in _AGGREGATES or type(node) in _SCALARS:
            if isinstance(node, (exp.Cast, exp.TryCast)):
                _check_cast(node, location=location)
            continue
        if isinstance(node, exp.Func):
            name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
            allowed = sorted({*_AGGREGATES.values(), *_SCALARS.values()})
            raise _invalid(
                f"function '{name.lower()}' is not allowed in a {what} (allowed: {', '.join(allowed)})",
                location=location,
                code="formula_function",
            )
        raise _invalid(f"'{snippet}' is not allowed in a {what}", location=location, code="formula_construct")


def _check_cast(node: exp.Cast, *, location: str) -> None:
    to = node.args.get("to")
    if not isinstance(to, exp.DataType) or to.this not in _CAST_TARGETS:
        target = to.sql(dialect=_READ_DIALECT) if isinstance(to, exp.Expr) else "?"
        raise _invalid(
            f"cast to {target} is not allowed: cast to a numeric, boolean, date, timestamp or interval type",
            location=location,
            code="formula_cast",
        )


def _check_structural(node: exp.Expr, *, location: str) -> None:
    parent = node.parent
    if isinstance(node, exp.Star) and not isinstance(parent, exp.Count):
        raise _invalid("'*' is only allowed as count(*)", location=location, code="formula_construct")
    if isinstance(node, exp.Distinct) and not isinstance(parent, _AGGREGATE_TYPES):
        raise _invalid(
            f"DISTINCT is only allowed inside an aggregate: '{_snippet(node)}'",
            location=location,
            code="formula_construct",
        )
    if isinstance(node, exp.Var) and (
        not isinstance(parent, (exp.Extract, exp.DateDiff, exp.Interval)) or node.name.upper() not in _DATE_PARTS
    ):
        raise _invalid(f"unknown word '{node.name}'", location=location, code="formula_construct")
    if isinstance(node, exp.In) and node.args.get("query") is not None:
        raise _invalid(f"subqueries are not allowed: '{_snippet(node)}'", location=location, code="formula_subquery")
    if isinstance(node, exp.Filter) and not isinstance(node.this, _AGGREGATE_TYPES):
        raise _invalid(
            f"FILTER (WHERE ...) must follow an aggregate: '{_snippet(node)}'",
            location=location,
            code="formula_construct",
        )


def _enclosing_aggregate(node: exp.Expr) -> exp.Expr | None:
    """The aggregate whose input ``node`` is part of (its arguments or its FILTER condition)."""
    child, parent = node, node.parent
    while parent is not None:
        if isinstance(parent, _AGGREGATE_TYPES):
            return parent
        if isinstance(parent, exp.Filter) and child is parent.args.get("expression"):
            filtered: exp.Expr = parent.this
            return filtered
        child, parent = parent, parent.parent
    return None


def _check_aggregation(tree: exp.Expr) -> None:
    aggregates = list(tree.find_all(*_AGGREGATE_TYPES))
    for agg in aggregates:
        outer = _enclosing_aggregate(agg)
        if outer is not None:
            raise _invalid(
                f"aggregates cannot be nested: '{_snippet(agg)}' is inside '{_snippet(outer)}'",
                location="expression",
                code="formula_nested_aggregate",
            )
    for col in tree.find_all(exp.Column):
        if _enclosing_aggregate(col) is None:
            raise _invalid(
                f"the formula must aggregate: '{col.name}' is outside any aggregate",
                location="expression",
                code="formula_not_aggregate",
            )
    if not aggregates:
        raise _invalid(
            f"the formula must aggregate (count, sum, avg, ...): '{_snippet(tree)}' has no aggregate",
            location="expression",
            code="formula_not_aggregate",
        )


def _check_row_filter(tree: exp.Expr) -> None:
    for node in tree.walk():
        if isinstance(node, (*_AGGREGATE_TYPES, exp.Filter)):
            raise _invalid(
                f"the row filter selects rows and cannot aggregate: '{_snippet(node)}'",
                location="row_filter",
                code="formula_filter_aggregate",
            )


# --- execution form --------------------------------------------------------------------------


def _executable_tree(formula: CompiledFormula) -> exp.Expr:
    """The aggregate as run: row filter ANDed into every aggregate's FILTER, divisors wrapped in NULLIF."""
    tree = sqlglot.parse_one(formula.expression, read=_READ_DIALECT)
    if formula.row_filter is not None:
        condition = sqlglot.parse_one(formula.row_filter, read=_READ_DIALECT)
        for agg in list(tree.find_all(*_AGGREGATE_TYPES)):
            parent = agg.parent
            if isinstance(parent, exp.Filter) and parent.this is agg:
                where = parent.args["expression"]
                where.set("this", exp.and_(exp.paren(where.this.copy()), exp.paren(condition.copy())))
            else:
                wrapped = exp.Filter(this=agg.copy(), expression=exp.Where(this=exp.paren(condition.copy())))
                tree = wrapped if agg is tree else tree
                agg.replace(wrapped)
    for div in list(tree.find_all(exp.Div, exp.IntDiv, exp.Mod)):
        divisor = div.args["expression"]
        if isinstance(divisor, exp.Literal) and divisor.is_number and Decimal(divisor.this) != 0:
            continue  # a non-zero constant cannot divide by zero
        div.set("expression", exp.Nullif(this=divisor.copy(), expression=exp.Literal.number(0)))
    return tree


def _argmax_for_postgres(tree: exp.Expr) -> exp.Expr:
    """PostgreSQL has no arg_max/arg_min: use (array_agg(a ORDER BY b DESC) FILTER (...))[1]."""
    for node in list(tree.find_all(exp.ArgMax, exp.ArgMin)):
        outer: exp.Expr = node.parent if isinstance(node.parent, exp.Filter) else node
        arg, key = node.this, node.args["expression"]
        condition: exp.Expr = exp.and_(
            exp.Not(this=exp.Is(this=arg.copy(), expression=exp.Null())),
            exp.Not(this=exp.Is(this=key.copy(), expression=exp.Null())),
        )
        if isinstance(outer, exp.Filter):
            condition = exp.and_(condition, exp.paren(outer.args["expression"].this.copy()))
        ordered = exp.Ordered(this=key.copy(), desc=isinstance(node, exp.ArgMax), nulls_first=False)
        agg = exp.ArrayAgg(this=exp.Order(this=arg.copy(), expressions=[ordered]))
        filtered = exp.Filter(this=agg, expression=exp.Where(this=condition))
        first = exp.Bracket(this=exp.paren(filtered), expressions=[exp.Literal.number(0)])
        tree = first if outer is tree else tree
        outer.replace(first)
    return tree


_check_lock = threading.Lock()
_check_connection: duckdb.DuckDBPyConnection | None = None


def _type_check(formula: CompiledFormula, *, schema: DatasetSchema) -> None:
    """Bind the formula against an empty table of the declared column types (no rows are read)."""
    global _check_connection
    columns = ", ".join(f"CAST(NULL AS {_DUCKDB_TYPES[c.type]}) AS {_quote(c.name)}" for c in schema.columns)
    source = f"(SELECT {columns} LIMIT 0) AS src"
    queries = [("expression", f"SELECT {_duck(_executable_tree(formula))} AS v FROM {source}")]  # noqa: S608
    if formula.row_filter is not None:
        row_filter = _duck(sqlglot.parse_one(formula.row_filter, read=_READ_DIALECT))
        queries.append(("row_filter", f"SELECT ({row_filter}) AS v FROM {source}"))  # noqa: S608
    with _check_lock:
        if _check_connection is None:
            _check_connection = _connect()
        for location, query in queries:
            try:
                result_type = str(_check_connection.sql(query).types[0])
            except duckdb.Error as err:
                reason = str(err).split("\n", 1)[0]
                raise _invalid(
                    f"the {_what(location)} does not fit the columns of dataset '{schema.name}': {reason}",
                    location=location,
                    code="formula_type",
                ) from err
            if location == "row_filter" and result_type != "BOOLEAN":
                raise _invalid(
                    f"the row filter must be true or false for each row; '{formula.row_filter}' is {result_type}",
                    location=location,
                    code="formula_type",
                )
            if location == "expression" and not (
                result_type in _NUMERIC_RESULT_TYPES or result_type.startswith("DECIMAL")
            ):
                hint = " (use epoch(...) to turn a duration into seconds)" if result_type == "INTERVAL" else ""
                raise _invalid(
                    f"the formula must produce a number; '{formula.expression}' is {result_type}{hint}",
                    location=location,
                    code="formula_type",
                )


def _connect() -> duckdb.DuckDBPyConnection:
    """An in-memory connection whose session zone is UTC, so naive literals read the same everywhere."""
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    return con


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duck(tree: exp.Expr) -> str:
    return tree.sql(dialect="duckdb", identify=True)


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
