"""Editing a draft's KPIs: add, edit, remove, with milestones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.errors import PactboardError
from pactboard.core.views import membership_required
from pactboard.engagements import selectors as engagement_selectors
from pactboard.kpis import selectors, services
from pactboard.kpis.catalogue import CATALOGUE
from pactboard.kpis.forms import (
    KpiForm,
    kpi_form_add_domain_error,
    kpi_initial_from_catalogue,
    kpi_initial_from_custom,
    kpi_initial_from_kpi,
    milestone_formset,
)
from pactboard.kpis.models import AgreementVersion, VersionKpi
from pactboard.kpis.policy import version_may
from pactboard.kpis.views.common import _actor, _kpi, _reraise_access, _status_of, _version, _version_url


def _frozen(request: AuthenticatedHttpRequest, version: AgreementVersion) -> HttpResponse:
    """A proposed or agreed version never changes: say so, and how to change it (409)."""
    message = (
        f"Version {version.number} is {version.get_status_display().lower()} and can no longer change: "
        "start a new draft based on it."
    )
    return render(request, "kpis/frozen.html", {"version": version, "message": message}, status=409)


def _kpi_editor(
    request: AuthenticatedHttpRequest,
    version: AgreementVersion,
    form: KpiForm,
    milestones: Any,
    *,
    kpi: VersionKpi | None,
    status: int,
) -> HttpResponse:
    actor = _actor(request)
    context = {
        "engagement": version.engagement,
        "version": version,
        "kpi": kpi,
        "form": form,
        "milestones": milestones,
        "catalogue": CATALOGUE,
        "custom_kpis": [(f"custom:{c.pk}", c.name) for c in selectors.catalogue_entries(membership=actor)[1]]
        if kpi is None
        else [],
        "start_from": request.GET.get("from", ""),
        "profile": engagement_selectors.provider_profile_for(
            membership=actor, organisation=version.engagement.provider
        ),
    }
    return render(request, "kpis/kpi_form.html", context, status=status)


def _kpi_initial(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    """Pre-fill from ``?from=<catalogue code>`` or ``?from=custom:<id>``."""
    start_from = request.GET.get("from", "")
    if start_from.startswith("custom:"):
        custom = selectors.catalogue_entries(membership=_actor(request))[1]
        entry = next((c for c in custom if str(c.pk) == start_from.removeprefix("custom:")), None)
        return kpi_initial_from_custom(entry) if entry else {}
    standard = next((k for k in CATALOGUE if k.code == start_from), None)
    return kpi_initial_from_catalogue(standard) if standard else {}


def _kpi_form_handle(
    request: AuthenticatedHttpRequest,
    version: AgreementVersion,
    form: KpiForm,
    milestones: Any,
    *,
    kpi: VersionKpi | None,
    save: Callable[[], VersionKpi],
    saved: str,
) -> HttpResponse:
    """The POST half shared by adding and editing a KPI: validate both forms, call ``save``, place its errors."""
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid() & milestones.is_valid():
            try:
                kpi = save()
            except PactboardError as exc:
                _reraise_access(exc)
                kpi_form_add_domain_error(form, milestones, exc)
                status = _status_of(exc)
            else:
                messages.success(request, f"KPI “{kpi.name}” {saved}.")
                return redirect(_version_url(version, f"kpi-{kpi.code}"))
    return _kpi_editor(request, version, form, milestones, kpi=kpi, status=status)


@membership_required
@require_http_methods(["GET", "POST"])
def kpi_create(request: AuthenticatedHttpRequest, pk: int, version_id: int) -> HttpResponse:
    actor = _actor(request)
    version = _version(request, pk, version_id)
    verdict = version_may(actor=actor, version=version, action="edit")
    if verdict.kind == "conflict" and not verdict.allowed:
        return _frozen(request, version)
    if not verdict.allowed:
        raise PermissionDenied(verdict.reason)
    form = KpiForm(request.POST or None, initial=_kpi_initial(request), engagement=version.engagement)
    milestones = milestone_formset(request.POST or None)

    def save() -> VersionKpi:
        return services.version_kpi_add(
            actor=actor,
            version=version,
            objective_ids=form.objective_ids(),
            milestones=milestones.specs(),
            **form.service_fields(),
        )

    return _kpi_form_handle(
        request, version, form, milestones, kpi=None, save=save, saved=f"added to draft version {version.number}"
    )


@membership_required
@require_http_methods(["GET", "POST"])
def kpi_edit(request: AuthenticatedHttpRequest, pk: int, version_id: int, kpi_id: int) -> HttpResponse:
    actor = _actor(request)
    kpi = _kpi(request, pk, version_id, kpi_id)
    version = _version(request, pk, version_id)
    verdict = version_may(actor=actor, version=version, action="edit")
    if verdict.kind == "conflict" and not verdict.allowed:
        return _frozen(request, version)
    if not verdict.allowed:
        raise PermissionDenied(verdict.reason)
    form = KpiForm(request.POST or None, initial=kpi_initial_from_kpi(kpi), engagement=version.engagement)
    milestones = milestone_formset(request.POST or None, kpi=kpi)

    def save() -> VersionKpi:
        return services.version_kpi_update(
            actor=actor,
            kpi=kpi,
            objective_ids=form.objective_ids(),
            milestones=milestones.specs(),
            **form.service_fields(),
        )

    return _kpi_form_handle(request, version, form, milestones, kpi=kpi, save=save, saved="saved")


@membership_required
@require_POST
def kpi_remove(request: AuthenticatedHttpRequest, pk: int, version_id: int, kpi_id: int) -> HttpResponse:
    kpi = _kpi(request, pk, version_id, kpi_id)
    version = _version(request, pk, version_id)
    if not version.is_editable:
        return _frozen(request, version)
    try:
        services.version_kpi_remove(actor=_actor(request), kpi=kpi)
    except PactboardError as exc:
        _reraise_access(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, f"KPI “{kpi.name}” removed from draft version {version.number}.")
    return redirect(_version_url(version, "kpis-h"))
