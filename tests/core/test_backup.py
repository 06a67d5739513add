"""Backups that restore: archive a live database with its datasets, restore into a fresh one, verify both trails."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from pactboard.core.backup import backup_create, backup_restore
from pactboard.core.errors import PactboardError
from pactboard.measurements import services
from pactboard.measurements.models import DatasetVersion, Measurement
from pactboard.measurements.selectors import dataset_parquet_path
from tests.conftest import World
from tests.measurements.conftest import agreed  # noqa: F401  (the fixture)
from tests.measurements.test_datasets import OCTOBER, _upload, _write

pytestmark = pytest.mark.django_db(transaction=True)


def _pactboard(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pactboard.cli", *args], env=env, capture_output=True, text=True, check=False
    )


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for a subprocess whose database and data dir are new and empty."""
    env = dict(os.environ)
    env["PACTBOARD_DATA_DIR"] = str(tmp_path / "restored")
    if connection.vendor == "sqlite":
        env.pop("DATABASE_URL", None)
        yield env
        return
    # PostgreSQL: an empty database beside the test database, dropped afterwards.
    name = f"restore_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    env["DATABASE_URL"] = f"postgresql://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{name}"
    try:
        yield env
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.usefixtures("agreed")
def test_a_backup_restores_into_a_fresh_database_and_both_verifiers_pass(
    world: World, tmp_path: Path, fresh_database: dict[str, str]
):
    contacts = services.dataset_declare(
        actor=world.client_manager, engagement=world.engagement, name="contacts", standard="contacts"
    )
    batch = _upload(world, contacts, _write(tmp_path / "oct.csv", OCTOBER))
    assert batch.status == "done", batch.errors
    values = Measurement.objects.count()
    assert values > 0

    archive = tmp_path / "pactboard.tar"
    result = backup_create(target=archive, database=settings.DATABASES["default"], data_dir=Path(settings.DATA_DIR))
    # The dataset's Parquet file and the uploaded CSV are in the archive beside the database.
    assert result.files >= 2
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    parquet = dataset_parquet_path(DatasetVersion.objects.get())
    assert "files/" + parquet.relative_to(settings.DATA_DIR).as_posix() in names
    assert "database.sqlite3" in names or "database.pgdump" in names

    env = fresh_database
    restored = _pactboard(env, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert Path(env["PACTBOARD_DATA_DIR"], parquet.relative_to(settings.DATA_DIR)).is_file()
    audit = _pactboard(env, "audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    # measurements verify recomputes each formula value from the restored Parquet and re-reads imported files.
    verify = _pactboard(env, "measurements", "verify", str(world.engagement.pk))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert f"All {values} values" in verify.stdout

    again = _pactboard(env, "restore", str(archive))
    assert again.returncode != 0  # never over what is stored
    assert "fresh" in again.stderr


def test_restore_refuses_a_member_outside_the_data_dir(tmp_path: Path):
    evil = tmp_path / "evil.tar"
    manifest = (
        b'{"format": "pactboard-backup/1", "engine": "sqlite", "created_at": "2026-11-29T00:00:00+00:00",'
        b' "database": {"name": "database.sqlite3", "sha256": "0", "size": 0},'
        b' "files": [{"name": "files/uploads/../../../etc/passwd", "sha256": "0", "size": 0}]}'
    )
    with tarfile.open(evil, "w") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with pytest.raises(PactboardError, match="outside the stored-file areas"):
        backup_restore(
            archive=evil,
            database={"ENGINE": "django.db.backends.sqlite3", "NAME": str(data_dir / "db.sqlite3")},
            data_dir=data_dir,
        )
    assert not (data_dir / "db.sqlite3").exists()  # nothing written


@pytest.mark.usefixtures("world", "agreed")
def test_restore_refuses_a_damaged_file(tmp_path: Path):
    if connection.vendor != "sqlite":
        pytest.skip("the damage check is the same code on both engines; it is exercised on SQLite")
    archive = tmp_path / "pactboard.tar"
    backup_create(target=archive, database=settings.DATABASES["default"], data_dir=Path(settings.DATA_DIR))
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w") as out:
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "database.sqlite3":
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            member.size = len(data)
            out.addfile(member, io.BytesIO(data))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with pytest.raises(PactboardError, match="does not match its checksum"):
        backup_restore(
            archive=damaged,
            database={"ENGINE": "django.db.backends.sqlite3", "NAME": str(data_dir / "db.sqlite3")},
            data_dir=data_dir,
        )
    assert not (data_dir / "db.sqlite3").exists()
