"""The dashboard's KPI tiles and the portfolio's rows as HTML, built in Python.

A dashboard has a tile per KPI, each with some 85 values to print (value, target, bands, status,
trend, outlook, forecast, sparkline, dates); a portfolio a row per engagement with some 20. Through
the template engine they were the largest part of a page's first render after a write (about 1,700
variable lookups for 20 tiles, 14 ms for 50 rows); here each is one pass of string formatting. Every
printed value is escaped with ``django.utils.html.escape``, as the template engine's autoescape does,
and numbers and times use the same ``core.formatting`` functions as the template filters. The markup
is the one the templates had (``data-testid`` hooks included; docs/dashboards.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from pactboard.core import formatting
from pactboard.dashboards.charts import STATUS_ICONS, STATUS_LABELS, Sparkline
from pactboard.dashboards.outlooks import TileForecast
from pactboard.dashboards.selectors import KpiTile, Portfolio, PortfolioRow


@dataclass(frozen=True)
class TileView:
    """One tile and what the view prepared for it: its sparkline, forecast and KPI page URL."""

    tile: KpiTile
    spark: Sparkline
    forecast: TileForecast | None
    url: str


def _value(value: object, unit: str, currency: str) -> str:
    return escape(formatting.value_text(value, unit=unit, currency=currency))  # type: ignore[arg-type]


def _trend(tile: KpiTile) -> str:
    return trend_html(tile.trend, tile.trend_better)


def trend_html(trend: str | None, better: bool | None) -> str:
    """The scorecard's arrow: up, down or flat, and whether that is better for the KPI (or the score)."""
    if not trend:
        return '<span class="trend trend-none">—<span class="visually-hidden"> no trend yet</span></span>'
    kind = "trend-better" if better is True else "trend-worse" if better is False else "trend-flat"
    arrow, word = {"up": ("▲", "Up"), "down": ("▼", "Down")}.get(trend, ("►", "Flat"))
    judged = " (better)" if better is True else " (worse)" if better is False else ""
    return (
        f'<span class="trend {kind}" data-testid="trend"><span aria-hidden="true">{arrow}</span> {word}{judged}</span>'
    )


def _spark(s: Sparkline) -> str:
    parts = [
        f'<svg class="spark" viewBox="0 0 {s.width} {s.height}" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(s.label)}" focusable="false">'
    ]
    if s.target_y is not None:
        parts.append(f'<line class="spark-target" x1="0" x2="{s.width}" y1="{s.target_y}" y2="{s.target_y}"></line>')
    parts.extend(f'<polyline class="spark-line" points="{escape(seg)}"></polyline>' for seg in s.segments)
    if s.last:
        parts.append(f'<path class="spark-last" d="M{s.last[0]} {s.last[1]}h0"></path>')
    parts.append("</svg>")
    return "".join(parts)


def _updated(tile: KpiTile, *, zone: str, score_kind: str) -> str:
    if tile.updated_at is not None:
        text = (
            f'Changed <time datetime="{_iso(tile.updated_at)}">'
            f"{escape(formatting.moment_text(tile.updated_at, zone=zone))}</time>"
        )
        if tile.revision_count > 1:
            text += f" · {tile.revision_count} revisions"
    else:
        text = f"No value for {escape(tile.period.label)} yet"
    if not tile.in_score:
        text += f" · not in the {escape(score_kind)}'s score"
    return text


def _iso(moment: datetime) -> str:
    # As the template's ``|date:'c'``: the instant in the current time zone, ISO 8601.
    return escape(dateformat.format(timezone.localtime(moment), "c"))


def _tile(
    view: TileView, *, currency: str, zone: str, score_kind: str, feedback_open: int, chronic_since: str | None
) -> str:
    t, r = view.tile, view.tile.result
    kpi = t.kpi
    unit = kpi.unit
    status = escape(r.status)
    url = escape(view.url)
    head = [
        f'<h3><a href="{url}">{escape(kpi.name)}</a></h3>',
        f'<span class="tile-period">{escape(t.period.label)}</span>',
    ]
    if feedback_open:
        plural = "" if feedback_open == 1 else "s"
        head.append(
            f'<a class="feedback-marker open" href="{url}#feedback" data-testid="tile-feedback" '
            f'title="{feedback_open} value{plural} with open feedback">● {feedback_open}</a>'
        )
    if chronic_since:
        head.append(
            f'<span class="chronic-flag" data-testid="tile-chronic" '
            f'title="Missed in a row since {escape(chronic_since)}, until met again">Chronic</span>'
        )
    parts = [
        f'<li class="tile tile-{status}" data-testid="kpi-tile" data-kpi="{escape(kpi.code)}">',
        f'<div class="tile-head">{" ".join(head)}</div>',
        f'<p class="tile-value" data-testid="tile-value">{_value(r.value, unit, currency)}</p>',
        f'<p class="tile-status"><span class="pill pill-{status}" data-testid="tile-status">'
        f'<span aria-hidden="true">{escape(STATUS_ICONS.get(r.status, ""))}</span> '
        f"{escape(STATUS_LABELS.get(r.status, r.status))}</span> {_trend(t)}</p>",
    ]
    if t.outlook:
        o = t.outlook
        forecast = ""
        if (f := view.forecast) is not None:
            forecast = (
                f'<span data-testid="tile-forecast">Forecast {escape(f.period)}: <strong>{escape(f.point)}</strong>, '
                f"{escape(f.probability)} chance of meeting the target "
                f'<span class="cell-sub">(average so far)</span></span>'
            )
        parts.append(
            f'<p class="tile-forecast" data-testid="tile-outlook">'
            f'<a class="trend-class trend-class-{escape(o.classification.word)}" href="{url}#trend" '
            f'data-testid="tile-trend-word" title="{escape(o.classification.reason)}">{escape(o.word_label)}</a> '
            f"{forecast}</p>"
        )
    milestone = (
        f' <span class="tile-milestone">(milestone of {escape(dateformat.format(r.milestone_date, "j M Y"))})</span>'
        if r.milestone_date
        else ""
    )
    bands = ""
    if r.amber is not None:
        bands += f"amber {_value(r.amber, unit, currency)} · "
    if r.stretch is not None:
        bands += f"stretch {_value(r.stretch, unit, currency)} · "
    parts += [
        f'<p class="tile-target">Target {_value(r.target, unit, currency)}{milestone} '
        f'<span class="cell-sub">{bands}{escape(kpi.get_direction_display().lower())}</span></p>',
        _spark(view.spark),
        f'<p class="tile-updated">{_updated(t, zone=zone, score_kind=score_kind)}</p>',
        "</li>",
    ]
    return "".join(parts)


