"""Corrections that make a value undefined, verification against the dataset version in force, and
values for KPIs agreed after their records arrived (computed when the version is agreed, or on demand).

The records are tests/measurements/test_datasets.py's October 2026 contacts (Europe/Berlin).
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from pactboard.accounts.services import api_token_create
from pactboard.core.errors import PactboardError
from pactboard.core.periods import Period
from pactboard.kpis import negotiation as kpi_negotiation
from pactboard.kpis import services as kpi_services
from pactboard.measurements import recompute, services
from pactboard.measurements.models import ImportBatch, Measurement, Revision
from pactboard.measurements.selectors import scorecard_for_period
from pactboard.measurements.verify import measurements_verify
from tests.conftest import World, client_for
from tests.measurements.test_datasets import OCTOBER, _contact, _upload, _write
from tests.measurements.test_datasets import contacts as contacts  # the fixture

pytestmark = pytest.mark.django_db
OCT = Period.parse("2026-10")
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _m(code: str, month: str) -> Measurement:
    return Measurement.objects.get(kpi_code=code, period_start=f"{month}-01")


# The correction: 1-4 October re-sent with the same contacts, now all abandoned (never answered) and
# without survey answers. October keeps c5 (abandoned, 5 Oct), so it still has records, but FCR's
# denominator (handled contacts) and CSAT's (survey responses) are both zero: undefined.
ALL_ABANDONED = [_contact(i, f"2026-10-0{i}T08:00:00+02:00", answered=False) for i in range(1, 5)]


def test_a_correction_that_makes_a_value_undefined_records_it_with_why(world: World, contacts, tmp_path: Path):
    assert _upload(world, contacts, _write(tmp_path / "oct.csv", OCTOBER)).status == "done"
    assert _m("first_contact_resolution", "2026-10").value == Decimal("75")
    batch = _upload(world, contacts, _write(tmp_path / "fix.csv", ALL_ABANDONED))
    assert batch.status == "done", batch.errors
    assert "2 changed" in batch.message
    assert "2 now undefined" in batch.message
    for code in ("first_contact_resolution", "csat"):
        m = _m(code, "2026-10")
        assert m.value is None
        assert m.revision_count == 2
        latest = m.revisions.order_by("-number").first()
        assert latest is not None
        assert latest.value is None
        assert latest.reason == "computed from contacts v2"
        assert "undefined" in latest.note
        assert latest.dataset_version is not None
        assert latest.dataset_version.number == 2
    # November (c6) is untouched by the correction.
    assert _m("first_contact_resolution", "2026-11").revision_count == 1
    checked, mismatches = measurements_verify(engagement=world.engagement)
    assert (checked, mismatches) == (4, [])
    card = scorecard_for_period(engagement=world.engagement, period=OCT).scorecard
    assert card is not None
    assert card.result("first_contact_resolution").status == "no_data"


def test_verify_checks_against_the_dataset_version_in_force(world: World, contacts, tmp_path: Path, monkeypatch):
    _upload(world, contacts, _write(tmp_path / "oct.csv", OCTOBER))
    # A version 2 whose KPIs were never recomputed: the stored October FCR (75) is v1's.
    monkeypatch.setattr(services.datasets, "dataset_kpis_apply", lambda **_: services.ApplyResult())
    fix = [_contact(3, "2026-10-03T08:00:00+02:00", fcr="true", csat="2")]
    assert _upload(world, contacts, _write(tmp_path / "fix.csv", fix)).status == "done"
    _, mismatches = measurements_verify(engagement=world.engagement)
    # v2: c1-c4 all resolved of 4 handled -> FCR 100 (CSAT unchanged: the same answers 5, 4, 2).
    assert [(m.kpi_code, m.period, m.stored, m.recomputed) for m in mismatches] == [
        ("first_contact_resolution", "2026-10", Decimal("75"), Decimal("100"))
    ]
    assert "contacts v2" in mismatches[0].detail


def _add_aht_version(world: World, based_on) -> None:
    draft = kpi_services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    kpi_services.version_kpi_add(
        actor=world.client_manager,
        version=draft,
        objective_ids=[world.objective.pk],
        catalogue_code="average_handle_time",
        target=Decimal("320"),
        amber=Decimal("360"),
        source="dataset",
    )
    # Retroactive on purpose (it changes nothing here): the test must not depend on today's date.
    proposed = kpi_negotiation.version_propose(
        actor=world.client_manager, version=draft, effective_from=date(2026, 12, 1), retroactive=True
    )
    kpi_negotiation.version_sign(actor=world.client_manager, version=proposed)
    kpi_negotiation.version_sign(actor=world.provider_manager, version=proposed)


def test_a_kpi_that_joins_in_a_new_version_is_computed_when_it_is_agreed(
    world: World, contacts, agreed, tmp_path, django_capture_on_commit_callbacks
):
    _upload(world, contacts, _write(tmp_path / "oct.csv", OCTOBER))
    assert not Measurement.objects.filter(kpi_code="average_handle_time").exists()
    # The recomputation is scheduled once the agreement commits (then runs as a task).
    with django_capture_on_commit_callbacks(execute=True):
        _add_aht_version(world, agreed)
    # AHT (catalogue): avg(handle_seconds) over handled contacts; every contact has 300 s, so October
    # (c1-c4) and November (c6) are both 300.
    assert _m("average_handle_time", "2026-10").value == Decimal("300")
    assert _m("average_handle_time", "2026-11").value == Decimal("300")
    rev = _m("average_handle_time", "2026-10").revisions.get()
    assert rev.source == "formula"
    assert rev.dataset_version is not None


def test_an_agreement_signed_after_the_records_computes_their_values(
    world: World, tmp_path: Path, django_capture_on_commit_callbacks
):
    dataset = services.dataset_declare(
        actor=world.client_manager, engagement=world.engagement, name="contacts", standard="contacts"
    )
    _upload(world, dataset, _write(tmp_path / "oct.csv", OCTOBER))
    assert not Measurement.objects.exists()  # nothing agreed yet: nothing to compute
    draft = kpi_services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    kpi_services.version_kpi_add(
        actor=world.client_manager,
        version=draft,
        objective_ids=[world.objective.pk],
        catalogue_code="first_contact_resolution",
        target=Decimal("75"),
        amber=Decimal("70"),
        source="dataset",
    )
    proposed = kpi_negotiation.version_propose(
        actor=world.client_manager, version=draft, effective_from=date(2026, 1, 1)
    )
    kpi_negotiation.version_sign(actor=world.client_manager, version=proposed)
    assert not Measurement.objects.exists()  # one signature: not agreed, nothing in force
    with django_capture_on_commit_callbacks(execute=True):
        kpi_negotiation.version_sign(actor=world.provider_manager, version=proposed)
    # FCR October: c1, c2, c4 resolved of the 4 handled c1-c4 = 75 (test_datasets.py).
    assert _m("first_contact_resolution", "2026-10").value == Decimal("75")


@pytest.fixture
def uncomputed(world: World, contacts, tmp_path: Path, monkeypatch):
    """The October records stored as contacts v1, with no value computed from them (as before the fix)."""
    with monkeypatch.context() as patch:
        patch.setattr(services.datasets, "dataset_kpis_apply", lambda **_: services.ApplyResult())
        assert _upload(world, contacts, _write(tmp_path / "oct.csv", OCTOBER)).status == "done"
    assert not Measurement.objects.exists()
    return contacts


def test_verify_reports_values_missing_from_the_dataset_in_force(world: World, uncomputed):
    _, mismatches = measurements_verify(engagement=world.engagement)
    # FCR and CSAT for October and November: four values the dataset in force gives and nobody recorded.
    assert sorted((m.kpi_code, m.period, m.stored) for m in mismatches) == [
        ("csat", "2026-10", None),
        ("csat", "2026-11", None),
        ("first_contact_resolution", "2026-10", None),
        ("first_contact_resolution", "2026-11", None),
    ]


def test_recompute_command_for_one_kpi_from_a_period(world: World, uncomputed):
    out = io.StringIO()
    call_command("measurements", "recompute", "Acme support", "--kpi", "csat", "--from", "2026-11", stdout=out)
    # CSAT November: c6's only answer is 3 (not top-two-box) -> 0 of 1 = 0.
    assert list(Measurement.objects.values_list("kpi_code", "period_start", "value")) == [
        ("csat", date(2026, 11, 1), Decimal("0"))
    ]
    assert "1 new values" in out.getvalue()
    call_command("measurements", "recompute", "Acme support", stdout=io.StringIO())
    assert _m("csat", "2026-10").value == Decimal("66.666667")
    assert _m("first_contact_resolution", "2026-10").value == Decimal("75")
    assert measurements_verify(engagement=world.engagement)[1] == []
    with pytest.raises(CommandError, match="nope"):
        call_command("measurements", "recompute", "Acme support", "--kpi", "nope")


def test_recompute_is_refused_to_non_managers(world: World, uncomputed):
    with pytest.raises(PactboardError):
        recompute.recompute_start(actor=world.client_viewer, engagement=world.engagement)


def test_recompute_api_runs_as_a_task_with_progress(world: World, uncomputed):
    _, raw = api_token_create(membership=world.client_manager, name="t")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    url = f"/api/engagements/{world.engagement.pk}/measurements/recompute"
    response = api.post(url, {"kpi": "first_contact_resolution", "from": "2026-11"}, content_type="application/json")
    assert response.status_code == 202
    body = response.json()
    status = api.get(f"/api/engagements/{world.engagement.pk}/imports/{body['id']}").json()
    assert status["status"] == "done"
    assert status["kind"] == "recompute"
    assert (status["progress_done"], status["progress_total"]) == (1, 1)  # one dataset
    # From 2026-11 only: November's FCR (c6 handled, not resolved: 0 of 1 = 0), not October's.
    assert list(Measurement.objects.values_list("period_start", "value")) == [(date(2026, 11, 1), Decimal("0"))]
    assert api.post(url, {"kpi": "first_contact_resolution"}, content_type="application/json").status_code == 202
    assert _m("first_contact_resolution", "2026-10").value == Decimal("75")
    bad = api.post(url, {"kpi": "qa_score"}, content_type="application/json")
    assert bad.status_code == 422  # entered by hand, not computed from a dataset
    assert (bad.json()["details"][0]["location"], bad.json()["details"][0]["code"]) == ("kpi", "not_a_dataset_kpi")
    assert not Measurement.objects.filter(kpi_code="csat").exists()
    _, other = api_token_create(membership=world.outsider, name="x")
    outsider = Client(headers={"Authorization": f"Bearer {other}"})
    assert outsider.post(url, {}, content_type="application/json").status_code == 404


def test_recompute_button_for_managers(world: World, uncomputed):
    url = reverse("measurements:recompute", args=[world.engagement.pk])
    assert client_for(world.client_viewer).post(url).status_code == 403
    response = client_for(world.client_manager).post(url)
    assert response.status_code == 302
    batch = ImportBatch.objects.get(kind="recompute")
    assert batch.status == "done"
    assert Revision.objects.filter(source="formula").count() == 4
