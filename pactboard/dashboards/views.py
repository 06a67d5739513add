"""Portfolio, engagement dashboard, KPI page and business-change log.

Live pages poll their own URL with ``since=<stamp>`` (HTMX, every second): the answer is an empty
204 while nothing changed, else the refreshed partial. The stamp is read from the database, so a
value that lands through any process shows on every open page (docs/dashboards.md).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.errors import PactboardError
from pactboard.core.formatting import date_text
from pactboard.core.forms import form_add_domain_error
from pactboard.core.htmx import render_page
from pactboard.core.views import membership_required
from pactboard.dashboards import charts, selectors
from pactboard.dashboards.forms import BusinessChangeForm
from pactboard.dashboards.outlooks import tile_forecast, trend_panel
from pactboard.engagements import selectors as engagement_selectors
from pactboard.engagements import services as engagement_services
from pactboard.engagements.models import BusinessChange, Engagement
from pactboard.governance.selectors import thread_list
from pactboard.kpis import selectors as kpi_selectors

# Answer to a poll when nothing changed: htmx leaves the page as it is.
NOT_CHANGED = 204


def _unchanged(request: HttpRequest, stamp: str) -> bool:
    since = request.GET.get("since")
    return bool(getattr(request, "htmx", False) and since and since == stamp)


def _live_url(request: HttpRequest, stamp: str, **params: str) -> str:
    """This page's URL with its filters and the stamp it shows, for the poll."""
    query = {k: v for k, v in params.items() if v}
    query["since"] = stamp
    return f"{request.path}?{urlencode(query)}"


@membership_required
def portfolio(request: AuthenticatedHttpRequest) -> HttpResponse:
    membership = request.membership
    if _unchanged(request, selectors.portfolio_stamp(membership=membership)):
        return HttpResponse(status=NOT_CHANGED)
    q = request.GET.get("q", "").strip()[:100]
    status = request.GET.get("status", "")
    status = status if status in Engagement.Status.values else ""
    attention = request.GET.get("attention") == "1"
    sort = request.GET.get("sort", "name")
    sort = sort if sort.removeprefix("-") in selectors.SORT_KEYS else "name"
    data = selectors.portfolio(membership=membership, q=q, status=status, attention=attention, sort=sort)
    rows = data.rows
    if any(r.status_score is not None for r in rows):
        charts.vega_bundle_ready()
    filters = {"q": q, "status": status, "attention": "1" if attention else "", "sort": sort}
    columns = [
        {
            "key": key,
            "label": data.counterparty_label if key == "counterparty" else label,
            "url": "?" + urlencode({**{k: v for k, v in filters.items() if v}, "sort": _next_sort(sort, key)}),
            "aria_sort": _aria_sort(sort, key),
        }
        for key, label in selectors.SORT_KEYS.items()
    ]
    return render_page(
        request,
        page="dashboards/portfolio.html",
        partial="dashboards/partials/_portfolio.html",
        context={
            "portfolio": data,
            "rows": rows,
            "filters": filters,
            "columns": columns,
            "statuses": Engagement.Status.choices,
            "chart": charts.portfolio_chart(rows) if any(r.status_score is not None for r in rows) else None,
            "live_url": _live_url(request, data.stamp, **filters),
        },
    )


def _next_sort(current: str, key: str) -> str:
    # Scores and misses read best descending first; names ascending first.
    if current == key:
        return f"-{key}"
    if current == f"-{key}":
        return key
    return f"-{key}" if key in {"status_score", "score", "missed", "last_data"} else key


def _aria_sort(current: str, key: str) -> str:
    if current == key:
        return "ascending"
    if current == f"-{key}":
        return "descending"
    return "none"


def _engagement(request: AuthenticatedHttpRequest, pk: int) -> Engagement:
    return engagement_selectors.engagement_get(membership=request.membership, engagement_id=pk)


