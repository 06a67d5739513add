"""Settlement statements as CSV and XLSX neutralise text that starts like a formula; amounts stay numbers (issue 13)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import load_workbook

from pactboard.incentives.exports import COLUMNS, TOTALS, statement_csv, statement_xlsx

EVIL_KPI = '=HYPERLINK("http://evil.example","FCR")'
EVIL_EXPLANATION = "@SUM(A1:A9) -- credit"


def _statement() -> dict:
    line = dict.fromkeys((key for key, _ in COLUMNS))
    line |= {
        "kind": "credit",
        "rule": "+rule",
        "kpi": EVIL_KPI,
        "value": "-12.5",
        "band": "\tred",
        "amount": "-5000.00",
        "explanation": EVIL_EXPLANATION,
    }
    totals = {key: "0.00" for key, _ in TOTALS} | {"net": "-5000.00"}
    return {"period": "2026-03", "currency": "EUR", "lines": [line], **totals}


def test_statement_csv_neutralises_text_and_keeps_amounts():
    rows = list(csv.reader(io.StringIO(statement_csv(statement=_statement()), newline="")))
    line = dict(zip([label for _, label in COLUMNS], rows[2], strict=True))
    assert line["KPI"] == "'" + EVIL_KPI
    assert line["Explanation"] == "'" + EVIL_EXPLANATION
    assert line["Rule"] == "'+rule"
    assert line["Band"] == "'\tred"
    # Numbers are data, not formulas: unchanged, negative ones included.
    assert line["Value"] == "-12.5"
    assert line["Amount"] == "-5000.00"
    assert ["Net (bonuses − credits due)", "-5000.00"] in rows


def test_statement_xlsx_stores_text_as_text_and_amounts_as_numbers():
    data = statement_xlsx(statement=_statement(), title="=cmd|' /C calc'!A0")
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet["A1"].value == "'=cmd|' /C calc'!A0"
    assert sheet["A1"].data_type == "s"
    header = [c.value for c in sheet[4]]
    cells = dict(zip(header, sheet[5], strict=True))
    assert cells["KPI"].value == "'" + EVIL_KPI
    assert cells["KPI"].data_type == "s"  # not "f": openpyxl would have stored the original as a formula
    assert cells["Explanation"].value == "'" + EVIL_EXPLANATION
    assert cells["Amount"].value == Decimal("-5000.00")
    assert cells["Value"].value == Decimal("-12.5")
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
