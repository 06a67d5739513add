"""Value files: received, stored by content hash, checked whole and applied by a task."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from pactboard.accounts.models import Membership
from pactboard.audit.services import audit_record
from pactboard.core.errors import PactboardError
from pactboard.core.files import upload_save
from pactboard.core.periods import Period
from pactboard.core.storage import storage
from pactboard.core.uploads import upload_received_check, upload_size_check
from pactboard.engagements.models import Engagement
from pactboard.measurements import batches, ingest
from pactboard.measurements.models import (
    Dataset,
    ImportBatch,
    Source,
)
from pactboard.measurements.selectors import (
    kpi_rules,
)
from pactboard.measurements.services.values import ValueRow, _require_contributor, _values_apply, value_rows_not_started
from pactboard.measurements.uploads import upload_type_check
from pactboard.measurements.value_import import KpiRule as FileRule
from pactboard.measurements.value_import import value_file_parse

ProgressCallback = Callable[[int, int | None], None]


_SUFFIX = re.compile(r"^\.[a-z0-9]{1,16}$")


def _store_upload(source: Path, sha256: str, suffix: str) -> str:
    """Keep the file as received, named by its hash, so either party can re-check a value against it.

    Returns its storage key (``uploads/<sha256><suffix>``, the path relative to the data dir that
    ``ImportBatch.stored_path`` has always held). The suffix comes from the sender's file name: kept
    only when it is a plain extension, so a name can never steer the key.
    """
    key = f"uploads/{sha256}{suffix if _SUFFIX.match(suffix) else ''}"
    store = storage()
    if not store.exists(key):
        store.put_file(key, source)
    return key


def import_batch_start(
    *,
    actor: Membership,
    engagement: Engagement,
    kind: str,
    source: Path,
    file_name: str,
    dataset: Dataset | None = None,
) -> ImportBatch:
    """Register a received file (kept by its hash) as a pending import."""
    _require_contributor(actor, engagement)
    upload_size_check(size=source.stat().st_size)
    sha = ingest.file_sha256(source)
    stored = _store_upload(source, sha, Path(file_name).suffix.lower())
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            engagement=engagement,
            kind=kind,
            dataset=dataset,
            file_name=file_name[:255],
            file_sha256=sha,
            stored_path=stored,
            created_by=actor.user,
            created_by_org=actor.organisation,
        )
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="import.receive",
            obj=batch,
            after={"kind": kind, "file": file_name, "sha256": sha},
            engagement_id=engagement.pk,
        )
    return batch


def import_batch_receive(
    *, actor: Membership, engagement: Engagement, kind: str, upload: Any, dataset: Dataset | None = None
) -> ImportBatch:
    """Register an uploaded file (a Django or ninja UploadedFile) as a pending import, like ``import_batch_start``."""
    _require_contributor(actor, engagement)
    upload_received_check(upload)
    upload_type_check(upload, kind=kind)
    with tempfile.TemporaryDirectory(prefix="pactboard-upload-") as tmp:
        path = upload_save(upload, tmp)
        return import_batch_start(
            actor=actor, engagement=engagement, kind=kind, source=path, file_name=path.name, dataset=dataset
        )


def _batch_progress(batch: ImportBatch) -> ProgressCallback:
    def report(done: int, total: int | None) -> None:
        ImportBatch.objects.filter(pk=batch.pk).update(
            progress_done=done, progress_total=total, updated_at=timezone.now()
        )

    return report


def _batch_fail(batch: ImportBatch, exc: PactboardError) -> None:
    batches.import_batch_fail(batch_id=batch.pk, message=exc.message, details=exc.details)


def values_import_run(*, batch_id: int, reason: str = "", now: datetime | None = None) -> ImportBatch:
    """Check a received file of KPI values whole, then write all of it or none of it."""
    batch = ImportBatch.objects.select_related("engagement", "created_by").get(pk=batch_id)
    if batch.status in (ImportBatch.Status.DONE, ImportBatch.Status.FAILED):
        return batch  # safe to run twice
    engagement = batch.engagement
    actor = Membership.objects.select_related("user", "organisation").get(
        user=batch.created_by, organisation=batch.created_by_org
    )
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING, updated_at=timezone.now())
    rules = kpi_rules(engagement=engagement)
    try:
        with storage().local_file(batch.stored_path) as path:
            parsed = value_file_parse(
                source=path,
                fmt=None,
                kpis={
                    code: FileRule(
                        code=code,
                        period_kind=r.period_kind,  # type: ignore[arg-type]
                        min_value=r.min_value,
                        max_value=r.max_value,
                        integer=r.integer,
                    )
                    for code, r in rules.items()
                },
                first_period_day=engagement.start_date,
                last_period_day=engagement.end_date,
            )
        rows = [
            ValueRow(
                kpi_code=p.kpi_code,
                period=Period(rules[p.kpi_code].period_kind, p.period_start),  # type: ignore[arg-type]
                value=p.value,
                note=p.note or "",
                location=f"row {p.line}",
                line=p.line,
            )
            for p in parsed.rows
        ]
        not_started = value_rows_not_started(engagement=engagement, rows=rows, now=now, location="{}, column period")
        if not_started:
            raise PactboardError("Some rows are for periods that have not started; nothing was written.", not_started)
        with transaction.atomic():
            result = _values_apply(
                engagement=engagement,
                rows=rows,
                source=Source.IMPORT,
                actor=actor,
                reason=reason,
                batch=batch,
                file_sha256=batch.file_sha256,
            )
            ImportBatch.objects.filter(pk=batch.pk).update(
                status=ImportBatch.Status.DONE,
                rows_written=result.created + result.revised,
                progress_done=len(rows),
                progress_total=len(rows),
                message=f"{result.created} new values, {result.revised} corrected, {result.unchanged} unchanged.",
                updated_at=timezone.now(),
            )
            audit_record(
                actor=actor.user,
                organisation=actor.organisation,
                action="import.values",
                obj=batch,
                after={
                    "sha256": batch.file_sha256,
                    "created": result.created,
                    "revised": result.revised,
                    "unchanged": result.unchanged,
                    "reason": reason,
                },
                engagement_id=engagement.pk,
            )
    except PactboardError as exc:
        _batch_fail(batch, exc)
    batch.refresh_from_db()
    return batch
