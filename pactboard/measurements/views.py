"""Measurement pages: a KPI's values and their revisions, imports with progress, datasets, records, scorecards.

Views are thin: they read through ``selectors``, write through ``services`` (imports run as tasks)
and turn a ``PactboardError`` into form errors. Every page starts from ``engagement_get`` of the
actor, so another tenant's engagement is a 404.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.csv as pa_csv
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from pactboard.accounts.models import Membership
from pactboard.core.errors import HTTP_STATUS, PactboardError, not_found
from pactboard.core.forms import form_add_domain_error
from pactboard.core.htmx import render_page
from pactboard.core.periods import Period
from pactboard.core.views import membership_required
from pactboard.engagements.models import Engagement
from pactboard.engagements.selectors import engagement_get, engagement_people
from pactboard.kpis.content import plain_decimal
from pactboard.measurements import selectors, services, tasks
from pactboard.measurements.forms import (
    DatasetDeclareForm,
    DatasetUploadForm,
    ScorecardPeriodForm,
    ValueEntryForm,
    ValueImportForm,
)
from pactboard.measurements.models import Dataset, ImportBatch, Measurement, Revision, Source

STATUS_LABELS: dict[str, tuple[str, str]] = {
    # status: (text, symbol) -- the symbol repeats the text for sighted readers, never replaces it.
    "exceeded": ("Exceeded", "★"),
    "met": ("Met", "✓"),
    "at_risk": ("At risk", "!"),
    "missed": ("Missed", "✗"),
    "no_data": ("No data", "–"),
}

_LOCATION = re.compile(r"^row (?P<row>\d+)(?:, column (?P<column>.+))?$|^column (?P<only_column>.+)$")


def _actor(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


def _engagement(request: HttpRequest, pk: int) -> Engagement:
    return engagement_get(membership=_actor(request), engagement_id=pk)


def _reraise_access(exc: PactboardError) -> None:
    """Not-found and forbidden are pages of their own (404, 403), never form errors."""
    if exc.kind in ("not_found", "forbidden"):
        raise exc


def _people(engagement: Engagement) -> dict[int, str]:
    """Display names of both parties' members by user id (one query, whatever the number of rows shown)."""
    return {
        m.user_id: f"{m.user.display_name} ({m.organisation.name})" for m in engagement_people(engagement=engagement)
    }


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# --- the engagement's data: KPIs, import, links ---------------------------------------------------


