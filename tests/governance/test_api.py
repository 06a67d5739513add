"""Governance API: every route answers an outsider 404; the parties schedule, read agendas, record actions, threads."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from pactboard.accounts.services import api_token_create
from pactboard.governance import services
from pactboard.governance.models import ActionItem, Meeting, Notification
from tests.conftest import World
from tests.governance.conftest import OCTOBER

pytestmark = pytest.mark.django_db


def _api(membership) -> Client:
    _, raw = api_token_create(membership=membership, name="test")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def _post(c: Client, path: str, body: dict) -> object:
    return c.post(path, data=json.dumps(body), content_type="application/json")


@pytest.fixture
def ids(gov: World) -> dict[str, int]:
    meeting = Meeting.objects.create(
        engagement=gov.engagement, title="Next review", starts_at=timezone.now() + timedelta(days=7)
    )
    action = services.action_create(
        actor=gov.client_manager,
        engagement=gov.engagement,
        meeting=meeting,
        title="Staff the evening shift",
        owner_id=gov.provider_manager.pk,
        due_date=timezone.localdate() - timedelta(days=1),
        now=timezone.now(),
    )
    thread = services.feedback_thread_start(
        actor=gov.client_manager,
        engagement=gov.engagement,
        kpi_code="kpi_01",
        period=OCTOBER,
        title="October",
        body="Why?",
        now=timezone.now(),
    )
    return {"e": gov.engagement.pk, "m": meeting.pk, "a": action.pk, "t": thread.pk}


ROUTES = [
    ("get", "/api/engagements/{e}/meetings", None),
    ("post", "/api/engagements/{e}/meetings/schedule", {}),
    ("get", "/api/engagements/{e}/meetings/{m}", None),
    (
        "post",
        "/api/engagements/{e}/meetings/{m}/actions",
        {"title": "x", "owner_membership_id": 1, "due_date": "2026-12-01"},
    ),
    ("patch", "/api/engagements/{e}/actions/{a}", {"status": "done"}),
    ("get", "/api/engagements/{e}/feedback", None),
    ("post", "/api/engagements/{e}/feedback", {"kpi_code": "kpi_00", "period": "2026-10", "body": "b"}),
    ("post", "/api/engagements/{e}/feedback/{t}/comments", {"body": "b"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_outsider_gets_404(gov: World, ids, method, path, body):
    c = _api(gov.outsider)
    url = path.format(**ids)
    response = (
        getattr(c, method)(url)
        if body is None
        else getattr(c, method)(url, data=json.dumps(body), content_type="application/json")
    )
    assert response.status_code == 404, response.content


def test_outsider_sees_none_of_our_actions_or_notifications(gov: World, ids):
    c = _api(gov.outsider)
    assert c.get("/api/actions").json()["items"] == []
    assert c.get("/api/notifications").json()["items"] == []
    note = Notification.objects.for_recipient(gov.provider_manager).first()
    assert note is not None
    assert _post(c, f"/api/notifications/{note.pk}/read", {}).status_code == 404
    # A colleague of the recipient does not read it either: a notification is personal.
    assert _post(_api(gov.client_manager), f"/api/notifications/{note.pk}/read", {}).status_code == 404


def test_parties_work_through_the_api(gov: World, ids):
    client, provider = _api(gov.client_manager), _api(gov.provider_manager)
    detail = client.get(f"/api/engagements/{ids['e']}/meetings/{ids['m']}").json()
    kpis = next(s for s in detail["agenda"]["sections"] if s["key"] == "kpis")
    assert [i["text"] for i in kpis["items"]] == ["KPI 00: at risk in 2026-10", "KPI 01: missed in 2026-10"]
    assert detail["agenda"]["frozen"] is False
    mine = provider.get("/api/actions").json()["items"]
    assert [(a["title"], a["owner_email"]) for a in mine] == [("Staff the evening shift", "pedro@helpline.example")]
    assert (
        provider.patch(
            f"/api/engagements/{ids['e']}/actions/{ids['a']}",
            data='{"status": "done"}',
            content_type="application/json",
        ).json()["status"]
        == "done"
    )
    assert provider.get("/api/actions").json()["items"] == []
    made = _post(
        client, f"/api/engagements/{ids['e']}/feedback/{ids['t']}/comments", {"body": "@pedro@helpline.example ?"}
    )
    assert made.status_code == 201
    kinds = [n["kind"] for n in provider.get("/api/notifications?unread=true").json()["items"]]
    assert sorted(kinds) == ["action.assigned", "feedback.mention"]
    bad = _post(client, f"/api/engagements/{ids['e']}/feedback", {"kpi_code": "nope", "period": "2026-10", "body": "b"})
    assert bad.status_code == 422
    threads = client.get(f"/api/engagements/{ids['e']}/feedback?kpi_code=kpi_01").json()["items"]
    assert [(t["period"], t["open"]) for t in threads] == [("2026-10", True)]
    viewer = _post(_api(gov.client_viewer), f"/api/engagements/{ids['e']}/meetings/schedule", {})
    assert viewer.status_code == 403


def test_an_action_for_someone_of_neither_party_is_refused_at_the_owner_field(gov: World, ids):
    """The same detail as a reassignment's (docs/api.md): field, code and words, whoever the id names."""
    client = _api(gov.client_manager)
    url = f"/api/engagements/{ids['e']}/meetings/{ids['m']}/actions"
    answers = []
    for stranger in (gov.outsider.pk, 10**9):  # another tenant's member; nobody at all
        refused = _post(client, url, {"title": "Staff it", "owner_membership_id": stranger, "due_date": "2026-12-01"})
        assert refused.status_code == 422
        answers.append(refused.json()["details"])
    assert (
        answers[0]
        == answers[1]
        == [
            {
                "message": "The owner must be a member of the client or the provider of this engagement: "
                "pick one of their members.",
                "location": "owner_membership_id",
                "code": "not_a_member",
            }
        ]
    )
    blank = _post(
        client, url, {"title": "  ", "owner_membership_id": gov.provider_manager.pk, "due_date": "2026-12-01"}
    )
    assert blank.status_code == 422
    assert blank.json()["details"] == [{"message": "Say what is to be done.", "location": "title", "code": "required"}]
    assert ActionItem.objects.filter(engagement=gov.engagement).count() == 1  # the fixture's only
