"""The periodic entry points fan out one task per active engagement, survive a failing one, and are safe twice.

Under the test settings tasks run on enqueue (ImmediateBackend), which records a task that raised
as FAILED and carries on, as a database worker does with its separate task results.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.tasks import TaskResultStatus

from pactboard.engagements.models import Engagement
from pactboard.governance import tasks
from pactboard.governance.models import Alert, Meeting
from tests.conftest import World
from tests.governance.conftest import NOW


def test_the_alert_scan_of_every_engagement_runs_even_when_one_fails(gov: World, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW)
    real_scan = tasks.alerts_scan
    scanned: list[int] = []

    broken: set[int] = {gov.engagement.pk}

    def scan(*, engagement: Engagement, now: datetime, kpi_codes=None):
        scanned.append(engagement.pk)
        if engagement.pk in broken:
            raise RuntimeError("this engagement's scan breaks")
        return real_scan(engagement=engagement, now=now, kpi_codes=kpi_codes)

    monkeypatch.setattr(tasks, "alerts_scan", scan)
    # The broken engagement comes first (the lower id): the next one is scanned all the same.
    result = tasks.alerts_scan_all.enqueue()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == "2 scans enqueued"
    assert scanned == [gov.engagement.pk, gov.other_engagement.pk]
    assert tasks.alerts_scan_task.enqueue(gov.engagement.pk).status == TaskResultStatus.FAILED
    assert not Alert.objects.filter(engagement=gov.engagement).exists()
    # Mended, its 6 causes (tests/governance/test_alerts.py) are raised, once however often it runs.
    broken.clear()
    tasks.alerts_scan_all.enqueue()
    assert Alert.objects.filter(engagement=gov.engagement).count() == 6
    tasks.alerts_scan_all.enqueue()
    assert Alert.objects.filter(engagement=gov.engagement).count() == 6


def test_only_active_engagements_are_scanned(world: World):
    Engagement.objects.filter(pk=world.other_engagement.pk).update(status=Engagement.Status.ENDED)
    assert tasks.engagements_active_ids() == [world.engagement.pk]


def test_reviews_are_scheduled_from_the_cadence_and_only_once(world: World, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW)
    # Monthly cadence from 1 Jan 2026 (tests/conftest.py): after 10 Nov 2026 the next two slots are
    # 1 Dec 2026 (a Tuesday) and 1 Jan 2027 (a Friday), at 10:00 Berlin = 09:00 UTC; both engagements.
    assert tasks.meetings_schedule_all.enqueue().return_value == "2 engagements scheduled"
    starts = sorted(Meeting.objects.filter(engagement=world.engagement).values_list("starts_at", flat=True))
    assert starts == [datetime(2026, 12, 1, 9, 0, tzinfo=UTC), datetime(2027, 1, 1, 9, 0, tzinfo=UTC)]
    assert Meeting.objects.filter(engagement=world.other_engagement).count() == 2
    tasks.meetings_schedule_all.enqueue()
    assert Meeting.objects.count() == 4


@pytest.mark.parametrize("task_name", ["alerts_scan_task", "meetings_schedule_task"])
def test_a_deleted_engagement_is_nothing_to_do(db, task_name: str):
    assert "engagement deleted" in getattr(tasks, task_name).enqueue(999_999).return_value
