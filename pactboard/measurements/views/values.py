"""A KPI's values with their revisions, entering a value by hand, and the records behind a value."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.errors import HTTP_STATUS, PactboardError, not_found
from pactboard.core.forms import form_add_domain_error
from pactboard.core.htmx import render_page
from pactboard.core.periods import Period
from pactboard.core.views import membership_required
from pactboard.engagements.models import Engagement
from pactboard.kpis.content import plain_decimal
from pactboard.measurements import policy, selectors, services
from pactboard.measurements.forms import (
    ValueEntryForm,
    ValueImportForm,
)
from pactboard.measurements.models import Measurement, Revision, Source
from pactboard.measurements.records_csv import records_csv
from pactboard.measurements.views.common import (
    UNDEFINED,
    _actor,
    _engagement,
    _is_htmx,
    _people,
    _require,
    _reraise_access,
)
from pactboard.measurements.views.imports import _import_example


@membership_required
@require_GET
def data(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    by_code = selectors.kpi_rules(engagement=engagement)
    rules = sorted(by_code.values(), key=lambda r: r.code)
    return render(
        request,
        "measurements/data.html",
        {
            "engagement": engagement,
            "rules": rules,
            "import_form": ValueImportForm(),
            "import_example": _import_example(engagement, by_code),
            **policy.measurements_permissions(actor=_actor(request), engagement=engagement),
            "last_month": Period.containing("month", timezone.now(), engagement.time_zone).previous(),
        },
    )


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
                    value=plain_decimal(rev.value) or UNDEFINED,
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
                value=plain_decimal(m.value) or UNDEFINED,
                revisions=shown,
                records_url=records_url,
            )
        )
    rows.reverse()  # newest period first
    return rows


@membership_required
@require_http_methods(["GET", "POST"])
def kpi_values(request: AuthenticatedHttpRequest, pk: int, code: str) -> HttpResponse:
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
        _require(actor, engagement, "contribute")
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
        **policy.measurements_permissions(actor=actor, engagement=engagement),
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


@membership_required
@require_GET
def records(request: AuthenticatedHttpRequest, pk: int, measurement_id: int) -> HttpResponse:
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
    name = found.file_name
    response = HttpResponse(records_csv(found.table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
