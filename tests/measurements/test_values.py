"""Values by hand, file, API: checked whole, never overwritten, every revision kept with its source."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from pactboard.accounts.services import api_token_create
from pactboard.core.dbguard import guard_install, guard_remove
from pactboard.core.errors import PactboardError
from pactboard.core.periods import Period
from pactboard.measurements import services
from pactboard.measurements.models import ImportBatch, Measurement, Revision
from pactboard.measurements.selectors import scorecard_for_period
from pactboard.measurements.verify import measurements_verify
from tests.conftest import World

pytestmark = pytest.mark.django_db
OCT = Period.parse("2026-10")


def test_manual_value_then_correction_needs_a_reason(world: World, agreed):
    services.measurement_record(
        actor=world.provider_manager,
        engagement=world.engagement,
        kpi_code="escalations",
        period=OCT,
        value=Decimal("12"),
    )
    with pytest.raises(PactboardError) as caught:
        services.measurement_record(
            actor=world.provider_manager,
            engagement=world.engagement,
            kpi_code="escalations",
            period=OCT,
            value=Decimal("9"),
        )
    assert caught.value.details[0].location == "reason"
    assert caught.value.details[0].code == "reason_required"
    assert "needs a reason" in caught.value.details[0].message
    services.measurement_record(
        actor=world.provider_manager,
        engagement=world.engagement,
        kpi_code="escalations",
        period=OCT,
        value=Decimal("9"),
        reason="Three tickets were duplicates of one incident",
    )
    m = Measurement.objects.get(kpi_code="escalations")
    assert (m.value, m.revision_count) == (Decimal("9"), 2)
    revs = list(m.revisions.order_by("number").values_list("value", "reason"))
    assert revs == [(Decimal("12"), ""), (Decimal("9"), "Three tickets were duplicates of one incident")]


# The codes are the file import's for the same problems (value_import.checks), as docs/api.md asks.
@pytest.mark.parametrize(
    ("code", "period", "value", "message", "error_code"),
    [
        ("nope", "2026-10", "1", "unknown KPI 'nope'", "unknown_kpi"),
        ("qa_score", "2026-W40", "90", "measured per month, but 2026-W40 is a week", "wrong_period_kind"),
        ("qa_score", "2030-01", "90", "outside the engagement", "period_outside_engagement"),
        ("qa_score", "2026-10", "140", "140 is above the highest value qa_score allows (100)", "out_of_range"),
        ("escalations", "2026-10", "-1", "-1 is below the lowest value escalations allows (0)", "out_of_range"),
        ("escalations", "2026-10", "2.5", "not a whole number", "not_integer"),
    ],
)
def test_each_bad_value_is_refused_with_its_reason(world: World, agreed, code, period, value, message, error_code):
    with pytest.raises(PactboardError) as caught:
        services.measurement_record(
            actor=world.provider_manager,
            engagement=world.engagement,
            kpi_code=code,
            period=Period.parse(period),
            value=Decimal(value),
        )
    assert message in " ".join(d.message for d in caught.value.details)
    assert error_code in [d.code for d in caught.value.details]
    assert not Measurement.objects.exists()


def test_viewer_and_outsider_cannot_record(world: World, agreed):
    for actor, kind in ((world.client_viewer, "forbidden"), (world.outsider, "not_found")):
        with pytest.raises(PactboardError) as caught:
            services.measurement_record(
                actor=actor, engagement=world.engagement, kpi_code="qa_score", period=OCT, value=Decimal("1")
            )
        assert caught.value.kind == kind


def _values_csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["kpi", "period", "value", "note"])
        writer.writerows([(*r, "") for r in rows])
    return path


def _import(world: World, path: Path, reason: str = "") -> ImportBatch:
    batch = services.import_batch_start(
        actor=world.provider_manager, engagement=world.engagement, kind="values", source=path, file_name=path.name
    )
    return services.values_import_run(batch_id=batch.pk, reason=reason)


def test_import_of_good_file_writes_everything_with_its_hash(world: World, agreed, tmp_path):
    path = _values_csv(
        tmp_path / "values.csv",
        [("qa_score", f"2026-{m:02d}", f"{85 + m / 10:.1f}") for m in range(1, 11)]
        + [("escalations", f"2026-{m:02d}", str(20 - m)) for m in range(1, 11)],
    )
    batch = _import(world, path)
    assert batch.status == "done", batch.errors
    assert Measurement.objects.count() == 20
    rev = Revision.objects.get(measurement__kpi_code="qa_score", measurement__period_start="2026-03-01")
    assert rev.value == Decimal("85.3")
    assert rev.file_sha256 == batch.file_sha256
    assert rev.file_line == 4  # header is line 1
    assert rev.source == "import"


def test_import_with_one_bad_row_writes_nothing_and_names_it(world: World, agreed, tmp_path):
    rows = [("qa_score", f"2026-{m:02d}", "88") for m in range(1, 13)]
    rows[6] = ("qa_score", "2026-07", "not-a-number")
    batch = _import(world, _values_csv(tmp_path / "bad.csv", rows))
    assert batch.status == "failed"
    assert [e["location"] for e in batch.errors] == ["row 8, column value"]
    assert not Measurement.objects.exists()


def test_import_that_changes_values_needs_a_reason(world: World, agreed, tmp_path):
    assert _import(world, _values_csv(tmp_path / "a.csv", [("qa_score", "2026-10", "88")])).status == "done"
    refused = _import(world, _values_csv(tmp_path / "b.csv", [("qa_score", "2026-10", "89")]))
    assert refused.status == "failed"
    assert "needs a reason" in refused.errors[0]["message"]
    assert (
        _import(world, _values_csv(tmp_path / "c.csv", [("qa_score", "2026-10", "89")]), reason="QA re-scored").status
        == "done"
    )
    assert Measurement.objects.get().value == Decimal("89")


def test_cli_import_reports_rows_and_exits_non_zero(world: World, agreed, tmp_path):
    bad = _values_csv(tmp_path / "bad.csv", [("qa_score", "2026-10", "140"), ("nope", "2026-10", "1")])
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "measurements", "import", str(world.engagement.pk), str(bad), "--as", "pedro@helpline.example", stderr=err
        )
    assert "row 2" in err.getvalue()
    assert "row 3" in err.getvalue()
    assert not Measurement.objects.exists()
    good = _values_csv(tmp_path / "good.csv", [("qa_score", "2026-10", "91")])
    out = io.StringIO()
    call_command("measurements", "import", "Acme support", str(good), "--as", "pedro@helpline.example", stdout=out)
    assert "1 new values" in out.getvalue()


def _api(membership) -> Client:
    _, raw = api_token_create(membership=membership, name="t")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_api_batch_is_idempotent_by_key(world: World, agreed):
    api = _api(world.provider_manager)
    url = f"/api/engagements/{world.engagement.pk}/measurements"
    body = {"values": [{"kpi": "qa_score", "period": "2026-10", "value": "90.5"}]}
    first = api.post(url, body, content_type="application/json", headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201
    again = api.post(url, body, content_type="application/json", headers={"Idempotency-Key": "k-1"})
    assert (again.status_code, again.json()) == (201, first.json())
    assert Revision.objects.count() == 1
    other = {"values": [{"kpi": "qa_score", "period": "2026-10", "value": "70"}]}
    clash = api.post(url, other, content_type="application/json", headers={"Idempotency-Key": "k-1"})
    assert clash.status_code == 409
    assert Measurement.objects.get().value == Decimal("90.5")


def test_api_batch_with_one_bad_value_writes_nothing(world: World, agreed):
    body = {
        "values": [
            {"kpi": "qa_score", "period": "2026-10", "value": "90"},
            {"kpi": "qa_score", "period": "2026-13", "value": "1"},
        ]
    }
    response = _api(world.provider_manager).post(
        f"/api/engagements/{world.engagement.pk}/measurements", body, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["details"][0]["location"] == "values[1].period"
    assert not Measurement.objects.exists()


def test_api_batch_problems_are_located_and_coded_like_a_files(world: World, agreed):
    """Each problem at its row with the code the file import gives the same problem (docs/api.md)."""
    body = {
        "values": [
            {"kpi": "qa_score", "period": "2026-10", "value": "90"},
            {"kpi": "qa_scor", "period": "2026-10", "value": "90"},
            {"kpi": "qa_score", "period": "2026-10", "value": "91"},
            {"kpi": "escalations", "period": "2026-10", "value": "2.5"},
            {"kpi": "qa_score", "period": "2025-12", "value": "90"},  # the engagement starts on 2026-01-01
        ]
    }
    response = _api(world.provider_manager).post(
        f"/api/engagements/{world.engagement.pk}/measurements", body, content_type="application/json"
    )
    assert response.status_code == 422
    assert [(d["location"], d["code"]) for d in response.json()["details"]] == [
        ("values[1]", "unknown_kpi"),
        ("values[2]", "duplicate_value"),
        ("values[3]", "not_integer"),
        ("values[4]", "period_outside_engagement"),
    ]
    assert not Measurement.objects.exists()


def test_api_outsider_gets_404(world: World, agreed):
    api = _api(world.outsider)
    assert api.get(f"/api/engagements/{world.engagement.pk}/measurements").status_code == 404
    assert api.get(f"/api/engagements/{world.engagement.pk}/scorecard?period=2026-10").status_code == 404
    response = api.post(
        f"/api/engagements/{world.engagement.pk}/measurements",
        {"values": [{"kpi": "qa_score", "period": "2026-10", "value": "1"}]},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not Measurement.objects.exists()


def test_scorecard_uses_the_agreed_terms(world: World, agreed):
    for code, value in (("qa_score", "92"), ("escalations", "12")):
        services.measurement_record(
            actor=world.provider_manager, engagement=world.engagement, kpi_code=code, period=OCT, value=Decimal(value)
        )
    card = scorecard_for_period(engagement=world.engagement, period=OCT).scorecard
    assert card is not None
    # qa_score: higher is better, 92 >= target 90 -> met; escalations: lower is better, 12 is worse than
    # target 10 but within amber 15 -> at risk; FCR and CSAT have no data.
    assert card.result("qa_score").status == "met"
    assert card.result("escalations").status == "at_risk"
    assert card.result("csat").status == "no_data"
    out = io.StringIO()
    call_command("scorecard", str(world.engagement.pk), "--period", "2026-10", "--format", "json", stdout=out)
    import json

    data = json.loads(out.getvalue())
    assert data["period"] == "2026-10"
    by_code = {k["code"]: k for k in data["kpis"]}
    assert by_code["qa_score"]["value"] == "92"
    assert by_code["qa_score"]["target"] == "90"
    assert by_code["escalations"]["status"] == "at_risk"
    # JSON keeps the stored values; the table shows them the way the pages do (docs/formatting.md):
    # attainment 92/90 = 1.0222 -> "102.2 %" (not "1.0222"), coverage 2 of 4 equal weights -> "50 %".
    table = io.StringIO()
    call_command("scorecard", str(world.engagement.pk), "--period", "2026-10", stdout=table)
    lines = {line.split()[0]: line.split() for line in table.getvalue().splitlines()[3:]}
    assert lines["qa_score"] == ["qa_score", "92", "%", "90", "%", "met", "102.2", "%"]
    assert lines["escalations"] == ["escalations", "12", "10", "at_risk", "83.3", "%"]
    assert lines["csat"][1] == "—"
    assert "coverage 50 %" in table.getvalue().splitlines()[0]


def test_verify_reports_a_value_altered_behind_the_applications_back(world: World, agreed, tmp_path):
    _import(world, _values_csv(tmp_path / "v.csv", [("qa_score", "2026-10", "88"), ("qa_score", "2026-11", "89")]))
    checked, mismatches = measurements_verify(engagement=world.engagement)
    assert (checked, mismatches) == (2, [])
    guard_remove(connection)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE measurements_revision SET value = 95 WHERE file_line = 3")
        cursor.execute("UPDATE measurements_measurement SET value = 95 WHERE period_start = '2026-11-01'")
    guard_install(connection)
    checked, mismatches = measurements_verify(engagement=world.engagement)
    assert len(mismatches) == 1
    assert mismatches[0].period == "2026-11"
    assert "line 3 of the imported file v.csv says 89" in mismatches[0].detail
    with pytest.raises(CommandError, match="1 of 2 values do not match"):
        call_command("measurements", "verify", str(world.engagement.pk), stderr=io.StringIO())


def test_api_file_import_and_its_status(world: World, agreed, tmp_path):
    api = _api(world.provider_manager)
    bad = _values_csv(tmp_path / "bad.csv", [("qa_score", "2026-10", "88"), ("qa_score", "2026-11", "abc")])
    with bad.open("rb") as fh:
        response = api.post(f"/api/engagements/{world.engagement.pk}/imports", {"file": fh})
    assert response.status_code == 202
    body = response.json()
    # Tests run tasks at once (ImmediateBackend): the refusal is already known.
    status = api.get(f"/api/engagements/{world.engagement.pk}/imports/{body['id']}").json()
    assert status["status"] == "failed"
    assert [e["location"] for e in status["errors"]] == ["row 3, column value"]
    assert not Measurement.objects.exists()
    good = _values_csv(tmp_path / "good.csv", [("qa_score", "2026-10", "88")])
    with good.open("rb") as fh:
        body = api.post(f"/api/engagements/{world.engagement.pk}/imports", {"file": fh, "reason": ""}).json()
    assert api.get(f"/api/engagements/{world.engagement.pk}/imports/{body['id']}").json()["status"] == "done"
    assert Measurement.objects.get().value == Decimal("88")
    # Another tenant sees neither the import nor its engagement.
    assert _api(world.outsider).get(f"/api/engagements/{world.engagement.pk}/imports/{body['id']}").status_code == 404
