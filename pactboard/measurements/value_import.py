"""Parse a file of KPI values (CSV or XLSX) and check every row before anything is recorded.

Pure: no ORM. The caller passes the engagement's KPIs as ``KpiRule`` values and its first and
last day; ``value_file_parse`` returns the parsed rows or raises one ``PactboardError`` with a
detail per problem, located as ``row N, column NAME`` (the header is row 1, as in a
spreadsheet). Recording the values is the caller's job, in one transaction, so a bad file
changes nothing. The rules are in ``docs/data-in.md``.
"""

from __future__ import annotations

import csv
import difflib
import math
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO, Literal, NoReturn
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.core.periods import Period, PeriodKind
from pactboard.measurements import limits
from pactboard.measurements.ingest import csv_header_parse, file_sha256, text_file_utf8_check
from pactboard.measurements.ingest.files import errors_capped, field_too_long, line_too_long

__all__ = [
    "VALUE_FILE_COLUMNS",
    "KpiRule",
    "ParsedValue",
    "ParsedValues",
    "ValueFileFormat",
    "value_file_parse",
    "value_file_values_by_line",
]

ValueFileFormat = Literal["csv", "xlsx"]
REQUIRED_COLUMNS: tuple[str, ...] = ("kpi", "period", "value")
OPTIONAL_COLUMNS: tuple[str, ...] = ("note",)
VALUE_FILE_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
_GROUPED = re.compile(r"[+-]?\d{1,3}([, '\u00a0\u202f]\d{3})+(\.\d+)?")
_MAX_NOTE = 2000


@dataclass(frozen=True)
class KpiRule:
    """What a KPI of the engagement accepts: its period kind and value range."""

    code: str
    period_kind: PeriodKind
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    integer: bool = False  # a count: whole numbers only, never negative unless min_value allows it


@dataclass(frozen=True)
class ParsedValue:
    line: int  # the row in the file (header = row 1)
    kpi_code: str
    period_label: str  # normalised: 2026-10, 2026-Q4, 2026-W05
    period_start: date
    value: Decimal
    note: str | None


@dataclass(frozen=True)
class ParsedValues:
    rows: list[ParsedValue]
    sha256: str  # of the file as received


Cell = str | int | float | Decimal | bool | date | datetime | None


def value_file_parse(
    *,
    source: Path,
    fmt: ValueFileFormat | None = None,
    kpis: Mapping[str, KpiRule],
    first_period_day: date,
    last_period_day: date,
    max_errors: int = 100,
) -> ParsedValues:
    """Every row of a value file, checked against the engagement's KPIs and dates; all or nothing."""
    source = Path(source)
    kind = _format_of(source, fmt)
    if not source.is_file():
        _refuse(f"The file '{source.name}' does not exist or is not a file.", None, "file_not_found")
    rows = _csv_rows(source) if kind == "csv" else _xlsx_rows(source)
    checker = _Checker(kpis=kpis, first_day=first_period_day, last_day=last_period_day, max_errors=max_errors)
    header = _header(rows)
    for line, cells in rows:
        if line > limits.MAX_VALUE_ROWS + 1:
            _too_many_rows(line)
        record = {name: cells[i] if i < len(cells) else None for name, i in header.items()}
        extra = [c for c in cells[len(header) :] if not _blank(c)] if len(cells) > len(header) else []
        if extra:
            checker.error(line, None, f"the row has {len(cells)} values but the header names {len(header)} columns")
            continue
        checker.row(line, record)
    if not checker.parsed and not checker.total:
        _refuse(
            "The file has no values: add one row per KPI and period under the header kpi, period, value.",
            None,
            "empty_file",
        )
    if checker.total:
        total = checker.total
        details = errors_capped(checker.errors, total, max_errors)
        raise PactboardError(
            f"The file has {total} problem(s); nothing was imported. Fix them and upload the whole file again.",
            details=details,
        )
    return ParsedValues(rows=checker.parsed, sha256=file_sha256(source))


def value_file_values_by_line(*, source: Path, fmt: ValueFileFormat | None = None) -> dict[int, Decimal | None]:
    """Each data row's value as the file states it, by row number (header = 1); None where it is not a number.

    For re-checking recorded values against a stored file (no KPI rules applied).
    """
    source = Path(source)
    kind = _format_of(source, fmt)
    rows = _csv_rows(source) if kind == "csv" else _xlsx_rows(source)
    column = _header(rows)["value"]
    found: dict[int, Decimal | None] = {}
    for line, cells in rows:
        if all(_blank(c) for c in cells):
            continue
        number = _parse_number(cells[column] if column < len(cells) else None)
        found[line] = number if isinstance(number, Decimal) else None
    return found


