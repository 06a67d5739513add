"""The life of an import batch around its task: a guard that always ends it, a heartbeat, and recovery.

Every import or upload task runs its service inside ``import_batch_guard``: whatever happens (a
refused file, a bug, a MemoryError, the worker being asked to stop), the batch ends as failed
with a message the user can act on, and the task's work folder is removed.

A worker that is killed outright (SIGKILL, out-of-memory killer, a power cut) runs no code at
all, so its batch is found afterwards: while the task runs, a heartbeat thread touches the batch
every ``PACTBOARD_IMPORT_STALE_SECONDS / 10`` seconds; a batch still "running" without a touch
for ``PACTBOARD_IMPORT_STALE_SECONDS`` belongs to a dead worker and is failed, with a message
telling the user to upload the file again. It is not resumed: the file that was being read may
be what killed the worker, and running it again would kill the next one.

Recovery needs no scheduler of its own (the project runs none): it runs at the start of every
import task (so the next worker to pick up any import sweeps up after a dead one, including the
work folders it left) and whenever someone reads a running batch (its page polls every second;
the API is polled the same way), which is exactly when a stuck "running" would be seen.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.measurements import limits
from pactboard.measurements.models import ImportBatch
from pactboard.measurements.selectors import datasets_dir

logger = logging.getLogger(__name__)

_FINISHED = (ImportBatch.Status.DONE, ImportBatch.Status.FAILED)
_WORK_NAME = re.compile(r"^\.ingest-b(?P<batch>\d+)-")


def _stale_after() -> timedelta:
    return timedelta(seconds=int(getattr(settings, "PACTBOARD_IMPORT_STALE_SECONDS", 120)))


def work_prefix(batch_id: int) -> str:
    """The name prefix of a batch's ingest work folder, so that a dead worker's folder can be found."""
    return f".ingest-b{batch_id}-"


def _staging_dir() -> Path:
    return datasets_dir() / "staging"


def errors_capped(errors: list[dict[str, Any]], limit: int = limits.ERRORS_STORED) -> list[dict[str, Any]]:
    """At most ``limit`` stored errors, then one line counting the rest (a list already capped stays as it is)."""
    if len(errors) <= limit + 1:
        return errors
    rest = len(errors) - limit
    return [*errors[:limit], {"message": limits.more_errors(rest), "location": None, "code": "more_errors"}]


def import_batch_fail(*, batch_id: int, message: str, details: list[ErrorDetail] | None = None) -> bool:
    """End an unfinished batch as failed with ``message`` and at most ``ERRORS_STORED`` errors (False: it had ended)."""
    errors = errors_capped([d.as_dict() for d in details or []])
    changed = (
        ImportBatch.objects.filter(pk=batch_id)
        .exclude(status__in=_FINISHED)
        .update(status=ImportBatch.Status.FAILED, message=message, errors=errors, updated_at=timezone.now())
    )
    return bool(changed)


def _unexpected_message(exc: BaseException) -> str:
    what = type(exc).__name__
    if isinstance(exc, MemoryError):
        why = "the file needed more memory than the worker has"
    elif isinstance(exc, (SystemExit, KeyboardInterrupt)):
        why = "the worker was stopped while reading it"
    else:
        why = "of an error on our side"
    return (
        f"The file could not be processed because {why} ({what}). Nothing was written. Please upload the file "
        "again; if this happens again, send the file name and this message to your administrator."
    )


def _work_folders_remove(batch_id: int) -> None:
    staging = _staging_dir()
    if staging.is_dir():
        for folder in staging.glob(f"{work_prefix(batch_id)}*"):
            shutil.rmtree(folder, ignore_errors=True)


def import_batch_heartbeat(*, batch_id: int) -> None:
    """Mark a running batch as alive now."""
    ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.RUNNING).update(updated_at=timezone.now())


@contextmanager
def _heartbeat(batch_id: int) -> Iterator[None]:
    """Touch the batch from another thread while the task runs (phases without progress reports included)."""
    every = max(1.0, _stale_after().total_seconds() / 10)
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every):
                try:
                    import_batch_heartbeat(batch_id=batch_id)
                except DatabaseError:  # e.g. SQLite busy while the task holds the write lock: next time
                    logger.debug("heartbeat of import batch %s skipped", batch_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"pactboard-heartbeat-{batch_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextmanager
def import_batch_guard(*, batch_id: int) -> Iterator[None]:
    """Run an import task's service so that the batch always ends and its work folder never outlives it."""
    try:
        import_batches_recover()
    except Exception:  # recovery of others must never keep this batch from running
        logger.exception("recovering stale import batches failed")
    try:
        with _heartbeat(batch_id):
            yield
    except PactboardError as exc:
        import_batch_fail(batch_id=batch_id, message=exc.message, details=exc.details)
    except Exception as exc:
        logger.exception("import batch %s failed unexpectedly", batch_id)
        import_batch_fail(batch_id=batch_id, message=_unexpected_message(exc))
    except BaseException as exc:  # the worker is stopping or out of memory: end the batch, then let it stop
        import_batch_fail(batch_id=batch_id, message=_unexpected_message(exc))
        raise
    finally:
        _work_folders_remove(batch_id)


