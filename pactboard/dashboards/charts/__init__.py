"""Charts: one Vega-Lite spec per chart (Altair), drawn in the browser by vega-embed and as SVG for PDFs and e-mails.

``common`` holds the status vocabulary and axis helpers; one module per chart; ``bundle`` renders
SVG and builds the vega-embed bundle served as a static file.
"""

from pactboard.dashboards.charts.bundle import (
    _BUNDLE_SNIPPET,
    VEGA_BUNDLE_NAME,
    _bundle_header,
    chart_svg,
    vega_bundle_ensure,
    vega_bundle_path,
    vega_bundle_ready,
)
from pactboard.dashboards.charts.common import (
    _TIME_AXIS,
    _Y_HI,
    _Y_LO,
    CHANGE_COLOUR,
    FORECAST_COLOUR,
    INK,
    MUTED,
    STATUS_COLOURS,
    STATUS_ICONS,
    STATUS_LABELS,
    STATUS_SHAPES,
    VEGA_LITE_VERSION,
    _f,
    _local,
    _mid,
    _y_domain,
    logger,
    value_text,
)
from pactboard.dashboards.charts.kpi import _kpi_chart_layout, kpi_chart, kpi_chart_summary
from pactboard.dashboards.charts.portfolio import _portfolio_chart_layout, portfolio_chart
from pactboard.dashboards.charts.sparklines import Sparkline, sparkline

__all__ = [
    "CHANGE_COLOUR",
    "FORECAST_COLOUR",
    "INK",
    "MUTED",
    "STATUS_COLOURS",
    "STATUS_ICONS",
    "STATUS_LABELS",
    "STATUS_SHAPES",
    "VEGA_BUNDLE_NAME",
    "VEGA_LITE_VERSION",
    "_BUNDLE_SNIPPET",
    "_TIME_AXIS",
    "_Y_HI",
    "_Y_LO",
    "Sparkline",
    "_bundle_header",
    "_f",
    "_kpi_chart_layout",
    "_local",
    "_mid",
    "_portfolio_chart_layout",
    "_y_domain",
    "chart_svg",
    "kpi_chart",
    "kpi_chart_summary",
    "logger",
    "portfolio_chart",
    "sparkline",
    "value_text",
    "vega_bundle_ensure",
    "vega_bundle_path",
    "vega_bundle_ready",
]
