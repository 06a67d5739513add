"""The status vocabulary (labels, icons, colours, shapes), number text and axis helpers every chart uses."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pactboard.core import formatting
from pactboard.core.periods import Period
from pactboard.core.vega import VEGA_LITE_VERSION as VEGA_LITE_VERSION  # re-exported by charts

logger = logging.getLogger(__name__)


# Status: colour AND a symbol AND words, never colour alone. Colours keep 3:1 against white (graphics).
STATUS_LABELS: dict[str, str] = {
    "exceeded": "Exceeded",
    "met": "Met",
    "at_risk": "At risk",
    "missed": "Missed",
    "no_data": "No data",
}


STATUS_ICONS: dict[str, str] = {"exceeded": "★", "met": "✓", "at_risk": "!", "missed": "✕", "no_data": "–"}


STATUS_COLOURS: dict[str, str] = {
    "exceeded": "#1d4ed8",
    "met": "#166534",
    "at_risk": "#a15c00",
    "missed": "#b3261e",
    "no_data": "#4a5565",
}


STATUS_SHAPES: dict[str, str] = {
    "exceeded": "triangle-up",
    "met": "circle",
    "at_risk": "diamond",
    "missed": "square",
}


CHANGE_COLOUR = "#6d28d9"


# The forecast fan (a teal apart from the status colours; its point is an open diamond, its line dashed).
FORECAST_COLOUR = "#0f766e"


INK = "#1b2430"


MUTED = "#4a5565"


def value_text(value: Decimal | None, unit: str, currency: str = "") -> str:
    """A value with its unit, by the one formatting rule (docs/formatting.md): ``76.2 %``, ``€4.20``."""
    return formatting.value_text(value, unit=unit, currency=currency)


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _local(day: date) -> str:
    """A day as the browser's local midnight: a bare ISO date would be read as UTC midnight, which is
    the day before west of Greenwich."""
    return f"{day.isoformat()}T00:00:00"


def _mid(period: Period) -> date:
    return period.start + timedelta(days=(period.end - period.start).days // 2)


def _y_domain(numbers: Sequence[float | None]) -> tuple[float, float]:
    present = [n for n in numbers if n is not None]
    if not present:
        return (0.0, 1.0)
    lo, hi = min(present), max(present)
    pad = (hi - lo) * 0.12 or max(abs(hi) * 0.1, 1.0)
    return (lo - pad, hi + pad)


# Ticks on period boundaries, labelled the way people name the periods.
_TIME_AXIS: dict[str, dict[str, Any]] = {
    "month": {"format": "%b %Y", "tickCount": {"interval": "month", "step": 1}},
    "quarter": {"format": "%b %Y", "tickCount": {"interval": "month", "step": 3}},
    "week": {"format": "%d %b", "tickCount": {"interval": "week", "step": 1}},
}


# Placeholders for the parts of a layout that change with the data (its scale domains).
# The x scale needs none: the target rule spans every period, from its first day to the day after.
_Y_LO, _Y_HI = -987654321.25, 987654321.75
