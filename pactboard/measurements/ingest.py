"""Ingest a file of raw records (CSV, Parquet, JSON Lines) into the dataset store (pure: no ORM).

The whole file is checked against the dataset's declared schema before anything becomes
visible; a bad file writes nothing and raises one ``PactboardError`` with a detail per bad
cell, located as ``row N, column NAME``. A good file becomes one immutable Parquet file named
by the SHA-256 of its bytes (``<dest_dir>/<sha256>.parquet``), so the same content ingested
twice lands on the same path and a stored file can be verified by anyone who hashes it.

Records never become Python objects: DuckDB reads every value as text, checks and converts it
in SQL and streams the result to Parquet, within a memory limit, spilling to a temp directory
inside ``dest_dir``. The rules (types, time zones, row numbering) are in ``docs/data-in.md``.
"""

# SQL here is built from the declared schema: identifiers and literals always go through
# _ident/_lit, and user data only ever reaches DuckDB as file content, never as SQL text.
# ruff: noqa: S608

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, NoReturn

import duckdb

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.measurements.schema import Column, ColumnType, DatasetSchema

__all__ = [
    "DECIMAL_PLACES",
    "DECIMAL_SQL_TYPE",
    "SQL_TYPES",
    "DatasetFormat",
    "IngestResult",
    "ProgressCallback",
    "columns_check",
    "csv_header_parse",
    "dataset_file_ingest",
    "file_sha256",
    "text_file_utf8_check",
]

DatasetFormat = Literal["csv", "parquet", "jsonl"]
ProgressCallback = Callable[[int, int | None], None]

# Money and other exact amounts: 12 digits before the point, 6 after, stored as a 64-bit integer.
DECIMAL_PLACES = 6
DECIMAL_SQL_TYPE = f"DECIMAL(18,{DECIMAL_PLACES})"
SQL_TYPES: dict[ColumnType, str] = {
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
    "integer": "BIGINT",
    "decimal": DECIMAL_SQL_TYPE,
    "float": "DOUBLE",
    "boolean": "BOOLEAN",
    "text": "VARCHAR",
}

_SUFFIXES: dict[str, DatasetFormat] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_CHUNK = 1 << 20
_PROGRESS_EVERY_S = 0.5
# A character that cannot occur unescaped inside a JSON text: splitting on it yields whole lines.
_JSONL_DELIM = "\x1e"
_COMPRESSION = "snappy"


@dataclass(frozen=True)
class IngestResult:
    """The stored Parquet file of a dataset upload and what it holds."""

    path: Path
    sha256: str  # of the stored Parquet bytes; also the file name
    source_sha256: str  # of the uploaded file as received
    row_count: int
    period_min: datetime | date | None  # min/max of the schema's time column (UTC when a timestamp)
    period_max: datetime | date | None
    columns: tuple[str, ...]
    reused: bool = False  # the same content was already stored


# --- small SQL helpers ---------------------------------------------------------------------


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _and(terms: Sequence[str]) -> str:
    return " AND ".join(f"({t})" for t in terms) if terms else "true"


# --- file-level helpers (also used by value_import) ------------------------------------------


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def text_file_utf8_check(path: Path, *, what: str = "file") -> None:
    """Refuse a file that is not UTF-8 text, naming the row of the first bad byte and the fix.

    Streams the file; rows are counted by line breaks (the header, if any, is row 1).
    """
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (len(head) >= 2 and b"\x00" in head[:2]):
            raise PactboardError(
                f"The {what} is UTF-16 text (Excel's 'Unicode Text'); Pactboard reads UTF-8. "
                "Save it as 'CSV UTF-8 (Comma delimited)' and upload it again.",
                details=[ErrorDetail("file is UTF-16, not UTF-8", "row 1", "wrong_encoding")],
            )
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        lines_before = 0
        while chunk := fh.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                row = lines_before + chunk[: exc.start].count(b"\n") + 1
                raise _encoding_error(what, row, chunk[exc.start : exc.start + 4]) from None
            lines_before += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise _encoding_error(what, lines_before + 1, b"") from None


def _encoding_error(what: str, row: int, bad: bytes) -> PactboardError:
    shown = f" the byte 0x{bad[0]:02X}" if bad else " an incomplete character at the end"
    guess = ""
    if bad:
        char = bad[:1].decode("cp1252", errors="replace")
        if char.isprintable() and char != "\ufffd":
            guess = f" ({char!r} in Windows-1252/Latin-1)"
    message = (
        f"The {what} is not UTF-8 text: row {row} has{shown}{guess}. Save the file as UTF-8 "
        "(in Excel: Save As, 'CSV UTF-8 (Comma delimited)') and upload it again."
    )
    return PactboardError(message, details=[ErrorDetail(message, f"row {row}", "wrong_encoding")])


