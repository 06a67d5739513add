"""Value files: upload, progress, refusals by row and column, the stored file; recompute jobs."""

from __future__ import annotations

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.errors import PactboardError, not_found
from pactboard.core.forms import form_add_domain_error
from pactboard.core.htmx import render_page
from pactboard.core.periods import Period
from pactboard.core.storage import StorageError, storage
from pactboard.core.views import membership_required
from pactboard.engagements.models import Engagement
from pactboard.kpis.content import plain_decimal
from pactboard.measurements import batches, selectors, services, tasks
from pactboard.measurements.forms import ValueImportForm
from pactboard.measurements.models import ImportBatch
from pactboard.measurements.recompute import recompute_start
from pactboard.measurements.views.common import (
    _LOCATION,
    _actor,
    _engagement,
    _is_htmx,
    _people,
    _require,
    _reraise_access,
    _upload_too_large,
)


def _import_example(engagement: Engagement, rules: dict[str, selectors.KpiRule]) -> str:
    """An example values file naming the engagement's own KPIs (those not computed from a dataset):
    the last complete period of each, its agreed target as the value."""
    header = "kpi,period,value,note"
    fed = [r for r in sorted(rules.values(), key=lambda r: r.code) if r.source != "dataset"][:3]
    if not fed:
        return ""
    now = timezone.now()
    lines = [header]
    for i, rule in enumerate(fed):
        period = Period.containing(rule.period_kind, now, engagement.time_zone).previous()  # type: ignore[arg-type]
        value = plain_decimal(rule.target) or ""
        note = "corrected after the audit" if i == 1 else ""
        lines.append(f"{rule.code},{period.label},{value},{note}")
    return "\n".join(lines)


@membership_required
@require_http_methods(["GET", "POST"])
def import_values(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    engagement = _engagement(request, pk)
    form = ValueImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        _require(actor, engagement, "contribute")
        status = 422
        if _upload_too_large(request, form):
            status = 413
        elif form.is_valid():
            upload: UploadedFile = form.cleaned_data["file"]
            try:
                batch = services.import_batch_receive(
                    actor=actor, engagement=engagement, kind=ImportBatch.Kind.VALUES, upload=upload
                )
            except PactboardError as exc:
                _reraise_access(exc)
                form_add_domain_error(form, exc)
            else:
                tasks.values_import_task.enqueue(batch.pk, form.cleaned_data["reason"])
                return redirect("measurements:import_batch", engagement.pk, batch.pk)
    context = {
        "engagement": engagement,
        "form": form,
        "import_example": _import_example(engagement, selectors.kpi_rules(engagement=engagement)),
    }
    return render(request, "measurements/import.html", context, status=status)


def _error_rows(batch: ImportBatch) -> list[dict[str, str]]:
    """Each refused row and column, split out of the detail's location (``row 8, column value``)."""
    rows = []
    for error in batches.errors_capped(batch.errors):  # batches stored before the cap may hold millions
        location = error.get("location") or ""
        match = _LOCATION.match(location)
        row = column = ""
        if match:
            row = match.group("row") or ""
            column = match.group("column") or match.group("only_column") or ""
        elif location:
            column = location
        rows.append({"row": row, "column": column, "message": error.get("message", "")})
    return rows


def _progress_text(batch: ImportBatch) -> str:
    done, total = batch.progress_done, batch.progress_total
    if batch.kind == ImportBatch.Kind.RECOMPUTE:
        if batch.status == ImportBatch.Status.PENDING:
            return "Waiting for the worker to start the recomputation."
        return f"{done} of {total} datasets recomputed." if total else "Recomputing."
    if batch.status == ImportBatch.Status.PENDING:
        return "Waiting for the worker to pick the file up."
    if batch.status == ImportBatch.Status.DONE:
        return f"All {total or done:,} rows checked."
    if total:
        return f"{done:,} of about {total:,} rows checked ({batch.percent} %)."
    return f"{done:,} rows checked so far." if done else "Reading the file."


def _batch(request: AuthenticatedHttpRequest, pk: int, batch_id: int) -> ImportBatch:
    batch = selectors.import_batch_get(membership=_actor(request), batch_id=batch_id)
    if batch.engagement_id != pk:
        raise not_found("No such import.")
    return batch


@membership_required
@require_GET
def import_batch(request: AuthenticatedHttpRequest, pk: int, batch_id: int) -> HttpResponse:
    """An import's progress (polled every second while it runs) and, once refused, every error by row and column."""
    # A batch whose worker died is failed here, where the user would otherwise watch it run forever.
    batch = batches.import_batch_recover(batch=_batch(request, pk, batch_id))
    engagement = batch.engagement
    finished = batch.status in (ImportBatch.Status.DONE, ImportBatch.Status.FAILED)
    context = {
        "engagement": engagement,
        "batch": batch,
        "finished": finished,
        "failed": batch.status == ImportBatch.Status.FAILED,
        "errors": _error_rows(batch) if batch.status == ImportBatch.Status.FAILED else [],
        "who": _people(engagement).get(batch.created_by_id, ""),
        "oob": _is_htmx(request),
        "progress_text": _progress_text(batch),
    }
    return render_page(
        request,
        page="measurements/import_batch.html",
        partial="measurements/partials/_batch_status.html",
        context=context,
    )


@membership_required
@require_GET
def import_file(request: AuthenticatedHttpRequest, pk: int, batch_id: int) -> HttpResponse:
    """The file of an import exactly as it was received (its SHA-256 is on every value it wrote)."""
    batch = _batch(request, pk, batch_id)
    try:
        stream = storage().open(batch.stored_path)
    except StorageError:
        raise Http404("The stored file is missing.") from None
    # Streamed, not read into memory: a FileResponse is a response like any other to the decorator.
    return FileResponse(stream, as_attachment=True, filename=batch.file_name)  # type: ignore[return-value]


@membership_required
@require_POST
def recompute(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Recompute every agreed dataset KPI from the datasets in force (managers); follow it on the job's page."""
    actor = _actor(request)
    engagement = _engagement(request, pk)
    _require(actor, engagement, "recompute")
    try:
        batch = recompute_start(actor=actor, engagement=engagement)
    except PactboardError as exc:
        _reraise_access(exc)
        messages.error(request, exc.message)
        return redirect("measurements:datasets", pk=engagement.pk)
    tasks.recompute_task.enqueue(batch.pk)
    return redirect("measurements:import_batch", pk=engagement.pk, batch_id=batch.pk)
