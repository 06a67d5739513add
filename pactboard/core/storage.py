"""Where stored files live: the data dir, or an S3-compatible object store shared by several hosts.

Uploads (``uploads/<sha256><suffix>``, report PDFs under ``uploads/reports/``) and dataset
versions (``datasets/<sha256>.parquet``) are addressed by a *key*, a relative POSIX path. The
key is what the database stores (``ImportBatch.stored_path``, ``Report.pdf_path``); it is the
same path relative to the data dir that was stored before object storage existed, so files
already in a data dir are read as they are.

Two implementations answer the same calls (``put_file``, ``put_bytes``, ``open``, ``read_bytes``,
``exists``, ``delete``, ``list``, ``local_file``, ``arrow``):

- ``LocalStorage`` (the default): ``<PACTBOARD_DATA_DIR>/<key>``; a write goes to a temporary file
  beside the target, is flushed to disk and renamed over it, so a reader sees all or nothing.
- ``S3Storage`` (``PACTBOARD_STORAGE_URL=s3://bucket/prefix``): ``<prefix>/<key>`` in the bucket.
  A write is one PUT, or a multipart upload that S3 makes visible only when it completes (and
  that boto3 aborts on failure), so a reader never sees part of an object either.

DuckDB never gets network access: it scans a dataset in the object store through a pyarrow
dataset on ``pyarrow.fs.S3FileSystem`` (``arrow``), registered into its locked-down connection.

Keys are checked (``key_check``) before any use: letters, digits, ``._-`` and ``/`` between
non-empty parts, no ``..``, no absolute path, so no key can reach outside the store.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlparse

from django.conf import settings

from pactboard.core.errors import PactboardError

if TYPE_CHECKING:
    import pyarrow.fs

MAX_KEY_LENGTH = 500
_KEY_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
_CHUNK = 1 << 20


class StorageError(PactboardError):
    """A stored file that is missing, or a key or store that cannot be used."""


def key_check(key: str) -> str:
    """``key`` if it is a safe relative key (``uploads/abc.csv``); else StorageError naming the problem."""
    if not isinstance(key, str) or not key:
        raise StorageError("A storage key must be a non-empty relative path such as 'uploads/<sha256>.csv'.")
    if len(key) > MAX_KEY_LENGTH:
        raise StorageError(f"A storage key is at most {MAX_KEY_LENGTH} characters: {key[:60]!r}...")
    if key.startswith("/") or "\\" in key:
        raise StorageError(f"A storage key is a relative path with '/' between its parts, not {key[:200]!r}.")
    for part in key.split("/"):
        if part in ("", ".", "..") or not _KEY_PART.match(part):
            raise StorageError(
                f"The storage key {key[:200]!r} has an unsafe part {part[:60]!r}: use letters, digits, '.', '_' "
                "and '-', never '..' or an empty part."
            )
    return key


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int


class Storage(ABC):
    """The calls every store answers; keys as described in the module docstring."""

    description: str

    @abstractmethod
    def put_file(self, key: str, source: Path, *, move: bool = False) -> None:
        """Store the file ``source`` under ``key`` atomically (``move``: ``source`` may be consumed)."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically."""

    @abstractmethod
    def open(self, key: str) -> IO[bytes]:
        """A readable binary stream of the object; StorageError when it is missing."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object (nothing happens when it is missing)."""

    @abstractmethod
    def list(self, prefix: str) -> Iterator[StoredObject]:
        """Every stored object under ``prefix`` (a key or folder), sorted by key; work files are not listed."""

    @abstractmethod
    def arrow(self, key: str) -> tuple[str, pyarrow.fs.FileSystem | None]:
        """How pyarrow reaches the object: (path, filesystem); filesystem None for a plain local path."""

    def read_bytes(self, key: str) -> bytes:
        with self.open(key) as fh:
            return fh.read()

    @contextlib.contextmanager
    def local_file(self, key: str, *, work_dir: Path | None = None) -> Iterator[Path]:
        """A local path holding the object while the block runs (a download, removed afterwards)."""
        key_check(key)
        suffix = "".join(Path(key).suffixes[-1:])
        fd, name = tempfile.mkstemp(prefix=".fetch-", suffix=suffix, dir=work_dir)
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out, self.open(key) as source:
                shutil.copyfileobj(source, out, _CHUNK)
            yield path
        finally:
            path.unlink(missing_ok=True)


def _missing(key: str, where: str) -> StorageError:
    return StorageError(f"The stored file {key!r} is missing from {where}: restore it from a backup.", kind="not_found")


