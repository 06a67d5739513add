"""REST API of webhooks (list, create, disable/enable, delivery log) and of one's e-mail preferences."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from pactboard.accounts.services import api_token_create
from pactboard.api.main import api
from pactboard.governance.models import Webhook, WebhookAttempt, WebhookDelivery
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _api(membership) -> Client:
    _, raw = api_token_create(membership=membership, name="test")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _send(c: Client, method: str, path: str, body: dict) -> object:
    return getattr(c, method)(path, data=json.dumps(body), content_type="application/json")


def test_webhooks_through_the_api(world: World):
    base = f"/api/engagements/{world.engagement.pk}/webhooks"
    manager = _api(world.provider_manager)
    refused = _send(manager, "post", base, {"url": "https://169.254.169.254/latest"})
    assert refused.status_code == 422
    assert (refused.json()["details"][0]["location"], refused.json()["details"][0]["code"]) == (
        "url",
        "private_address",
    )
    created = _send(manager, "post", base, {"url": "https://hooks.slack.com/services/T0/B0/key"})
    assert created.status_code == 201
    body = created.json()
    hook = Webhook.objects.get()
    assert body["secret"] == hook.secret
    assert body["url"] == "https://hooks.slack.com/services/…"
    assert body["created_by_organisation"] == "Helpline BPO"

    listed = manager.get(base).json()["items"]
    assert [w["id"] for w in listed] == [hook.pk]
    assert "secret" not in listed[0]
    # The other party's managers see and manage it too; viewers are refused, outsiders see nothing.
    assert _api(world.client_manager).get(f"{base}/{hook.pk}").json()["active"] is True
    assert _api(world.client_viewer).get(base).status_code == 403
    assert _api(world.outsider).get(base).status_code == 404
    assert (
        _api(world.outsider).get(f"/api/engagements/{world.other_engagement.pk}/webhooks/{hook.pk}").status_code == 404
    )

    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        webhook=hook, kind="alert.breach", cause_key="breach:a:2026-10", body="{}", created_at=now, attempts=1
    )
    WebhookAttempt.objects.create(delivery=delivery, number=1, attempted_at=now, status_code=500, error="HTTP 500")
    log = manager.get(f"{base}/{hook.pk}/deliveries").json()["items"]
    assert [(d["cause_key"], [a["status_code"] for a in d["attempt_log"]]) for d in log] == [
        ("breach:a:2026-10", [500])
    ]

    disabled = _send(manager, "patch", f"{base}/{hook.pk}", {"active": False})
    assert disabled.status_code == 200
    assert disabled.json()["active"] is False
    delivery.refresh_from_db()
    assert delivery.status == "cancelled"
    enabled = _send(manager, "patch", f"{base}/{hook.pk}", {"active": True})
    assert (enabled.json()["active"], enabled.json()["failure_count"]) == (True, 0)


def test_preferences_through_the_api(world: World):
    me = _api(world.client_manager)
    got = me.get("/api/notifications/preferences").json()
    assert got["modes"]["alert.breach"] == "immediately"
    assert got["default_time_zone"] == "Europe/Berlin"
    assert got["time_zone"] == ""
    put = _send(
        me, "put", "/api/notifications/preferences", {"modes": {"alert.breach": "digest"}, "time_zone": "Asia/Tokyo"}
    )
    assert put.status_code == 200
    assert put.json()["modes"]["alert.breach"] == "digest"
    assert put.json()["modes"]["alert.dip"] == "immediately"
    assert put.json()["time_zone"] == "Asia/Tokyo"
    bad = _send(me, "put", "/api/notifications/preferences", {"modes": {"alert.breach": "weekly"}})
    assert bad.status_code == 422
    bad_zone = _send(me, "put", "/api/notifications/preferences", {"time_zone": "Mars/Olympus"})
    assert bad_zone.status_code == 422
    detail = bad_zone.json()["details"][0]
    assert (detail["location"], detail["code"]) == ("time_zone", "unknown_time_zone")  # preferences_set
    # Preferences are the member's own: another member still has the default.
    assert _api(world.provider_manager).get("/api/notifications/preferences").json()["modes"]["alert.breach"] == (
        "immediately"
    )


def test_the_openapi_document_lists_each_response_code():
    paths = api.get_openapi_schema()["paths"]
    # Every operation: 401, 404, 422 (pactboard.core.api.ERRORS); writes also 400, 403, 409, 413;
    # the webhook reads also 403 (only administrators and managers see webhooks).
    read, write = {"401", "404", "422"}, {"400", "401", "403", "404", "409", "413", "422"}
    expected = {
        ("/api/engagements/{engagement_id}/webhooks", "get"): {"200", "403"} | read,
        ("/api/engagements/{engagement_id}/webhooks", "post"): {"201"} | write,
        ("/api/engagements/{engagement_id}/webhooks/{webhook_id}", "get"): {"200", "403"} | read,
        ("/api/engagements/{engagement_id}/webhooks/{webhook_id}", "patch"): {"200"} | write,
        ("/api/engagements/{engagement_id}/webhooks/{webhook_id}/deliveries", "get"): {"200", "403"} | read,
        ("/api/notifications/preferences", "get"): {"200"} | read,
        ("/api/notifications/preferences", "put"): {"200"} | write,
    }
    for (path, method), codes in expected.items():
        responses = paths[path][method]["responses"]
        assert {str(code) for code in responses} == codes, (path, method)
        assert all(r["description"] for r in responses.values())
