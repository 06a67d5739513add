"""Background work for measurements: each task takes ids, calls one service, and is safe to run twice."""

from __future__ import annotations

from django.tasks import task

from pactboard.measurements import recompute, services


@task
def values_import_task(batch_id: int, reason: str = "") -> str:
    return services.values_import_run(batch_id=batch_id, reason=reason).status


@task
def dataset_upload_task(batch_id: int) -> str:
    return services.dataset_upload_run(batch_id=batch_id).status


@task
def recompute_task(batch_id: int) -> str:
    return recompute.recompute_run(batch_id=batch_id).status
