"""A KPI's history as plain inputs: a sequence of (period label or index, value or None when missing).

The statistics modules (control charts, trends, forecasts) share this check so that one bad value
is refused the same way everywhere. Values come in as ``Decimal`` (as the project stores them);
the statistics run in float (numpy/scipy work in binary floating point, and their estimates carry
an uncertainty many orders of magnitude larger than float rounding). Comparisons against a target
stay in ``Decimal`` (see ``trends``), so "exactly on target" is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pactboard.core.errors import ErrorDetail, PactboardError

__all__ = ["Label", "Observation", "Series", "series_check"]

Label = str | int
Observation = tuple[Label, Decimal | None]


@dataclass(frozen=True, kw_only=True)
class Series:
    """Checked observations in time order; ``values[i]`` is None for a missing period."""

    labels: tuple[Label, ...]
    values: tuple[Decimal | None, ...]

    def floats(self) -> list[float | None]:
        return [None if v is None else float(v) for v in self.values]

    def present(self) -> list[tuple[int, float]]:
        """The (position, value) of every period that has a value, in order: the plotted points."""
        return [(i, float(v)) for i, v in enumerate(self.values) if v is not None]


def series_check(points: Sequence[Observation], *, location: str = "values") -> Series:
    """The observations checked (each a (label, Decimal or None) pair, labels unique, values finite)."""
    problems: list[ErrorDetail] = []
    labels: list[Label] = []
    values: list[Decimal | None] = []
    seen: set[Label] = set()
    for i, point in enumerate(points):
        where = f"{location}[{i}]"
        if not isinstance(point, tuple) or len(point) != 2:
            problems.append(ErrorDetail("must be a (period, value) pair", where, "not_a_pair"))
            continue
        label, value = point
        if label in seen:
            problems.append(ErrorDetail(f"the period {label!r} appears twice", where, "duplicate_period"))
        seen.add(label)
        if value is not None and not isinstance(value, Decimal):
            problems.append(
                ErrorDetail(f"must be a Decimal or None, not {type(value).__name__}", f"{where}.value", "not_decimal")
            )
        elif value is not None and not value.is_finite():
            problems.append(ErrorDetail("must be a finite number", f"{where}.value", "not_finite"))
        labels.append(label)
        values.append(value)
    if problems:
        raise PactboardError("The KPI history cannot be analysed: correct the values listed.", details=problems)
    return Series(labels=tuple(labels), values=tuple(values))