@membership_required
@require_GET
def data(request: HttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    rules = sorted(selectors.kpi_rules(engagement=engagement).values(), key=lambda r: r.code)
    return render(
        request,
        "measurements/data.html",
        {
            "engagement": engagement,
            "rules": rules,
            "import_form": ValueImportForm(),
            "can_contribute": _actor(request).can_contribute,
            "last_month": Period.containing("month", timezone.now(), engagement.time_zone).previous(),
        },
    )


# --- one KPI's values: entry form and every revision ----------------------------------------------


@dataclass(frozen=True)
class RevisionRow:
    revision: Revision
    value: str | None
    who: str
    current: bool
    batch_url: str
    file_url: str


@dataclass(frozen=True)
class ValueRow:
    measurement: Measurement
    period: Period
    value: str | None
    revisions: list[RevisionRow]
    records_url: str


def _value_rows(engagement: Engagement, code: str) -> list[ValueRow]:
    people = _people(engagement)
    rows: list[ValueRow] = []
    for m in selectors.measurements_with_history(engagement=engagement, kpi_code=code):
        revisions = list(m.revisions.all())
        latest = revisions[-1] if revisions else None
        shown = []
        for rev in reversed(revisions):
            who = people.get(rev.recorded_by_id or 0) or (rev.recorded_by.display_name if rev.recorded_by else "")
            if rev.source == Source.FORMULA and not who:
                who = "Pactboard (formula)"
            shown.append(
                RevisionRow(
                    revision=rev,
                    value=plain_decimal(rev.value),
                    who=who,
                    current=rev is latest,
                    batch_url=reverse("measurements:import_batch", args=[engagement.pk, rev.import_batch_id])
                    if rev.import_batch_id
                    else "",
                    file_url=reverse("measurements:import_file", args=[engagement.pk, rev.import_batch_id])
                    if rev.import_batch_id
                    else "",
                )
            )
        records_url = ""
        if latest is not None and latest.dataset_version_id and latest.formula:
            records_url = reverse("measurements:records", args=[engagement.pk, m.pk])
        rows.append(
            ValueRow(
                measurement=m,
                period=Period(m.period_kind, m.period_start),  # type: ignore[arg-type]
                value=plain_decimal(m.value),
                revisions=shown,
                records_url=records_url,
            )
        )
    rows.reverse()  # newest period first
    return rows


@membership_required
@require_http_methods(["GET", "POST"])
def kpi_values(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    """The values of one KPI with every revision, and a form to enter one (a page, or a fragment for HTMX)."""
    actor = _actor(request)
    engagement = _engagement(request, pk)
    rule = selectors.kpi_rules(engagement=engagement).get(code)
    if rule is None:
        raise Http404("No such KPI in this engagement's agreed versions.")
    form = ValueEntryForm(request.POST or None, rule=rule)
    status = 200
    notice = ""
    if request.method == "POST":
        if not actor.can_contribute:
            raise PermissionDenied("Viewers cannot record values: ask a contributor or manager.")
        status = 422
        if form.is_valid():
            period: Period = form.cleaned_data["period"]
            try:
                result = services.measurement_record(
                    actor=actor,
                    engagement=engagement,
                    kpi_code=code,
                    period=period,
                    value=form.cleaned_data["value"],
                    note=form.cleaned_data["note"],
                    reason=form.cleaned_data["reason"],
                )
            except PactboardError as exc:
                _reraise_access(exc)
                form_add_domain_error(form, exc)
                status = HTTP_STATUS.get(exc.kind, 400)
            else:
                shown = plain_decimal(form.cleaned_data["value"])
                if result.revised:
                    notice = f"{rule.name} {period.label} corrected to {shown}; the earlier value is kept below."
                elif result.created:
                    notice = f"{rule.name} {period.label}: {shown} recorded."
                else:
                    notice = f"{rule.name} {period.label} is already {shown}: nothing changed."
                if not _is_htmx(request):
                    messages.success(request, notice)
                    return redirect("measurements:kpi_values", engagement.pk, code)
                form = ValueEntryForm(rule=rule)
                status = 200
    context = {
        "engagement": engagement,
        "rule": rule,
        "form": form,
        "rows": _value_rows(engagement, code),
        "can_contribute": actor.can_contribute,
        "notice": notice,
    }
    response = render_page(
        request,
        page="measurements/kpi_values.html",
        partial="measurements/partials/_kpi_values.html",
        context=context,
        status=status,
    )
    if notice:
        # Lets a page that embeds the fragment (the KPI chart) refresh itself.
        response["HX-Trigger"] = "measurement-recorded"
    return response


# --- imports of values, and the batch page both kinds of import lead to -----------------------------


@membership_required
@require_http_methods(["GET", "POST"])
def import_values(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    engagement = _engagement(request, pk)
    form = ValueImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if not actor.can_contribute:
            raise PermissionDenied("Viewers cannot import values: ask a contributor or manager.")
        status = 422
        if form.is_valid():
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
    return render(request, "measurements/import.html", {"engagement": engagement, "form": form}, status=status)


def _error_rows(batch: ImportBatch) -> list[dict[str, str]]:
    """Each refused row and column, split out of the detail's location (``row 8, column value``)."""
    rows = []
    for error in batch.errors:
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
    if batch.status == ImportBatch.Status.PENDING:
        return "Waiting for the worker to pick the file up."
    if batch.status == ImportBatch.Status.DONE:
        return f"All {total or done:,} rows checked."
    if total:
        return f"{done:,} of about {total:,} rows checked ({batch.percent} %)."
    return f"{done:,} rows checked so far." if done else "Reading the file."


def _batch(request: HttpRequest, pk: int, batch_id: int) -> ImportBatch:
    batch = selectors.import_batch_get(membership=_actor(request), batch_id=batch_id)
    if batch.engagement_id != pk:
        raise not_found("No such import.")
    return batch


@membership_required
@require_GET
def import_batch(request: HttpRequest, pk: int, batch_id: int) -> HttpResponse:
    """An import's progress (polled every second while it runs) and, once refused, every error by row and column."""
    batch = _batch(request, pk, batch_id)
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
def import_file(request: HttpRequest, pk: int, batch_id: int) -> HttpResponse:
    """The file of an import exactly as it was received (its SHA-256 is on every value it wrote)."""
    batch = _batch(request, pk, batch_id)
    path = Path(settings.DATA_DIR) / batch.stored_path
    if not path.is_file():
        raise Http404("The stored file is missing.")
    # Streamed, not read into memory: a FileResponse is a response like any other to the decorator.
    return FileResponse(path.open("rb"), as_attachment=True, filename=batch.file_name)  # type: ignore[return-value]


# --- datasets ------------------------------------------------------------------------------------


def _datasets_context(request: HttpRequest, engagement: Engagement, **forms: Any) -> dict[str, Any]:
    actor = _actor(request)
    people = _people(engagement)
    datasets = []
    for dataset in selectors.dataset_list(engagement=engagement):
        versions = [
            {
                "version": v,
                "who": people.get(v.created_by_id or 0, ""),
                "days": (v.last_day - v.first_day).days + 1 if v.first_day and v.last_day else 0,
                "rows": f"{v.row_count:,}",
                "upload_rows": f"{v.upload_rows:,}",
            }
            for v in dataset.versions.all()
        ]
        datasets.append({"dataset": dataset, "versions": versions, "upload_form": DatasetUploadForm()})
    return {
        "engagement": engagement,
        "datasets": datasets,
        "declare_form": forms.get("declare_form") or DatasetDeclareForm(),
        "can_declare": actor.is_manager,
        "can_contribute": actor.can_contribute,
    }


@membership_required
@require_http_methods(["GET", "POST"])
def datasets(request: HttpRequest, pk: int) -> HttpResponse:
    """The engagement's datasets with every version; managers declare new ones here."""
    actor = _actor(request)
    engagement = _engagement(request, pk)
    form = DatasetDeclareForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not actor.is_manager:
            raise PermissionDenied("Only administrators and managers declare datasets.")
        status = 422
        if form.is_valid():
            try:
                dataset = services.dataset_declare(actor=actor, engagement=engagement, **form.service_fields())
            except PactboardError as exc:
                _reraise_access(exc)
                form.add_domain_error(exc)
            else:
                messages.success(request, f"Dataset “{dataset.name}” declared: upload its records below.")
                return redirect(f"{reverse('measurements:datasets', args=[engagement.pk])}#dataset-{dataset.name}")
    return render(
        request, "measurements/datasets.html", _datasets_context(request, engagement, declare_form=form), status=status
    )


def _dataset(request: HttpRequest, pk: int, dataset_id: int) -> Dataset:
    dataset = selectors.dataset_get(membership=_actor(request), dataset_id=dataset_id)
    if dataset.engagement_id != pk:
        raise not_found("No such dataset.")
    return dataset


@membership_required
@require_http_methods(["GET", "POST"])
def dataset_upload(request: HttpRequest, pk: int, dataset_id: int) -> HttpResponse:
    actor = _actor(request)
    dataset = _dataset(request, pk, dataset_id)
    engagement = dataset.engagement
    form = DatasetUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if not actor.can_contribute:
            raise PermissionDenied("Viewers cannot upload records: ask a contributor or manager.")
        status = 422
        if form.is_valid():
            upload: UploadedFile = form.cleaned_data["file"]
            try:
                batch = services.import_batch_receive(
                    actor=actor, engagement=engagement, kind=ImportBatch.Kind.RECORDS, upload=upload, dataset=dataset
                )
            except PactboardError as exc:
                _reraise_access(exc)
                form_add_domain_error(form, exc)
            else:
                tasks.dataset_upload_task.enqueue(batch.pk)
                return redirect("measurements:import_batch", engagement.pk, batch.pk)
    return render(
        request,
        "measurements/dataset_upload.html",
        {"engagement": engagement, "dataset": dataset, "form": form, "columns": dataset.schema().columns},
        status=status,
    )


# --- the records behind a computed value ------------------------------------------------------------


@membership_required
@require_GET
def records(request: HttpRequest, pk: int, measurement_id: int) -> HttpResponse:
    """The exact records (CSV) that the formula of a computed value read, from the dataset version it names."""
    measurement = selectors.measurement_get(membership=_actor(request), measurement_id=measurement_id)
    if measurement.engagement_id != pk:
        raise not_found("No such value.")
    try:
        found = selectors.measurement_records(measurement=measurement)
    except PactboardError as exc:
        if exc.kind == "not_found":
            raise Http404(exc.message) from None
        return HttpResponse(f"{exc.message}\n", status=409, content_type="text/plain; charset=utf-8")
    buffer = io.BytesIO()
    pa_csv.write_csv(found.table, buffer)
    name = found.file_name
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- the scorecard ------------------------------------------------------------------------------------


def _default_period(engagement: Engagement) -> Period:
    """Last month in the engagement's time zone (the latest complete month)."""
    return Period.containing("month", timezone.now(), engagement.time_zone).previous()


def _pct(value: Any, places: str = "0.1") -> str | None:
    if value is None:
        return None
    return plain_decimal((Decimal(value) * 100).quantize(Decimal(places)))


@membership_required
@require_GET
def scorecard(request: HttpRequest, pk: int) -> HttpResponse:
    """A period's scorecard: value, target in force, status (text and symbol), attainment, weighted score."""
    engagement = _engagement(request, pk)
    form = ScorecardPeriodForm(request.GET if "period" in request.GET else None)
    status = 200
    period = _default_period(engagement)
    if form.is_bound:
        if form.is_valid():
            period = form.cleaned_data["period"]
        else:
            status = 422
    else:
        form = ScorecardPeriodForm(initial={"period": period.label})
    card = selectors.scorecard_for_period(engagement=engagement, period=period)
    rules = selectors.kpi_rules(engagement=engagement)
    rows = []
    if card.scorecard is not None:
        for r in card.scorecard.results:
            text, symbol = STATUS_LABELS[r.status]
            rule = rules.get(r.code)
            rows.append(
                {
                    "code": r.code,
                    "name": rule.name if rule else r.code,
                    "value": plain_decimal(r.value),
                    "target": plain_decimal(r.target),
                    "amber": plain_decimal(r.amber),
                    "stretch": plain_decimal(r.stretch),
                    "weight": plain_decimal(r.weight),
                    "status": r.status,
                    "status_text": text,
                    "status_symbol": symbol,
                    "attainment": _pct(r.attainment),
                    "milestone_date": r.milestone_date,
                }
            )
    sc = card.scorecard
    context = {
        "engagement": engagement,
        "form": form,
        "period": period,
        "previous": period.previous(),
        "next": period.next(),
        "card": card,
        "rows": rows,
        "score": plain_decimal(sc.score) if sc else None,
        "status_score": plain_decimal(sc.status_score) if sc else None,
        "coverage": _pct(sc.coverage) if sc else None,
        "counts": [(s, *STATUS_LABELS[s], n) for s, n in sc.counts.items()] if sc else [],
    }
    return render_page(
        request,
        page="measurements/scorecard.html",
        partial="measurements/partials/_scorecard.html",
        context=context,
        status=status,
    )
