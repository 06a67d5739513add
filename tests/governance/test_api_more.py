"""Governance API, second part: alerts, minutes, decisions, closing, invitations, resolving feedback threads.

Each endpoint answers as its page does: the same service, the same policy (viewers read, contributors and
managers record, managers invite and close), the same audit event; bad input is a 422 naming the field.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pactboard.audit.models import AuditEvent
from pactboard.governance import services
from pactboard.governance.models import Alert, Meeting, Notification
from tests.conftest import World, api_client
from tests.governance.conftest import OCTOBER

pytestmark = pytest.mark.django_db


def _send(c: Client, method: str, path: str, body: dict | None = None):
    return getattr(c, method)(path, data=json.dumps(body or {}), content_type="application/json")


def _meeting(gov: World, *, started: bool, attendees=None) -> Meeting:
    """A review with the given attendees (default: the managers of both parties, as meeting_create does)."""
    return services.meeting_create(
        actor=gov.client_manager,
        engagement=gov.engagement,
        title="October review",
        starts_at=timezone.now() + (timedelta(hours=-1) if started else timedelta(days=7)),
        attendee_ids=attendees,
    )


def _events(action: str, obj_id: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_id=str(obj_id)))


def _alert(gov: World, key: str, kind: str, days_ago: int, *, cleared: bool = False, engagement=None) -> Alert:
    now = timezone.now()
    return Alert.objects.create(
        engagement=engagement or gov.engagement,
        kind=kind,
        cause_key=key,
        kpi_code="kpi_01",
        period="2026-10",
        raised_at=now - timedelta(days=days_ago),
        cleared_at=now if cleared else None,
        evidence={"value": "30", "target": "75"},
    )


# --- alerts ---------------------------------------------------------------------------------------


def test_alerts_list_newest_first_with_filters(gov: World):
    _alert(gov, "breach:kpi_01:2026-10", "breach", 9)
    _alert(gov, "late:kpi_01:2026-10", "late", 5, cleared=True)
    _alert(gov, "chronic:kpi_01:2026-10", "chronic", 1)
    _alert(gov, "breach:kpi_00:2026-10", "breach", 0, engagement=gov.other_engagement)  # not ours
    viewer = api_client(gov.client_viewer)  # every member of either party reads the alerts
    url = f"/api/engagements/{gov.engagement.pk}/alerts"
    body = viewer.get(url).json()
    # Raised 1, 5 and 9 days ago: newest first; the other engagement's alert is not listed.
    assert body["count"] == 3
    assert [a["cause_key"] for a in body["items"]] == [
        "chronic:kpi_01:2026-10",
        "late:kpi_01:2026-10",
        "breach:kpi_01:2026-10",
    ]
    first = body["items"][0]
    assert (first["kind"], first["kpi_code"], first["period"], first["open"], first["cleared_at"]) == (
        "chronic",
        "kpi_01",
        "2026-10",
        True,
        None,
    )
    assert first["evidence"] == {"value": "30", "target": "75"}
    assert [a["kind"] for a in viewer.get(url + "?open=true").json()["items"]] == ["chronic", "breach"]
    assert [a["kind"] for a in viewer.get(url + "?open=false").json()["items"]] == ["late"]
    assert [a["cause_key"] for a in viewer.get(url + "?kind=breach").json()["items"]] == ["breach:kpi_01:2026-10"]
    bad = viewer.get(url + "?kind=bogus")
    assert bad.status_code == 422
    assert (bad.json()["details"][0]["location"], bad.json()["details"][0]["code"]) == ("kind", "invalid_choice")
    assert api_client(gov.outsider).get(url).status_code == 404


def test_alerts_list_queries_do_not_grow_with_alerts(gov: World):
    c = api_client(gov.client_manager)
    url = f"/api/engagements/{gov.engagement.pk}/alerts"
    _alert(gov, "breach:a", "breach", 1)
    c.get(url)  # warm-up (token, caches)
    with CaptureQueriesContext(connection) as one:
        assert c.get(url).json()["count"] == 1
    for i in range(20):
        _alert(gov, f"breach:{i}", "breach", i + 2, cleared=i % 2 == 0)
    with CaptureQueriesContext(connection) as many:
        assert c.get(url).json()["count"] == 21
    assert len(many) == len(one), [q["sql"] for q in many.captured_queries]


# --- minutes, decisions, close, invite ------------------------------------------------------------


def test_minutes_save(gov: World):
    meeting = _meeting(gov, started=True)
    url = f"/api/engagements/{gov.engagement.pk}/meetings/{meeting.pk}/minutes"
    response = _send(api_client(gov.provider_manager), "put", url, {"minutes": "  Volumes up 12 %.  "})
    assert response.status_code == 200, response.content
    # The service stores the minutes stripped and audits their length: len("Volumes up 12 %.") == 16.
    assert response.json()["minutes"] == "Volumes up 12 %."
    meeting.refresh_from_db()
    assert meeting.minutes == "Volumes up 12 %."
    [event] = _events("meeting.minutes_save", meeting.pk)
    assert event.after == {"length": 16}
    assert event.actor_email == gov.provider_manager.user.email
    # Viewers read only; a body without minutes is a 422 naming the field.
    assert _send(api_client(gov.client_viewer), "put", url, {"minutes": "x"}).status_code == 403
    bad = _send(api_client(gov.client_manager), "put", url, {})
    assert bad.status_code == 422
    assert "minutes" in json.dumps(bad.json()["details"])


def test_decision_record(gov: World):
    meeting = _meeting(gov, started=True)
    url = f"/api/engagements/{gov.engagement.pk}/meetings/{meeting.pk}/decisions"
    c = api_client(gov.client_manager)
    response = _send(c, "post", url, {"text": "  Raise the evening staffing.  ", "kpi_code": "kpi_01"})
    assert response.status_code == 201, response.content
    made = response.json()
    assert (made["text"], made["kpi_code"], made["meeting_id"]) == ("Raise the evening staffing.", "kpi_01", meeting.pk)
    assert (made["recorded_by_email"], made["recorded_by_organisation"]) == (
        gov.client_manager.user.email,
        "Acme Retail",
    )
    assert meeting.decisions.count() == 1
    [event] = _events("meeting.decision_record", made["id"])
    assert event.after == {"text": "Raise the evening staffing."}
    empty = _send(c, "post", url, {"text": "   "})
    assert empty.status_code == 422
    assert (empty.json()["details"][0]["location"], empty.json()["details"][0]["code"]) == ("text", "required")
    unknown = _send(c, "post", url, {"text": "x", "kpi_code": "nope"})
    assert unknown.status_code == 422
    assert (unknown.json()["details"][0]["location"], unknown.json()["details"][0]["code"]) == (
        "kpi_code",
        "unknown_kpi",
    )
    assert _send(api_client(gov.client_viewer), "post", url, {"text": "x"}).status_code == 403
    assert meeting.decisions.count() == 1


def test_minutes_close(gov: World):
    meeting = _meeting(gov, started=True)
    url = f"/api/engagements/{gov.engagement.pk}/meetings/{meeting.pk}/close"
    # Managers close; a viewer is refused as on the page.
    assert _send(api_client(gov.client_viewer), "post", url).status_code == 403
    response = _send(api_client(gov.client_manager), "post", url)
    assert response.status_code == 200, response.content
    assert response.json()["minutes_closed_at"] is not None
    assert response.json()["agenda_frozen"] is True  # closing freezes the agenda of a started meeting
    assert len(_events("meeting.minutes_close", meeting.pk)) == 1
    # The minutes go to the attendees: the managers of both parties, the default of meeting_create.
    minutes_to = set(Notification.objects.filter(kind="meeting.minutes").values_list("recipient_id", flat=True))
    assert minutes_to == {gov.client_manager.pk, gov.provider_manager.pk}
    # Closed minutes no longer change: closing again, or saving minutes, is a conflict.
    assert _send(api_client(gov.client_manager), "post", url).status_code == 409
    again = _send(api_client(gov.client_manager), "put", url.replace("/close", "/minutes"), {"minutes": "late"})
    assert again.status_code == 409
    # A meeting that has not started is not closed yet.
    future = _meeting(gov, started=False)
    early = _send(
        api_client(gov.client_manager), "post", f"/api/engagements/{gov.engagement.pk}/meetings/{future.pk}/close"
    )
    assert early.status_code == 409


def test_invitation_send(gov: World):
    attendees = [gov.client_manager.pk, gov.provider_manager.pk, gov.client_viewer.pk]
    meeting = _meeting(gov, started=False, attendees=attendees)
    url = f"/api/engagements/{gov.engagement.pk}/meetings/{meeting.pk}/invite"
    assert _send(api_client(gov.client_viewer), "post", url).status_code == 403
    response = _send(api_client(gov.provider_manager), "post", url)
    assert response.status_code == 200, response.content
    assert response.json() == {"sent": 3}  # one invitation per attendee, the sender included
    meeting.refresh_from_db()
    assert meeting.invitation_sequence == 1
    # Sent again, calendars update the event: a new sequence, three more invitations.
    assert _send(api_client(gov.provider_manager), "post", url).json() == {"sent": 3}
    events = _events("meeting.invite", meeting.pk)
    assert sorted(e.after["sequence"] for e in events) == [1, 2]


# --- feedback -------------------------------------------------------------------------------------


def test_thread_resolve_and_reopen(gov: World):
    thread = services.feedback_thread_start(
        actor=gov.client_manager,
        engagement=gov.engagement,
        kpi_code="kpi_01",
        period=OCTOBER,
        title="October",
        body="Why?",
        now=timezone.now(),
    )
    url = f"/api/engagements/{gov.engagement.pk}/feedback/{thread.pk}/resolve"
    assert _send(api_client(gov.client_viewer), "post", url).status_code == 403
    c = api_client(gov.provider_manager)
    response = _send(c, "post", url)
    assert response.status_code == 200, response.content
    assert (response.json()["id"], response.json()["open"]) == (thread.pk, False)
    thread.refresh_from_db()
    assert thread.resolved_by == gov.provider_manager.user
    assert len(_events("feedback.resolve", thread.pk)) == 1
    assert _send(c, "post", url).status_code == 409  # already resolved
    reopened = _send(c, "post", url, {"resolved": False})
    assert reopened.json()["open"] is True
    assert len(_events("feedback.reopen", thread.pk)) == 1
    assert _send(c, "post", url, {"resolved": "maybe"}).status_code == 422
