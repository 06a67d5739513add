"""Alerts owed by people: awaiting your signature, action overdue, review in N days (docs/governance.md, "Alerts").

Each fires once per cause (twice run, two workers at once), goes only to the people who owe it, and
clears when its cause clears. The world (tests/conftest.py): Acme support, Europe/Berlin (UTC+1 in
November), client Acme (Carla, manager; Victor, viewer), provider Helpline (Pedro, manager).
NOW is Tuesday 10 Nov 2026 09:00 UTC = 10:00 in Berlin, so "today" in the engagement is 10 Nov.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from pactboard.audit.models import AuditEvent
from pactboard.engagements.models import Engagement
from pactboard.governance import services
from pactboard.governance.alerts import alerts_scan
from pactboard.governance.models import ActionItem, Alert, AlertSettings, Meeting, MeetingAttendee, Notification
from pactboard.kpis import negotiation as kpi_negotiation
from pactboard.kpis import services as kpi_services
from pactboard.kpis.models import AgreementVersion
from tests.conftest import World

NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


def _open_keys(world: World) -> set[str]:
    return set(
        Alert.objects.filter(engagement=world.engagement, cleared_at__isnull=True).values_list("cause_key", flat=True)
    )


def _recipients(cause_key: str) -> set[int]:
    return set(Notification.objects.filter(cause_key=cause_key).values_list("recipient_id", flat=True))


def _propose(world: World, *, code: str = "fcr") -> AgreementVersion:
    """A version with one KPI proposed by the client: nobody has signed it yet."""
    draft = kpi_services.version_draft_start(actor=world.client_manager, engagement=world.engagement)
    kpi_services.version_kpi_add(
        actor=world.client_manager,
        version=draft,
        objective_ids=[world.objective.pk],
        milestones=[],
        code=code,
        name="First contact resolution",
        category="operational",
        unit="%",
        direction="higher",
        period="month",
        target=Decimal(80),
        amber=Decimal(75),
        stretch=Decimal(90),
        weight=Decimal(1),
        min_value=Decimal(0),
        max_value=Decimal(100),
        source="manual",
    )
    return kpi_negotiation.version_propose(
        actor=world.client_manager, version=draft, effective_from=world.engagement.start_date
    )


def _action(world: World, *, due: date, owner=None) -> ActionItem:
    """An action Carla (client) records for Pedro (provider) unless another owner is named."""
    return services.action_create(
        actor=world.client_manager,
        engagement=world.engagement,
        title="Send the root-cause analysis",
        owner_id=(owner or world.provider_manager).pk,
        due_date=due,
        now=NOW - timedelta(days=30),
    )


def _meeting(world: World, *, starts_at: datetime, attendees: list) -> Meeting:
    meeting = Meeting.objects.create(engagement=world.engagement, title="Acme review", starts_at=starts_at)
    MeetingAttendee.objects.bulk_create([MeetingAttendee(meeting=meeting, membership=m) for m in attendees])
    return meeting


# --- awaiting your signature ------------------------------------------------------------------------


def test_a_proposal_awaits_each_partys_signature_until_signed(world: World):
    version = _propose(world)
    client_key = f"signature:{version.number}:client"
    provider_key = f"signature:{version.number}:provider"
    first = alerts_scan(engagement=world.engagement, now=NOW)
    assert sorted(a.cause_key for a in first.raised) == sorted([client_key, provider_key])
    assert alerts_scan(engagement=world.engagement, now=NOW).raised == []
    # Each party's managers hear of their own signature only; a viewer (who cannot sign) hears nothing.
    assert _recipients(client_key) == {world.client_manager.pk}
    assert _recipients(provider_key) == {world.provider_manager.pk}
    assert set(Notification.objects.filter(cause_key=client_key).values_list("kind", flat=True)) == {
        "alert.awaiting_signature"
    }
    # The client signs: its alert clears, the provider's stays.
    kpi_negotiation.version_sign(actor=world.client_manager, version=version)
    result = alerts_scan(engagement=world.engagement, now=NOW)
    assert [a.cause_key for a in result.cleared] == [client_key]
    assert _open_keys(world) == {provider_key}
    assert AuditEvent.objects.filter(action="alert.raise").count() == 2
    assert AuditEvent.objects.filter(action="alert.clear").count() == 1
    # The provider signs: the version is agreed, nothing awaits a signature (the agreed KPI, with no
    # values for the closed months, is late: those are KPI alerts, told to the managers as before).
    kpi_negotiation.version_sign(actor=world.provider_manager, version=version)
    assert [a.cause_key for a in alerts_scan(engagement=world.engagement, now=NOW).cleared] == [provider_key]
    assert {k for k in _open_keys(world) if k.startswith("signature:")} == set()


def test_a_withdrawn_or_superseded_proposal_awaits_nobody(world: World):
    version = _propose(world)
    alerts_scan(engagement=world.engagement, now=NOW)
    kpi_negotiation.version_withdraw(actor=world.client_manager, version=version)
    cleared = alerts_scan(engagement=world.engagement, now=NOW).cleared
    assert len(cleared) == 2
    # A new proposal, answered by the provider with a counter-proposal (a draft): superseded, nothing to sign.
    second = _propose(world, code="aht")
    alerts_scan(engagement=world.engagement, now=NOW)
    assert _open_keys(world) == {f"signature:{second.number}:client", f"signature:{second.number}:provider"}
    kpi_negotiation.version_counter_propose(actor=world.provider_manager, version=second)
    alerts_scan(engagement=world.engagement, now=NOW)
    assert _open_keys(world) == set()


# --- action overdue ---------------------------------------------------------------------------------


def test_an_action_is_overdue_from_the_day_after_its_due_date_in_the_engagements_zone(world: World):
    action = _action(world, due=date(2026, 11, 9))
    key = f"overdue:{action.pk}:2026-11-09"
    # 9 Nov 22:30 UTC is 23:30 on the 9th in Berlin: the due day itself, not overdue yet.
    assert alerts_scan(engagement=world.engagement, now=datetime(2026, 11, 9, 22, 30, tzinfo=UTC)).raised == []
    # 9 Nov 23:30 UTC is 00:30 on the 10th in Berlin (the UTC date is still the 9th): overdue.
    raised = alerts_scan(engagement=world.engagement, now=datetime(2026, 11, 9, 23, 30, tzinfo=UTC)).raised
    assert [a.cause_key for a in raised] == [key]
    assert alerts_scan(engagement=world.engagement, now=NOW).raised == []
    # The owner (Pedro) and whoever recorded it (Carla) are told; the viewer is not.
    assert _recipients(key) == {world.provider_manager.pk, world.client_manager.pk}
    assert Notification.objects.get(recipient=world.provider_manager, cause_key=key).kind == "alert.action_overdue"


def test_an_overdue_action_clears_when_done_and_when_its_due_date_moves(world: World):
    action = _action(world, due=date(2026, 11, 2))
    key = f"overdue:{action.pk}:2026-11-02"
    alerts_scan(engagement=world.engagement, now=NOW)
    services.action_status_set(actor=world.provider_manager, action=action, status="done", now=NOW)
    assert [a.cause_key for a in alerts_scan(engagement=world.engagement, now=NOW).cleared] == [key]
    # Opened again: the same row is raised again, and nobody is told twice.
    services.action_status_set(actor=world.provider_manager, action=action, status="open", now=NOW)
    assert [a.cause_key for a in alerts_scan(engagement=world.engagement, now=NOW).raised] == [key]
    assert Alert.objects.filter(cause_key=key).count() == 1
    assert Notification.objects.filter(cause_key=key).count() == 2
    # The due date moves to the 20th: the old cause clears and nothing is overdue.
    ActionItem.objects.filter(pk=action.pk).update(due_date=date(2026, 11, 20))
    assert [a.cause_key for a in alerts_scan(engagement=world.engagement, now=NOW).cleared] == [key]
    assert _open_keys(world) == set()


def test_an_action_owned_and_recorded_by_one_person_tells_them_once(world: World):
    action = _action(world, due=date(2026, 11, 1), owner=world.client_manager)
    alerts_scan(engagement=world.engagement, now=NOW)
    assert _recipients(f"overdue:{action.pk}:2026-11-01") == {world.client_manager.pk}
    assert Notification.objects.filter(cause_key=f"overdue:{action.pk}:2026-11-01").count() == 1


# --- review in N days -------------------------------------------------------------------------------


def test_a_review_within_three_days_alerts_its_attendees_until_it_starts(world: World):
    # Thu 12 Nov 2026 10:00 Berlin = 09:00 UTC: 2 days after NOW, within the default 3.
    soon = _meeting(
        world,
        starts_at=datetime(2026, 11, 12, 9, 0, tzinfo=UTC),
        attendees=[world.client_manager, world.provider_manager],
    )
    # Fri 13 Nov 10:00 UTC: 3 days and 1 hour after NOW, outside the 3 days.
    _meeting(world, starts_at=datetime(2026, 11, 13, 10, 0, tzinfo=UTC), attendees=[world.client_manager])
    key = f"review:{soon.pk}:20261112T0900Z"
    raised = alerts_scan(engagement=world.engagement, now=NOW).raised
    assert [a.cause_key for a in raised] == [key]
    assert alerts_scan(engagement=world.engagement, now=NOW).raised == []
    assert _recipients(key) == {world.client_manager.pk, world.provider_manager.pk}
    note = Notification.objects.get(recipient=world.client_manager, cause_key=key)
    assert note.kind == "alert.review_soon"
    assert note.title == "Review in 2 days: Acme review, Thu 12 Nov 2026 10:00 (Europe/Berlin)"
    # The meeting starts: the alert clears (and the Friday one, 1 day ahead now, is raised).
    started = alerts_scan(engagement=world.engagement, now=datetime(2026, 11, 12, 9, 0, tzinfo=UTC))
    assert [a.cause_key for a in started.cleared] == [key]
    assert [a.kind for a in started.raised] == ["review_soon"]


def test_review_notice_days_per_engagement(world: World):
    AlertSettings.objects.create(engagement=world.engagement, review_notice_days=1)
    _meeting(world, starts_at=datetime(2026, 11, 12, 9, 0, tzinfo=UTC), attendees=[world.client_manager])
    assert alerts_scan(engagement=world.engagement, now=NOW).raised == []  # 2 days ahead > 1 day's notice


def test_a_rescheduled_review_is_a_new_cause(world: World):
    meeting = _meeting(world, starts_at=datetime(2026, 11, 12, 9, 0, tzinfo=UTC), attendees=[world.client_manager])
    alerts_scan(engagement=world.engagement, now=NOW)
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=datetime(2026, 11, 12, 14, 0, tzinfo=UTC))
    result = alerts_scan(engagement=world.engagement, now=NOW)
    assert [a.cause_key for a in result.cleared] == [f"review:{meeting.pk}:20261112T0900Z"]
    assert [a.cause_key for a in result.raised] == [f"review:{meeting.pk}:20261112T1400Z"]


# --- once per cause, bounded cost ---------------------------------------------------------------------


def _one_of_each(world: World, n: int = 1) -> None:
    for i in range(n):
        _propose(world, code=f"k{i}")
        _action(world, due=date(2026, 11, 1 + i))
        _meeting(
            world,
            starts_at=datetime(2026, 11, 11, 9 + i, 0, tzinfo=UTC),
            attendees=[world.client_manager, world.provider_manager],
        )


def test_the_scans_query_count_does_not_grow_with_the_data(world: World):
    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as raised:
            alerts_scan(engagement=world.engagement, now=NOW)
        with CaptureQueriesContext(connection) as quiet:
            alerts_scan(engagement=world.engagement, now=NOW)
        return len(raised), len(quiet)

    _one_of_each(world, 1)
    _, quiet_small = count()
    _one_of_each(world, 4)
    _, quiet_large = count()
    assert quiet_large == quiet_small
    assert quiet_small <= 12


@pytest.mark.django_db(transaction=True)
def test_two_workers_scanning_at_once_raise_each_duty_once(world: World):
    _one_of_each(world, 1)  # 2 signatures + 1 overdue action + 1 review soon = 4 causes
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def scan() -> None:
        barrier.wait()
        try:
            result = alerts_scan(engagement=Engagement.objects.get(pk=world.engagement.pk), now=NOW)
            outcome = f"raised {len(result.raised)}"
        except DatabaseError as exc:  # SQLite may time out a writer instead of queueing it
            outcome = f"db: {exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["raised 0", "raised 4"], outcomes
    assert Alert.objects.filter(engagement=world.engagement).count() == 4
    assert AuditEvent.objects.filter(action="alert.raise").count() == 4
    # 2 signature notices (one manager each) + 2 overdue (owner, recorder) + 2 review (two attendees).
    assert Notification.objects.filter(kind__startswith="alert.").count() == 6
