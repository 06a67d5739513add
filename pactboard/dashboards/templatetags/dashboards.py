"""Template filters for the dashboards: values with units, and status words, symbols and classes."""

from __future__ import annotations

from decimal import Decimal

from django import template

from pactboard.dashboards.charts import STATUS_ICONS, STATUS_LABELS, number_text, value_text

register = template.Library()


@register.filter
def kpi_value(value: Decimal | None, unit_and_currency: str) -> str:
    """``{{ value|kpi_value:"%" }}`` or ``{{ value|kpi_value:"currency EUR" }}``."""
    unit, _, currency = (unit_and_currency or "").partition(" ")
    if unit == "currency":
        return value_text(value, unit, currency)
    return value_text(value, unit_and_currency or "")


@register.filter
def number(value: Decimal | None, places: int = 1) -> str:
    return number_text(value, places=places)


@register.filter
def percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{number_text(value * 100, places=0)} %"


@register.filter
def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


@register.filter
def status_icon(status: str) -> str:
    return STATUS_ICONS.get(status, "")
