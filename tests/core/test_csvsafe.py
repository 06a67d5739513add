"""CSV cells are neutralised against formula injection (OWASP "CSV Injection" guidance)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from pactboard.core.csvsafe import csv_cell, csv_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The six starts OWASP lists, each gets an apostrophe in front.
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        # Anything else is left as typed, including a formula sign later in the text.
        ("Acme support", "Acme support"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_text_that_starts_like_a_formula_gets_a_leading_apostrophe(text, expected):
    assert csv_cell(text) == expected


def test_numbers_stay_numbers_and_none_is_empty():
    assert csv_cell(Decimal("-12.50")) == "-12.50"
    assert csv_cell(-3) == "-3"
    assert csv_cell(None) == ""
    assert csv_cell(True) == "true"
    assert csv_cell(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05+00:00"


def test_a_whole_document_neutralises_header_and_rows_and_reads_back():
    text = csv_text(header=["who", "=what"], rows=[["@carla", Decimal("-1")], ["bob", "x,y"]])
    assert list(csv.reader(io.StringIO(text))) == [["who", "'=what"], ["'@carla", "-1"], ["bob", "x,y"]]
    assert text.endswith("\r\n")


def test_sheet_cell_neutralises_text_and_keeps_numbers_dates_and_blanks():
    from datetime import date
    from decimal import Decimal

    from pactboard.core.csvsafe import sheet_cell

    assert sheet_cell("=1+2") == "'=1+2"
    assert sheet_cell("@x") == "'@x"
    assert sheet_cell("plain") == "plain"
    assert sheet_cell(Decimal("-5")) == Decimal("-5")
    assert sheet_cell(-3) == -3
    assert sheet_cell(date(2026, 3, 1)) == date(2026, 3, 1)
    assert sheet_cell(None) is None


# Modules that write CSV or XLSX, and why each is safe. A new writer must neutralise its cells
# (csv_row / sheet_cell / FORMULA_START_PATTERN) and be listed here.
WRITERS = {
    "pactboard/core/csvsafe.py": "the neutralising writer itself",
    "pactboard/incentives/exports.py": "settlement statements: csv_row and sheet_cell",
    "pactboard/reports/render.py": "reports and scorecard downloads: csv_row and csv_cell on every cell",
    "pactboard/measurements/records_csv.py": "records behind a value: text columns through FORMULA_START_PATTERN",
    "pactboard/demo/history.py": "the demo's own input files (numbers and fixed names), read back by the importer",
}


def test_every_module_that_writes_csv_or_xlsx_is_a_known_neutralising_one():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    # Python's csv writers, openpyxl workbooks, pyarrow's CSV writer and DuckDB's COPY ... TO ... (FORMAT csv).
    pattern = re.compile(r"csv\.writer\(|csv\.DictWriter\(|Workbook\(|write_csv\(|FORMAT '?(csv|CSV)")
    found = {
        str(path.relative_to(root))
        for path in (root / "pactboard").rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    }
    assert found <= set(WRITERS), sorted(found - set(WRITERS))
