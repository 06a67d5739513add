"""The report as PDF, XLSX and CSV: the same figures; numbers as numbers; no cell a spreadsheet would run."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from pactboard.reports.render import report_csv, report_pdf, report_xlsx
from pactboard.reports.selectors import report_data
from tests.conftest import World
from tests.reports.conftest import NOW, OCTOBER

pytestmark = pytest.mark.django_db


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_pdf_holds_every_kpi_value_and_target_and_the_head_hash(reported: World):
    data = report_data(engagement=reported.engagement, period=OCTOBER, now=NOW)
    text = _pdf_text(report_pdf(data=data))
    for k in data["kpis"]:
        assert f"{k['name']} {k['period']} {k['value_text']} {k['target_text']}" in text, k["code"]
    assert "92 % 90 %" in text
    assert "18 10" in text
    assert data["audit"]["head_hash"] in text.replace("\n", "")
    # The charts are drawn from the same specs as the web page: their titles and axis words are text.
    assert "Attainment by KPI" in text


def test_xlsx_has_a_sheet_per_section_and_numbers_stored_as_numbers(reported: World):
    data = report_data(engagement=reported.engagement, period=OCTOBER, now=NOW)
    book = load_workbook(io.BytesIO(report_xlsx(data=data)))
    assert book.sheetnames == [
        "Summary", "KPIs", "Successes", "Challenges", "Business changes", "Open actions", "Incentives"
    ]  # fmt: skip
    kpis = book["KPIs"]
    header = [c.value for c in kpis[1]]
    rows = {r[0].value: r for r in kpis.iter_rows(min_row=2)}
    qa = rows["qa_score"]
    value, target, attainment = (qa[header.index(h)] for h in ("Value", "Target", "Attainment"))
    assert value.data_type == "n"
    assert value.value == 92
    assert not isinstance(value.value, str)
    assert target.value == 90
    assert value.number_format == '0.0#" %"'
    assert float(attainment.value) == pytest.approx(1.0222)
    assert attainment.number_format == "0.0%"
    summary = {r[0].value: r[1] for r in book["Summary"].iter_rows(min_row=2)}
    assert float(summary["Weighted score"].value) == pytest.approx(78.9)
    assert summary["Weighted score"].data_type == "n"
    # A title that starts with "=" is text with a leading apostrophe, never a formula.
    title = book["Business changes"]["C2"]
    assert title.value == '\'=HYPERLINK("http://evil.example")'
    assert title.data_type == "s"


def test_csv_parses_with_the_standard_library_and_neutralises_formulas(reported: World):
    data = report_data(engagement=reported.engagement, period=OCTOBER, now=NOW)
    rows = list(csv.DictReader(io.StringIO(report_csv(data=data))))
    kpis = {r["code"]: r for r in rows if r["section"] == "kpi"}
    assert (kpis["qa_score"]["value"], kpis["qa_score"]["target"], kpis["qa_score"]["status"]) == ("92", "90", "met")
    assert [r["text"] for r in rows if r["section"] == "challenge"][
        -1
    ] == "Escalations missed its target: 18 against 10."
    change = next(r for r in rows if r["section"] == "business_change")
    assert change["name"].startswith("'=")
    assert next(r for r in rows if r["section"] == "audit")["text"] == data["audit"]["head_hash"]
