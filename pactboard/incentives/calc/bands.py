"""Performance bands: each band of a measured value gives one amount; the bands cover every value once.

Every edge states which side is inclusive. A band set is accepted only when, sorted by their
lower edges, each band ends exactly where the next begins with exactly one of the two sides
including the edge value, the lowest band has no lower edge and the highest no upper edge: then
exactly one band applies to any value, and tiers are never cumulative.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.incentives.calc.money import Amount, amount_check, require_decimal

__all__ = ["Band", "Edge", "band_for", "bands_check", "bands_require"]


def _fmt(value: Decimal) -> str:
    return format(value, "f")


@dataclass(frozen=True, kw_only=True)
class Edge:
    """One end of a band: the value and whether the band includes it."""

    value: Decimal
    inclusive: bool

    def __post_init__(self) -> None:
        require_decimal("Edge.value", self.value)
        if not isinstance(self.inclusive, bool):
            raise TypeError("Edge.inclusive must be True or False")


@dataclass(frozen=True, kw_only=True)
class Band:
    """Values from ``lower`` to ``upper`` (``None``: unbounded on that side) give ``amount``.

    ``amount`` None is the band that gives nothing (e.g. the service level met).
    """

    lower: Edge | None = None
    upper: Edge | None = None
    amount: Amount | None = None
    label: str = ""

    def contains(self, value: Decimal) -> bool:
        low, high = self.lower, self.upper
        above_low = low is None or value > low.value or (value == low.value and low.inclusive)
        below_high = high is None or value < high.value or (value == high.value and high.inclusive)
        return above_low and below_high

    def describe(self) -> str:
        """The band as its contract would write it: ``99.0 ≤ value < 99.99``."""
        left = "" if self.lower is None else f"{_fmt(self.lower.value)} {'≤' if self.lower.inclusive else '<'} "
        right = "" if self.upper is None else f" {'≤' if self.upper.inclusive else '<'} {_fmt(self.upper.value)}"
        text = f"{left}value{right}" if left or right else "any value"
        return f"{self.label}: {text}" if self.label else text


def _empty(band: Band) -> bool:
    if band.lower is None or band.upper is None:
        return False
    if band.lower.value != band.upper.value:
        return band.lower.value > band.upper.value
    return not (band.lower.inclusive and band.upper.inclusive)


def _lower_key(band: Band) -> tuple[int, Decimal, int]:
    # Unbounded first; on equal values the band that includes the value starts first.
    if band.lower is None:
        return (0, Decimal(0), 0)
    return (1, band.lower.value, 0 if band.lower.inclusive else 1)


def _joint_problem(location: str, i: int, left: Edge, j: int, right: Edge) -> ErrorDetail | None:
    """The gap or overlap between band ``i``'s upper edge and band ``j``'s lower edge, if any."""
    where = f"{location}[{i}].upper"
    u, lo = left.value, right.value
    if u < lo:
        return ErrorDetail(
            f"gap: values above {_fmt(u)} and below {_fmt(lo)} fall in no band; band {j} must start at {_fmt(u)}",
            where,
            "band_gap",
        )
    if u > lo:
        return ErrorDetail(
            f"overlap: values from {_fmt(lo)} to {_fmt(u)} fall in bands {i} and {j}; band {j} must start at {_fmt(u)}",
            where,
            "band_overlap",
        )
    if left.inclusive and right.inclusive:
        return ErrorDetail(
            f"overlap at {_fmt(u)}: bands {i} and {j} both include it; make exactly one side inclusive",
            where,
            "band_overlap",
        )
    if not left.inclusive and not right.inclusive:
        return ErrorDetail(
            f"gap at {_fmt(u)}: neither band {i} nor band {j} includes it; make exactly one side inclusive",
            where,
            "band_gap",
        )
    return None


def bands_check(bands: Sequence[Band], *, location: str = "bands") -> list[ErrorDetail]:
    """Every problem with a band set (edges, amounts, gaps, overlaps); empty when exactly one band fits each value.

    Locations name the band and edge, e.g. ``bands[1].upper``; bands may be listed in any order.
    """
    if not bands:
        return [ErrorDetail("must hold at least one band", location, "required")]
    problems: list[ErrorDetail] = []
    for i, band in enumerate(bands):
        if not isinstance(band, Band):
            problems.append(ErrorDetail("must be a band", f"{location}[{i}]", "invalid_band"))
            continue
        for side in ("lower", "upper"):
            edge = getattr(band, side)
            if edge is not None and not edge.value.is_finite():
                problems.append(ErrorDetail("must be a finite number", f"{location}[{i}].{side}", "not_finite"))
        if band.amount is not None:
            problems.extend(amount_check(band.amount, f"{location}[{i}].amount"))
    if problems:
        return problems
    for i, band in enumerate(bands):
        if _empty(band):
            problems.append(
                ErrorDetail(
                    f"holds no value ({band.describe()}); the lower edge must be below the upper edge",
                    f"{location}[{i}]",
                    "empty_band",
                )
            )
    if problems:
        return problems
    order = sorted(range(len(bands)), key=lambda k: _lower_key(bands[k]))
    first, last = bands[order[0]], bands[order[-1]]
    if first.lower is not None:
        side = "below" if first.lower.inclusive else "at or below"
        problems.append(
            ErrorDetail(
                f"values {side} {_fmt(first.lower.value)} fall in no band; give the lowest band no lower edge",
                f"{location}[{order[0]}].lower",
                "band_gap",
            )
        )
    for i, j in itertools.pairwise(order):
        left, right = bands[i], bands[j]
        if left.upper is None:
            assert right.lower is not None  # only the first band in this order is unbounded below
            problems.append(
                ErrorDetail(
                    f"overlap: band {i} has no upper edge, so values from {_fmt(right.lower.value)} up fall in "
                    f"bands {i} and {j}",
                    f"{location}[{i}].upper",
                    "band_overlap",
                )
            )
            continue
        if right.lower is None:  # two bands unbounded below
            problems.append(
                ErrorDetail(
                    f"overlap: bands {i} and {j} both have no lower edge", f"{location}[{j}].lower", "band_overlap"
                )
            )
            continue
        problem = _joint_problem(location, i, left.upper, j, right.lower)
        if problem is not None:
            problems.append(problem)
    if last.upper is not None and not any(p.code == "band_overlap" for p in problems):
        side = "above" if last.upper.inclusive else "at or above"
        problems.append(
            ErrorDetail(
                f"values {side} {_fmt(last.upper.value)} fall in no band; give the highest band no upper edge",
                f"{location}[{order[-1]}].upper",
                "band_gap",
            )
        )
    return problems


def bands_require(bands: Sequence[Band], *, location: str = "bands", what: str = "The bands") -> None:
    """Raise a ``PactboardError`` listing every problem of a band set."""
    problems = bands_check(bands, location=location)
    if problems:
        raise PactboardError(f"{what} must cover every value exactly once: correct the edges listed.", details=problems)


def band_for(bands: Sequence[Band], value: Decimal) -> int:
    """The index of the one band that holds ``value`` (the bands were checked with ``bands_check``)."""
    require_decimal("value", value)
    if not value.is_finite():
        raise PactboardError(
            "A measured value must be a finite number.",
            details=[ErrorDetail("must be a finite number", "value", "not_finite")],
        )
    found = [i for i, band in enumerate(bands) if band.contains(value)]
    if len(found) != 1:  # only reachable with unchecked bands
        raise PactboardError(
            f"{len(found)} bands hold {_fmt(value)}: check the bands with bands_check first.",
            details=[ErrorDetail("must cover every value exactly once", "bands", "bands_unchecked")],
        )
    return found[0]
