"""The KPI catalogue and custom KPIs."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.errors import PactboardError
from pactboard.core.forms import form_add_domain_error
from pactboard.core.htmx import render_page
from pactboard.core.views import membership_required
from pactboard.kpis import selectors, services
from pactboard.kpis.catalogue import CATALOGUE
from pactboard.kpis.forms import (
    CustomKpiForm,
)
from pactboard.kpis.models import Category, Direction
from pactboard.kpis.views.common import _actor, _reraise_access, _status_of


@membership_required
def catalogue(request: AuthenticatedHttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    standard, custom = selectors.catalogue_entries(membership=_actor(request), query=query)
    return render_page(
        request,
        page="kpis/catalogue.html",
        partial="kpis/partials/_catalogue_results.html",
        context={
            "q": query,
            "standard": [
                {"kpi": k, "category": Category(k.category).label, "direction": Direction(k.direction).label}
                for k in standard
            ],
            "custom": custom,
            "total": len(CATALOGUE),
            "can_add": _actor(request).is_manager,
        },
    )


@membership_required
@require_http_methods(["GET", "POST"])
def custom_kpi_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not actor.is_manager:
        raise PermissionDenied("Only administrators and managers add custom KPIs.")
    form = CustomKpiForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                kpi = services.custom_kpi_create(actor=actor, **form.cleaned_data)
            except PactboardError as exc:
                _reraise_access(exc)
                form_add_domain_error(form, exc)
                status = _status_of(exc)
            else:
                messages.success(request, f"Custom KPI “{kpi.name}” added to {actor.organisation.name}'s catalogue.")
                return redirect(f"{reverse('kpis:catalogue')}#custom-{kpi.code}")
    return render(request, "kpis/custom_kpi_form.html", {"form": form}, status=status)