@membership_required
def engagement_dashboard(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    engagement = _engagement(request, pk)
    if _unchanged(request, selectors.engagement_stamp(engagement_id=engagement.pk)):
        return HttpResponse(status=NOT_CHANGED)
    period = request.GET.get("period", "").strip()[:16]
    dashboard = selectors.engagement_dashboard(
        membership=request.membership,
        engagement=engagement,
        period_label=period,
    )
    tiles = [
        {
            "tile": t,
            "spark": charts.sparkline(
                [v for _, v in t.history],
                target=t.result.target,
                labels=[p.label for p, _ in t.history],
                unit=t.kpi.unit,
                kind=t.kpi.period,
            ),
            "unit": _unit_arg(t.kpi.unit, engagement.currency),
            "forecast": tile_forecast(t.outlook, currency=engagement.currency),
        }
        for t in dashboard.tiles
    ]
    shown = dashboard.period.label if dashboard.period and period and not dashboard.period_error else ""
    return render_page(
        request,
        page="dashboards/engagement.html",
        partial="dashboards/partials/_engagement.html",
        context={
            "engagement": engagement,
            "dashboard": dashboard,
            "tiles": tiles,
            "side": engagement.party_role(request.membership.organisation_id),
            "live_url": _live_url(request, dashboard.stamp, period=shown),
        },
    )


def _unit_arg(unit: str, currency: str) -> str:
    return f"currency {currency}" if unit == "currency" else unit


@membership_required
def kpi_detail(request: AuthenticatedHttpRequest, pk: int, code: str) -> HttpResponse:
    engagement = _engagement(request, pk)
    stamp = selectors.engagement_stamp(engagement_id=engagement.pk)
    if _unchanged(request, stamp):
        return HttpResponse(status=NOT_CHANGED)
    series = selectors.kpi_series(membership=request.membership, engagement=engagement, kpi_code=code)
    feedback = list(thread_list(engagement=engagement, kpi_code=series.kpi.code))
    # A KPI not in force today (retired, or not yet) has no outlook: the page says so.
    outlook = series.outlook
    charts.vega_bundle_ready()
    try:
        values_url: str | None = reverse("measurements:kpi_values", args=[engagement.pk, code])
    except NoReverseMatch:
        values_url = None
    response = render_page(
        request,
        page="dashboards/kpi.html",
        partial="dashboards/partials/_kpi.html",
        context={
            "engagement": engagement,
            "series": series,
            "kpi": series.kpi,
            "unit": _unit_arg(series.kpi.unit, engagement.currency),
            "chart": charts.kpi_chart(
                series, feedback={t.period_start for t in feedback if t.is_open}, outlook=outlook
            ),
            "outlook": outlook,
            "trend": trend_panel(outlook, currency=engagement.currency) if outlook else None,
            "feedback_threads": feedback,
            "summary": charts.kpi_chart_summary(series),
            "values_url": values_url,
            "changes": sorted(series.changes, key=lambda c: (c.date, c.pk)),
            "live_url": _live_url(request, series.stamp),
        },
    )
    if getattr(request, "htmx", False) and request.GET.get("since"):
        # The values table below the chart reloads too (unless someone is typing in its form).
        response["HX-Trigger"] = "kpi-values-changed"
    return response


@membership_required
@require_http_methods(["GET", "POST"])
def business_changes(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The engagement's business-change log, and the form to add one."""
    membership = request.membership
    engagement = _engagement(request, pk)
    kpi_names = kpi_selectors.engagement_kpi_names(engagement=engagement)
    can_record = membership.can_contribute
    form = BusinessChangeForm(request.POST or None, kpi_names=kpi_names)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                change = engagement_services.business_change_record(
                    actor=membership, engagement=engagement, **form.cleaned_data
                )
            except PactboardError as exc:
                if exc.kind in {"forbidden", "not_found"}:
                    raise
                form_add_domain_error(form, exc)
            else:
                messages.success(request, f"Logged: {change.title} ({date_text(change.date)}).")
                return redirect("dashboards:changes", engagement.pk)
    context: dict[str, Any] = {
        "engagement": engagement,
        "changes": engagement_selectors.business_change_list(membership=membership, engagement=engagement),
        "kpi_names": kpi_names,
        "form": form,
        "can_record": can_record,
        "kinds": BusinessChange.Kind.choices,
    }
    return render(request, "dashboards/changes.html", context, status=status)
