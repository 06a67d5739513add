"""Each row against the engagement's KPI rules: header, KPI, period, number, range, duplicates."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.core.periods import Period
from pactboard.measurements import limits
from pactboard.measurements.ingest.files import errors_capped
from pactboard.measurements.value_import.readers import _Rows
from pactboard.measurements.value_import.rows import (
    REQUIRED_COLUMNS,
    VALUE_FILE_COLUMNS,
    Cell,
    KpiRule,
    ParsedValue,
    _blank,
    _refuse,
)

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


_GROUPED = re.compile(r"[+-]?\d{1,3}([, '\u00a0\u202f]\d{3})+(\.\d+)?")


_MAX_NOTE = 2000


def _header(rows: _Rows) -> dict[str, int]:
    """The column positions by name; refuse a missing, unknown or repeated column."""
    for _, cells in rows:
        if all(_blank(c) for c in cells):
            break  # the header must be row 1
        names = [str(c).strip().lower() if not _blank(c) else "" for c in cells]
        while names and names[-1] == "":
            names.pop()  # spreadsheets often carry empty trailing cells
        details: list[ErrorDetail] = []
        positions: dict[str, int] = {}
        total = 0
        for i, name in enumerate(names):
            if len(details) >= limits.ERRORS_SHOWN:
                # Past the listed problems only count the rest (a header of a million names stays cheap).
                total += not name or name in positions or name not in VALUE_FILE_COLUMNS
                positions.setdefault(name, i)
                continue
            if not name:
                details.append(
                    ErrorDetail(f"column {i + 1} has no name; name it or delete the column", "row 1", "blank_column")
                )
            elif name in positions:
                details.append(ErrorDetail(f"column '{name}' appears twice; keep one", "row 1", "duplicate_column"))
            elif name not in VALUE_FILE_COLUMNS:
                details.append(
                    ErrorDetail(
                        f"unknown column '{cells[i]}': a value file has the columns kpi, period, value and "
                        "optionally note; rename or delete it",
                        "row 1",
                        "unknown_column",
                    )
                )
            positions[name] = i
        for name in REQUIRED_COLUMNS:
            if name not in positions:
                details.append(ErrorDetail(f"missing column '{name}': add it", "row 1", "missing_column"))
        total += len(details)
        if details:
            raise PactboardError(
                f"The file's header does not match a value file: {total} problem(s). The first row must "
                "name the columns kpi, period, value (and optionally note).",
                details=errors_capped(details, total),
            )
        return positions
    _refuse(
        "The file has no header: its first row must name the columns kpi, period, value (and optionally note).",
        "row 1",
        "missing_header",
    )


class _Checker:
    def __init__(
        self, *, kpis: Mapping[str, KpiRule], first_day: date, last_day: date, max_errors: int = limits.ERRORS_SHOWN
    ) -> None:
        self.kpis = kpis
        self.by_fold = {code.casefold(): code for code in kpis}
        self.first_day = first_day
        self.last_day = last_day
        self.parsed: list[ParsedValue] = []
        # Only the first ``max_errors`` problems are kept; the rest are counted in ``total``.
        self.errors: list[ErrorDetail] = []
        self.total = 0
        self.max_errors = max_errors
        self.seen: dict[tuple[str, date], int] = {}

    def add(self, detail: ErrorDetail) -> None:
        self.total += 1
        if len(self.errors) < self.max_errors:
            self.errors.append(detail)

    def error(self, line: int, column: str | None, message: str, code: str = "invalid_value") -> None:
        location = f"row {line}, column {column}" if column else f"row {line}"
        self.add(ErrorDetail(message, location, code))

    def row(self, line: int, record: Mapping[str, Cell]) -> None:
        if all(_blank(v) for v in record.values()):
            return  # blank rows are allowed (and still counted)
        before = self.total
        rule = self._kpi(line, record.get("kpi"))
        period = self._period(line, record.get("period"), rule)
        value = self._value(line, record.get("value"), rule)
        note = self._note(line, record.get("note"))
        if rule is not None and period is not None:
            key = (rule.code, period.start)
            first = self.seen.get(key)
            if first is not None:
                self.error(
                    line,
                    None,
                    f"KPI '{rule.code}' for {period.label} is also on row {first}: keep one of rows {first} and {line}",
                    "duplicate_value",
                )
            else:
                self.seen[key] = line
        if self.total == before and rule is not None and period is not None and value is not None:
            self.parsed.append(ParsedValue(line, rule.code, period.label, period.start, value, note))

    def _kpi(self, line: int, cell: Cell) -> KpiRule | None:
        if _blank(cell):
            self.error(line, "kpi", "the KPI code is empty: fill it in", "missing_value")
            return None
        code = str(cell).strip()
        rule = self.kpis.get(code) or self.kpis.get(self.by_fold.get(code.casefold(), ""))
        if rule is not None:
            return rule
        close = difflib.get_close_matches(code, list(self.kpis), n=3, cutoff=0.6)
        if close:
            hint = "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
        elif len(self.kpis) <= 12:
            hint = "the engagement's KPIs are " + ", ".join(sorted(self.kpis))
        else:
            hint = "use the KPI codes shown on the engagement's KPI page"
        self.error(line, "kpi", f"unknown KPI '{code}' ({hint})", "unknown_kpi")
        return None

    def _period(self, line: int, cell: Cell, rule: KpiRule | None) -> Period | None:
        location = f"row {line}, column period"
        if _blank(cell):
            self.error(line, "period", "the period is empty: write it as 2026-10, 2026-Q4 or 2026-W05", "missing_value")
            return None
        if isinstance(cell, (date, datetime)):
            # Excel turns a typed 2026-10 into the date 2026-10-01.
            day = cell.date() if isinstance(cell, datetime) else cell
            if rule is not None and rule.period_kind == "month" and day.day == 1:
                return self._in_engagement(line, Period("month", day))
            self.error(
                line,
                "period",
                f"the cell holds the date {day.isoformat()}, not a period label: format the column as Text and "
                "write e.g. 2026-10, 2026-Q4 or 2026-W05",
                "invalid_period",
            )
            return None
        try:
            period = Period.parse(str(cell), rule.period_kind if rule is not None else None, location=location)
        except PactboardError as exc:
            # The error's message names the label and the fix; its detail is shorter.
            code = exc.details[0].code if exc.details else None
            self.add(ErrorDetail(exc.message, location, code or "invalid_period"))
            return None
        return self._in_engagement(line, period)

    def _in_engagement(self, line: int, period: Period) -> Period | None:
        if period.start <= self.last_day and period.last_day >= self.first_day:
            return period
        self.error(
            line,
            "period",
            f"{period.label} is outside the engagement, which runs from {self.first_day.isoformat()} to "
            f"{self.last_day.isoformat()}",
            "period_outside_engagement",
        )
        return None

    def _value(self, line: int, cell: Cell, rule: KpiRule | None) -> Decimal | None:
        number = self._number(line, cell)
        if number is None or rule is None:
            return number
        shown = _plain(number)
        if rule.integer and number != number.to_integral_value():
            self.error(line, "value", f"{shown} is not a whole number: KPI '{rule.code}' counts items", "not_integer")
            return None
        if rule.integer and rule.min_value is None and number < 0:
            self.error(line, "value", f"{shown} is negative: a count for KPI '{rule.code}' cannot be", "out_of_range")
            return None
        if rule.min_value is not None and number < rule.min_value:
            self.error(
                line,
                "value",
                f"{shown} is below the minimum {_plain(rule.min_value)} for KPI '{rule.code}'",
                "out_of_range",
            )
            return None
        if rule.max_value is not None and number > rule.max_value:
            self.error(
                line,
                "value",
                f"{shown} is above the maximum {_plain(rule.max_value)} for KPI '{rule.code}'",
                "out_of_range",
            )
            return None
        return number

    def _number(self, line: int, cell: Cell) -> Decimal | None:
        number = _parse_number(cell)
        if isinstance(number, Decimal):
            too_large = limits.value_limit_problem(number)
            if too_large is None:
                return number
            self.error(line, "value", too_large, "out_of_range")
            return None
        message, code = number
        self.error(line, "value", message, code)
        return None

    def _note(self, line: int, cell: Cell) -> str | None:
        if _blank(cell):
            return None
        note = str(cell).strip()
        if len(note) > _MAX_NOTE:
            self.error(line, "note", f"the note is {len(note)} characters long: keep it under {_MAX_NOTE}", "too_long")
        return note


def _parse_number(cell: Cell) -> Decimal | tuple[str, str]:
    """A value cell as a Decimal, or the message and code that say why it is not one."""
    if _blank(cell):
        return ("the value is empty: fill it in, or delete the row", "missing_value")
    if isinstance(cell, (bool, date, datetime)):
        return (f"{cell!s} is not a number: write the value as a number", "invalid_number")
    if isinstance(cell, int | Decimal):
        return Decimal(cell)
    if isinstance(cell, float):
        if math.isfinite(cell):
            # What the spreadsheet shows: 15 significant digits (no binary noise like 0.30000000000000004).
            return Decimal(format(cell, ".15g"))
        return (f"{cell} is not a finite number", "invalid_number")
    text = str(cell).strip()
    if _NUMBER.fullmatch(text):
        try:
            return Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern only admits valid decimals
            pass
    if text.endswith("%") and _NUMBER.fullmatch(text[:-1].strip()):
        message = f"'{text}' has a % sign: write the number alone ({text[:-1].strip()})"
    elif _GROUPED.fullmatch(text):
        plain = re.sub(r"[, '\u00a0\u202f]", "", text)
        message = f"'{text}' has thousands separators: write {plain} (a point only before decimals)"
    elif _DECIMAL_COMMA.fullmatch(text):
        message = f"'{text}' uses a decimal comma: write {text.replace(',', '.')} (a point before decimals)"
    else:
        message = f"'{text}' is not a number: write digits with a point before decimals, e.g. 12.5"
    return (message, "invalid_number")


def _plain(number: Decimal) -> str:
    """A number as people write it: 140, 12.5 (no exponent, no trailing zeros)."""
    return format(number.normalize(), "f")