def tiles_html(
    views: Sequence[TileView],
    *,
    currency: str,
    zone: str,
    score_kind: str,
    feedback_open: Mapping[str, int],
    chronic: Mapping[str, str],
) -> SafeString:
    """The ``<ul class="tiles">`` of a dashboard: one ``<li>`` per KPI, every value escaped.

    ``zone``: the engagement's time zone (times shown); ``score_kind``: the period kind of the score
    the page shows (a tile of another kind says it is not in it); ``feedback_open``: open feedback
    threads by KPI code; ``chronic``: the period a chronic miss began, by KPI code.
    """
    items = "\n".join(
        _tile(
            v,
            currency=currency,
            zone=zone,
            score_kind=score_kind,
            feedback_open=feedback_open.get(v.tile.kpi.code, 0),
            chronic_since=chronic.get(v.tile.kpi.code),
        )
        for v in views
    )
    return mark_safe(f'<ul class="tiles" aria-label="KPIs">\n{items}\n</ul>')  # every part escaped above


def portfolio_cells_html(row: PortfolioRow, portfolio: Portfolio, *, url: str) -> SafeString:
    """A portfolio row's cells but "Last data" (which reads the clock): cached per row by the view.

    ``url``: the engagement's dashboard.
    """
    e = row.engagement
    kpis = row.kpi_count
    badge = (
        f' <span class="badge status-{escape(e.status)}">{escape(e.get_status_display())}</span>'
        if e.status != "active"
        else ""
    )
    period = f"{escape(row.period.label)} · " if row.period else ""
    if row.status_score is not None:
        shown = escape(formatting.number_text(row.status_score, places=formatting.SCORE_PLACES))
        meter = escape(formatting.number_text(row.status_score, places=0))
        status_score = (
            f'<span class="score-cell"><strong>{shown}</strong><span class="meter" aria-hidden="true">'
            f'<span data-meter="{meter}"></span></span></span>'
        )
    else:
        status_score = '<span class="muted">No data</span>'
    if row.score is not None:
        score = (
            f"{escape(formatting.number_text(row.score, places=formatting.SCORE_PLACES))}"
            f'<span class="cell-sub">coverage {escape(formatting.ratio_percent_text(row.coverage))}</span>'
        )
    else:
        score = "—"
    if row.scorecard:
        no_data = (
            f'<li class="pill pill-no_data"><span aria-hidden="true">–</span> {row.no_data}'
            '<span class="visually-hidden"> without data</span></li>'
            if row.no_data
            else ""
        )
        counts = (
            '<ul class="status-counts compact">'
            f'<li class="pill pill-met"><span aria-hidden="true">✓</span> {row.met}'
            '<span class="visually-hidden"> met or exceeded</span></li>'
            f'<li class="pill pill-at_risk"><span aria-hidden="true">!</span> {row.at_risk}'
            '<span class="visually-hidden"> at risk</span></li>'
            f'<li class="pill pill-missed"><span aria-hidden="true">✕</span> {row.missed}'
            '<span class="visually-hidden"> missed</span></li>'
            f"{no_data}</ul>"
        )
    else:
        counts = "—"
    return mark_safe(  # every part escaped above
        f'<th scope="row" data-label="Engagement"><a href="{escape(url)}">{escape(e.name)}</a>{badge} '
        f'<span class="cell-sub">{period}{kpis} KPI{"" if kpis == 1 else "s"}</span></th>'
        f'<td data-label="{escape(portfolio.counterparty_label)}">{escape(row.counterparty.name)}</td>'
        f'<td data-label="Status score" class="num" data-testid="status-score">{status_score}</td>'
        f'<td data-label="Score" class="num" data-testid="score">{score}</td>'
        f'<td data-label="Trend">{trend_html(row.trend, row.trend_better)}</td>'
        f'<td data-label="KPIs by status">{counts}</td>'
        f'<td data-label="Missed" class="num">{row.missed}</td>'
    )
