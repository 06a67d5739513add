"""The records behind a computed value as CSV, with text cells a spreadsheet will not run as formulas.

Records come from uploaded files: a contact id, a queue name or a note can start with ``=`` or ``@``.
Every text column goes through the same rule as ``pactboard.core.csvsafe`` (a leading apostrophe);
number, time and boolean columns are written as they are.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv

from pactboard.core.csvsafe import FORMULA_START_PATTERN


def _neutralised(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return column
    starts_like_formula = pc.match_substring_regex(column, FORMULA_START_PATTERN)
    prefixed = pc.binary_join_element_wise(pa.scalar("'", column.type), column, pa.scalar("", column.type))
    return pc.if_else(starts_like_formula, prefixed, column)


def records_csv(table: pa.Table) -> bytes:
    """The table as CSV bytes (header first), text cells neutralised."""
    safe = pa.table([_neutralised(table.column(i)) for i in range(table.num_columns)], names=table.column_names)
    buffer = io.BytesIO()
    pa_csv.write_csv(safe, buffer)
    return buffer.getvalue()
