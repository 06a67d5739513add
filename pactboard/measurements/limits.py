"""Limits that keep a hostile or broken file from hanging a worker or exhausting its memory.

Each limit is checked while the file streams, before anything is stored, and a file that passes
one is refused with a message naming the row and the fix (docs/data-in.md, "Limits").
"""

from __future__ import annotations

from decimal import Decimal

# One physical line of a CSV or JSON Lines file. Real records are a few hundred bytes; DuckDB's
# own reader stops at 2 MiB, so the limit sits below it and we can name the row ourselves.
MAX_LINE_BYTES = 1 << 20
# One value of a CSV value file: Python's csv module default, which a note of 2,000 characters
# stays far below.
MAX_FIELD_CHARS = 131_072
# Records are flat objects: anything nested deeper than this is not a record, and unbounded
# nesting makes recursive JSON readers fail.
MAX_JSON_DEPTH = 64
# A value file holds one row per KPI and period: 100 weekly KPIs over four years is 20,800.
# The cap keeps a parse (every row kept until the whole file is checked) within ~100 MB.
MAX_VALUE_ROWS = 100_000
# Problems a parser lists before it only counts the rest.
ERRORS_SHOWN = 100
# Problems kept on an import batch (database, API, page); the rest become one "... and N more" line.
ERRORS_STORED = 200


def more_errors(count: int) -> str:
    """The last line of a capped error list."""
    return f"... and {count} more errors"


# Largest magnitude a stored value may have (exclusive): 10^15. Measurement.value is DECIMAL(24, 6),
# but SQLite keeps a number as a double, exact to 15 significant digits; past that it cannot be
# read back as the Decimal it was, and every page that shows it would fail. The same bound holds
# for float columns of dataset records, so a formula over them stays in range as well.
VALUE_LIMIT = Decimal(10) ** 15
VALUE_LIMIT_TEXT = "1,000,000,000,000,000 (10^15)"


def value_limit_problem(value: Decimal) -> str | None:
    """Why ``value`` cannot be stored (too large, or not a finite number); None when it can."""
    if value.is_finite() and abs(value) < VALUE_LIMIT:
        return None
    if not value.is_finite():
        return f"{value} is not a finite number: send a number below {VALUE_LIMIT_TEXT} in size"
    plain = format(value.normalize(), "f")
    shown = plain if len(plain) <= 24 else f"{value:.3E}"
    return f"{shown} is too large to store: a value must be below {VALUE_LIMIT_TEXT} in size"
