"""CSV cells that a spreadsheet will not run as formulas (CSV injection, CWE-1236).

Excel, LibreOffice and Google Sheets treat a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula, and a leading tab or carriage return can hide such a start. Every CSV that Pactboard
writes for people (audit trail, reports, other exports) passes its cells through ``csv_cell`` so
that text from users (a KPI name, an object's name, an e-mail) is shown, never evaluated. The
neutralisation is OWASP's: a leading apostrophe, which spreadsheets hide and do not evaluate.

Numbers are left alone: ``-12.5`` as a number is data, and quoting it would turn it into text.
Pure: no Django.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

__all__ = ["FORMULA_STARTS", "FORMULA_START_PATTERN", "csv_cell", "csv_row", "csv_text", "sheet_cell", "text_cell"]

#: A cell whose text starts with one of these is prefixed with an apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The same as a regular expression, for columnar writers (pyarrow, DuckDB) that neutralise whole columns.
FORMULA_START_PATTERN = "^[=+\\-@\\t\\r]"


def text_cell(text: str) -> str:
    """Text as a spreadsheet shows it without evaluating it: a leading apostrophe if it starts like a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value: Any) -> str:
    """One cell as text, neutralised if a spreadsheet would read it as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return text_cell(str(value))


def sheet_cell(value: Any) -> Any:
    """One XLSX cell: numbers, dates and empty cells as they are; text neutralised like a CSV cell.

    A workbook writer (openpyxl) stores a string that starts with ``=`` as a formula; neutralised, it is text.
    """
    if value is None or isinstance(value, bool | int | float | Decimal | datetime | date):
        return value
    return text_cell(str(value))


def csv_row(values: Iterable[Any]) -> list[str]:
    """Every cell of a row through ``csv_cell``."""
    return [csv_cell(v) for v in values]


def csv_text(*, header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    """A whole CSV document (RFC 4180 line ends), header and rows neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_row(header))
    for row in rows:
        writer.writerow(csv_row(row))
    return buffer.getvalue()
