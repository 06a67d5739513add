"""Incentive pages: every route answers an outsider with 404; parties see, approve, export and ask what-if."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from pactboard.accounts.services import api_token_create
from pactboard.incentives import services
from pactboard.incentives.models import Settlement
from pactboard.kpis import services as kpi_services
from pactboard.kpis.models import AgreementVersion
from tests.conftest import World, client_for
from tests.incentives.conftest import record


@pytest.fixture
def march(world: World, schemed: AgreementVersion) -> Settlement:
    record(world, "2026-03", "88")
    return services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-03")


def _routes(world: World, settlement: Settlement, version: AgreementVersion) -> list[tuple[str, str]]:
    e, s = world.engagement.pk, settlement.pk
    return [
        ("get", reverse("incentives:settlements", args=[e])),
        ("post", reverse("incentives:settlements", args=[e])),
        ("get", reverse("incentives:settlement", args=[e, s])),
        ("get", reverse("incentives:what_if", args=[e, s])),
        ("post", reverse("incentives:settlement_action", args=[e, s, "approve"])),
        ("post", reverse("incentives:settlement_action", args=[e, s, "recompute"])),
        ("get", reverse("incentives:settlement_export", args=[e, s, "csv"])),
        ("get", reverse("incentives:settlement_export", args=[e, s, "xlsx"])),
        ("get", reverse("incentives:scheme", args=[e, version.pk])),
        ("post", reverse("incentives:scheme", args=[e, version.pk])),
    ]


def test_every_route_is_a_404_for_an_outsider(world: World, schemed: AgreementVersion, march: Settlement) -> None:
    outsider = client_for(world.outsider)
    for method, url in _routes(world, march, schemed):
        response = getattr(outsider, method)(url, {"period": "2026-03"} if method == "post" else {})
        assert response.status_code == 404, (method, url)
    # Nothing was approved or recomputed by the outsider's posts.
    march.refresh_from_db()
    assert march.client_approved_at is None
    assert march.provider_approved_at is None


def test_a_settlement_from_another_engagement_in_the_url_is_a_404(world: World, march: Settlement) -> None:
    other = reverse("incentives:settlement", args=[world.other_engagement.pk, march.pk])
    assert client_for(world.outsider).get(other).status_code == 404


def test_both_parties_approve_on_the_page(world: World, march: Settlement) -> None:
    url = reverse("incentives:settlement", args=[world.engagement.pk, march.pk])
    approve = reverse("incentives:settlement_action", args=[world.engagement.pk, march.pk, "approve"])
    page = client_for(world.client_manager).get(url)
    assert "€5,000.00" in page.content.decode()
    assert "Approve for Acme Retail" in page.content.decode()
    assert client_for(world.client_manager).post(approve).status_code == 302
    assert client_for(world.provider_manager).post(approve).status_code == 302
    march.refresh_from_db()
    assert march.status == Settlement.Status.FINAL
    assert "Approve for" not in client_for(world.provider_manager).get(url).content.decode()


def test_what_if_recomputes_without_storing(world: World, march: Settlement) -> None:
    url = reverse("incentives:what_if", args=[world.engagement.pk, march.pk])
    # QA 98 instead of 88: no credit, bonus 1,000.00; net 1,000.00, change +6,000.00 from −5,000.00.
    response = client_for(world.client_viewer).get(url, {"kpi_qa_score": "98"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Net €1,000.00 (as settled -€5,000.00; change €6,000.00)" in body
    assert "<html" not in body  # the partial only
    bad = client_for(world.client_viewer).get(url, {"kpi_qa_score": "lots"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422
    assert "is not a number" in bad.content.decode()
    march.refresh_from_db()
    assert march.statement["net"] == "-5000.00"


def test_exports_carry_amounts_as_numbers(world: World, march: Settlement) -> None:
    c = client_for(world.provider_manager)
    text = c.get(reverse("incentives:settlement_export", args=[world.engagement.pk, march.pk, "csv"])).content
    rows = list(csv.reader(io.StringIO(text.decode())))
    assert ["Net (bonuses − credits due)", "-5000.00"] in rows
    data = c.get(reverse("incentives:settlement_export", args=[world.engagement.pk, march.pk, "xlsx"])).content
    sheet = load_workbook(io.BytesIO(data)).active
    amounts = [row for row in sheet.iter_rows(values_only=True) if row and row[0] == "credit"]
    assert amounts[0][13] == 5000  # the "Amount" column, a number
    assert sheet.cell(row=5, column=14).number_format == "#,##0.00"


def test_settlements_page_queries_do_not_grow_with_settlements(world: World, schemed: AgreementVersion) -> None:
    c = client_for(world.client_manager)
    url = reverse("incentives:settlements", args=[world.engagement.pk])
    record(world, "2026-03", "88")
    services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period="2026-03")
    with CaptureQueriesContext(connection) as one:
        assert c.get(url).status_code == 200
    for month, value in (("2026-04", "98"), ("2026-05", "84"), ("2026-06", "91")):
        record(world, month, value)
        services.settlement_draft(actor=world.client_manager, engagement=world.engagement, period=month)
    with CaptureQueriesContext(connection) as four:
        assert c.get(url).status_code == 200
    assert len(four) == len(one)


def test_scheme_page_saves_a_draft_scheme_and_backtests(world: World, schemed: AgreementVersion) -> None:
    record(world, "2026-03", "88")
    record(world, "2026-04", "98")
    draft = kpi_services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    url = reverse("incentives:scheme", args=[world.engagement.pk, draft.pk])
    page = client_for(world.client_manager).get(url)
    # Jan–Apr: no values in Jan/Feb (nothing), March −5,000.00, April +1,000.00: total −4,000.00.
    assert 'data-testid="backtest-net">-€4,000.00' in page.content.decode()
    bad = client_for(world.client_manager).post(url, {"scheme": "{"})
    assert bad.status_code == 422
    assert "not valid JSON" in bad.content.decode()


def _api(membership) -> Client:
    _, raw = api_token_create(membership=membership, name="test")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_api_settlements(world: World, march: Settlement) -> None:
    base = f"/api/engagements/{world.engagement.pk}/settlements"
    for method, url in (("get", base), ("get", f"{base}/2026-03"), ("post", f"{base}/2026-03/approve")):
        assert getattr(_api(world.outsider), method)(url).status_code == 404, url
    assert _api(world.outsider).post(base, {"period": "2026-03"}, content_type="application/json").status_code == 404
    got = _api(world.client_viewer).get(f"{base}/2026-03").json()
    assert (got["currency"], got["credits"], got["net"], got["status"]) == ("EUR", "5000.00", "-5000.00", "draft")
    assert got["lines"][0]["kpi"] == "qa_score"
    assert _api(world.client_manager).post(f"{base}/2026-03/approve").status_code == 200
    final = _api(world.provider_manager).post(f"{base}/2026-03/approve").json()
    assert final["status"] == "final"
    listed = _api(world.client_viewer).get(base).json()
    assert (listed["count"], [s["period"] for s in listed["items"]]) == (1, ["2026-03"])


def test_settle_command(world: World, schemed: AgreementVersion) -> None:
    record(world, "2026-03", "88")
    out = io.StringIO()
    # Not drafted yet: computed from the values, nothing stored.
    call_command("settle", str(world.engagement.pk), "--period", "2026-03", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert {k: data[k] for k in ("engagement", "period", "currency", "credits", "bonuses", "net", "status")} == {
        "engagement": "Acme support",
        "period": "2026-03",
        "currency": "EUR",
        "credits": "5000.00",
        "bonuses": "0.00",
        "net": "-5000.00",
        "status": "not drafted",
    }
    assert data["lines"][0]["rule"] == "qa-credit"
    assert data["lines"][0]["value"] == "88"
    assert not Settlement.objects.exists()
    table = io.StringIO()
    call_command("settle", "Acme support", "--period", "2026-03", stdout=table)
    assert "€5,000.00" in table.getvalue()
    with pytest.raises(CommandError, match="monthly"):
        call_command("settle", "Acme support", "--period", "2026-Q1", stdout=io.StringIO())


def test_a_viewer_sees_but_may_not_draft(world: World, schemed: AgreementVersion) -> None:
    url = reverse("incentives:settlements", args=[world.engagement.pk])
    viewer = client_for(world.client_viewer)
    assert viewer.get(url).status_code == 200
    refused = viewer.post(url, {"period": "2026-03"})
    assert refused.status_code == 403
    assert "administrators and managers" in refused.content.decode()
    assert not Settlement.objects.exists()