def _read_first_line(path: Path, *, what: str) -> tuple[str, int]:
    """The first line of a UTF-8 text file (BOM stripped) and its length in bytes."""
    with path.open("rb") as fh:
        raw = fh.readline(1 << 20)
    raw_text = raw.removeprefix(codecs.BOM_UTF8)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in raw:
        text_file_utf8_check(path, what=what)
    try:
        return raw_text.decode("utf-8").rstrip("\r\n"), len(raw)
    except UnicodeDecodeError:
        text_file_utf8_check(path, what=what)
        raise  # pragma: no cover - the check above raises first


def csv_header_parse(line: str, *, expected: Sequence[str], what: str = "file") -> list[str]:
    """The column names of a CSV header line; a file split on another delimiter is refused with the fix."""
    names = [n.strip() for n in next(csv.reader([line]), [])]
    if len(names) <= 1 and len(expected) > 1:
        for delim, called in ((";", "semicolons (;)"), ("\t", "tabs"), ("|", "vertical bars (|)")):
            if delim in line:
                message = (
                    f"The {what} separates values with {called}; Pactboard reads comma-separated CSV. "
                    "Export it as 'CSV UTF-8 (Comma delimited)' (or replace the separators with commas) and "
                    "upload it again."
                )
                _raise(message, "row 1", "wrong_delimiter")
    return names


def _raise(message: str, location: str | None, code: str) -> NoReturn:
    raise PactboardError(message, details=[ErrorDetail(message, location, code)])


def columns_check(*, found: Sequence[str], schema_columns: Sequence[str], where: str, what: str) -> None:
    """Refuse missing, unknown, duplicate or blank column names, one detail each."""
    details: list[ErrorDetail] = []
    seen: set[str] = set()
    by_fold = {c.casefold(): c for c in schema_columns}
    for index, name in enumerate(found, start=1):
        if not name:
            details.append(
                ErrorDetail(f"column {index} has no name; name it or delete the column", where, "blank_column")
            )
        elif name in seen:
            details.append(ErrorDetail(f"column '{name}' appears twice; keep one", where, "duplicate_column"))
        elif name not in schema_columns:
            hint = f" (did you mean '{by_fold[name.casefold()]}'?)" if name.casefold() in by_fold else ""
            details.append(
                ErrorDetail(
                    f"unknown column '{name}'{hint}: the {what} declares {', '.join(schema_columns)}; "
                    "rename or delete it",
                    where,
                    "unknown_column",
                )
            )
        seen.add(name)
    for name in schema_columns:
        if name not in seen:
            details.append(
                ErrorDetail(f"missing column '{name}': add it (it may be empty where allowed)", where, "missing_column")
            )
    if details:
        raise PactboardError(
            f"The file's columns do not match the {what}: {len(details)} problem(s). Fix the header and upload again.",
            details=details,
        )


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
        ok = f"isfinite({t})"
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
        return plan(f"CAST({v} AS DOUBLE)", f"isfinite({t})")
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
    return (f"'{shown}' is not a finite number: write digits with a point for decimals, e.g. 12.5", "invalid_number")


def _decimal_or_none(text: str) -> Decimal | None:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


# --- sources -------------------------------------------------------------------------------


@dataclass
class _Source:
    """How to scan one uploaded file: the relation, its row numbering and per-column plans."""

    relation: str  # SQL FROM item with one column per declared column (or the JSON line)
    numbered: str  # SQL FROM item that adds __row (the user-facing row number)
    plans: list[_ColumnPlan]
    row_ok: str  # SQL: row-level checks (JSON: the line is an object without unknown keys)
    skip: str  # SQL: rows to ignore (JSON: blank lines)
    estimated_rows: int | None
    structural_check: str | None = None  # SQL FROM item that records malformed rows in reject_errors
    extras: tuple[str, ...] = ()  # source columns that row_ok / skip need

    def typed(self, *, numbered: bool = False) -> str:
        """SQL: each cell read once as ``__v{i}`` and cast once as ``__t{i}``."""
        base = self.numbered if numbered else self.relation
        passed = [*(["__row"] if numbered else []), *self.extras]
        reads = ", ".join([*passed, *(f"{p.input} AS {p.v}" for p in self.plans)])
        casts = ", ".join(f"{p.cast} AS {p.t}" for p in self.plans)
        return f"(SELECT *, {casts} FROM (SELECT {reads} FROM {base} WHERE NOT {self.skip}))"

    def checks(self) -> list[str]:
        """SQL conditions that hold for a valid row."""
        required = [f"NOT {p.missing}" for p in self.plans if not p.column.nullable]
        return [self.row_ok, *(p.ok for p in self.plans if p.ok != "true"), *required]


