"""Backups that restore: the database and the stored files (uploads, datasets) in one archive.

An archive is a plain tar file:

- ``manifest.json``: format, when, which engine, and every stored file with its size and SHA-256;
- ``database.sqlite3`` (SQLite's online backup API: a consistent copy while the site runs) or
  ``database.pgdump`` (``pg_dump --format=custom``: one consistent snapshot, restored by ``pg_restore``);
- ``files/uploads/...`` and ``files/datasets/...``: the files values and datasets were read from.

The files are read from, and restored into, the configured store (``core/storage.py``): the data
dir, or the S3-compatible object store of a deployment past one machine. Either way one archive
holds everything a restore needs; an object store's own versioning or replication is a second
line, not a replacement.

The database is copied first, then the files. Stored files are written before the rows that
name them are committed and are never changed afterwards (datasets are content-addressed), so
every file the copied database names is in the archive; a file newer than the snapshot is
harmless. The generated local secret key is not copied: production keys come from the
environment, and a backup should not carry secrets.

A restore goes into an empty database and an empty (or missing) files area only, checks every
file against the manifest while extracting, and refuses archive members that would land outside
the data dir. Nothing already stored is overwritten.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from pactboard.core.errors import PactboardError
from pactboard.core.storage import LocalStorage, Storage, StoredObject, key_check

FORMAT = "pactboard-backup/1"
FILE_AREAS = ("uploads", "datasets")
_CHUNK = 1 << 20

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BackupResult:
    path: Path
    engine: str
    files: int
    bytes: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _engine(database: dict[str, Any]) -> str:
    engine = str(database["ENGINE"])
    if engine.endswith("sqlite3"):
        return "sqlite"
    if engine.endswith("postgresql"):
        return "postgresql"
    raise PactboardError(f"Backups support SQLite and PostgreSQL, not {engine}.", kind="invalid")


def _pg_env(database: dict[str, Any]) -> dict[str, str]:
    """libpq's variables for pg_dump/pg_restore, so the password never shows in a process list."""
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if database.get(key):
            env[var] = str(database[key])
    env["PGDATABASE"] = str(database["NAME"])
    return env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    raise PactboardError(f"{name} is not installed: install PostgreSQL's client tools (postgresql-client).")


def _stored_files(store: Storage) -> Iterator[StoredObject]:
    # Work files (dotted names: an import in progress, a write not yet renamed) are not listed.
    for area in FILE_AREAS:
        yield from store.list(area)


