"""The columns of a value file, the engagement's KPI rules, and what a parsed row holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, NoReturn

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.core.periods import PeriodKind
from pactboard.measurements import limits

ValueFileFormat = Literal["csv", "xlsx"]


REQUIRED_COLUMNS: tuple[str, ...] = ("kpi", "period", "value")


OPTIONAL_COLUMNS: tuple[str, ...] = ("note",)


VALUE_FILE_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


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


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())
