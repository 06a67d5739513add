"""Availability over the exact minutes of a period: kept in ``pactboard.scoring.availability``.

The arithmetic lives on the pure low floor so the measurements room (below incentives) computes
availability KPIs with the same rules a scheme settles on; this module re-exports it.
"""

from __future__ import annotations

from pactboard.scoring.availability import (
    MAINTENANCE_RULES,
    MINUTE_RULES,
    Availability,
    Interval,
    MaintenanceRule,
    MinuteRule,
    availability_compute,
    intervals_merge,
)

__all__ = [
    "MAINTENANCE_RULES",
    "MINUTE_RULES",
    "Availability",
    "Interval",
    "MaintenanceRule",
    "MinuteRule",
    "availability_compute",
    "intervals_merge",
]
