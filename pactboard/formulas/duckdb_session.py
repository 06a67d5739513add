"""The engine's DuckDB connections: opened locked down, bounded in threads, memory and time.

Pure: no Django, no ORM. Every DuckDB connection of Pactboard is opened by ``engine_connect``
(formulas, dataset ingest and merge, the demo): in memory, session zone UTC, no file but the
ones it is opened for, no URL, no extension, and a locked configuration. ``Deadline`` stops a
connection's work after a number of seconds, since DuckDB has no statement timeout;
``query_run`` runs one query under it. The formula whitelist (``compile``) is the first
barrier; this is the second (docs/formulas.md).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from pactboard.core.errors import ErrorDetail, PactboardError

#: What one DuckDB connection of the engine may take from the machine, unless the caller says
#: otherwise (settings PACTBOARD_DUCKDB_THREADS, PACTBOARD_DUCKDB_MEMORY_LIMIT, PACTBOARD_FORMULA_TIMEOUT).
DEFAULT_THREADS = 1
DEFAULT_MEMORY_LIMIT = "1GB"
DEFAULT_TIMEOUT_SECONDS = 120.0


def _connect(
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
    allowed_paths: Sequence[str] = (),
    allowed_directories: Sequence[str] = (),
    options: Mapping[str, str | bool | int] | None = None,
    session: Mapping[str, str | bool | int] | None = None,
    time_zone: str = "UTC",
) -> duckdb.DuckDBPyConnection:
    """A locked-down in-memory connection whose session zone is ``time_zone`` (UTC).

    The whitelist is the first barrier; this is the second, so a gap in it would still find
    nothing: only ``allowed_paths`` (and files under ``allowed_directories``, for a job that
    writes its output there) can be read or written (no other file, no URL, no ATTACH), no
    extension is installed or loaded, and the configuration is locked, so no statement can lift
    these or the bounds on threads and memory (DEFAULT_THREADS, DEFAULT_MEMORY_LIMIT). ``options``
    are further DuckDB settings fixed before the lock (a spill ``temp_directory``, ...), ``session``
    settings of this connection only (the progress bar). Every
    DuckDB connection of Pactboard is opened here: formulas, dataset ingest and merge, the demo.
    """
    config: dict[str, str | bool | int | float | list[str]] = {
        "threads": threads or DEFAULT_THREADS,
        "memory_limit": memory_limit or DEFAULT_MEMORY_LIMIT,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        **(options or {}),
    }
    con = duckdb.connect(":memory:", config=config)
    con.execute("SET TimeZone = $tz", {"tz": time_zone})
    for name, value in (session or {}).items():
        if not name.isidentifier():
            raise ValueError(f"not a DuckDB setting: {name!r}")
        con.execute(f"SET {name} = $value", {"value": value})
    if allowed_paths:
        # Set before external access is switched off: DuckDB refuses to change it afterwards.
        con.execute("SET allowed_paths = $paths", {"paths": [str(p) for p in allowed_paths]})
    if allowed_directories:
        # A trailing separator: '/data/x' must not admit '/data/xy/...'.
        dirs = [str(d).rstrip("/") + "/" for d in allowed_directories]
        con.execute("SET allowed_directories = $dirs", {"dirs": dirs})
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


engine_connect = _connect


class Deadline:
    """Interrupts a connection's work after ``seconds`` (DuckDB has no statement timeout).

    A timer thread calls ``connection.interrupt()``; ``expired`` tells the caller that whatever
    failed (or finished) did so because time ran out, so it reports the timeout, not the symptom.
    """

    def __init__(self, connection: duckdb.DuckDBPyConnection, seconds: float | None) -> None:
        self.connection = connection
        self.seconds = seconds
        self.expired = False
        self._timer: threading.Timer | None = None

    def __enter__(self) -> Deadline:
        if self.seconds is not None:
            self._timer = threading.Timer(self.seconds, self._interrupt)
            self._timer.daemon = True
            self._timer.start()
        return self

    def _interrupt(self) -> None:
        self.expired = True
        self.connection.interrupt()

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def error(self) -> PactboardError:
        message = (
            f"the computation took longer than its limit of {self.seconds:g} seconds and was stopped: "
            "simplify the formula or split the dataset"
        )
        return PactboardError(
            message=message, details=[ErrorDetail(message=message, location="expression", code="formula_timeout")]
        )


def formula_connect(
    *, allowed_paths: Sequence[Path | str], threads: int | None = None, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A locked-down engine connection (docs/formulas.md) that may read ``allowed_paths`` and nothing else."""
    return _connect(threads=threads, memory_limit=memory_limit, allowed_paths=[str(p) for p in allowed_paths])


def query_run(
    con: duckdb.DuckDBPyConnection,
    query: str,
    params: dict[str, Any] | None = None,
    *,
    timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
) -> list[tuple[Any, ...]]:
    """Run one query on an engine connection, interrupted and refused after ``timeout`` seconds."""
    with Deadline(con, timeout) as deadline:
        try:
            rows = con.execute(query, params or {}).fetchall()
        except duckdb.Error as err:
            if deadline.expired:
                raise deadline.error() from err
            raise
    if deadline.expired:
        raise deadline.error()
    return rows
