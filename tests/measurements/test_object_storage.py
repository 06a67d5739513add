"""Past one machine: the dataset flow on a real S3-compatible server (moto's, over HTTP), started here.

Uploads and dataset versions go to the object store, DuckDB reads the versions through a pyarrow
dataset in its locked-down connection, and a backup holds the store's objects and restores them
into another bucket prefix, where `measurements verify` recomputes every value again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from pactboard.core.backup import backup_create, backup_restore
from pactboard.core.errors import PactboardError
from pactboard.core.storage import LocalStorage, S3Storage, StorageError, key_check, storage
from pactboard.formulas import formula_compile, formula_compute
from pactboard.measurements import services
from pactboard.measurements.models import DatasetVersion, Measurement
from pactboard.measurements.selectors import (
    dataset_parquet_files,
    dataset_parquet_key,
    measurement_records,
)
from pactboard.measurements.verify import measurements_verify
from tests.conftest import World, client_for
from tests.measurements.conftest import agreed  # noqa: F401  (the fixture)
from tests.measurements.test_datasets import OCTOBER, _contact, _upload, _write

BUCKET = "pactboard-test"
CREDENTIALS = {"PACTBOARD_S3_ACCESS_KEY_ID": "testing", "PACTBOARD_S3_SECRET_ACCESS_KEY": "testing-secret"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible HTTP server on a free port, with one bucket."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing-secret",
    ).create_bucket(Bucket=BUCKET)
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture
def s3(settings, s3_endpoint: str) -> str:
    """Point the storage at a fresh prefix of the bucket; return the prefix."""
    prefix = f"run-{uuid.uuid4().hex[:12]}"
    settings.STORAGE_URL = f"s3://{BUCKET}/{prefix}"
    settings.S3_ENDPOINT_URL = s3_endpoint
    settings.S3_REGION = "us-east-1"
    settings.S3_ACCESS_KEY_ID = CREDENTIALS["PACTBOARD_S3_ACCESS_KEY_ID"]
    settings.S3_SECRET_ACCESS_KEY = CREDENTIALS["PACTBOARD_S3_SECRET_ACCESS_KEY"]
    return prefix


def _objects(endpoint: str, prefix: str) -> list[str]:
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing-secret",
    )
    answer = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/")
    return sorted(str(o["Key"])[len(prefix) + 1 :] for o in answer.get("Contents", []))


def _pactboard(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pactboard.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _value(code: str, month: str) -> Decimal:
    return Measurement.objects.get(kpi_code=code, period_start=f"{month}-01").value


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("agreed")
def test_the_dataset_flow_runs_on_an_s3_compatible_store(world: World, s3: str, s3_endpoint: str, tmp_path: Path):
    assert isinstance(storage(), S3Storage)
    contacts = services.dataset_declare(
        actor=world.client_manager, engagement=world.engagement, name="contacts", standard="contacts"
    )
    upload = _write(tmp_path / "oct.csv", OCTOBER)
    batch = _upload(world, contacts, upload)
    assert batch.status == "done", (batch.message, batch.errors)
    # The figures worked out by hand in test_datasets.py: October FCR 3 of 4 handled = 75, CSAT 2 of
    # 3 responses top-two-box = 66.666667; November (c6 at 00:30 Berlin): FCR 0.
    assert _value("first_contact_resolution", "2026-10") == Decimal("75")
    assert _value("csat", "2026-10") == Decimal("66.666667")
    assert _value("first_contact_resolution", "2026-11") == Decimal("0")

    v1 = DatasetVersion.objects.get()
    stored = _objects(s3_endpoint, s3)
    assert stored == sorted([batch.stored_path, dataset_parquet_key(v1)])
    assert batch.stored_path.startswith("uploads/")
    assert batch.stored_path.endswith(".csv")
    # Nothing of the version stays in this host's data dir: another host reads it from the store.
    assert not list(Path(settings.DATA_DIR).glob("datasets/*.parquet"))
    assert not (Path(settings.DATA_DIR) / "uploads").exists()

    # DuckDB scanned the object through pyarrow; the same file read locally gives the same values.
    files = dataset_parquet_files(v1)
    assert files.filesystem is not None
    local = tmp_path / "v1.parquet"
    local.write_bytes(storage().read_bytes(dataset_parquet_key(v1)))
    schema = contacts.schema()
    rev = Measurement.objects.get(kpi_code="first_contact_resolution", period_start="2026-10-01").revisions.get()
    formula = {"fcr": formula_compile(expression=rev.formula, schema=schema, row_filter=rev.row_filter or None)}
    common = {"formulas": formula, "schema": schema, "period_kind": "month", "tz": "Europe/Berlin"}
    over_s3 = formula_compute(parquet_paths=files.paths, filesystem=files.filesystem, **common)
    assert over_s3 == formula_compute(parquet_paths=[local], **common)
    assert over_s3["fcr"] == {date(2026, 10, 1): Decimal("75"), date(2026, 11, 1): Decimal("0")}
    records = measurement_records(measurement=rev.measurement)
    assert sorted(records.table.column("contact_id").to_pylist()) == ["c1", "c2", "c3", "c4"]
    # The uploaded file downloads as received, streamed from the store.
    response = client_for(world.client_manager).get(
        reverse("measurements:import_file", args=[world.engagement.pk, batch.pk])
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == upload.read_bytes()

    # A second version: the corrected 3 October (c3 resolved) replaces that day: FCR 4 of 4 = 100.
    fix = _write(tmp_path / "fix.csv", [_contact(3, "2026-10-03T08:00:00+02:00", fcr="true", csat="2")])
    assert _upload(world, contacts, fix).status == "done"
    v1, v2 = DatasetVersion.objects.order_by("number")
    assert (v1.row_count, v2.row_count) == (6, 6)
    assert _value("first_contact_resolution", "2026-10") == Decimal("100")
    assert storage().exists(dataset_parquet_key(v1))  # the old version stays as it was
    assert storage().exists(dataset_parquet_key(v2))

    # verify recomputes every formula value from the store and re-reads nothing it cannot find.
    checked, mismatches = measurements_verify(engagement=world.engagement)
    assert checked == Measurement.objects.filter(engagement=world.engagement).count() > 0
    assert mismatches == []

    # The backup holds the object store's files; restored into another prefix, verify passes there too.
    archive = tmp_path / "pactboard.tar"
    result = backup_create(target=archive, database=settings.DATABASES["default"], store=storage())
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {f"files/{key}" for key in _objects(s3_endpoint, s3)} <= names
    assert f"files/{dataset_parquet_key(v2)}" in names
    assert result.files == len(_objects(s3_endpoint, s3)) == 4  # two uploads, two versions

    if connection.vendor != "sqlite":
        return  # the restore into a fresh PostgreSQL database is covered by tests/core/test_backup.py
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PACTBOARD_", "DATABASE_URL"))}
    restored_prefix = f"{s3}-restored"
    env |= CREDENTIALS | {
        "PACTBOARD_DEBUG": "true",
        "PACTBOARD_DATA_DIR": str(tmp_path / "restored"),
        "PACTBOARD_STORAGE_URL": f"s3://{BUCKET}/{restored_prefix}",
        "PACTBOARD_S3_ENDPOINT_URL": s3_endpoint,
    }
    done = _pactboard(env, "restore", str(archive))
    assert done.returncode == 0, done.stderr
    assert _objects(s3_endpoint, restored_prefix) == _objects(s3_endpoint, s3)
    assert not list((tmp_path / "restored").glob("datasets/*.parquet"))  # into the store, not the data dir
    verify = _pactboard(env, "measurements", "verify", str(world.engagement.pk))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert f"All {checked} values" in verify.stdout
    # Never over what is stored: the store holding files is refused before the database is touched.
    empty_db = tmp_path / "again.sqlite3"
    with pytest.raises(PactboardError, match="already holds files"):
        backup_restore(
            archive=archive,
            database={"ENGINE": "django.db.backends.sqlite3", "NAME": str(empty_db)},
            data_dir=tmp_path / "again",
            store=storage(),
        )
    assert not empty_db.exists()


def test_a_missing_object_is_a_clear_error(s3: str):
    with pytest.raises(StorageError, match="missing from the object store"):
        storage().read_bytes("datasets/0000.parquet")
    assert not storage().exists("datasets/0000.parquet")


def test_s3_writes_reads_lists_and_deletes(s3: str, tmp_path: Path):
    store = storage()
    source = tmp_path / "a.csv"
    source.write_bytes(b"x" * 100)
    store.put_file("uploads/a.csv", source)
    store.put_bytes("uploads/b.csv", b"yy")
    store.put_bytes("uploads-old/c.csv", b"z")  # a sibling prefix is not listed under 'uploads'
    assert [(o.key, o.size) for o in store.list("uploads")] == [("uploads/a.csv", 100), ("uploads/b.csv", 2)]
    assert store.read_bytes("uploads/b.csv") == b"yy"
    with store.local_file("uploads/a.csv", work_dir=tmp_path) as path:
        assert path.read_bytes() == b"x" * 100
        assert path.suffix == ".csv"
    assert not path.exists()  # the download is removed afterwards
    store.delete("uploads/a.csv")
    assert not store.exists("uploads/a.csv")


@pytest.mark.parametrize(
    "key",
    ["", "/etc/passwd", "../secret_key", "uploads/../../etc/passwd", "uploads//a", "uploads/./a", "a\\b", "up loads/a"],
)
def test_unsafe_keys_are_refused(key: str, tmp_path: Path):
    with pytest.raises(StorageError):
        key_check(key)
    with pytest.raises(StorageError):
        LocalStorage(tmp_path).put_bytes(key, b"x")
    assert list(tmp_path.rglob("*")) == []


def test_local_storage_keeps_todays_layout_and_writes_atomically(tmp_path: Path):
    store = LocalStorage(tmp_path)
    store.put_bytes("datasets/abc.parquet", b"1234")
    # The key is the path under the data dir, as ImportBatch.stored_path always held it.
    assert (tmp_path / "datasets" / "abc.parquet").read_bytes() == b"1234"
    (tmp_path / "datasets" / ".abc.parquet.x.part").write_bytes(b"12")  # a write in progress
    (tmp_path / "datasets" / "staging" / ".ingest-b1-x").mkdir(parents=True)
    (tmp_path / "datasets" / "staging" / ".ingest-b1-x" / "data.parquet").write_bytes(b"1")
    assert [o.key for o in store.list("datasets")] == ["datasets/abc.parquet"]
    source = tmp_path / "work.bin"
    source.write_bytes(b"moved")
    store.put_file("uploads/m.bin", source, move=True)
    assert not source.exists()
    assert store.read_bytes("uploads/m.bin") == b"moved"
    with store.local_file("uploads/m.bin") as path:
        assert path == tmp_path / "uploads" / "m.bin"  # no copy for the data dir
    with pytest.raises(StorageError, match="missing from the data dir"):
        store.open("uploads/none.csv")
