"""Template filters for the dashboards: status words, symbols and classes.

Numbers and times have their own library (``{% load formatting %}``, pactboard/core/templatetags).
"""

from __future__ import annotations

from django import template

from pactboard.dashboards.charts import STATUS_ICONS, STATUS_LABELS

register = template.Library()


@register.filter
def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


@register.filter
def status_icon(status: str) -> str:
    return STATUS_ICONS.get(status, "")
