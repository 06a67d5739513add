"""Reads for the portfolio, the engagement dashboard and the KPI page (after NetBox's one-query-per-kind rule).

Every page reads a fixed number of queries whatever the number of KPIs and periods: the agreed
versions, their KPIs and milestones, and the measurements are each read once, then combined in
Python. ``common`` holds the agreed sets and periods every page shares; one module per page.
"""

from pactboard.dashboards.selectors.common import (
    _AGREED_CACHE,
    _AGREED_CACHE_SIZE,
    _AGREED_LOCK,
    _VALUE_FIELDS,
    ATTENTION_STATUSES,
    KIND_PREFERENCE,
    PORTFOLIO_TREND_PERIODS,
    SPARK_PERIODS,
    AgreedSet,
    Value,
    _current_period,
    _value_of,
    _values,
    agreed_cache_clear,
    agreed_sets,
    closed_period,
    display_period,
    kind_of,
    local_today,
    set_in_force,
    values_read,
)
from pactboard.dashboards.selectors.engagement import EngagementDashboard, KindScore, KpiTile, engagement_dashboard
from pactboard.dashboards.selectors.kpi import KpiPoint, KpiSeries, kpi_series
from pactboard.dashboards.selectors.portfolios import (
    SORT_KEYS,
    Portfolio,
    PortfolioRow,
    _portfolio_values,
    _sort_value,
    portfolio,
    portfolio_sort,
)
from pactboard.dashboards.selectors.stamps import (
    EngagementState,
    _stamp_text,
    engagement_stamp,
    engagement_state,
    portfolio_stamp,
)

__all__ = [
    "ATTENTION_STATUSES",
    "KIND_PREFERENCE",
    "PORTFOLIO_TREND_PERIODS",
    "SORT_KEYS",
    "SPARK_PERIODS",
    "_AGREED_CACHE",
    "_AGREED_CACHE_SIZE",
    "_AGREED_LOCK",
    "_VALUE_FIELDS",
    "AgreedSet",
    "EngagementDashboard",
    "EngagementState",
    "KindScore",
    "KpiPoint",
    "KpiSeries",
    "KpiTile",
    "Portfolio",
    "PortfolioRow",
    "Value",
    "_current_period",
    "_portfolio_values",
    "_sort_value",
    "_stamp_text",
    "_value_of",
    "_values",
    "agreed_cache_clear",
    "agreed_sets",
    "closed_period",
    "display_period",
    "engagement_dashboard",
    "engagement_stamp",
    "engagement_state",
    "kind_of",
    "kpi_series",
    "local_today",
    "portfolio",
    "portfolio_sort",
    "portfolio_stamp",
    "set_in_force",
    "values_read",
]
