"""Files of KPI values (CSV or XLSX): read, checked whole, every problem reported by row and column.

Pure: no ORM. The caller passes the engagement's KPIs as ``KpiRule`` values and its first and
last day; ``value_file_parse`` returns the parsed rows or raises one ``PactboardError`` with a
detail per problem, located as ``row N, column NAME`` (the header is row 1, as in a
spreadsheet). Recording the values is the caller's job, in one transaction, so a bad file
changes nothing. The rules are in ``docs/data-in.md``.

``parse`` is the entry point; ``readers`` turn a file into rows within the limits; ``checks``
judges each row against the engagement's KPI rules.
"""

from pactboard.measurements.value_import.checks import (
    _DECIMAL_COMMA,
    _GROUPED,
    _MAX_NOTE,
    _NUMBER,
    _Checker,
    _header,
    _parse_number,
    _plain,
)
from pactboard.measurements.value_import.parse import value_file_parse, value_file_values_by_line
from pactboard.measurements.value_import.readers import (
    _XLSX_ERRORS,
    _bounded_lines,
    _csv_iter,
    _csv_rows,
    _format_of,
    _Rows,
    _xlsx_iter,
    _xlsx_refuse,
    _xlsx_rows,
)
from pactboard.measurements.value_import.rows import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    VALUE_FILE_COLUMNS,
    Cell,
    KpiRule,
    ParsedValue,
    ParsedValues,
    ValueFileFormat,
    _blank,
    _refuse,
    _too_many_rows,
)

__all__ = [
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "VALUE_FILE_COLUMNS",
    "_DECIMAL_COMMA",
    "_GROUPED",
    "_MAX_NOTE",
    "_NUMBER",
    "_XLSX_ERRORS",
    "Cell",
    "KpiRule",
    "ParsedValue",
    "ParsedValues",
    "ValueFileFormat",
    "_Checker",
    "_Rows",
    "__all__",
    "_blank",
    "_bounded_lines",
    "_csv_iter",
    "_csv_rows",
    "_format_of",
    "_header",
    "_parse_number",
    "_plain",
    "_refuse",
    "_too_many_rows",
    "_xlsx_iter",
    "_xlsx_refuse",
    "_xlsx_rows",
    "value_file_parse",
    "value_file_values_by_line",
]