def _csv_source(path: Path, schema: DatasetSchema, size: int) -> _Source:
    header_line, header_bytes = _read_first_line(path, what="file")
    if not header_line.strip():
        _raise(
            "The file is empty or its first row is blank: the first row must name the columns "
            f"({', '.join(schema.column_names)}).",
            "row 1",
            "missing_header",
        )
    names = csv_header_parse(header_line, expected=schema.column_names)
    columns_check(found=names, schema_columns=schema.column_names, where="row 1", what=f"dataset '{schema.name}'")
    # The header is ours to parse; DuckDB reads every value as text under the header's order.
    columns = "{" + ", ".join(f"{_lit(n)}: 'VARCHAR'" for n in names) + "}"
    options = (
        f"header = true, auto_detect = false, columns = {columns}, delim = ',', quote = '\"', escape = '\"', "
        "strict_mode = true, encoding = 'utf-8'"
    )
    relation = f"read_csv({_lit(str(path))}, {options})"
    with path.open("rb") as fh:
        fh.seek(header_bytes)
        sample = fh.read(1 << 18)
    lines = sample.count(b"\n")
    estimated = int((size - header_bytes) / (len(sample) / lines)) if lines else None
    by_name = {c.name: c for c in schema.columns}
    plans = [_string_plan(by_name[n], i, _ident(n)) for i, n in enumerate(schema.column_names)]
    return _Source(
        relation=relation,
        # Row 1 is the header, as in a spreadsheet: the first record is row 2.
        numbered=f"(SELECT row_number() OVER () + 1 AS __row, * FROM {relation})",
        plans=plans,
        row_ok="true",
        skip="false",
        estimated_rows=estimated,
        structural_check=f"read_csv({_lit(str(path))}, {options}, store_rejects = true, rejects_limit = 1000)",
    )


def _jsonl_source(path: Path, schema: DatasetSchema, size: int) -> _Source:
    first, _ = _read_first_line(path, what="file")
    del first  # decoding the first line refuses UTF-16 / non-UTF-8 files with a clear message
    lines = _lines_relation(path)
    names = schema.column_names
    paths = "[" + ", ".join(_lit("$." + '"' + n.replace('"', '\\"') + '"') for n in names) + "]"
    select = ", ".join(f"__v[{i + 1}] AS {_ident(n)}" for i, n in enumerate(names))
    # JSON functions raise on text that is not JSON (and DuckDB may reorder AND terms), so every
    # use goes through __json, which is NULL for such a line; the line then fails row_ok.
    guarded = f"(SELECT __line, CASE WHEN json_valid(__line) THEN __line END AS __json FROM {lines})"
    inner = f"(SELECT __line, __json, json_extract_string(__json, {paths}) AS __v FROM {guarded})"
    relation = f"(SELECT __line, __json, {select} FROM {inner})"
    with path.open("rb") as fh:
        sample = fh.read(1 << 18)
    count = sample.count(b"\n")
    estimated = int(size / (len(sample) / count)) if count else None
    declared = "[" + ", ".join(_lit(n) for n in names) + "]"
    by_name = {c.name: c for c in schema.columns}
    return _Source(
        relation=relation,
        # JSON Lines has no header: row N is line N of the file.
        numbered=f"(SELECT row_number() OVER () AS __row, * FROM {relation})",
        plans=[_string_plan(by_name[n], i, f"nullif({_ident(n)}, '')") for i, n in enumerate(names)],
        row_ok=f"coalesce(json_type(__json) = 'OBJECT' AND list_has_all({declared}, json_keys(__json)), false)",
        skip="(__line IS NULL OR trim(__line) = '')",
        estimated_rows=estimated,
        extras=("__line", "__json"),
    )


