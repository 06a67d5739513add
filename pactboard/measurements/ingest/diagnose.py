"""Diagnosis of a refused ingest (error path only): find every bad cell or malformed row.

Raises one ``PactboardError`` with a detail per problem (up to ``max_errors``), located as
``row N, column NAME`` with rows counted as a spreadsheet shows them.
"""

# SQL here is built from the declared schema: identifiers and literals always go through
# _ident/_lit, and user data only ever reaches DuckDB as file content, never as SQL text.
# ruff: noqa: S608

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import duckdb

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.measurements.ingest.files import text_file_utf8_check
from pactboard.measurements.ingest.plans import _cell_message
from pactboard.measurements.ingest.sources import DatasetFormat, _lines_relation, _Source

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
