"""Datasets: declare, upload records, versions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.errors import PactboardError, not_found
from pactboard.core.forms import form_add_domain_error
from pactboard.core.views import membership_required
from pactboard.engagements.models import Engagement
from pactboard.measurements import policy, selectors, services, tasks
from pactboard.measurements.forms import (
    DatasetDeclareForm,
    DatasetUploadForm,
)
from pactboard.measurements.models import Dataset, ImportBatch
from pactboard.measurements.views.common import (
    _actor,
    _engagement,
    _people,
    _require,
    _reraise_access,
    _upload_too_large,
)


def _datasets_context(request: AuthenticatedHttpRequest, engagement: Engagement, **forms: Any) -> dict[str, Any]:
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
        **policy.measurements_permissions(actor=actor, engagement=engagement),
    }


@membership_required
@require_http_methods(["GET", "POST"])
def datasets(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The engagement's datasets with every version; managers declare new ones here."""
    actor = _actor(request)
    engagement = _engagement(request, pk)
    form = DatasetDeclareForm(request.POST or None)
    status = 200
    if request.method == "POST":
        _require(actor, engagement, "declare")
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


def _dataset(request: AuthenticatedHttpRequest, pk: int, dataset_id: int) -> Dataset:
    dataset = selectors.dataset_get(membership=_actor(request), dataset_id=dataset_id)
    if dataset.engagement_id != pk:
        raise not_found("No such dataset.")
    return dataset


@membership_required
@require_http_methods(["GET", "POST"])
def dataset_upload(request: AuthenticatedHttpRequest, pk: int, dataset_id: int) -> HttpResponse:
    actor = _actor(request)
    dataset = _dataset(request, pk, dataset_id)
    engagement = dataset.engagement
    form = DatasetUploadForm(request.POST or None, request.FILES or None)
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