class _Hashing(io.RawIOBase):
    """Reads through to ``source`` and hashes what passes, so a stored file is read once."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        chunk = self.source.read(size if size is not None and size >= 0 else _CHUNK)
        self.digest.update(chunk)
        return bytes(chunk)


def backup_create(
    *,
    target: Path,
    database: dict[str, Any],
    data_dir: Path | None = None,
    store: Storage | None = None,
    progress: Progress = lambda _: None,
) -> BackupResult:
    """Write one archive of the database and the stored files to ``target`` (atomically: a partial file never shows).

    The files come from ``store`` (the configured storage), or from the data dir ``data_dir``.
    """
    engine = _engine(database)
    store = _store(store, data_dir)
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=target.parent) as work:
        work_dir = Path(work)
        if engine == "sqlite":
            dump = work_dir / "database.sqlite3"
            progress("copying the SQLite database (online backup)")
            source = sqlite3.connect(str(database["NAME"]))
            try:
                copy = sqlite3.connect(str(dump))
                try:
                    source.backup(copy)
                finally:
                    copy.close()
            finally:
                source.close()
        else:
            dump = work_dir / "database.pgdump"
            progress("dumping the PostgreSQL database (pg_dump)")
            done = subprocess.run(  # noqa: S603  (fixed arguments, no shell)
                [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--file", str(dump)],
                env=_pg_env(database),
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise PactboardError(f"pg_dump failed: {done.stderr.strip()[:500]}")
        files = list(_stored_files(store))
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "engine": engine,
            "database": {"name": dump.name, "sha256": _sha256(dump), "size": dump.stat().st_size},
            "files": [],
        }
        partial = work_dir / "archive.tar"
        total = dump.stat().st_size
        with tarfile.open(partial, "w") as tar:
            tar.add(dump, arcname=dump.name)
            for i, stored in enumerate(files, 1):
                name = "files/" + stored.key
                info = tarfile.TarInfo(name)
                info.size = stored.size
                info.mtime = int(datetime.now(UTC).timestamp())
                with store.open(stored.key) as stream:
                    reader = _Hashing(stream)
                    tar.addfile(info, reader)
                manifest["files"].append({"name": name, "sha256": reader.digest.hexdigest(), "size": stored.size})
                total += stored.size
                if i % 100 == 0 or i == len(files):
                    progress(f"copied {i:,} of {len(files):,} stored files")
            body = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(body)
            info.mtime = int(datetime.now(UTC).timestamp())
            tar.addfile(info, io.BytesIO(body))
        with partial.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, target)
    return BackupResult(path=target, engine=engine, files=len(files), bytes=total)


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.getmember("manifest.json")
    except KeyError:
        raise PactboardError("This is not a Pactboard backup: it has no manifest.json.") from None
    handle = tar.extractfile(member)
    if handle is None or member.size > 64 * _CHUNK:
        raise PactboardError("The backup's manifest.json is not a regular file of reasonable size.")
    manifest = json.loads(handle.read())
    if manifest.get("format") != FORMAT:
        raise PactboardError(f"Unknown backup format {manifest.get('format')!r}: this Pactboard reads {FORMAT}.")
    return dict(manifest)


def _safe_destination(name: str) -> str:
    """The storage key an archive member goes to; refuses absolute paths, '..' and anything outside the file areas."""
    posix = PurePosixPath(name)
    parts = posix.parts
    if posix.is_absolute() or ".." in parts or len(parts) < 3 or parts[0] != "files" or parts[1] not in FILE_AREAS:
        raise PactboardError(f"The backup holds a file outside the stored-file areas: {name[:200]!r}.")
    try:
        return key_check("/".join(parts[1:]))
    except PactboardError:
        raise PactboardError(f"The backup holds a file with an unsafe name: {name[:200]!r}.") from None


def _store(store: Storage | None, data_dir: Path | None) -> Storage:
    if store is not None:
        return store
    if data_dir is None:
        raise ValueError("give the store or the data dir")
    return LocalStorage(data_dir)


def _sqlite_is_empty(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return True
    connection = sqlite3.connect(str(path))
    try:
        return connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] == 0
    finally:
        connection.close()


def _extract_checked(tar: tarfile.TarFile, member: tarfile.TarInfo, destination: Path, sha256: str) -> None:
    if not member.isfile():
        raise PactboardError(f"The backup member {member.name[:200]!r} is not a regular file.")
    source = tar.extractfile(member)
    if source is None:
        raise PactboardError(f"The backup member {member.name[:200]!r} cannot be read.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.restoring")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != sha256:
        partial.unlink()
        raise PactboardError(f"{member.name[:200]} does not match its checksum in the manifest: the backup is damaged.")
    os.replace(partial, destination)


def backup_restore(
    *,
    archive: Path,
    database: dict[str, Any],
    data_dir: Path,
    store: Storage | None = None,
    progress: Progress = lambda _: None,
) -> BackupResult:
    """Restore an archive into an empty database and empty file areas; refuses to overwrite anything.

    Files go to ``store`` (the configured storage) or, without one, the data dir ``data_dir``, which
    also holds the restore's work folder.
    """
    engine = _engine(database)
    store = _store(store, data_dir)
    if not archive.is_file():
        raise PactboardError(f"No backup at {archive}.")
    for area in FILE_AREAS:
        if next(iter(store.list(area)), None) is not None:
            raise PactboardError(
                f"The {area} area of {store.description} already holds files: restore into a fresh data dir "
                "(PACTBOARD_DATA_DIR) or an empty bucket prefix (PACTBOARD_STORAGE_URL)."
            )
    with tarfile.open(archive, "r") as tar:
        manifest = _read_manifest(tar)
        if manifest["engine"] != engine:
            raise PactboardError(
                f"This backup is of a {manifest['engine']} database; the configured database is {engine}."
            )
        # Check every file name before writing anything.
        destinations = {f["name"]: (_safe_destination(f["name"]), f["sha256"]) for f in manifest["files"]}
        db_info = manifest["database"]
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".restore-", dir=data_dir) as work:
            dump = Path(work) / db_info["name"]
            _extract_checked(tar, tar.getmember(db_info["name"]), dump, db_info["sha256"])
            if engine == "sqlite":
                target = Path(str(database["NAME"]))
                if not _sqlite_is_empty(target):
                    raise PactboardError(f"{target} already holds a database: restore into a fresh one.")
                progress("restoring the SQLite database")
                source = sqlite3.connect(str(dump))
                try:
                    copy = sqlite3.connect(str(target))
                    try:
                        source.backup(copy)
                    finally:
                        copy.close()
                finally:
                    source.close()
            else:
                progress("restoring the PostgreSQL database (pg_restore)")
                env = _pg_env(database)
                tables = subprocess.run(  # noqa: S603  (fixed arguments, no shell)
                    [_pg_tool("psql"), "-XAtc", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if tables.returncode != 0:
                    raise PactboardError(f"Cannot reach the database: {tables.stderr.strip()[:500]}")
                if tables.stdout.strip() != "0":
                    raise PactboardError(f"Database {database['NAME']} is not empty: restore into a fresh one.")
                done = subprocess.run(  # noqa: S603  (fixed arguments, no shell)
                    [
                        _pg_tool("pg_restore"),
                        "--no-owner",
                        "--no-privileges",
                        "--exit-on-error",
                        "--single-transaction",
                        "--dbname",
                        str(database["NAME"]),
                        str(dump),
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if done.returncode != 0:
                    raise PactboardError(f"pg_restore failed: {done.stderr.strip()[:500]}")
        total = int(db_info["size"])
        for i, (name, (key, sha256)) in enumerate(destinations.items(), 1):
            with tempfile.TemporaryDirectory(prefix=".restore-", dir=data_dir) as work:
                partial = Path(work) / "file"
                _extract_checked(tar, tar.getmember(name), partial, sha256)
                total += partial.stat().st_size
                store.put_file(key, partial, move=True)  # checked first, then stored atomically
            if i % 100 == 0 or i == len(destinations):
                progress(f"restored {i:,} of {len(destinations):,} stored files")
    return BackupResult(path=archive, engine=engine, files=len(destinations), bytes=total)
