"""How numbers and times are shown (docs/formatting.md).

Every expected string is worked out by hand from the rules in docs/formatting.md: round half up
(Decimal ROUND_HALF_UP, the rule the stored values use) to the unit's places, drop trailing zeros
(except money, which keeps the currency's minor unit), group thousands with commas, name the unit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from pactboard.core.formatting import (
    clock_text,
    count_text,
    decimal_round,
    moment_text,
    money_text,
    number_text,
    percent_text,
    ratio_percent_text,
    value_text,
)


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        # Exactly half: half up goes away from zero; half-even would give 2.2, 0.1, 2 and -2.2.
        ("2.25", 1, "2.3"),
        ("0.125", 2, "0.13"),
        ("2.5", 0, "3"),
        ("-2.25", 1, "-2.3"),
        # Below half rounds down, above half rounds up.
        ("2.249999", 1, "2.2"),
        ("2.250001", 1, "2.3"),
    ],
)
def test_decimal_round_is_half_up(value: str, places: int, expected: str) -> None:
    assert decimal_round(Decimal(value), places=places) == Decimal(expected)


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("2.25", 1, "2.3"),  # half up, not half-even "2.2"
        ("1234567.891", 2, "1,234,567.89"),  # commas every three digits, .891 -> .89
        ("80.000000", 2, "80"),  # stored values carry 6 places: trailing zeros are dropped
        ("-0.004", 2, "0"),  # rounds to zero: no "-0"
        ("0.5", 0, "1"),
    ],
)
def test_number_text(value: str, places: int, expected: str) -> None:
    assert number_text(Decimal(value), places=places) == expected


def test_missing_value_is_a_dash() -> None:
    assert number_text(None) == "—"
    assert value_text(None, unit="%") == "—"
    assert money_text(None, currency="EUR") == "—"


@pytest.mark.parametrize(
    ("value", "unit", "currency", "expected"),
    [
        # The scorecard showed "76.401326": two places at most, the unit named -> 76.40 -> "76.4 %".
        ("76.401326", "%", "", "76.4 %"),
        ("99.945", "%", "", "99.95 %"),  # half up at the 2nd place; half-even would say "99.94 %"
        ("312.5", "seconds", "", "312.5 s"),
        ("7.45", "hours", "", "7.45 h"),
        ("1234.5", "count", "", "1,235"),  # counts are whole: 1234.5 half up -> 1235
        ("42", "items/hour", "", "42 items/hour"),
        # Money: the currency's symbol first, grouped, the currency's minor unit (EUR 2 places).
        ("412500", "currency", "EUR", "€412,500.00"),
        ("4.205", "currency", "EUR", "€4.21"),  # half up at the cent
        ("-1234.5", "currency", "GBP", "-£1,234.50"),
        ("412500", "currency", "JPY", "¥412,500"),  # yen has no minor unit (ISO 4217: 0)
        ("1.2345", "currency", "KWD", "KWD 1.235"),  # 3 minor places, no own symbol: ISO code first
        ("412500", "currency", "CHF", "CHF 412,500.00"),
    ],
)
def test_value_text_per_unit(value: str, unit: str, currency: str, expected: str) -> None:
    assert value_text(Decimal(value), unit=unit, currency=currency) == expected


def test_money_text() -> None:
    assert money_text(Decimal("412500.00"), currency="EUR") == "€412,500.00"
    assert money_text(Decimal("0.005"), currency="USD") == "$0.01"


def test_percentages() -> None:
    # Attainment 1.0186 is 101.86 % -> one place, half up -> "101.9 %" (the CLI printed "1.0186").
    assert ratio_percent_text(Decimal("1.0186")) == "101.9 %"
    # Coverage 0.75 of the weight -> "75 %"; a ratio of exactly .5 at the 1st place rounds up.
    assert ratio_percent_text(Decimal("0.75")) == "75 %"
    assert ratio_percent_text(Decimal("0.00025"), places=2) == "0.03 %"
    assert percent_text(Decimal("76.401326")) == "76.4 %"
    assert percent_text(Decimal("2.25"), places=1) == "2.3 %"


def test_times_are_shown_in_a_named_zone() -> None:
    moment = datetime(2026, 11, 29, 10, 38, 27, tzinfo=UTC)
    # Berlin is UTC+1 in November (CET): 10:38 UTC is 11:38 CET.
    assert moment_text(moment, zone="Europe/Berlin") == "29 Nov 2026, 11:38 CET"
    assert clock_text(moment, zone="Europe/Berlin") == "11:38:27 CET"
    assert moment_text(moment, zone="Europe/Berlin", seconds=True) == "29 Nov 2026, 11:38:27 CET"
    # In July Berlin is UTC+2 (CEST).
    summer = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert moment_text(summer, zone="Europe/Berlin") == "1 Jul 2026, 12:00 CEST"
    # Zones without a letter abbreviation (tz database "+04") are named by their offset.
    assert clock_text(moment, zone="Asia/Dubai") == "14:38:27 UTC+04"
    assert moment_text(moment, zone="UTC") == "29 Nov 2026, 10:38 UTC"
    # New York in November is UTC-5 (EST): the date moves back across midnight.
    early = datetime(2026, 11, 29, 3, 5, tzinfo=UTC)
    assert moment_text(early, zone="America/New_York") == "28 Nov 2026, 22:05 EST"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        moment_text(datetime(2026, 11, 29, 10, 38), zone="UTC")


def test_count_text() -> None:
    assert count_text(12345) == "12,345"
    assert count_text(Decimal("2.5")) == "3"