def _parquet_source(con: duckdb.DuckDBPyConnection, path: Path, schema: DatasetSchema) -> _Source:
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({_lit(str(path))})").fetchall()
        total = con.execute(f"SELECT sum(num_rows) FROM parquet_file_metadata({_lit(str(path))})").fetchone()
    except duckdb.Error:
        _raise(
            "The file is not a readable Parquet file: export it again as Parquet, or upload CSV.",
            None,
            "invalid_parquet",
        )
    types = {str(row[0]): str(row[1]) for row in described}
    columns_check(
        found=list(types), schema_columns=schema.column_names, where="file columns", what=f"dataset '{schema.name}'"
    )
    plans: list[_ColumnPlan] = []
    problems: list[ErrorDetail] = []
    for i, column in enumerate(schema.columns):
        plan = _parquet_plan(column, i, types[column.name])
        if isinstance(plan, ErrorDetail):
            problems.append(plan)
        else:
            plans.append(plan)
    if problems:
        raise PactboardError(
            f"{len(problems)} column(s) of the Parquet file have types that cannot hold the declared values.",
            details=problems,
        )
    relation = f"read_parquet({_lit(str(path))}, file_row_number = true)"
    return _Source(
        relation=relation,
        # Parquet has no header: row N is the N-th record.
        numbered=f"(SELECT file_row_number + 1 AS __row, * FROM {relation})",
        plans=plans,
        row_ok="true",
        skip="false",
        estimated_rows=int(total[0]) if total and total[0] is not None else None,
    )


# --- the ingest ----------------------------------------------------------------------------


def _format_of(source: Path, fmt: str | None) -> DatasetFormat:
    if fmt is not None:
        if fmt not in ("csv", "parquet", "jsonl"):
            _raise(f"Unknown file format {fmt!r}: use csv, parquet or jsonl.", "format", "unknown_format")
        return fmt  # type: ignore[return-value]
    found = _SUFFIXES.get(source.suffix.lower())
    if found is None:
        _raise(
            f"Cannot tell the format of '{source.name}' from its name: use a .csv, .parquet or .jsonl file "
            "(or say which format it is).",
            "format",
            "unknown_format",
        )
    return found


def _connect(work: Path, memory_limit: str, threads: int | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        config={
            "memory_limit": memory_limit,
            "temp_directory": str(work / "spill"),
            "preserve_insertion_order": True,
        }
    )
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET TimeZone = 'UTC'")  # naive values never reach a cast; this only fixes how we print
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    return con


def _run_with_progress(
    con: duckdb.DuckDBPyConnection, sql: str, progress: ProgressCallback | None, estimated: int | None
) -> None:
    """Run ``sql`` in a worker thread; report progress from the caller's thread."""
    if progress is None:
        con.execute(sql)
        return
    failure: list[BaseException] = []

    def work() -> None:
        try:
            con.execute(sql)
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=work, name="pactboard-ingest", daemon=True)
    worker.start()
    last = -1
    while worker.is_alive():
        worker.join(_PROGRESS_EVERY_S)
        if not worker.is_alive() or estimated is None:
            continue
        try:
            pct = float(con.query_progress())
        except duckdb.Error:
            continue
        done = int(estimated * min(max(pct, 0.0), 99.0) / 100)
        if done > last:
            progress(done, estimated)
            last = done
    if failure:
        raise failure[0]


def _hash_in_background(path: Path) -> tuple[threading.Thread, list[str]]:
    out: list[str] = []
    thread = threading.Thread(target=lambda: out.append(file_sha256(path)), name="pactboard-sha256", daemon=True)
    thread.start()
    return thread, out


