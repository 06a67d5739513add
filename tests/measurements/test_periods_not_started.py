"""Values for periods that have not started are refused, by hand, by file and through the API.

"Now" is fixed at 2026-11-29 12:00 UTC (13:00 in Berlin, the engagement's zone): the month 2026-11
is running, 2026-12 and 2027-06 have not started (the engagement runs 2026-01-01 to 2027-12-31).
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pactboard.accounts.services import api_token_create
from pactboard.core.errors import PactboardError
from pactboard.core.periods import Period
from pactboard.measurements import services
from pactboard.measurements.models import Measurement
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_a_value_for_a_future_month_is_refused_by_hand(world: World, agreed):
    with pytest.raises(PactboardError) as caught:
        services.measurement_record(
            actor=world.provider_manager,
            engagement=world.engagement,
            kpi_code="escalations",
            period=Period.parse("2027-06"),
            value=Decimal("3"),
            now=NOW,
        )
    detail = caught.value.details[0]
    assert detail.location == "period"
    assert "2027-06 has not started" in detail.message
    assert not Measurement.objects.exists()


def test_the_running_month_is_accepted(world: World, agreed):
    # A value for a period still running is a fact so far (shown only when chosen, marked in progress).
    services.measurement_record(
        actor=world.provider_manager,
        engagement=world.engagement,
        kpi_code="escalations",
        period=Period.parse("2026-11"),
        value=Decimal("3"),
        now=NOW,
    )
    assert Measurement.objects.get().period_start.isoformat() == "2026-11-01"


def test_the_zone_decides_when_a_month_starts(world: World, agreed):
    # 2026-11-30T23:30Z is already 1 December, 00:30, in Berlin (CET, UTC+1).
    services.measurement_record(
        actor=world.provider_manager,
        engagement=world.engagement,
        kpi_code="escalations",
        period=Period.parse("2026-12"),
        value=Decimal("1"),
        now=datetime(2026, 11, 30, 23, 30, tzinfo=UTC),
    )
    with pytest.raises(PactboardError):
        services.measurement_record(
            actor=world.provider_manager,
            engagement=world.engagement,
            kpi_code="qa_score",
            period=Period.parse("2026-12"),
            value=Decimal("90"),
            now=datetime(2026, 11, 30, 22, 59, tzinfo=UTC),
        )


def test_a_file_with_a_future_row_writes_nothing_and_names_the_row(world: World, agreed, tmp_path: Path):
    path = tmp_path / "values.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kpi", "period", "value"])
        w.writerow(["qa_score", "2026-10", "90"])
        w.writerow(["qa_score", "2026-12", "91"])
    batch = services.import_batch_start(
        actor=world.provider_manager, engagement=world.engagement, kind="values", source=path, file_name=path.name
    )
    batch = services.values_import_run(batch_id=batch.pk, now=NOW)
    assert batch.status == "failed"
    assert [e["location"] for e in batch.errors] == ["row 3, column period"]
    assert "2026-12 has not started" in batch.errors[0]["message"]
    assert not Measurement.objects.exists()


def test_the_api_refuses_a_future_period(world: World, agreed, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    _, raw = api_token_create(membership=world.provider_manager, name="t")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    body = {"values": [{"kpi": "qa_score", "period": "2027-06", "value": "90"}]}
    response = api.post(f"/api/engagements/{world.engagement.pk}/measurements", body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["details"][0]["location"] == "values[0].period"
    assert not Measurement.objects.exists()


def test_the_form_shows_the_refusal_on_the_period_field(world: World, agreed, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    c = client_for(world.provider_manager)
    url = reverse("measurements:kpi_values", args=[world.engagement.pk, "escalations"])
    response = c.post(url, {"period": "2027-06", "value": "3"})
    assert response.status_code == 422
    assert "2027-06 has not started" in response.context["form"].errors["period"][0]
