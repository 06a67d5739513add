"""The collaboration API: the same rules as the pages, with the error codes in the OpenAPI document."""

from __future__ import annotations

import pytest
from django.test import Client

from pactboard.accounts.services import api_token_create
from pactboard.api.main import api
from pactboard.governance.collaboration_models import Win
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _api(membership) -> Client:
    _, raw = api_token_create(membership=membership, name="t")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def test_notes_drafted_shared_and_rendered(world: World):
    client, provider = _api(world.client_manager), _api(world.provider_manager)
    base = f"/api/engagements/{world.engagement.pk}/strategy-notes"
    created = client.post(
        base, {"title": "Plan", "body": "**Grow** <script>x</script>"}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    note = created.json()
    assert note["shared"] is False
    assert note["html"] == "<p><strong>Grow</strong> &lt;script&gt;x&lt;/script&gt;</p>"
    assert provider.get(base).json()["items"] == []
    assert provider.get(f"{base}/{note['id']}").status_code == 404
    refused = provider.post(base, {"title": "Mine", "body": "x"}, content_type="application/json")
    assert (refused.status_code, refused.json()["kind"]) == (403, "forbidden")
    shared = client.patch(
        f"{base}/{note['id']}", {"shared": True, "title": "Plan 2027"}, content_type="application/json"
    )
    assert (shared.json()["shared"], shared.json()["title"]) == (True, "Plan 2027")
    assert [n["title"] for n in provider.get(base).json()["items"]] == ["Plan 2027"]
    bad = client.post(base, {"title": "", "body": "x"}, content_type="application/json")
    assert (bad.status_code, bad.json()["details"][0]["location"], bad.json()["details"][0]["code"]) == (
        422,
        "title",
        "required",
    )


def test_articles_search_and_edit(world: World):
    provider, client = _api(world.provider_manager), _api(world.client_manager)
    base = f"/api/engagements/{world.engagement.pk}/articles"
    body = {"kind": "lesson", "title": "Night shift hand-over", "body": "Use the checklist.", "tags": ["Night Shift"]}
    created = provider.post(base, body, content_type="application/json").json()
    assert (created["tags"], created["party"], created["author_organisation"]) == (
        ["night-shift"], "provider", "Helpline BPO",
    )  # fmt: skip
    client.post(base, {"title": "Peak", "body": "Forecast early.", "tags": ["peak"]}, content_type="application/json")
    assert [a["title"] for a in client.get(base, {"q": "CHECKLIST"}).json()["items"]] == ["Night shift hand-over"]
    assert [a["title"] for a in client.get(base, {"tag": "peak"}).json()["items"]] == ["Peak"]
    url = f"{base}/{created['id']}"
    assert client.patch(url, {"title": "Ours"}, content_type="application/json").status_code == 403
    edited = provider.patch(url, {"tags": ["handover"]}, content_type="application/json").json()
    assert (edited["title"], edited["tags"]) == ("Night shift hand-over", ["handover"])


def test_kudos_and_the_feed(world: World):
    from tests.dashboards.conftest import agree_kpis

    agree_kpis(world, world.engagement, 1)
    provider = _api(world.provider_manager)
    base = f"/api/engagements/{world.engagement.pk}/wins"
    posted = provider.post(
        f"{base}/kudos", {"kpi_code": "kpi_00", "period": "2026-01", "message": "Great start"},
        content_type="application/json",
    )  # fmt: skip
    assert posted.status_code == 201, posted.content
    assert (posted.json()["party"], posted.json()["kind"]) == ("provider", "kudos")
    bad = provider.post(
        f"{base}/kudos", {"kpi_code": "nope", "period": "2026-01", "message": "x"}, content_type="application/json"
    )
    assert (bad.status_code, bad.json()["details"][0]["location"], bad.json()["details"][0]["code"]) == (
        422,
        "kpi_code",
        "unknown_kpi",
    )
    assert [w["message"] for w in _api(world.client_viewer).get(base).json()["items"]] == ["Great start"]
    assert Win.objects.count() == 1


def test_openapi_documents_the_error_codes():
    paths = api.get_openapi_schema()["paths"]
    create = paths["/api/engagements/{engagement_id}/strategy-notes"]["post"]["responses"]
    assert {"201", "403", "404", "422"} <= set(map(str, create))
    kudos = paths["/api/engagements/{engagement_id}/wins/kudos"]["post"]["responses"]
    assert {"201", "403", "404", "422"} <= set(map(str, kudos))
    assert "404" in map(str, paths["/api/engagements/{engagement_id}/articles"]["get"]["responses"])
