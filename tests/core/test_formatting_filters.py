"""The template filters are the formatting module, reached from templates (expected strings by hand)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from django.template import Context, Template


def render(source: str, **context: object) -> str:
    return Template("{% load formatting %}" + source).render(Context(context))


def test_filters_follow_the_one_rule() -> None:
    # 76.401326 in % -> at most two places, half up -> 76.40 -> "76.4 %".
    assert render("{{ v|kpi_value:'%' }}", v=Decimal("76.401326")) == "76.4 %"
    # A fee of 412500 EUR: euro sign, grouped, two minor places.
    assert render("{{ v|kpi_value:'currency EUR' }}", v=Decimal("412500")) == "€412,500.00"
    assert render("{{ v|money:'EUR' }}", v=Decimal("412500")) == "€412,500.00"
    # Attainment ratio 1.0186 -> 101.86 % -> one place half up -> "101.9 %".
    assert render("{{ v|ratio_percent }}", v=Decimal("1.0186")) == "101.9 %"
    # Scores show one place, half up: 2.25 -> "2.3" (floatformat would say "2.2").
    assert render("{{ v|number:1 }}", v=Decimal("2.25")) == "2.3"
    assert render("{{ v|count }}", v=12345) == "12,345"
    assert render("{{ v|number }}", v=None) == "—"


def test_time_filters_name_the_zone() -> None:
    moment = datetime(2026, 11, 29, 10, 38, 27, tzinfo=UTC)
    # Europe/Berlin in November is UTC+1, abbreviated CET.
    assert render("{{ t|moment:'Europe/Berlin' }}", t=moment) == "29 Nov 2026, 11:38 CET"
    assert render("{{ t|clock:'Europe/Berlin' }}", t=moment) == "11:38:27 CET"
