"""The dashboard tile's sparkline (inline SVG, no script)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pactboard.dashboards.charts.common import value_text


@dataclass(frozen=True)
class Sparkline:
    """SVG geometry of a small line chart; ``segments`` break where a period has no data."""

    width: int
    height: int
    segments: tuple[str, ...]
    last: tuple[float, float] | None
    target_y: float | None
    label: str

    @property
    def has_data(self) -> bool:
        return self.last is not None


def sparkline(
    values: Sequence[Decimal | None],
    *,
    target: Decimal | None,
    labels: Sequence[str] = (),
    unit: str = "",
    kind: str = "period",
    width: int = 140,
    height: int = 36,
) -> Sparkline:
    """The last periods' values as polyline points, with the target as a horizontal line."""
    pad = 4.0
    numbers = [float(v) for v in values if v is not None]
    scale_of = [*numbers, float(target)] if target is not None else numbers
    described = ", ".join(
        f"{labels[i] if i < len(labels) else i + 1}: {value_text(v, unit)}"
        for i, v in enumerate(values)
        if v is not None
    )
    label = f"Last {len(values)} {kind}s. {described}." if numbers else f"No values in the last {len(values)} {kind}s."
    if not numbers:
        return Sparkline(width, height, (), None, None, label)
    lo, hi = min(scale_of), max(scale_of)
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    step = (width - 2 * pad) / max(len(values) - 1, 1)

    def y_of(v: float) -> float:
        return round(height - pad - (v - lo) / (hi - lo) * (height - 2 * pad), 1)

    segments: list[str] = []
    current: list[str] = []
    last: tuple[float, float] | None = None
    for i, v in enumerate(values):
        if v is None:
            if current:
                segments.append(" ".join(current))
            current = []
            continue
        x, y = round(pad + i * step, 1), y_of(float(v))
        current.append(f"{x},{y}")
        last = (x, y)
    if current:
        segments.append(" ".join(current))
    return Sparkline(width, height, tuple(segments), last, y_of(float(target)) if target is not None else None, label)
