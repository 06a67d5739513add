"""Template filters for numbers and times: thin wrappers over ``pactboard.core.formatting``.

``{% load formatting %}`` then ``{{ value|kpi_value:"%" }}``, ``{{ fee|money:engagement.currency }}``,
``{{ attainment|ratio_percent }}``, ``{{ score|number:1 }}``, ``{{ at|moment:engagement.time_zone }}``.
Use these instead of ``floatformat`` (half-even) or ``stringformat``: docs/formatting.md.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django import template
from django.conf import settings
from django.utils import timezone

from pactboard.core import formatting

register = template.Library()

Number = Decimal | int | float | None


@register.filter
def kpi_value(value: Number, unit_and_currency: str) -> str:
    """``{{ value|kpi_value:"%" }}`` or ``{{ value|kpi_value:"currency EUR" }}``."""
    unit, _, currency = (unit_and_currency or "").partition(" ")
    if unit == "currency":
        return formatting.value_text(value, unit=unit, currency=currency)
    return formatting.value_text(value, unit=unit_and_currency or "")


@register.filter
def number(value: Number, places: int = formatting.SCORE_PLACES) -> str:
    return formatting.number_text(value, places=int(places))


@register.filter
def count(value: Number) -> str:
    return formatting.count_text(value)


@register.filter
def ratio_percent(value: Number, places: int = formatting.SCORE_PLACES) -> str:
    return formatting.ratio_percent_text(value, places=int(places))


@register.filter
def percent(value: Number, places: int = formatting.VALUE_PLACES) -> str:
    return formatting.percent_text(value, places=int(places))


@register.filter
def money(value: Number, currency: str) -> str:
    return formatting.money_text(value, currency=currency)


def _zone(zone: str | None) -> str:
    return zone or timezone.get_current_timezone_name() or settings.TIME_ZONE


@register.filter
def moment(value: datetime | None, zone: str | None = None) -> str:
    """A date and time in the engagement's zone (or the current one), the zone named."""
    return formatting.moment_text(value, zone=_zone(zone))


@register.filter
def moment_seconds(value: datetime | None, zone: str | None = None) -> str:
    """As ``moment``, to the second (audit trails, revisions)."""
    return formatting.moment_text(value, zone=_zone(zone), seconds=True)


@register.filter
def clock(value: datetime | None, zone: str | None = None) -> str:
    return formatting.clock_text(value, zone=_zone(zone))


@register.simple_tag
def clock_now(zone: str | None = None) -> str:
    """The time of this render, as the live pages announce it ("Updated at 11:38:27 CET")."""
    return formatting.clock_text(timezone.now(), zone=_zone(zone))
