"""A settlement statement as CSV and XLSX: one row per line, amounts as numbers in the currency's minor unit."""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from pactboard.core.csvsafe import csv_row, sheet_cell
from pactboard.incentives.calc import MINOR_UNITS

COLUMNS = (
    ("kind", "Kind"),
    ("rule", "Rule"),
    ("kpi", "KPI"),
    ("value", "Value"),
    ("band", "Band"),
    ("base_amount", "Base amount"),
    ("percent", "Percent"),
    ("allocation_percent", "Allocation of pool %"),
    ("credit_allocation_percent", "Credit allocation %"),
    ("at_risk_amount", "At-risk amount"),
    ("minimum", "Minimum"),
    ("cap", "Cap"),
    ("computed", "Computed"),
    ("amount", "Amount"),
    ("earn_back", "Earn-back"),
    ("explanation", "Explanation"),
)
AMOUNTS = frozenset({"base_amount", "at_risk_amount", "minimum", "cap", "computed", "amount"})
NUMBERS = frozenset({"value", "percent", "allocation_percent", "credit_allocation_percent"})
TOTALS = (
    ("credits_due", "Credits due"),
    ("credits_pending", "Credits pending earn-back"),
    ("credits_waived", "Credits waived"),
    ("bonuses", "Bonuses"),
    ("net", "Net (bonuses − credits due)"),
    ("adjustments", "Adjustments"),
    ("payable", "Payable"),
)


def statement_as_dict(*, engagement: str, period: str, status: str, statement: dict[str, Any]) -> dict[str, Any]:
    """The statement as the CLI and API give it: amounts as decimal strings."""
    return {
        "engagement": engagement,
        "period": period,
        "status": status,
        "currency": statement["currency"],
        "credits": statement["credits_due"],
        "credits_pending": statement["credits_pending"],
        "credits_waived": statement["credits_waived"],
        "bonuses": statement["bonuses"],
        "net": statement["net"],
        "adjustments": statement["adjustments"],
        "payable": statement["payable"],
        "lines": [
            {
                "kind": x["kind"],
                "kpi": x["kpi"],
                "rule": x["rule"],
                "value": x["value"],
                "band": x["band"],
                "amount": x["amount"],
                "earn_back": x["earn_back"],
                "explanation": x["explanation"],
            }
            for x in statement["lines"]
        ],
    }


def _number(value: Any) -> Any:
    """An amount or number of the statement (decimal text) as a number, so that neutralising leaves it alone."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return value  # not a number after all: written as (neutralised) text


def _line_cells(line: dict[str, Any]) -> list[Any]:
    return [_number(line.get(key)) if key in AMOUNTS | NUMBERS else line.get(key) for key, _ in COLUMNS]


def statement_csv(*, statement: dict[str, Any]) -> str:
    """One row per line, then the totals; amounts as plain decimal text (no thousands separators).

    Every cell goes through ``csv_row``: a KPI name or explanation that starts like a formula is shown, not run.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_row(["Period", statement["period"], "Currency", statement["currency"]]))
    writer.writerow(csv_row(label for _, label in COLUMNS))
    for line in statement["lines"]:
        writer.writerow(csv_row(_line_cells(line)))
    writer.writerow([])
    for key, label in TOTALS:
        writer.writerow(csv_row([label, _number(statement[key])]))
    return out.getvalue()


def statement_xlsx(*, statement: dict[str, Any], title: str) -> bytes:
    """The statement as a workbook: numbers are numbers, amounts formatted in the currency's minor unit."""
    digits = MINOR_UNITS.get(statement["currency"], 2)
    money_format = "#,##0" + ("." + "0" * digits if digits else "")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = statement["period"]
    sheet.append([sheet_cell(title)])
    sheet["A1"].font = Font(bold=True)
    sheet.append(["Currency", statement["currency"]])
    sheet.append([])
    sheet.append([label for _, label in COLUMNS])
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for line in statement["lines"]:
        # Text cells neutralised (openpyxl would store "=..." as a formula); numbers stay numbers.
        sheet.append([sheet_cell(value) for value in _line_cells(line)])
        for (key, _), cell in zip(COLUMNS, sheet[sheet.max_row], strict=True):
            if key in AMOUNTS:
                cell.number_format = money_format
    sheet.append([])
    for key, label in TOTALS:
        sheet.append([label, Decimal(statement[key])])
        sheet.cell(row=sheet.max_row, column=2).number_format = money_format
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
