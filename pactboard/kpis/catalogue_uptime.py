"""The catalogue's availability (uptime) KPIs: one per way contracts count downtime minutes.

Each is derived by ``measurements/availability.py`` from outage records, with the contract's choices
of ``pactboard.scoring.availability`` (exact minutes, whole minutes, partial minutes dropped;
maintenance windows included or excluded). ``docs/kpi-catalogue.md`` explains each one.
"""

from __future__ import annotations

from typing import Any

from pactboard.kpis.catalogue_kpi import PERCENT, CatalogueKpi

__all__ = ["AVAILABILITY_KPIS"]


def _outage_uptime(**varying: Any) -> CatalogueKpi:
    """An uptime KPI derived from outage records: what every one of them shares, and what ``varying`` says."""
    shared: dict[str, Any] = {
        "category": "operational",
        "unit": "%",
        "direction": "higher",
        "default_period": "month",
        "dataset": "outages",
        "formula": "count(*)",  # not the KPI's value: the derivation computes it (the formula counts records)
        "row_filter": None,
        "min_value": PERCENT[0],
        "max_value": PERCENT[1],
        "derivation": "availability",
    }
    return CatalogueKpi(**shared, **varying)


AVAILABILITY_KPIS: tuple[CatalogueKpi, ...] = (
    CatalogueKpi(
        code="availability",
        name="Availability (uptime)",
        category="operational",
        unit="%",
        direction="higher",
        definition=(
            "Share of the agreed service time during which the service was available: (agreed service time - "
            "downtime) / agreed service time x 100."
        ),
        variant="Unplanned downtime within agreed service time only; planned maintenance windows are not downtime.",
        default_period="month",
        dataset="availability",
        formula="100.0 * (sum(agreed_seconds) - sum(downtime_seconds)) / sum(agreed_seconds)",
        row_filter=None,
        min_value=PERCENT[0],
        max_value=PERCENT[1],
        source="ITIL availability management: availability % = (agreed service time - downtime) / AST x 100.",
        aliases=("uptime", "up time"),
    ),
    _outage_uptime(
        code="monthly_uptime",
        name="Monthly uptime percentage (every outage counts)",
        definition=(
            "(minutes of the period - minutes of downtime) / minutes of the period x 100, over the exact minutes of "
            "the period in the engagement's zone (a 30-day month 43,200; 31 days 44,640; a DST change one hour "
            "less or more). Every outage and maintenance record is downtime; overlapping records count once; an "
            "outage crossing a period boundary counts in each period for the minutes inside it."
        ),
        variant=(
            "Derived from the outages dataset (derivation 'availability'), not from the formula: downtime to the "
            "second (exact minutes); maintenance windows not excluded; an ongoing outage (no end) counts up to now. "
            "The formula only counts outage records starting in the period."
        ),
        source=(
            "Cloud SLA 'Monthly Uptime Percentage': Microsoft Azure SLA, (Maximum Available Minutes - Downtime) / "
            "Maximum Available Minutes x 100; Google Cloud SLAs, total minutes in a month minus downtime over total "
            "minutes."
        ),
        availability_minutes="exact",
        availability_maintenance="none",
        aliases=("monthly uptime percentage", "outages"),
    ),
    _outage_uptime(
        code="monthly_uptime_excl_maintenance",
        name="Monthly uptime percentage (maintenance windows excluded)",
        definition=(
            "(measured minutes - minutes of downtime) / measured minutes x 100, where measured minutes are the exact "
            "minutes of the period in the engagement's zone less the planned maintenance windows (records with "
            "maintenance = true); downtime inside a window does not count."
        ),
        variant=(
            "Derived from the outages dataset (derivation 'availability'): maintenance windows leave the measurement "
            "(neither period minutes nor downtime); downtime to the second; overlaps counted once; records clipped "
            "to each period."
        ),
        source=(
            "Microsoft Azure SLA: Maximum Available Minutes less Downtime, Downtime excluding scheduled "
            "maintenance under the SLA exclusions; ITIL availability management, agreed service time excludes "
            "agreed maintenance."
        ),
        availability_minutes="exact",
        availability_maintenance="excluded",
        aliases=("uptime excluding maintenance", "scheduled maintenance"),
    ),
    _outage_uptime(
        code="monthly_uptime_whole_minutes",
        name="Monthly uptime percentage (whole minutes)",
        definition=(
            "100% minus the percentage of the period's exact minutes (engagement's zone) in which the service was "
            "unavailable: a clock minute with any downtime in it is a minute down."
        ),
        variant=(
            "Derived from the outages dataset (derivation 'availability'): whole clock minutes only; maintenance "
            "windows excluded from the measurement; overlaps counted once; records clipped to each period."
        ),
        source=(
            "Amazon Compute Service Level Agreement: 'Monthly Uptime Percentage is calculated by subtracting from "
            "100% the percentage of minutes during the monthly billing cycle in which' the service was unavailable."
        ),
        availability_minutes="whole_minutes",
        availability_maintenance="excluded",
        aliases=("percentage of minutes",),
    ),
    _outage_uptime(
        code="monthly_uptime_partial_minutes_dropped",
        name="Monthly uptime percentage (partial minutes dropped)",
        definition=(
            "100% minus the percentage of the period's exact minutes (engagement's zone) the service was down, "
            "counting only the whole minutes of each continuous outage: a partial minute is not downtime."
        ),
        variant=(
            "Derived from the outages dataset (derivation 'availability'): whole minutes of each merged outage, "
            "rounded down (an outage under a minute counts nothing); maintenance windows excluded; records clipped "
            "to each period."
        ),
        source=(
            "Service-level clauses that count 'full minutes of Downtime' only (a common contract choice, e.g. "
            "'Downtime is measured in whole minutes; periods of less than one minute are not counted'); the "
            "arithmetic is otherwise the Monthly Uptime Percentage of the cloud SLAs above."
        ),
        availability_minutes="drop_partial",
        availability_maintenance="excluded",
        aliases=("full minutes of downtime",),
    ),
)
