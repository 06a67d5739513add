"""Per-column plans of an ingest: how each cell is read, checked and cast to its declared type.

Also the SQL type of each declared column type, the quoting helpers every SQL string here goes
through, and the message and code for a bad cell (computed only for the few cells reported).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from pactboard.core.errors import ErrorDetail
from pactboard.formulas.schema import Column, ColumnType
from pactboard.measurements.limits import VALUE_LIMIT, VALUE_LIMIT_TEXT

# Money and other exact amounts: 12 digits before the point, 6 after, stored as a 64-bit integer.
DECIMAL_PLACES = 6
DECIMAL_SQL_TYPE = f"DECIMAL(18,{DECIMAL_PLACES})"
# A float column is bounded like a stored value (limits.VALUE_LIMIT): a formula's aggregates over
# it stay within what DuckDB's exact arithmetic and the value column hold.
FLOAT_LIMIT_SQL = f"{VALUE_LIMIT:E}::DOUBLE"
SQL_TYPES: dict[ColumnType, str] = {
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
    "integer": "BIGINT",
    "decimal": DECIMAL_SQL_TYPE,
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "text": "VARCHAR",
}


# --- small SQL helpers ---------------------------------------------------------------------


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _and(terms: Sequence[str]) -> str:
    return " AND ".join(f"({t})" for t in terms) if terms else "true"


# --- per-column plans ----------------------------------------------------------------------


@dataclass(frozen=True)
class _ColumnPlan:
    """SQL for one column. ``input`` reads the source; the rest refer to it as ``v`` and to the
    typed value as ``t`` (the names ``__v{i}``/``__t{i}`` of an inner projection, so that each
    cast runs once per cell)."""

    column: Column
    input: str  # SQL over the source relation: the cell, empty read as NULL
    v: str
    t: str
    cast: str  # SQL over v: the cell as its declared type (meaningful when ``ok`` holds)
    ok: str  # SQL over v and t: the cell is valid or empty
    display: str  # SQL over v: the cell as VARCHAR, for messages

    @property
    def missing(self) -> str:
        return f"({self.v} IS NULL)"


_OFFSET_CHECK = (
    # 'Z', or +hh / +hhmm / +hh:mm, or the same with '-' (the date's own dashes sit further left).
    "(ends_with({v}, 'Z') OR contains({v}, '+') OR "
    "(strlen({v}) >= 16 AND ({v}[-3] = '-' OR {v}[-5] = '-' OR {v}[-6] = '-')))"
)


def _string_plan(column: Column, i: int, input_sql: str) -> _ColumnPlan:
    """Checks for a value read as text; the cheap tests come first, since they run for every cell."""
    v, t = f"__v{i}", f"__t{i}"
    kind = column.type
    cast = f"TRY_CAST({v} AS {SQL_TYPES[kind]})"
    if kind == "text":
        return _ColumnPlan(column, input_sql, v, t, v, "true", v)
    if kind == "timestamp":
        ok = f"{t} IS NOT NULL AND {_OFFSET_CHECK.format(v=v)}"
    elif kind == "date":
        ok = f"{t} IS NOT NULL AND strlen(trim({v})) = 10"
    elif kind == "integer":
        # DuckDB rounds '12.5' to 13 when casting; a value with a point must equal its exact reading.
        ok = f"{t} IS NOT NULL AND (NOT contains({v}, '.') OR TRY_CAST({v} AS DECIMAL(38,10)) = {t})"
    elif kind == "decimal":
        # Casting rounds beyond the stored places; accept extra places only when they are zeros.
        ok = (
            f"{t} IS NOT NULL AND (strlen({v}) - strpos({v}, '.') <= {DECIMAL_PLACES} OR strpos({v}, '.') = 0 "
            f"OR TRY_CAST({v} AS DECIMAL(38,18)) = {t})"
        )
    elif kind == "float":
        ok = f"isfinite({t}) AND abs({t}) < {FLOAT_LIMIT_SQL}"
    elif kind == "boolean":
        cast = f"TRY_CAST(trim({v}) AS BOOLEAN)"
        ok = f"{t} IS NOT NULL"
    else:  # pragma: no cover - schema types are closed
        raise ValueError(kind)
    return _ColumnPlan(column, input_sql, v, t, cast, f"{v} IS NULL OR ({ok})", v)


_INT_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
_FLOAT_TYPES = ("FLOAT", "DOUBLE")


def _type_family(source_type: str) -> str:
    st = source_type.upper()
    if st == "VARCHAR":
        return "text"
    if st in _INT_TYPES:
        return "integer"
    if st in _FLOAT_TYPES:
        return "float"
    if st.startswith("DECIMAL"):
        return "decimal"
    if st == "BOOLEAN":
        return "boolean"
    if st.startswith("TIMESTAMP WITH TIME ZONE"):
        return "timestamptz"
    if st.startswith("TIMESTAMP"):
        return "timestamp"
    if st == "DATE":
        return "date"
    return "other"


def _parquet_plan(column: Column, i: int, source_type: str) -> _ColumnPlan | ErrorDetail:
    """How a stored Parquet column maps onto the declared type, or why it cannot."""
    c = _ident(column.name)
    v, t = f"__v{i}", f"__t{i}"
    st = source_type.upper()
    family = _type_family(st)
    kind = column.type
    display = f"CAST({v} AS VARCHAR)"

    def plan(cast: str, ok: str = "true") -> _ColumnPlan:
        return _ColumnPlan(column, c, v, t, cast, ok if ok == "true" else f"{v} IS NULL OR ({ok})", display)

    if family == "text":
        return _string_plan(column, i, f"nullif({c}, '')")
    if kind == "text" and family != "other":
        return plan(f"CAST({v} AS VARCHAR)")
    if kind == "integer" and family == "integer":
        return plan(f"TRY_CAST({v} AS BIGINT)", f"{t} IS NOT NULL")
    if kind == "integer" and family in ("float", "decimal"):
        return plan(f"TRY_CAST({v} AS BIGINT)", f"{t} IS NOT NULL AND {t} = {v}")
    if kind == "decimal" and family in ("integer", "float", "decimal"):
        return plan(f"TRY_CAST({v} AS {DECIMAL_SQL_TYPE})", f"{t} IS NOT NULL")
    if kind == "float" and family in ("integer", "float", "decimal"):
        return plan(f"CAST({v} AS DOUBLE)", f"isfinite({t}) AND abs({t}) < {FLOAT_LIMIT_SQL}")
    if kind == "boolean" and family == "boolean":
        return plan(v)
    if kind == "boolean" and family == "integer":
        return plan(f"({v} = 1)", f"{v} IN (0, 1)")
    if kind == "timestamp" and family == "timestamptz":
        return plan(f"CAST({v} AS TIMESTAMPTZ)")
    if kind == "date" and family == "date":
        return plan(v)
    if kind == "timestamp" and family == "timestamp":
        message = (
            f"column '{column.name}' holds timestamps without a time zone ({st}); store them as UTC-adjusted "
            "timestamps (pyarrow: pa.timestamp('us', tz='UTC'); pandas: a tz-aware column) or as text with an "
            "offset such as 2026-01-03T10:00:00+00:00"
        )
        return ErrorDetail(message, f"column {column.name}", "naive_timestamp")
    message = (
        f"column '{column.name}' is stored as {st}, which cannot hold the declared type {kind}; "
        f"store it as {SQL_TYPES[kind]} or as text"
    )
    return ErrorDetail(message, f"column {column.name}", "wrong_column_type")


# --- explaining a bad cell (only for the few reported cells) -------------------------------


def _cell_message(column: Column, raw: str | None) -> tuple[str, str]:
    """The message and code for one bad or missing cell."""
    name = column.name
    if raw is None or raw == "":
        return (f"is empty, but column '{name}' needs a value in every row: fill it in", "missing_value")
    shown = raw if len(raw) <= 60 else raw[:57] + "..."
    value = raw.strip()
    if value != raw and value:
        return (f"'{shown}' has spaces around it: remove them", "invalid_value")
    kind = column.type
    if kind == "timestamp":
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is None:
            fixed = parsed.isoformat(timespec="seconds") + "+00:00"
            return (
                f"'{shown}' has no time zone: add a UTC offset such as +00:00 (e.g. {fixed}) or Z",
                "naive_timestamp",
            )
        return (
            f"'{shown}' is not a timestamp: write it as ISO 8601 with an offset, e.g. 2026-01-03T10:00:00+00:00",
            "invalid_timestamp",
        )
    if kind == "date":
        return (f"'{shown}' is not a date: write it as YYYY-MM-DD, e.g. 2026-01-03", "invalid_date")
    if kind == "boolean":
        return (
            f"'{shown}' is not a yes/no value: write true or false (1/0 and yes/no are accepted too)",
            "invalid_boolean",
        )
    number = _decimal_or_none(value)
    if "," in value:
        return (
            f"'{shown}' is not a number: use a point as the decimal separator and no thousands separators "
            "(e.g. 1234.5)",
            "invalid_number",
        )
    if kind == "integer":
        if number is not None and number != number.to_integral_value():
            return (f"'{shown}' is not a whole number: column '{name}' holds integers", "not_integer")
        if number is not None:
            return (f"'{shown}' is too large for a whole number (at most 18 digits)", "out_of_range")
        return (f"'{shown}' is not a whole number: write digits only, e.g. 42", "not_integer")
    if kind == "decimal":
        if number is not None and abs(number) >= Decimal(10) ** (18 - DECIMAL_PLACES):
            return (f"'{shown}' is too large: at most {18 - DECIMAL_PLACES} digits before the point", "out_of_range")
        if number is not None:
            return (f"'{shown}' has more than {DECIMAL_PLACES} decimal places: round it", "too_precise")
        return (f"'{shown}' is not a number: write digits with a point for decimals, e.g. 12.50", "invalid_number")
    if number is not None and abs(number) >= VALUE_LIMIT:
        return (f"'{shown}' is too large: a number here must be below {VALUE_LIMIT_TEXT} in size", "out_of_range")
    return (f"'{shown}' is not a finite number: write digits with a point for decimals, e.g. 12.5", "invalid_number")


def _decimal_or_none(text: str) -> Decimal | None:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
