"""KPI formulas: a restricted SQL aggregate language, whitelisted with sqlglot, run by DuckDB.

Pure: no Django, no ORM. A formula is compiled once (parsed, whitelisted against the dataset's
declared columns, normalised, type-checked, fingerprinted) and then computed for every period
of a dataset in one vectorised DuckDB query over its Parquet files. The language, the period
and time-zone rules, NULL and division-by-zero handling and rounding are described in
``docs/formulas.md``.

The package's parts:

- ``compile``: parsing, the whitelist, normalisation, type checking and ``CompiledFormula``
  (with the executable form of a formula and its SQL in other dialects);
- ``compute``: running compiled formulas with DuckDB over a dataset's Parquet files, per
  period and group, the raw records behind one value, and growth against the previous period;
- ``duckdb_session``: every DuckDB connection of the engine, opened locked down and bounded in
  threads and memory, and the deadline that stops its work after a timeout;
- ``exact``: splitting formulas into shared conditions and exact aggregates, and the exact
  arithmetic and single half-up rounding on them;
- ``periods``: how the compute query finds each record's local period (by ``bins`` or by a
  conversion per record), and the first day of a period and of the period before;
- ``bins``: each record's local period by UTC buckets instead of a conversion per record.
"""

from pactboard.formulas.compile import (
    MAX_FORMULA_LENGTH,
    CompiledFormula,
    formula_compile,
    formula_row_filter_sql,
)
from pactboard.formulas.compute import (
    DECIMAL_PLACES,
    ParquetFiles,
    formula_compute,
    formula_growth_vs_previous,
    formula_records,
    parquet_relation,
)
from pactboard.formulas.duckdb_session import engine_connect, formula_connect, query_run
from pactboard.formulas.periods import PeriodKind
from pactboard.formulas.whitelist import MAX_FORMULA_DEPTH

__all__ = [
    "DECIMAL_PLACES",
    "MAX_FORMULA_DEPTH",
    "MAX_FORMULA_LENGTH",
    "CompiledFormula",
    "ParquetFiles",
    "PeriodKind",
    "engine_connect",
    "formula_compile",
    "formula_compute",
    "formula_connect",
    "formula_growth_vs_previous",
    "formula_records",
    "formula_row_filter_sql",
    "parquet_relation",
    "query_run",
]
