"""The ingest itself: ``dataset_file_ingest`` checks a whole file and stores it as Parquet.

One DuckDB pass checks, converts and writes every row within a memory limit; the upload is
hashed on another thread meanwhile; the result is moved atomically to ``<sha256>.parquet``.
"""

# SQL here is built from the declared schema: identifiers and literals always go through
# _ident/_lit, and user data only ever reaches DuckDB as file content, never as SQL text.
# ruff: noqa: S608

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.formulas import engine_connect
from pactboard.formulas.duckdb_session import Deadline
from pactboard.formulas.schema import DatasetSchema
from pactboard.measurements.ingest.diagnose import _diagnose
from pactboard.measurements.ingest.files import _raise, file_sha256, line_too_long
from pactboard.measurements.ingest.plans import _and, _ident, _lit
from pactboard.measurements.ingest.sources import (
    DatasetFormat,
    _csv_source,
    _jsonl_source,
    _parquet_source,
    no_records,
)

ProgressCallback = Callable[[int, int | None], None]

_SUFFIXES: dict[str, DatasetFormat] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_PROGRESS_EVERY_S = 0.5
_COMPRESSION = "snappy"
_LINE_SIZE = re.compile(r"CSV Error on Line: (\d+).*Maximum line size", re.DOTALL)
WORK_PREFIX = ".ingest-"


def _line_size_refusal(exc: duckdb.Error) -> PactboardError | None:
    """DuckDB's "Maximum line size ... exceeded" as our message naming the row (its line number, header = 1)."""
    found = _LINE_SIZE.search(str(exc))
    return line_too_long(int(found.group(1))) if found else None


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


def _connect(work: Path, source: Path, memory_limit: str, threads: int | None) -> duckdb.DuckDBPyConnection:
    """The engine's locked-down connection: it reads ``source``, writes inside ``work`` and nothing else."""
    return engine_connect(
        threads=threads or os.cpu_count() or 1,
        memory_limit=memory_limit,
        allowed_paths=[str(source)],
        allowed_directories=[str(work)],
        options={
            "temp_directory": str(work / "spill"),
            "preserve_insertion_order": True,
        },
        session={"enable_progress_bar": True, "enable_progress_bar_print": False},
    )  # its zone is UTC: naive values never reach a cast; this only fixes how we print


def _too_slow(timeout: float | None) -> PactboardError:
    return PactboardError(
        f"Checking the file took longer than its limit of {timeout or 0:g} seconds and was stopped: "
        "split it into smaller files (a month each) and upload them one after another.",
        details=[ErrorDetail("the check ran out of time", None, "ingest_timeout")],
    )


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
    work_prefix: str = WORK_PREFIX,
    timeout: float | None = None,
) -> IngestResult:
    """Check a whole file against ``schema`` and store it as ``<dest_dir>/<sha256>.parquet``; all or nothing.

    ``progress(rows_done, rows_total)`` is called from the caller's thread: during the scan with
    estimates (``rows_total`` is None when it cannot be estimated), and last with the exact count.
    The work folder (``<dest_dir>/<work_prefix>…``, spill files and the unfinished Parquet) is
    removed on return; a caller names it so that what a killed process left can be found.
    A check that runs longer than ``timeout`` seconds is interrupted and refused.
    """
    # Absolute: the connection may read this one path and write inside the work folder, nothing else.
    source = Path(os.path.abspath(source))
    dest_dir = Path(os.path.abspath(dest_dir))
    kind = _format_of(source, fmt)
    if not source.is_file():
        _raise(f"The file '{source.name}' does not exist or is not a file.", None, "file_not_found")
    size = source.stat().st_size
    dest_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=work_prefix, dir=dest_dir))
    con = _connect(work, source, memory_limit, threads)
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
        with Deadline(con, timeout) as deadline:
            try:
                _run_with_progress(con, sql, progress, src.estimated_rows)
            except duckdb.Error as exc:
                tmp.unlink(missing_ok=True)
                if deadline.expired:
                    raise _too_slow(timeout) from None
                refusal = _line_size_refusal(exc)
                if refusal is not None:
                    raise refusal from None
                try:
                    _diagnose(con, source=source, kind=kind, src=src, max_errors=max_errors)
                except duckdb.Error as again:
                    if deadline.expired:
                        raise _too_slow(timeout) from None
                    # The diagnosis reads the file again and may stop at a long line further on.
                    raise _line_size_refusal(again) or again from None
                raise PactboardError(
                    f"The file could not be read: {str(exc).splitlines()[0]}",
                    details=[ErrorDetail(str(exc).splitlines()[0], None, "unreadable_file")],
                ) from exc
        if deadline.expired:
            raise _too_slow(timeout)
        time_col = _ident(schema.time_column)
        stats = con.execute(f"SELECT count(*), min({time_col}), max({time_col}) FROM read_parquet({_lit(str(tmp))})")
        row = stats.fetchone()
        assert row is not None
        row_count, period_min, period_max = int(row[0]), _utc(row[1]), _utc(row[2])
        if row_count == 0:
            raise no_records()
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
