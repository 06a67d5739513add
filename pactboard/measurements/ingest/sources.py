"""Sources of an ingest: how each file format is scanned, its rows numbered and its cells planned.

CSV and JSON Lines are read as text and checked cell by cell; a Parquet file's stored column
types are mapped onto the declared ones (or refused before any row is read).
"""

# SQL here is built from the declared schema: identifiers and literals always go through
# _ident/_lit, and user data only ever reaches DuckDB as file content, never as SQL text.
# ruff: noqa: S608

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.formulas.schema import DatasetSchema
from pactboard.measurements import limits
from pactboard.measurements.ingest.files import (
    _raise,
    _read_first_line,
    columns_check,
    csv_header_parse,
    line_too_long,
)
from pactboard.measurements.ingest.plans import _ColumnPlan, _ident, _lit, _parquet_plan, _string_plan

DatasetFormat = Literal["csv", "parquet", "jsonl"]
# A character that cannot occur unescaped inside a JSON text: splitting on it yields whole lines.
_JSONL_DELIM = "\x1e"


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
        f"strict_mode = true, encoding = 'utf-8', max_line_size = {limits.MAX_LINE_BYTES}"
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
    _jsonl_lines_check(path)
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


def _lines_relation(path: Path) -> str:
    """SQL FROM item: the file's physical lines, one VARCHAR column ``__line`` (NULL when blank)."""
    options = (
        f"columns = {{'__line': 'VARCHAR'}}, header = false, auto_detect = false, delim = {_lit(_JSONL_DELIM)}, "
        f"quote = '', escape = '', strict_mode = false, encoding = 'utf-8', max_line_size = {limits.MAX_LINE_BYTES}"
    )
    return f"read_csv({_lit(str(path))}, {options})"


# A JSON string: the brackets inside it are text, not nesting.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _json_depth_over(line: bytes, most: int) -> bool:
    """Whether a JSON text nests arrays/objects deeper than ``most`` levels (its strings ignored)."""
    if line.count(b"[") + line.count(b"{") <= most:
        return False  # cannot nest deeper than it has brackets: the usual, cheap answer
    depth = 0
    for byte in _JSON_STRING.sub(b'""', line).translate(None, _NOT_BRACKETS):
        depth += 1 if byte in b"[{" else -1
        if depth > most:
            return True
    return False


def _jsonl_lines_check(path: Path) -> None:
    """Refuse a JSON Lines file with a line past the length limit or nested past the depth limit, or no records.

    Streams the file a line at a time (never more than the limit in memory) before DuckDB reads it:
    DuckDB stops at its own 2 MiB line size, and a deeply nested line breaks recursive readers.
    """
    records = 0
    with path.open("rb") as fh:
        for number, raw in enumerate(iter(lambda: fh.readline(limits.MAX_LINE_BYTES + 1), b""), start=1):
            line = raw.rstrip(b"\r\n")
            if len(line) > limits.MAX_LINE_BYTES:
                raise line_too_long(number)
            if _json_depth_over(line, limits.MAX_JSON_DEPTH):
                message = (
                    f"row {number} is nested deeper than {limits.MAX_JSON_DEPTH} levels; a record is one flat JSON "
                    'object per line ({"column": value, ...}). Check that this is the file you meant and upload it '
                    "again."
                )
                raise PactboardError(message, details=[ErrorDetail(message, f"row {number}", "nested_too_deep")])
            records += bool(line.strip())
    if not records:
        raise no_records()


def no_records() -> PactboardError:
    """A file that holds no record: refused, so that an empty upload never becomes a dataset version."""
    message = (
        "The file has no records, so nothing was stored: a CSV file needs its header and one row per record, a "
        "JSON Lines file one JSON object per line. Check that you chose the right file and upload it again."
    )
    return PactboardError(message, details=[ErrorDetail(message, None, "no_records")])
