"""Portfolio, engagement dashboard, KPI page and business-change log.

Live pages poll their own URL with ``since=<stamp>`` (HTMX, every second): the answer is an empty
204 while nothing changed, else the refreshed partial. The stamp is read from the database, so a
value that lands through any process shows on every open page (docs/dashboards.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.views.decorators.http import require_http_methods

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.errors import PactboardError
from pactboard.core.formatting import date_text, moment_text
from pactboard.core.forms import form_add_domain_error
from pactboard.core.htmx import render_page
from pactboard.core.periods import local_date
from pactboard.core.views import membership_required
from pactboard.dashboards import charts, selectors
from pactboard.dashboards.forms import BusinessChangeForm
from pactboard.dashboards.fragments import TileView, portfolio_cells_html, tiles_html
from pactboard.dashboards.outlooks import tile_forecast, trend_panel
from pactboard.dashboards.pagecache import (
    page_cache_get,
    page_cache_get_many,
    page_cache_set,
    page_cache_set_many,
    page_key,
)
from pactboard.engagements import selectors as engagement_selectors
from pactboard.engagements import services as engagement_services
from pactboard.engagements.models import BusinessChange, Engagement
from pactboard.governance.selectors import alerts_chronic, feedback_open_periods, thread_list
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
    stamp: str | None = None
    if getattr(request, "htmx", False) and request.GET.get("since"):
        # A poll: the stamp alone answers "nothing changed". A page builds it from what it reads.
        stamp = selectors.portfolio_stamp(membership=membership)
        if _unchanged(request, stamp):
            return HttpResponse(status=NOT_CHANGED)
    q = request.GET.get("q", "").strip()[:100]
    status = request.GET.get("status", "")
    status = status if status in Engagement.Status.values else ""
    attention = request.GET.get("attention") == "1"
    sort = request.GET.get("sort", "name")
    sort = sort if sort.removeprefix("-") in selectors.SORT_KEYS else "name"
    data = selectors.portfolio(membership=membership, q=q, status=status, attention=attention, sort=sort, stamp=stamp)
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
            "row_cells": _portfolio_cells(rows, data),
            "filters": filters,
            "columns": columns,
            "statuses": Engagement.Status.choices,
            "chart": charts.portfolio_chart(rows) if any(r.status_score is not None for r in rows) else None,
            "live_url": _live_url(request, data.stamp, **filters),
        },
    )


def _portfolio_cells(rows: list[selectors.PortfolioRow], data: selectors.Portfolio) -> list[dict[str, Any]]:
    """Each row with its cells as HTML (all but "Last data", which reads the clock), cached per row.

    Keyed on the row's data key (the engagement's values, versions, dates, zone, day and the viewer's
    organisation) and what the cells print besides: names, status, the counterparty's column label.
    """
    keys = [
        page_key(
            "portfolio-cells",
            r.engagement.pk,
            r.cache_key,
            r.engagement.name,
            r.engagement.status,
            r.counterparty.name,
            data.counterparty_label,
        )
        for r in rows
    ]
    held = page_cache_get_many(keys)
    now = timezone.now()
    dashboard_url = _url_for_each("dashboards:engagement")
    fresh: dict[str, str] = {}
    out = []
    for r, key in zip(rows, keys, strict=True):
        cells = held.get(key)
        if cells is None:
            cells = fresh[key] = portfolio_cells_html(r, data, url=dashboard_url(r.engagement.pk))
        out.append(
            {
                "row": r,
                "cells": mark_safe(cells),  # built, and escaped, by fragments.portfolio_cells_html
                "last_data": _last_data_cell(r.last_arrival, r.engagement.time_zone, now),
            }
        )
    page_cache_set_many(fresh)
    return out


def _url_for_each(name: str, *fixed: object) -> Callable[[int | str], str]:
    """The URL of ``name`` for any last argument (an id or a slug), reversed once: a page linking every
    row or tile would otherwise reverse it once per link."""
    marker = 987654321  # a value every int and slug converter accepts, found once in the URL
    head, _, tail = reverse(name, args=[*fixed, marker]).rpartition(str(marker))
    return lambda last: f"{head}{last}{tail}"


def _last_data_cell(arrival: datetime | None, zone: str, now: datetime) -> SafeString:
    """The "Last data" cell: how long ago, the moment in the engagement's zone as its title (reads the clock)."""
    if arrival is None:
        return mark_safe('<td data-label="Last data">Never</td>')
    return format_html(
        '<td data-label="Last data"><time datetime="{}" title="{}">{} ago</time></td>',
        dateformat.format(timezone.localtime(arrival), "c"),
        moment_text(arrival, zone=zone),
        timesince(arrival, now),
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
    state = selectors.engagement_state(engagement_id=engagement.pk)
    stamp = state.text
    if _unchanged(request, stamp):
        return HttpResponse(status=NOT_CHANGED)
    period = request.GET.get("period", "").strip()[:16]
    now = timezone.now()
    # Feedback markers and chronic flags are not in the stamp: read each time (one query each) and keyed on.
    feedback_open = {code: len(starts) for code, starts in feedback_open_periods(engagement=engagement).items()}
    chronic = alerts_chronic(engagement=engagement)
    key = page_key(
        "dashboard",
        engagement.pk,
        request.membership.organisation_id,
        stamp,
        _engagement_fields(engagement),
        local_date(now, engagement.time_zone),
        period,
        feedback_open,
        chronic,
    )
    held = page_cache_get(key)
    if held is None:
        body, shown, changes = _dashboard_body(request, engagement, period, now, state, feedback_open, chronic)
        page_cache_set(key, (body, shown))
    else:
        body, shown = held
        changes = engagement_selectors.business_change_list(membership=request.membership, engagement=engagement)[:5]
    return render_page(
        request,
        page="dashboards/engagement.html",
        partial="dashboards/partials/_engagement.html",
        context={
            "engagement": engagement,
            "body": mark_safe(body),  # rendered, and escaped, by _engagement_body.html
            "stamp": stamp,
            "changes": changes,
            "live_url": _live_url(request, stamp, period=shown),
        },
    )


def _engagement_fields(engagement: Engagement) -> tuple[object, ...]:
    """What the dashboard shows of the engagement itself (its stamp covers values, changes and versions)."""
    return (
        engagement.updated_at,
        engagement.name,
        engagement.time_zone,
        engagement.currency,
        engagement.start_date,
        engagement.end_date,
    )


def _dashboard_body(
    request: AuthenticatedHttpRequest,
    engagement: Engagement,
    period: str,
    now: datetime,
    state: selectors.EngagementState,
    feedback_open: dict[str, int],
    chronic: dict[str, str],
) -> tuple[str, str, list[BusinessChange]]:
    """The dashboard's tiles and scores as HTML, the period label the poll keeps asking for, the latest changes."""
    dashboard = selectors.engagement_dashboard(
        membership=request.membership, engagement=engagement, period_label=period, now=now, state=state
    )
    kpi_url = _url_for_each("dashboards:kpi", engagement.pk)
    views = [
        TileView(
            tile=t,
            spark=charts.sparkline(
                [v for _, v in t.history],
                target=t.result.target,
                labels=[p.label for p, _ in t.history],
                unit=t.kpi.unit,
                kind=t.kpi.period,
            ),
            forecast=tile_forecast(t.outlook, currency=engagement.currency),
            url=kpi_url(t.kpi.code),
        )
        for t in dashboard.tiles
    ]
    shown = dashboard.period.label if dashboard.period and period and not dashboard.period_error else ""
    body = render_to_string(
        "dashboards/partials/_engagement_body.html",
        {
            "engagement": engagement,
            "dashboard": dashboard,
            "tiles_html": tiles_html(
                views,
                currency=engagement.currency,
                zone=engagement.time_zone,
                score_kind=dashboard.period.kind if dashboard.period else "",
                feedback_open=feedback_open,
                chronic=chronic,
            ),
        },
    )
    return body, shown, dashboard.changes


def _unit_arg(unit: str, currency: str) -> str:
    return f"currency {currency}" if unit == "currency" else unit


@membership_required
def kpi_detail(request: AuthenticatedHttpRequest, pk: int, code: str) -> HttpResponse:
    engagement = _engagement(request, pk)
    stamp = selectors.engagement_stamp(engagement_id=engagement.pk)
    if _unchanged(request, stamp):
        return HttpResponse(status=NOT_CHANGED)
    series = selectors.kpi_series(membership=request.membership, engagement=engagement, kpi_code=code, stamp=stamp)
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
