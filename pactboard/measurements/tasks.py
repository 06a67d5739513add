"""Background work for measurements: each task takes ids, calls one service, and is safe to run twice.

Each runs under ``batches.import_task_run``: whatever happens, the batch ends (done or failed
with a message) and its work folder is removed; a worker that dies is detected by heartbeat.
"""

from __future__ import annotations

from django.tasks import task

from pactboard.measurements import batches, recompute, services


@task
def values_import_task(batch_id: int, reason: str = "") -> str:
    return batches.import_task_run(
        batch_id=batch_id, run=lambda: services.values_import_run(batch_id=batch_id, reason=reason)
    )


@task
def dataset_upload_task(batch_id: int) -> str:
    return batches.import_task_run(batch_id=batch_id, run=lambda: services.dataset_upload_run(batch_id=batch_id))


@task
def recompute_task(batch_id: int) -> str:
    return batches.import_task_run(batch_id=batch_id, run=lambda: recompute.recompute_run(batch_id=batch_id))
