"""Ingest a file of raw records (CSV, Parquet, JSON Lines) into the dataset store (pure: no ORM).

The whole file is checked against the dataset's declared schema before anything becomes
visible; a bad file writes nothing and raises one ``PactboardError`` with a detail per bad
cell, located as ``row N, column NAME``. A good file becomes one immutable Parquet file named
by the SHA-256 of its bytes (``<dest_dir>/<sha256>.parquet``), so the same content ingested
twice lands on the same path and a stored file can be verified by anyone who hashes it.

Records never become Python objects: DuckDB reads every value as text, checks and converts it
in SQL and streams the result to Parquet, within a memory limit, spilling to a temp directory
inside ``dest_dir``. The rules (types, time zones, row numbering) are in ``docs/data-in.md``.

The package's parts:

- ``pipeline``: ``dataset_file_ingest`` and its result: check, convert, store and hash in one pass;
- ``files``: file-level helpers (hash, UTF-8 check, CSV header, column names), also used by
  ``value_import``;
- ``plans``: the declared types' SQL, and per column how a cell is read, checked and cast, and
  what a bad cell's message says;
- ``sources``: how each format (CSV, JSON Lines, Parquet) is scanned and its rows numbered;
- ``diagnose``: the error path that finds every bad cell or malformed row of a refused file.
"""

from pactboard.measurements.ingest.files import columns_check, csv_header_parse, file_sha256, text_file_utf8_check
from pactboard.measurements.ingest.pipeline import IngestResult, ProgressCallback, dataset_file_ingest
from pactboard.measurements.ingest.plans import DECIMAL_PLACES, DECIMAL_SQL_TYPE, SQL_TYPES
from pactboard.measurements.ingest.sources import DatasetFormat

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
