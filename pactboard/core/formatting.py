"""How numbers and times are shown to people: one rule per unit for pages, CLI tables and charts.

Pure functions (no Django): a value, its unit, a currency, a time zone in; text out. The rules, and
why, are in docs/formatting.md. In short:

- Rounding is **half up** (``ROUND_HALF_UP``), the rule the stored values use (computed values are
  quantized half up before they are stored), so a page never shows a different last digit than the
  number a calculation by hand from the stored value would give. Python's ``round`` and Django's
  ``floatformat`` round half to even and are not used for display.
- Stored values keep their full precision; only the text is rounded. Machine-readable output (JSON,
  the API, CSV of values) carries the stored value, not this text.
- Thousands are grouped with commas, the decimal mark is a point; trailing zeros are dropped except
  in money, which always shows the currency's minor unit.
- A missing value is an em dash.
- Times are shown in a named zone (the engagement's), never the browser's or the server's unnamed.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

__all__ = [
    "MISSING",
    "clock_text",
    "count_text",
    "date_text",
    "decimal_round",
    "moment_text",
    "money_text",
    "number_text",
    "percent_text",
    "ratio_percent_text",
    "value_text",
    "zone_name",
]

MISSING = "—"

#: Decimal places shown for a KPI value, per unit (at most: trailing zeros are dropped).
VALUE_PLACES = 2
#: Scores (0-100) and ratios shown as percentages (attainment, coverage) show one place.
SCORE_PLACES = 1

#: Unit -> suffix after the number. Other units are written out after a space ("42 items/hour").
UNIT_SUFFIX: dict[str, str] = {"%": " %", "seconds": " s", "hours": " h", "count": "", "score": ""}

#: Symbols as English (CLDR "en") writes them; a currency without one is written as its ISO code.
CURRENCY_SYMBOLS: dict[str, str] = {
    "EUR": "€",
    "GBP": "£",
    "USD": "$",
    "JPY": "¥",
    "CNY": "CN¥",
    "INR": "₹",
    "KRW": "₩",
    "ILS": "₪",
    "VND": "₫",
    "BRL": "R$",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "HKD": "HK$",
    "MXN": "MX$",
    "TWD": "NT$",
    "PHP": "₱",
}
#: ISO 4217 minor units that differ from the usual 2.
CURRENCY_MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX"), 0),
    **dict.fromkeys(("UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def decimal_round(value: Decimal, *, places: int) -> Decimal:
    """``value`` rounded half up (away from zero at exactly half) to ``places`` decimals."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _as_decimal(value: Decimal | int | float | str) -> Decimal:
    # A float goes through its shortest repr, so 0.1 stays 0.1 rather than 0.1000000000000000055…
    return value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)


def number_text(value: Decimal | int | float | str | None, *, places: int = VALUE_PLACES, trim: bool = True) -> str:
    """A number for people: half up to ``places`` decimals, commas between thousands, no trailing zeros."""
    if value is None:
        return MISSING
    number = _as_decimal(value)
    if not number.is_finite():
        return "not a number" if number.is_nan() else ("-∞" if number < 0 else "∞")
    rounded = decimal_round(number, places=places)
    text = f"{rounded:,f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    if rounded == 0:
        text = text.removeprefix("-")  # never "-0"
    return text


def count_text(value: Decimal | int | float | str | None) -> str:
    """A count: whole (half up), grouped: ``12,345``."""
    return number_text(value, places=0)


def percent_text(value: Decimal | int | float | str | None, *, places: int = VALUE_PLACES) -> str:
    """A value already in percent: ``76.401326`` -> ``76.4 %``."""
    return MISSING if value is None else f"{number_text(value, places=places)} %"


def ratio_percent_text(value: Decimal | int | float | str | None, *, places: int = SCORE_PLACES) -> str:
    """A ratio shown in percent (attainment, coverage): ``1.0186`` -> ``101.9 %``."""
    return MISSING if value is None else percent_text(_as_decimal(value) * 100, places=places)


def money_text(value: Decimal | int | float | str | None, *, currency: str) -> str:
    """Money: the currency's symbol first (or its ISO code and a space), grouped, its minor unit: ``€412,500.00``."""
    if value is None:
        return MISSING
    code = (currency or "").upper()
    places = CURRENCY_MINOR_UNITS.get(code, 2)
    number = _as_decimal(value)
    text = number_text(abs(number), places=places, trim=False)
    sign = "-" if number < 0 and decimal_round(number, places=places) != 0 else ""
    symbol = CURRENCY_SYMBOLS.get(code)
    if symbol:
        return f"{sign}{symbol}{text}"
    return f"{sign}{code} {text}" if code else f"{sign}{text}"


def value_text(value: Decimal | int | float | str | None, *, unit: str, currency: str = "") -> str:
    """A KPI value with its unit: ``76.4 %``, ``312 s``, ``1,235``, ``€4.21``, ``42 items/hour``."""
    if value is None:
        return MISSING
    if unit == "currency":
        return money_text(value, currency=currency)
    if unit == "count":
        return count_text(value)
    text = number_text(value)
    if unit in UNIT_SUFFIX:
        return text + UNIT_SUFFIX[unit]
    return f"{text} {unit}".rstrip()


def date_text(day: date | None) -> str:
    """A calendar day: ``1 Jan 2024`` (a day has no zone: it is the engagement's calendar day)."""
    return MISSING if day is None else f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def zone_name(moment: datetime) -> str:
    """The zone's abbreviation at that moment (``CET``, ``CEST``, ``UTC``), or ``UTC+04`` where it has none."""
    name = moment.tzname() or ""
    if not name or name[0] in "+-":
        offset = moment.utcoffset()
        if offset is None:
            return "UTC"
        minutes = int(offset.total_seconds() // 60)
        sign = "-" if minutes < 0 else "+"
        hours, rest = divmod(abs(minutes), 60)
        return f"UTC{sign}{hours:02d}" + (f":{rest:02d}" if rest else "")
    return name


def _local(moment: datetime, zone: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a time without a time zone cannot be shown: make it timezone-aware")
    return moment.astimezone(ZoneInfo(zone))


def moment_text(moment: datetime | None, *, zone: str, seconds: bool = False) -> str:
    """A date and time in ``zone``, the zone named: ``29 Nov 2026, 11:38 CET`` (``11:38:27`` with seconds)."""
    if moment is None:
        return MISSING
    local = _local(moment, zone)
    clock = f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"
    return f"{local.day} {_MONTHS[local.month - 1]} {local.year}, {clock} {zone_name(local)}"


def clock_text(moment: datetime | None, *, zone: str) -> str:
    """A time of day to the second in ``zone``, the zone named: ``11:38:27 CET``."""
    if moment is None:
        return MISSING
    local = _local(moment, zone)
    return f"{local:%H:%M:%S} {zone_name(local)}"
