"""Report pages, downloads and API: both parties read, managers edit and finalise, queries do not grow with data."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from pactboard.accounts.services import api_token_create
from pactboard.core.periods import Period
from pactboard.engagements.services import business_change_record
from pactboard.governance.services import action_create
from pactboard.measurements.services import measurement_record
from pactboard.reports import services
from pactboard.reports.models import Report
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

URL = "/engagements/{pk}/reports/2026-10/"


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries)


def _more_data(world: World) -> None:
    """Five more months of values, changes and actions: none of it may add a query."""
    for month in range(4, 9):
        for code, value in (("qa_score", "88"), ("escalations", "11")):
            measurement_record(
                actor=world.provider_manager,
                engagement=world.engagement,
                kpi_code=code,
                period=Period.parse(f"2026-{month:02d}"),
                value=Decimal(value),
            )
    for day in (3, 20):
        business_change_record(
            actor=world.client_manager, engagement=world.engagement, date=date(2026, 10, day), kind="market", title="X"
        )
        action_create(
            actor=world.client_manager,
            engagement=world.engagement,
            title=f"Action {day}",
            owner_id=world.client_manager.pk,
            due_date=date(2026, 12, day),
            now=timezone.now(),
        )


def test_report_page_shows_the_sections_with_a_constant_number_of_queries(reported: World):
    client = client_for(reported.client_viewer)
    url = URL.format(pk=reported.engagement.pk)
    first = _count(client, url)
    _more_data(reported)
    assert _count(client, url) == first
    assert first <= 30
    page = client.get(url).content.decode()
    for words in ("KPI breakdown", "Successes", "Challenges", "Business changes in the period", "Open actions",
                  "Incentives", "Audit head hash", "92 %", "Escalations missed its target"):  # fmt: skip
        assert words in page, words
    assert 'data-vega-spec="chart-attainment-spec"' in page
    # A viewer reads; only managers get the edit form and the finalise button.
    assert "Finalise report" not in page
    assert 'name="successes"' not in page
    manager_page = client_for(reported.provider_manager).get(url).content.decode()
    assert "Finalise report" in manager_page
    assert 'name="successes"' in manager_page


def test_managers_edit_texts_and_finalise_from_the_page(reported: World):
    client = client_for(reported.provider_manager)
    url = URL.format(pk=reported.engagement.pk)
    response = client.post(url, {"successes": "Backlog cleared", "challenges": "Escalations up"})
    assert response.status_code == 302
    assert "Backlog cleared" in client.get(url).content.decode()
    assert client.post(url + "finalise/").status_code == 302
    report = Report.objects.get(engagement=reported.engagement, period="2026-10")
    assert report.is_final
    assert report.data["successes"] == ["Backlog cleared"]
    # Archived: the page says so, its PDF is the archived file, and a viewer forbidden to edit gets a 403.
    page = client.get(url).content.decode()
    assert "Final, archived" in page
    assert 'name="successes"' not in page
    assert client.get(url + "report.pdf").content == services.report_pdf_read(report)
    assert client_for(reported.client_viewer).post(url, {"successes": "x", "challenges": ""}).status_code == 403
    archive = client_for(reported.client_viewer).get(f"/engagements/{reported.engagement.pk}/reports/")
    assert archive.status_code == 200
    assert report.head_hash[:16] in archive.content.decode()


def test_archive_page_queries_do_not_grow_with_the_archive(reported: World):
    client = client_for(reported.client_manager)
    url = f"/engagements/{reported.engagement.pk}/reports/"
    services.report_finalise(
        actor=None, engagement=reported.engagement, period=Period.parse("2026-09"), now=timezone.now()
    )
    first = _count(client, url)
    services.report_finalise(
        actor=None, engagement=reported.engagement, period=Period.parse("2026-10"), now=timezone.now()
    )
    assert _count(client, url) == first


def test_downloads_in_each_format(reported: World):
    client = client_for(reported.client_viewer)
    base = URL.format(pk=reported.engagement.pk)
    pdf = client.get(base + "report.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    rows = list(csv.DictReader(io.StringIO(client.get(base + "report.csv").content.decode())))
    assert {r["section"] for r in rows} >= {"summary", "kpi", "challenge", "action", "audit"}
    book = load_workbook(io.BytesIO(client.get(base + "report.xlsx").content))
    assert "KPIs" in book.sheetnames
    assert client.get(base + "report.exe").status_code == 404
    assert client.get(f"/engagements/{reported.engagement.pk}/reports/2027-05/").status_code == 404  # not begun


def test_scorecard_downloads_and_the_links_on_the_scorecard_page(reported: World):
    client = client_for(reported.client_viewer)
    pk = reported.engagement.pk
    page = client.get(f"/engagements/{pk}/scorecard/?period=2026-10").content.decode()
    assert f"/engagements/{pk}/scorecard/export.csv?period=2026-10" in page
    assert f"/engagements/{pk}/scorecard/export.xlsx?period=2026-10" in page
    text = client.get(f"/engagements/{pk}/scorecard/export.csv?period=2026-10").content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    qa = next(r for r in rows if r and r[0] == "qa_score")
    assert qa[3:5] == ["92", "90"]
    assert qa[7] == "met"
    assert ["score", "Weighted score", "", "78.9"] in rows
    book = load_workbook(io.BytesIO(client.get(f"/engagements/{pk}/scorecard/export.xlsx?period=2026-10").content))
    sheet = book.worksheets[0]
    values = {r[0].value: r for r in sheet.iter_rows(min_row=2) if r[0].value}
    assert values["qa_score"][3].value == 92
    assert values["qa_score"][3].data_type == "n"
    assert client.get(f"/engagements/{pk}/scorecard/export.csv?period=bad").status_code == 422


def test_recipients_page_each_party_adds_its_own(reported: World):
    client = client_for(reported.client_manager)
    url = f"/engagements/{reported.engagement.pk}/reports/recipients/"
    assert client.post(url, {"membership": reported.client_viewer.pk}).status_code == 302
    assert client.post(url, {"membership": reported.provider_manager.pk}).status_code == 403
    page = client.get(url).content.decode()
    assert "victor@acme.example" in page
    recipient = reported.engagement.report_recipients.get()
    assert client_for(reported.provider_manager).post(f"{url}{recipient.pk}/remove/").status_code == 403
    assert client.post(f"{url}{recipient.pk}/remove/").status_code == 302
    assert not reported.engagement.report_recipients.exists()


def test_api_archive_data_downloads_texts_and_recipients(reported: World):
    from django.test import Client

    _, raw = api_token_create(membership=reported.provider_manager, name="reports")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    base = f"/api/engagements/{reported.engagement.pk}"
    body = api.get(f"{base}/reports/2026-10").json()
    assert body["status"] == "draft"
    assert body["data"]["summary"]["score"] == "78.9"
    put = api.put(
        f"{base}/reports/2026-10/texts", {"successes": ["A"], "challenges": ["B"]}, content_type="application/json"
    )
    assert put.status_code == 200
    assert put.json()["data"]["successes"] == ["A"]
    made = api.post(f"{base}/reports/2026-10/finalise").json()
    assert len(made["head_hash"]) == 64
    assert [r["period"] for r in api.get(f"{base}/reports").json()["items"]] == ["2026-10"]
    assert api.get(f"{base}/reports/2026-10/download/pdf").content.startswith(b"%PDF")
    assert api.post(f"{base}/reports/2026-10/finalise").status_code == 409
    added = api.post(
        f"{base}/report-recipients", {"membership_id": reported.provider_manager.pk}, content_type="application/json"
    )
    assert added.status_code == 200
    assert added.json()["email"] == "pedro@helpline.example"
    assert [r["email"] for r in api.get(f"{base}/report-recipients").json()["items"]] == ["pedro@helpline.example"]
    assert api.delete(f"{base}/report-recipients/{added.json()['id']}").status_code == 200
    csv_export = api.get(f"{base}/scorecard/export/csv?period=2026-10")
    assert csv_export.status_code == 200
    assert "qa_score" in csv_export.content.decode()
