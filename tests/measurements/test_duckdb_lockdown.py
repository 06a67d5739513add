"""Every DuckDB connection is the engine's locked-down one: the files it is given, nothing else.

Formulas, the upload ingest (CSV/JSON Lines/Parquet to Parquet), the merge of two versions and
the demo's generator all open their connection with ``engine_connect``: no other file, no URL, no
extension installed or loaded, bounded memory and threads, and a configuration no statement can
change back.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pactboard.core.errors import PactboardError
from pactboard.demo import history
from pactboard.formulas import engine_connect
from pactboard.formulas.duckdb_session import formula_connect
from pactboard.formulas.schema import CONTACTS
from pactboard.measurements import ingest
from pactboard.measurements.ingest import pipeline
from pactboard.measurements.services import datasets as dataset_services
from tests.measurements.test_datasets import _contact, _write

ESCAPES = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SELECT * FROM read_parquet('https://example.com/x.parquet')",
    "ATTACH '/tmp/pactboard-escape.duckdb' AS other",
    "COPY (SELECT 1) TO '/tmp/pactboard-escape.csv'",
    "SET enable_external_access = true",
    "SET memory_limit = '64GB'",
    "SET threads = 64",
    "RESET lock_configuration",
]


def _refuses_every_escape(con: duckdb.DuckDBPyConnection) -> None:
    for statement in ESCAPES:
        with pytest.raises(duckdb.Error):
            con.execute(statement)
    assert not Path("/tmp/pactboard-escape.csv").exists()  # noqa: S108 - the path the escape tried
    assert con.execute("SELECT current_setting('enable_external_access')").fetchone() == (False,)


def test_the_ingest_connection_reads_its_file_writes_its_work_folder_and_nothing_else(tmp_path: Path):
    source = tmp_path / "upload.csv"
    source.write_text("a,b\n1,2\n")
    work = tmp_path / "work"
    work.mkdir()
    con = pipeline._connect(work, source, "256MB", 1)
    try:
        assert con.execute("SELECT count(*) FROM read_csv($p)", {"p": str(source)}).fetchone() == (1,)
        con.execute(f"COPY (SELECT 1 AS x) TO '{work / 'data.parquet'}' (FORMAT parquet)")
        assert (work / "data.parquet").is_file()
        # A neighbour of the work folder whose name starts the same is outside it.
        with pytest.raises(duckdb.Error):
            con.execute(f"COPY (SELECT 1) TO '{tmp_path / 'work-other.csv'}'")
        with pytest.raises(duckdb.Error):
            con.execute("SELECT * FROM read_csv($p)", {"p": str(tmp_path / "other.csv")})
        assert con.execute("SELECT current_setting('memory_limit')").fetchone() != ("64.0 GiB",)
        _refuses_every_escape(con)
    finally:
        con.close()


def test_the_formula_connection_refuses_every_escape(tmp_path: Path):
    con = formula_connect(allowed_paths=[tmp_path / "x.parquet"])
    try:
        _refuses_every_escape(con)
    finally:
        con.close()


def test_merge_and_demo_open_the_engine_connection(monkeypatch, tmp_path: Path):
    opened: list[tuple[bool, bool]] = []

    def recording(**kwargs):
        con = engine_connect(**kwargs)
        settings = con.execute(
            "SELECT current_setting('enable_external_access'), current_setting('lock_configuration')"
        ).fetchone()
        opened.append(tuple(settings))  # type: ignore[arg-type]
        return con

    monkeypatch.setattr(history, "engine_connect", recording)
    monkeypatch.setattr(dataset_services, "engine_connect", recording)
    months = history._support_months(history.history_months()[:1])
    path = tmp_path / "contacts.parquet"
    assert history.contacts_parquet_write(months, tz="Europe/Berlin", path=path) == months[0].contacts
    # Again over the same file: DuckDB would write through a 'tmp_' file the lockdown does not allow.
    assert history.contacts_parquet_write(months, tz="Europe/Berlin", path=path) == months[0].contacts
    assert not list(tmp_path.glob(".spill-*"))  # its spill folder is removed
    _, rows, *_ = dataset_services._merge_versions(
        previous=None,
        upload=path,
        time_column="opened_at",
        tz="Europe/Berlin",
        dest_dir=tmp_path,
        spill_dir=tmp_path / "spill",
    )
    assert rows == months[0].contacts
    assert opened == [(False, True)] * 3


def test_an_ingest_that_overruns_its_time_limit_is_refused(tmp_path: Path):
    rows = [_contact(i, f"2026-10-{1 + i % 28:02d}T08:00:00+02:00", fcr="true") for i in range(5000)]
    source = _write(tmp_path / "big.csv", rows)
    with pytest.raises(PactboardError, match="took longer than its limit") as refused:
        ingest.dataset_file_ingest(source=source, schema=CONTACTS, dest_dir=tmp_path / "out", timeout=1e-6)
    assert refused.value.details[0].code == "ingest_timeout"
    assert not list((tmp_path / "out").glob("*.parquet"))  # nothing stored
    # The same file within the limit is stored.
    assert ingest.dataset_file_ingest(source=source, schema=CONTACTS, dest_dir=tmp_path / "out").row_count == 5000
