"""SVG rendering and the vega-embed bundle: they live in ``core.vega`` (reports draw charts too)."""

from pactboard.core.vega import (
    _BUNDLE_SNIPPET,
    VEGA_BUNDLE_NAME,
    _bundle_header,
    chart_svg,
    vega_bundle_ensure,
    vega_bundle_path,
    vega_bundle_ready,
)

__all__ = [
    "VEGA_BUNDLE_NAME",
    "_BUNDLE_SNIPPET",
    "_bundle_header",
    "chart_svg",
    "vega_bundle_ensure",
    "vega_bundle_path",
    "vega_bundle_ready",
]
