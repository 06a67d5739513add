"""On the demo: the monthly report archive of the last three months, and `pactboard report` in each format.

The expected figures come from the scorecard selector the scorecard page uses and the stored values,
formatted by the one formatting rule (docs/formatting.md), not from the report's own data.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from pactboard.audit.selectors import audit_engagement_verify
from pactboard.core.formatting import value_text
from pactboard.engagements.models import Engagement
from pactboard.measurements.outlook import kpi_outlooks
from pactboard.measurements.selectors import kpi_rules, scorecard_for_period
from pactboard.reports.models import Report
from pactboard.reports.selectors import report_due_period

pytestmark = pytest.mark.django_db


def test_demo_archive_and_the_report_command_in_every_format(tmp_path: Path):
    call_command("demo", "--no-serve", stdout=io.StringIO())
    support = Engagement.objects.get(name="Customer support (EMEA)")
    last = report_due_period(engagement=support, now=timezone.now())
    assert last is not None
    archive = list(Report.objects.filter(engagement=support).order_by("period"))
    assert [r.period for r in archive] == [last.shift(-2).label, last.shift(-1).label, last.label]
    for report in archive:
        assert report.is_final
        assert (Path(settings.DATA_DIR) / report.pdf_path).read_bytes().startswith(b"%PDF")
        assert audit_engagement_verify(engagement_id=support.pk, head_hash=report.head_hash).ok
    assert support.report_recipients.count() == 2

    # pactboard report "Customer support (EMEA)" --period <last> --format pdf: every KPI's value and target.
    target = tmp_path / "report.pdf"
    call_command("report", support.name, "--period", last.label, "--format", "pdf", "-o", str(target))
    text = "\n".join(p.extract_text() for p in PdfReader(target).pages)
    card = scorecard_for_period(engagement=support, period=last).scorecard
    assert card is not None
    rules = kpi_rules(engagement=support)
    assert len(card.results) == 4
    for r in card.results:
        unit = rules[r.code].unit
        value = value_text(r.value, unit=unit, currency=support.currency)
        goal = value_text(r.target, unit=unit, currency=support.currency)
        assert f"{value} {goal}" in text, (r.code, value, goal)

    sheet = tmp_path / "report.xlsx"
    call_command("report", str(support.pk), "--period", last.label, "--format", "xlsx", "-o", str(sheet))
    kpis = load_workbook(sheet)["KPIs"]
    header = [c.value for c in kpis[1]]
    for row in kpis.iter_rows(min_row=2):
        for column in ("Value", "Target", "Attainment", "Weight", "Forecast", "P(meeting target)"):
            cell = row[header.index(column)]
            assert cell.data_type == "n", (column, cell.value)
            assert isinstance(cell.value, int | float), (column, cell.value)
    # Trend and forecast as the KPI page's outlook gives them as of the period's end (docs/trends.md):
    # the report of the last closed month forecasts the month after it.
    as_of = datetime.combine(last.end, time(0, 0, 1), tzinfo=ZoneInfo(support.time_zone))
    outlooks = kpi_outlooks(engagement=support, now=as_of)
    trends = {row[0].value: row[header.index("Trend")].value for row in kpis.iter_rows(min_row=2)}
    assert trends == {code: o.word_label for code, o in outlooks.items()}
    periods = {row[header.index("Forecast period")].value for row in kpis.iter_rows(min_row=2)}
    assert periods == {last.shift(1).label}

    out = tmp_path / "report.csv"
    call_command("report", str(support.pk), "--period", last.label, "--format", "csv", "-o", str(out))
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_code = {r["code"]: r for r in rows if r["section"] == "kpi"}
    assert set(by_code) == {r.code for r in card.results}
    for r in card.results:
        assert by_code[r.code]["status"] == r.status
        assert by_code[r.code]["trend"] == outlooks[r.code].word
        assert 0 <= float(by_code[r.code]["forecast_probability"]) <= 1

    html = tmp_path / "report.html"
    call_command("report", str(support.pk), "--period", last.label, "--format", "html", "-o", str(html))
    assert "<svg" in html.read_text(encoding="utf-8")