_DEAD_MESSAGE = (
    "The worker processing this file stopped before it finished (it was restarted, or ran out of memory). "
    "Nothing was written. Please upload the file again; if it stops again, the file may be too large to process: "
    "split it into smaller files."
)


def import_batch_recover(*, batch: ImportBatch) -> ImportBatch:
    """Fail ``batch`` if it is running without a heartbeat (its worker died); return it as it now stands."""
    if batch.status != ImportBatch.Status.RUNNING or timezone.now() - batch.updated_at < _stale_after():
        return batch
    if _fail_if_stale(batch.pk):
        batch.refresh_from_db()
    return batch


def _fail_if_stale(batch_id: int) -> bool:
    cutoff = timezone.now() - _stale_after()
    try:
        changed = ImportBatch.objects.filter(
            pk=batch_id, status=ImportBatch.Status.RUNNING, updated_at__lt=cutoff
        ).update(status=ImportBatch.Status.FAILED, message=_DEAD_MESSAGE, errors=[], updated_at=timezone.now())
    except DatabaseError:  # the database is busy (SQLite): the next read tries again
        logger.warning("could not fail stale import batch %s now", batch_id, exc_info=True)
        return False
    if changed:
        logger.warning("import batch %s had no heartbeat since before %s: failed", batch_id, cutoff.isoformat())
        _work_folders_remove(batch_id)
    return bool(changed)


def import_batches_recover() -> int:
    """Fail every running batch whose worker died and remove work folders no running batch owns; the count failed."""
    cutoff = timezone.now() - _stale_after()
    stale = list(
        ImportBatch.objects.filter(status=ImportBatch.Status.RUNNING, updated_at__lt=cutoff).values_list(
            "pk", flat=True
        )
    )
    failed = sum(_fail_if_stale(pk) for pk in stale)
    _orphans_remove(cutoff.timestamp())
    return failed


def _orphans_remove(older_than: float) -> None:
    """Work folders of batches that are not running, and merge files a dead worker left half-written."""
    staging = _staging_dir()
    if staging.is_dir():
        running = set(ImportBatch.objects.filter(status=ImportBatch.Status.RUNNING).values_list("pk", flat=True))
        for folder in staging.glob(".ingest-*"):
            owner = _WORK_NAME.match(folder.name)
            if owner is None or int(owner.group("batch")) not in running:
                shutil.rmtree(folder, ignore_errors=True)
    store = datasets_dir()
    if store.is_dir():
        for part in store.glob(".merge-*.parquet"):
            try:
                if part.stat().st_mtime < older_than:
                    part.unlink()
            except FileNotFoundError:
                pass


def import_task_run(*, batch_id: int, run: Callable[[], object]) -> str:
    """Run ``run()`` (a service returning the batch) under the guard; the batch's final status."""
    started = time.monotonic()
    with import_batch_guard(batch_id=batch_id):
        run()
    status = ImportBatch.objects.filter(pk=batch_id).values_list("status", flat=True).first() or ""
    logger.info("import batch %s ended %s in %.1f s", batch_id, status, time.monotonic() - started)
    return status