def dataset_file_ingest(
    *,
    source: Path,
    fmt: DatasetFormat | None = None,
    schema: DatasetSchema,
    dest_dir: Path,
    max_errors: int = 100,
    progress: ProgressCallback | None = None,
    memory_limit: str = "1GB",
    threads: int | None = None,
) -> IngestResult:
    """Check a whole file against ``schema`` and store it as ``<dest_dir>/<sha256>.parquet``; all or nothing.

    ``progress(rows_done, rows_total)`` is called from the caller's thread: during the scan with
    estimates (``rows_total`` is None when it cannot be estimated), and last with the exact count.
    """
    source = Path(source)
    dest_dir = Path(dest_dir)
    kind = _format_of(source, fmt)
    if not source.is_file():
        _raise(f"The file '{source.name}' does not exist or is not a file.", None, "file_not_found")
    size = source.stat().st_size
    dest_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".ingest-", dir=dest_dir))
    con = _connect(work, memory_limit, threads)
    hasher: threading.Thread | None = None
    try:
        if kind == "csv":
            src = _csv_source(source, schema, size)
        elif kind == "jsonl":
            src = _jsonl_source(source, schema, size)
        else:
            src = _parquet_source(con, source, schema)
        # Hash the upload on another core while DuckDB reads it (hashlib releases the GIL).
        hasher, source_hash = _hash_in_background(source)
        if progress is not None:
            progress(0, src.estimated_rows)
        tmp = work / "data.parquet"
        values = ", ".join(f"{p.t} AS {_ident(p.column.name)}" for p in src.plans)
        # One pass: an invalid row aborts the COPY; the diagnosis below then finds every bad cell.
        sql = (
            f"COPY (SELECT {values} FROM {src.typed()} "
            f"WHERE CASE WHEN {_and(src.checks())} THEN true ELSE error('pactboard: invalid row') END) "
            f"TO {_lit(str(tmp))} (FORMAT parquet, COMPRESSION {_COMPRESSION})"
        )
        try:
            _run_with_progress(con, sql, progress, src.estimated_rows)
        except duckdb.Error as exc:
            tmp.unlink(missing_ok=True)
            _diagnose(con, source=source, kind=kind, src=src, max_errors=max_errors)
            raise PactboardError(
                f"The file could not be read: {str(exc).splitlines()[0]}",
                details=[ErrorDetail(str(exc).splitlines()[0], None, "unreadable_file")],
            ) from exc
        time_col = _ident(schema.time_column)
        stats = con.execute(f"SELECT count(*), min({time_col}), max({time_col}) FROM read_parquet({_lit(str(tmp))})")
        row = stats.fetchone()
        assert row is not None
        row_count, period_min, period_max = int(row[0]), _utc(row[1]), _utc(row[2])
        con.close()
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        digest = file_sha256(tmp)
        final = dest_dir / f"{digest}.parquet"
        reused = final.exists()
        if not reused:
            os.replace(tmp, final)  # atomic: readers see the whole file or none
            _fsync_dir(dest_dir)
        hasher.join()
        if progress is not None:
            progress(row_count, row_count)
        return IngestResult(
            path=final,
            sha256=digest,
            source_sha256=source_hash[0],
            row_count=row_count,
            period_min=period_min,
            period_max=period_max,
            columns=schema.column_names,
            reused=reused,
        )
    finally:
        con.close()
        if hasher is not None:
            hasher.join()
        shutil.rmtree(work, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    """Make a rename durable: a database row may point at the file as soon as we return."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value


# --- diagnosis (error path only) -----------------------------------------------------------


def _diagnose(
    con: duckdb.DuckDBPyConnection, *, source: Path, kind: DatasetFormat, src: _Source, max_errors: int
) -> None:
    """Find why the file was refused and raise with one detail per bad cell (up to ``max_errors``)."""
    if kind in ("csv", "jsonl"):
        text_file_utf8_check(source)
    if src.structural_check is not None:
        _structure_check(con, src.structural_check, max_errors)
    bad_cells: list[str] = []
    for i, p in enumerate(src.plans):
        terms = [f"NOT ({p.ok})"]
        if not p.column.nullable:
            terms.append(p.missing)
        bad_cells.append(f"CASE WHEN {' OR '.join(terms)} THEN {i} END")
    row_bad = f"NOT ({src.row_ok})"
    raws = ", ".join(p.display for p in src.plans)
    line = "__line" if "__line" in src.extras else "NULL"
    sql = f"""
        SELECT sum(__n)::BIGINT, sum(CASE WHEN __rowbad THEN 1 ELSE 0 END)::BIGINT,
               min_by({{'row': __row, 'rowbad': __rowbad, 'cells': __cells, 'raws': __raws, 'line': __lineval}},
                      __row, {int(max_errors) + 1})
        FROM (
            SELECT __row, __rowbad,
                   CASE WHEN __rowbad THEN [] ELSE list_filter(__all, lambda x: x IS NOT NULL) END AS __cells,
                   CASE WHEN __rowbad THEN 0 ELSE len(list_filter(__all, lambda x: x IS NOT NULL)) END AS __n,
                   __raws, __lineval
            FROM (
                SELECT __row, {row_bad} AS __rowbad, [{", ".join(bad_cells)}] AS __all, [{raws}] AS __raws,
                       {line} AS __lineval
                FROM {src.typed(numbered=True)}
            )
        )
        WHERE __rowbad OR __n > 0
    """
    found = con.execute(sql).fetchone()
    if found is None or not found[2]:
        return
    cell_total, row_total, rows = int(found[0] or 0), int(found[1] or 0), found[2]
    details: list[ErrorDetail] = []
    blanks = _blank_lines(con, source) if kind == "csv" else []
    for item in rows:
        row_no = _line_of(int(item["row"]), blanks)
        if item["rowbad"]:
            details.append(_json_row_detail(row_no, item["line"], [p.column.name for p in src.plans]))
            continue
        for index in item["cells"]:
            plan = src.plans[index]
            message, code = _cell_message(plan.column, item["raws"][index])
            details.append(ErrorDetail(message, f"row {row_no}, column {plan.column.name}", code))
    total = cell_total + row_total
    details = details[:max_errors]
    if total > len(details):
        details.append(ErrorDetail(f"... and {total - len(details)} more errors", None, "more_errors"))
    raise PactboardError(
        f"The file has {total} invalid value(s); nothing was stored. Fix them and upload the whole file again.",
        details=details,
    )


def _lines_relation(path: Path) -> str:
    """SQL FROM item: the file's physical lines, one VARCHAR column ``__line`` (NULL when blank)."""
    options = (
        f"columns = {{'__line': 'VARCHAR'}}, header = false, auto_detect = false, delim = {_lit(_JSONL_DELIM)}, "
        "quote = '', escape = '', strict_mode = false, encoding = 'utf-8'"
    )
    return f"read_csv({_lit(str(path))}, {options})"


def _blank_lines(con: duckdb.DuckDBPyConnection, path: Path) -> list[int]:
    """Line numbers of empty lines, which DuckDB's CSV reader skips without counting as records."""
    found = con.execute(
        f"SELECT __n FROM (SELECT row_number() OVER () AS __n, __line FROM {_lines_relation(path)}) "
        "WHERE __line IS NULL ORDER BY __n LIMIT 100000"
    ).fetchall()
    return [int(r[0]) for r in found]


def _line_of(record: int, blanks: Sequence[int]) -> int:
    """The line of the ``record``-th row (header = 1) once the skipped blank lines are counted back in."""
    line = record
    for blank in blanks:
        if blank <= line:
            line += 1
        else:
            break
    return line


def _structure_check(con: duckdb.DuckDBPyConnection, relation: str, max_errors: int) -> None:
    con.execute(f"SELECT count(*) FROM {relation}").fetchall()
    rejects = con.execute(
        "SELECT line, error_type, error_message, csv_line FROM reject_errors ORDER BY line, column_idx"
    ).fetchall()
    if not rejects:
        return
    details: list[ErrorDetail] = []
    for line, error_type, error_message, csv_line in rejects[:max_errors]:
        kind = str(error_type)
        counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", str(error_message))
        if kind in ("TOO MANY COLUMNS", "MISSING COLUMNS") and counts:
            message = (
                f"the row has {counts.group(2)} values but the header names {counts.group(1)} columns: give every "
                "row one value per column, and put values that contain commas in double quotes"
            )
        elif kind == "UNQUOTED VALUE" or "quote" in str(error_message).lower():
            message = (
                'a value has a stray quote: wrap the whole value in "double quotes" and double any quote inside it'
            )
        else:
            message = f"the row cannot be read as CSV ({str(error_message).splitlines()[0]})"
        shown = str(csv_line or "")
        if shown:
            message += f": {shown[:80]}"
        details.append(ErrorDetail(message, f"row {int(line)}", "malformed_row"))
    if len(rejects) > max_errors:
        details.append(ErrorDetail(f"... and {len(rejects) - max_errors} more errors", None, "more_errors"))
    raise PactboardError(
        f"{len(rejects)} row(s) of the file are not well-formed CSV; nothing was stored. Values are checked once "
        "every row has one value per column.",
        details=details,
    )


def _json_row_detail(row: int, line: str | None, names: Sequence[str]) -> ErrorDetail:
    text = (line or "").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        return ErrorDetail(
            f'the line is not valid JSON: write one JSON object per line, e.g. {{"{names[0]}": ...}}',
            f"row {row}",
            "invalid_json",
        )
    if not isinstance(parsed, dict):
        return ErrorDetail(
            "the line is not a JSON object: write one {...} object per line", f"row {row}", "invalid_json"
        )
    unknown = sorted(set(parsed) - set(names))
    return ErrorDetail(
        f"unknown key(s) {', '.join(repr(k) for k in unknown)}: the dataset declares {', '.join(names)}",
        f"row {row}",
        "unknown_column",
    )
