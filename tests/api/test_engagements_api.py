"""The engagement writes the pages do, through the API: create, edit terms, edit objectives, business changes.

The API calls the same services as the pages, so the same rules hold: only client managers create and
edit engagements (docs/engagements: F1), either party logs business changes, other tenants get 404.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client

from pactboard.audit.models import AuditEvent
from pactboard.core.errors import PactboardError
from pactboard.engagements.models import BusinessChange, Engagement
from tests.conftest import World, api_client

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: dict, method: str = "post"):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


NEW = {
    "name": "Acme back office",
    "start_date": "2027-01-01",
    "end_date": "2027-12-31",
    "currency": "eur",
    "monthly_fee": "25000.00",
}


def test_client_manager_creates_an_engagement_with_a_provider_it_works_with(world: World):
    response = _post(
        api_client(world.client_manager), "/api/engagements/", {**NEW, "provider_id": world.provider_org.pk}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["client"]["name"] == "Acme Retail"
    assert body["provider"]["name"] == "Helpline BPO"
    assert body["currency"] == "EUR"  # upper-cased as on the page
    assert AuditEvent.objects.filter(action="engagement.create", object_id=str(body["id"])).count() == 1


def test_a_provider_it_does_not_work_with_is_refused_by_field(world: World):
    response = _post(
        api_client(world.client_manager), "/api/engagements/", {**NEW, "provider_id": world.other_provider_org.pk}
    )
    assert response.status_code == 422
    detail = response.json()["details"][0]
    assert (detail["location"], detail["code"]) == ("provider_id", "unknown_provider")  # create_engagement
    assert not Engagement.objects.filter(name="Acme back office").exists()


def test_provider_and_viewer_may_not_create(world: World):
    for member in (world.provider_manager, world.client_viewer):
        response = _post(api_client(member), "/api/engagements/", {**NEW, "provider_id": world.provider_org.pk})
        assert response.status_code == 403, (member, response.content)
    assert not Engagement.objects.filter(name="Acme back office").exists()


def test_patch_changes_only_what_is_sent(world: World):
    url = f"/api/engagements/{world.engagement.pk}"
    response = _post(api_client(world.client_manager), url, {"monthly_fee": "120000.50"}, "patch")
    assert response.status_code == 200, response.content
    world.engagement.refresh_from_db()
    assert str(world.engagement.monthly_fee) == "120000.50"
    assert world.engagement.name == "Acme support"
    # The provider cannot change the client's terms; an outsider does not see the engagement.
    assert _post(api_client(world.provider_manager), url, {"name": "X"}, "patch").status_code == 403
    assert _post(api_client(world.outsider), url, {"name": "X"}, "patch").status_code == 404
    null = _post(api_client(world.client_manager), url, {"name": None}, "patch")
    assert null.status_code == 422
    assert (null.json()["details"][0]["location"], null.json()["details"][0]["code"]) == ("name", "null_not_allowed")


def test_patch_an_objective(world: World):
    url = f"/api/engagements/{world.engagement.pk}/objectives/{world.objective.pk}"
    response = _post(api_client(world.client_manager), url, {"target": "≥ 78 %", "deadline": "2027-06-30"}, "patch")
    assert response.status_code == 200, response.content
    assert response.json()["target"] == "≥ 78 %"
    world.objective.refresh_from_db()
    assert world.objective.deadline == date(2027, 6, 30)
    # The objective id of another engagement under this engagement's URL is not found.
    other = world.other_engagement.objectives.create(key="x", statement="Other")
    wrong = f"/api/engagements/{world.engagement.pk}/objectives/{other.pk}"
    assert _post(api_client(world.client_manager), wrong, {"target": "1"}, "patch").status_code == 404
    # A null statement is refused by update_objective; an empty one by the model (blank), named required.
    for sent, code in ((None, "null_not_allowed"), ("", "required")):
        refused = _post(api_client(world.client_manager), url, {"statement": sent}, "patch")
        assert refused.status_code == 422
        assert (refused.json()["details"][0]["location"], refused.json()["details"][0]["code"]) == ("statement", code)


def test_objective_refusals_name_field_and_code(world: World):
    from pactboard.engagements.services import objective_create

    # _objective_key: world.objective already has the key "fcr"; _check_owner: the outsider belongs to neither party.
    for fields, location, code in (
        ({"key": "fcr", "statement": "Again"}, "key", "duplicate_key"),
        ({"statement": "Owned", "owner": world.outsider.user}, "owner", "not_a_member"),
    ):
        with pytest.raises(PactboardError) as caught:
            objective_create(actor=world.client_manager, engagement=world.engagement, **fields)
        assert [(d.location, d.code) for d in caught.value.details] == [(location, code)]


def test_business_changes_logged_and_listed(world: World):
    url = f"/api/engagements/{world.engagement.pk}/business-changes"
    body = {"date": "2026-03-01", "kind": "launch", "title": "Spring campaign", "kpi_codes": []}
    response = _post(api_client(world.provider_manager), url, body)
    assert response.status_code == 201, response.content
    assert response.json()["created_by_org"] == "Helpline BPO"
    listed = api_client(world.client_manager).get(url)
    assert [c["title"] for c in listed.json()["items"]] == ["Spring campaign"]
    # A KPI the engagement does not have is refused at its field; nothing is written.
    bad = _post(api_client(world.provider_manager), url, {**body, "kpi_codes": ["nope"]})
    assert bad.status_code == 422
    assert (bad.json()["details"][0]["location"], bad.json()["details"][0]["code"]) == ("kpi_codes", "unknown_kpi")
    assert BusinessChange.objects.count() == 1
    assert api_client(world.outsider).get(url).status_code == 404