def _write_atomic(target: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Write ``target`` whole or not at all: into a temporary file beside it, synced, then renamed over it."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class LocalStorage(Storage):
    """Files under one folder (the data dir): the default, and how every existing install stores them."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.description = f"the data dir {self.root}"

    def path(self, key: str) -> Path:
        return self.root.joinpath(*key_check(key).split("/"))

    def put_file(self, key: str, source: Path, *, move: bool = False) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        if move:
            try:
                with Path(source).open("rb") as fh:
                    os.fsync(fh.fileno())
                os.replace(source, target)  # same file system: atomic
                _fsync_dir(target.parent)
                return
            except OSError as exc:
                if exc.errno != errno.EXDEV:  # another file system: copy below
                    raise
        with Path(source).open("rb") as src:
            _write_atomic(target, lambda out: shutil.copyfileobj(src, out, _CHUNK))
        if move:
            Path(source).unlink(missing_ok=True)

    def put_bytes(self, key: str, data: bytes) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(target, lambda out: out.write(data))

    def open(self, key: str) -> IO[bytes]:
        try:
            return self.path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError):
            raise _missing(key, self.description) from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def list(self, prefix: str) -> Iterator[StoredObject]:
        base = self.path(prefix.rstrip("/"))
        if base.is_file():
            yield StoredObject(prefix, base.stat().st_size)
            return
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            relative = path.relative_to(self.root).as_posix()
            # Dotted names are work files (a write in progress, an import's work folder).
            if path.is_file() and not path.is_symlink() and not any(p.startswith(".") for p in relative.split("/")):
                yield StoredObject(relative, path.stat().st_size)

    def arrow(self, key: str) -> tuple[str, pyarrow.fs.FileSystem | None]:
        return str(self.path(key)), None

    @contextlib.contextmanager
    def local_file(self, key: str, *, work_dir: Path | None = None) -> Iterator[Path]:
        path = self.path(key)
        if not path.is_file():
            raise _missing(key, self.description)
        yield path


@dataclass(frozen=True)
class S3Config:
    bucket: str
    prefix: str
    endpoint_url: str | None
    region: str
    access_key_id: str | None
    secret_access_key: str | None


def s3_url_parse(url: str) -> tuple[str, str]:
    """(bucket, prefix) of ``s3://bucket/prefix``; ValueError saying what is wrong."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"expected s3://bucket/prefix, got {url!r}")
    if parsed.query or parsed.fragment or parsed.params:
        raise ValueError(f"expected s3://bucket/prefix without '?' or '#', got {url!r}")
    prefix = parsed.path.strip("/")
    if prefix:
        key_check(prefix)
    return parsed.netloc, prefix


class S3Storage(Storage):
    """Objects in an S3-compatible store (AWS S3, MinIO, Ceph, ...): several hosts read and write the same files."""

    def __init__(self, config: S3Config) -> None:
        self.config = config
        self.description = f"the object store s3://{config.bucket}/{config.prefix}".rstrip("/")

    @functools.cached_property
    def _client(self) -> Any:
        import boto3  # imported on first use: a data-dir install never loads it
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.config.endpoint_url,
            region_name=self.config.region,
            aws_access_key_id=self.config.access_key_id,
            aws_secret_access_key=self.config.secret_access_key,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )

    @functools.cached_property
    def _arrow_fs(self) -> pyarrow.fs.FileSystem:
        from pyarrow.fs import S3FileSystem

        endpoint = urlparse(self.config.endpoint_url) if self.config.endpoint_url else None
        options: dict[str, Any] = {"region": self.config.region, "allow_bucket_creation": False}
        if endpoint is not None:
            options["endpoint_override"] = endpoint.netloc + endpoint.path.rstrip("/")
            options["scheme"] = endpoint.scheme or "https"
        if self.config.access_key_id and self.config.secret_access_key:
            options["access_key"] = self.config.access_key_id
            options["secret_key"] = self.config.secret_access_key
        return S3FileSystem(**options)

    def object_key(self, key: str) -> str:
        key_check(key)
        return f"{self.config.prefix}/{key}" if self.config.prefix else key

    def put_file(self, key: str, source: Path, *, move: bool = False) -> None:
        # upload_file sends one PUT or a multipart upload that becomes visible only when complete
        # (and is aborted on failure), so a reader never sees part of an object.
        self._client.upload_file(str(source), self.config.bucket, self.object_key(key))
        if move:
            Path(source).unlink(missing_ok=True)

    def put_bytes(self, key: str, data: bytes) -> None:
        self._client.put_object(Bucket=self.config.bucket, Key=self.object_key(key), Body=data)

    def open(self, key: str) -> IO[bytes]:
        from botocore.exceptions import ClientError

        try:
            answer = self._client.get_object(Bucket=self.config.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise _missing(key, self.description) from None
            raise
        return answer["Body"]

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client.head_object(Bucket=self.config.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.config.bucket, Key=self.object_key(key))

    def list(self, prefix: str) -> Iterator[StoredObject]:
        base = self.object_key(prefix.rstrip("/"))
        strip = len(self.config.prefix) + 1 if self.config.prefix else 0
        found: list[StoredObject] = []
        for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.config.bucket, Prefix=base):
            for item in page.get("Contents", []):
                name = str(item["Key"])
                if name != base and not name.startswith(base + "/"):
                    continue  # 'uploads' must not list 'uploads-old/...'
                key = name[strip:]
                if not any(p.startswith(".") for p in key.split("/")):
                    found.append(StoredObject(key, int(item["Size"])))
        yield from sorted(found, key=lambda o: o.key)

    def arrow(self, key: str) -> tuple[str, pyarrow.fs.FileSystem | None]:
        return f"{self.config.bucket}/{self.object_key(key)}", self._arrow_fs


def _fsync_dir(path: Path) -> None:
    """Make a rename durable: a database row may name the file as soon as we return."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@functools.lru_cache(maxsize=4)
def _s3_storage(config: S3Config) -> S3Storage:
    return S3Storage(config)


def storage() -> Storage:
    """The configured store: ``PACTBOARD_STORAGE_URL`` (s3://...) or, by default, the data dir."""
    url = getattr(settings, "STORAGE_URL", "") or ""
    if not url:
        return LocalStorage(Path(settings.DATA_DIR))
    try:
        bucket, prefix = s3_url_parse(url)
    except ValueError as exc:  # settings check this at start; a test may set it later
        raise StorageError(f"PACTBOARD_STORAGE_URL: {exc}") from None
    return _s3_storage(
        S3Config(
            bucket=bucket,
            prefix=prefix,
            endpoint_url=getattr(settings, "S3_ENDPOINT_URL", None) or None,
            region=getattr(settings, "S3_REGION", "") or "us-east-1",
            access_key_id=getattr(settings, "S3_ACCESS_KEY_ID", None) or None,
            secret_access_key=getattr(settings, "S3_SECRET_ACCESS_KEY", None) or None,
        )
    )