# --- reading -------------------------------------------------------------------------------


def _refuse(message: str, location: str | None, code: str) -> NoReturn:
    raise PactboardError(message, details=[ErrorDetail(message, location, code)])


def _too_many_rows(line: int) -> NoReturn:
    most = limits.MAX_VALUE_ROWS
    _refuse(
        f"The file has more than {most:,} values (row {line:,} is one past them): a value file holds one row per "
        f"KPI and period. Check that this is the file you meant, or split it into files of at most {most:,} rows "
        "and import them one after another.",
        f"row {line}",
        "too_many_rows",
    )


def _format_of(source: Path, fmt: str | None) -> ValueFileFormat:
    if fmt is None:
        fmt = {".csv": "csv", ".xlsx": "xlsx"}.get(source.suffix.lower())
        if fmt is None:
            _refuse(
                f"Cannot tell the format of '{source.name}' from its name: upload a .csv or .xlsx file.",
                "format",
                "unknown_format",
            )
    if fmt not in ("csv", "xlsx"):
        _refuse(f"Unknown file format {fmt!r}: use csv or xlsx.", "format", "unknown_format")
    return fmt  # type: ignore[return-value]


_Rows = Iterator[tuple[int, Sequence[Cell]]]


def _csv_rows(path: Path) -> _Rows:
    text_file_utf8_check(path)
    with path.open("rb") as fh:
        first = next(_bounded_lines(fh), "")
    csv_header_parse(first.rstrip("\r\n"), expected=REQUIRED_COLUMNS)
    return _csv_iter(path)


def _bounded_lines(fh: BinaryIO) -> Iterator[str]:
    """The file's lines as text, refusing one past the line limit without reading it whole."""
    number = 0
    while True:
        raw = fh.readline(limits.MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw.rstrip(b"\r\n")) > limits.MAX_LINE_BYTES:
            raise line_too_long(number)
        text = raw.decode("utf-8")  # checked as UTF-8 before; a line break never splits a character
        yield text.removeprefix("\ufeff") if number == 1 else text


def _csv_iter(path: Path) -> _Rows:
    number = 0
    with path.open("rb") as fh:
        try:
            # Row N counts records and blank lines, header = 1: the line number unless a quoted
            # value spans lines.
            for number, cells in enumerate(csv.reader(_bounded_lines(fh), strict=True), start=1):
                yield number, cells
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise field_too_long(number + 1) from None
            _refuse(
                f"The file is not well-formed CSV near row {number + 1}: {exc}. Put values that contain commas or "
                'quotes in double quotes, and double any quote inside them ("").',
                f"row {number + 1}",
                "malformed_row",
            )


# What a workbook that is not one raises from openpyxl: broken zip or XML, or XML that declares
# entities (defusedxml refuses them; expat's own limit stops an expansion that slips through).
_XLSX_ERRORS = (
    InvalidFileException,
    zipfile.BadZipFile,
    KeyError,
    OSError,
    ValueError,
    ParseError,
    DefusedXmlException,
)


def _xlsx_refuse(exc: BaseException) -> NoReturn:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, DefusedXmlException) or "amplification" in str(cause):
            _refuse(
                "The workbook's XML declares entities, which a spreadsheet saved by Excel or LibreOffice never does, "
                "so it was not read (such entities can expand to gigabytes). Open the file in a spreadsheet program, "
                "save it as 'Excel Workbook (.xlsx)', or export it as CSV, and upload it again.",
                None,
                "xml_entities",
            )
        cause = cause.__cause__ or cause.__context__
    _refuse(
        "The file is not a readable XLSX workbook: save it from Excel as 'Excel Workbook (.xlsx)', or upload CSV.",
        None,
        "invalid_xlsx",
    )


def _xlsx_rows(path: Path) -> _Rows:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except _XLSX_ERRORS as exc:
        _xlsx_refuse(exc)
    return _xlsx_iter(book)


def _xlsx_iter(book: Workbook) -> _Rows:
    try:
        sheet = book.worksheets[0]
        # Streaming (read-only): one row at a time; row numbers are the sheet's own.
        yield from enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
    except _XLSX_ERRORS as exc:
        _xlsx_refuse(exc)
    finally:
        book.close()


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


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
                details.append(ErrorDetail(f"column {i + 1} has no name; name it or delete the column", "row 1"))
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


# --- checking ------------------------------------------------------------------------------


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
            return number
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
