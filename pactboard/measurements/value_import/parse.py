"""Parse a value file whole: the public entry points and the parsed result."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path

from pactboard.core.errors import PactboardError
from pactboard.measurements import limits
from pactboard.measurements.ingest import file_sha256
from pactboard.measurements.ingest.files import errors_capped
from pactboard.measurements.value_import.checks import _Checker, _header, _parse_number
from pactboard.measurements.value_import.readers import _csv_rows, _format_of, _xlsx_rows
from pactboard.measurements.value_import.rows import (
    KpiRule,
    ParsedValues,
    ValueFileFormat,
    _blank,
    _refuse,
    _too_many_rows,
)


def value_file_parse(
    *,
    source: Path,
    fmt: ValueFileFormat | None = None,
    kpis: Mapping[str, KpiRule],
    first_period_day: date,
    last_period_day: date,
    max_errors: int = 100,
) -> ParsedValues:
    """Every row of a value file, checked against the engagement's KPIs and dates; all or nothing."""
    source = Path(source)
    kind = _format_of(source, fmt)
    if not source.is_file():
        _refuse(f"The file '{source.name}' does not exist or is not a file.", None, "file_not_found")
    rows = _csv_rows(source) if kind == "csv" else _xlsx_rows(source)
    checker = _Checker(kpis=kpis, first_day=first_period_day, last_day=last_period_day, max_errors=max_errors)
    header = _header(rows)
    for line, cells in rows:
        if line > limits.MAX_VALUE_ROWS + 1:
            _too_many_rows(line)
        record = {name: cells[i] if i < len(cells) else None for name, i in header.items()}
        extra = [c for c in cells[len(header) :] if not _blank(c)] if len(cells) > len(header) else []
        if extra:
            checker.error(line, None, f"the row has {len(cells)} values but the header names {len(header)} columns")
            continue
        checker.row(line, record)
    if not checker.parsed and not checker.total:
        _refuse(
            "The file has no values: add one row per KPI and period under the header kpi, period, value.",
            None,
            "empty_file",
        )
    if checker.total:
        total = checker.total
        details = errors_capped(checker.errors, total, max_errors)
        raise PactboardError(
            f"The file has {total} problem(s); nothing was imported. Fix them and upload the whole file again.",
            details=details,
        )
    return ParsedValues(rows=checker.parsed, sha256=file_sha256(source))


def value_file_values_by_line(*, source: Path, fmt: ValueFileFormat | None = None) -> dict[int, Decimal | None]:
    """Each data row's value as the file states it, by row number (header = 1); None where it is not a number.

    For re-checking recorded values against a stored file (no KPI rules applied).
    """
    source = Path(source)
    kind = _format_of(source, fmt)
    rows = _csv_rows(source) if kind == "csv" else _xlsx_rows(source)
    column = _header(rows)["value"]
    found: dict[int, Decimal | None] = {}
    for line, cells in rows:
        if all(_blank(c) for c in cells):
            continue
        number = _parse_number(cells[column] if column < len(cells) else None)
        found[line] = number if isinstance(number, Decimal) else None
    return found
