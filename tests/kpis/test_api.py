"""Agreement API: tenancy (404), the whole workflow, signed versions refused with 409, query counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from pactboard.accounts.services import api_token_create
from pactboard.kpis import services
from pactboard.kpis.models import AgreementVersion, Comment, VersionKpi
from tests.conftest import World
from tests.kpis.test_views import agreed_with, draft_with, propose

pytestmark = pytest.mark.django_db
Status = AgreementVersion.Status


def _api(membership) -> Client:
    _, raw = api_token_create(membership=membership, name="test")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _kpi_payload(world: World, **overrides) -> dict:
    payload = {
        "catalogue_code": "first_contact_resolution",
        "objective_ids": [world.objective.pk],
        "target": "75",
        "amber": "70",
        "stretch": "80",
        "weight": "2",
        "baseline_value": "68.5",
        "baseline_period": "2025-Q4",
        "baseline_source": "Client's own team, CRM reports",
        "milestones": [{"date": "2026-06-30", "target": "72"}],
    }
    payload.update(overrides)
    return payload


def test_workflow_through_the_api(world: World):
    carla, pedro = _api(world.client_manager), _api(world.provider_manager)
    e = world.engagement.pk
    response = carla.post(f"/api/engagements/{e}/versions", {"note": "First set"}, content_type="application/json")
    assert response.status_code == 201, response.content
    version_id = response.json()["id"]
    assert response.json()["status"] == "draft"

    response = carla.post(f"/api/versions/{version_id}/kpis", _kpi_payload(world), content_type="application/json")
    assert response.status_code == 201, response.content
    kpi = response.json()
    assert kpi["code"] == "first_contact_resolution"  # filled in from the catalogue
    assert kpi["target"] == "75"
    assert kpi["objectives"] == ["fcr"]
    assert kpi["milestones"] == [{"date": "2026-06-30", "target": "72", "amber": None, "stretch": None, "note": ""}]

    response = carla.post(
        f"/api/versions/{version_id}/propose", {"effective_from": "2026-03-01"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "proposed"

    response = pedro.post(
        f"/api/versions/{version_id}/comments",
        {"body": "Fine by us.", "kpi_code": "first_contact_resolution"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["organisation"] == "Helpline BPO"

    assert pedro.post(f"/api/versions/{version_id}/sign").json()["signed_by"] == ["Helpline BPO"]
    body = carla.post(f"/api/versions/{version_id}/sign").json()
    assert body["status"] == "agreed"
    assert {s["side"] for s in body["signatures"]} == {"client", "provider"}
    assert {s["content_hash"] for s in body["signatures"]} == {body["content_hash"]}

    # Both parties read exactly the same content.
    as_client = carla.get(f"/api/versions/{version_id}").json()
    as_provider = pedro.get(f"/api/versions/{version_id}").json()
    assert as_client == as_provider
    assert as_client["comments"][0]["body"] == "Fine by us."

    listed = pedro.get(f"/api/engagements/{e}/versions").json()["items"]
    assert [(v["number"], v["status"], v["kpi_count"]) for v in listed] == [(1, "agreed", 1)]


def test_a_signed_version_cannot_change_through_the_api(world: World):
    agreed = agreed_with(world, 2)
    kpi = agreed.kpis.get(code="kpi_00")
    carla = _api(world.client_manager)
    added = carla.post(f"/api/versions/{agreed.pk}/kpis", _kpi_payload(world), content_type="application/json")
    assert added.status_code == 409
    assert added.json()["kind"] == "conflict"
    assert "can no longer change" in added.json()["message"]
    patched = carla.patch(f"/api/versions/{agreed.pk}/kpis/{kpi.pk}", {"target": "1"}, content_type="application/json")
    assert patched.status_code == 409
    assert carla.delete(f"/api/versions/{agreed.pk}/kpis/{kpi.pk}").status_code == 409
    assert (
        carla.post(
            f"/api/versions/{agreed.pk}/propose", {"effective_from": "2026-05-01"}, content_type="application/json"
        ).status_code
        == 409
    )
    assert carla.post(f"/api/versions/{agreed.pk}/withdraw").status_code == 409
    assert carla.post(f"/api/versions/{agreed.pk}/sign").status_code == 409
    kpi.refresh_from_db()
    assert kpi.target == Decimal("300")
    assert agreed.kpis.count() == 2


def test_invalid_kpi_is_422_with_located_details(world: World):
    draft = draft_with(world, 0)
    response = _api(world.client_manager).post(
        f"/api/versions/{draft.pk}/kpis",
        _kpi_payload(world, amber="80", milestones=[{"date": "2031-01-01", "target": "72"}]),
        content_type="application/json",
    )
    assert response.status_code == 422
    locations = {d["location"] for d in response.json()["details"]}
    assert {"amber", "milestones[0].date"} <= locations  # located at the API's own field names
    assert not draft.kpis.exists()


def test_update_and_remove_a_kpi_of_a_draft(world: World):
    draft = draft_with(world, 2)
    kpi = draft.kpis.get(code="kpi_00")
    carla = _api(world.client_manager)
    response = carla.patch(
        f"/api/versions/{draft.pk}/kpis/{kpi.pk}", {"target": "290"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["target"] == "290"
    assert response.json()["milestones"][0]["target"] == "310"  # untouched when not sent
    assert carla.delete(f"/api/versions/{draft.pk}/kpis/{kpi.pk}").status_code == 204
    assert list(draft.kpis.values_list("code", flat=True)) == ["kpi_01"]


def test_counter_proposal_and_diff(world: World):
    proposed = propose(world, draft_with(world, 1))
    pedro = _api(world.provider_manager)
    response = pedro.post(
        f"/api/versions/{proposed.pk}/counter-proposal", {"note": "Looser"}, content_type="application/json"
    )
    assert response.status_code == 201
    counter_id = response.json()["id"]
    kpi_id = response.json()["kpis"][0]["id"]
    pedro.patch(f"/api/versions/{counter_id}/kpis/{kpi_id}", {"target": "310"}, content_type="application/json")
    diff = pedro.get(f"/api/versions/{proposed.pk}/diff/{counter_id}").json()
    assert diff["added"] == diff["removed"] == []
    # The counter-proposal is a draft: its effective date is set when it is proposed.
    assert diff["settings"] == [{"field": "effective_from", "before": "2026-01-01", "after": None}]
    assert diff["changed"] == [
        {
            "code": "kpi_00",
            "name": "Handle time kpi_00",
            "changes": [{"field": "target", "before": "300", "after": "310"}],
        }
    ]


def test_viewer_gets_403_when_writing(world: World):
    draft = draft_with(world, 1)
    response = _api(world.client_viewer).post(
        f"/api/versions/{draft.pk}/kpis", _kpi_payload(world), content_type="application/json"
    )
    assert response.status_code == 403
    assert draft.kpis.count() == 1


def _endpoints(world: World) -> list[tuple[str, str, dict | None]]:
    draft = draft_with(world, 1)
    kpi = draft.kpis.get()
    e = world.engagement.pk
    return [
        ("get", f"/api/engagements/{e}/versions", None),
        ("post", f"/api/engagements/{e}/versions", {}),
        ("get", f"/api/versions/{draft.pk}", None),
        ("post", f"/api/versions/{draft.pk}/kpis", _kpi_payload(world)),
        ("patch", f"/api/versions/{draft.pk}/kpis/{kpi.pk}", {"target": "1"}),
        ("delete", f"/api/versions/{draft.pk}/kpis/{kpi.pk}", None),
        ("post", f"/api/versions/{draft.pk}/propose", {"effective_from": "2026-03-01"}),
        ("post", f"/api/versions/{draft.pk}/comments", {"body": "hijack"}),
        ("post", f"/api/versions/{draft.pk}/sign", None),
        ("post", f"/api/versions/{draft.pk}/counter-proposal", {}),
        ("post", f"/api/versions/{draft.pk}/withdraw", None),
        ("get", f"/api/versions/{draft.pk}/diff/{draft.pk}", None),
    ]


def test_outsider_gets_404_on_every_endpoint(world: World):
    outsider = _api(world.outsider)
    for method, path, body in _endpoints(world):
        kwargs = {"content_type": "application/json"} if body is not None else {}
        response = (
            getattr(outsider, method)(path, body, **kwargs) if body is not None else getattr(outsider, method)(path)
        )
        assert response.status_code == 404, (method, path, response.content)
    draft = AgreementVersion.objects.get(engagement=world.engagement)
    assert draft.status == Status.DRAFT
    assert VersionKpi.objects.get(version=draft).target == Decimal("300")
    assert not Comment.objects.exists()


def test_catalogue_lists_standard_and_own_custom_kpis(world: World):
    services.custom_kpi_create(
        actor=world.client_manager,
        code="refund_rate",
        name="Refund rate",
        category="quality",
        unit="%",
        direction="lower",
        definition="Refunded orders per order.",
    )
    mine = _api(world.client_manager).get("/api/catalogue", {"q": "refund"}).json()["items"]
    assert [(k["code"], k["custom"]) for k in mine] == [("refund_rate", True)]
    assert _api(world.outsider).get("/api/catalogue", {"q": "refund"}).json()["items"] == []
    standard = _api(world.outsider).get("/api/catalogue", {"page_size": 200}).json()["items"]
    assert any(k["code"] == "nps" for k in standard)


@pytest.mark.parametrize("which", ["list", "get"])
def test_query_count_does_not_grow_with_kpis(world: World, django_assert_max_num_queries, which: str):
    carla = _api(world.client_manager)
    counts = []
    for n, prefix in ((3, "a"), (15, "b")):
        agreed = agreed_with(world, n, prefix)
        path = f"/api/engagements/{world.engagement.pk}/versions" if which == "list" else f"/api/versions/{agreed.pk}"
        with django_assert_max_num_queries(40) as captured:
            assert carla.get(path).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[1] <= counts[0], counts
