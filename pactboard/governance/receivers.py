"""Work scheduled when something below this app changes: values recorded start an alert scan."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from pactboard.engagements.models import Engagement


def values_recorded_scan(sender: Any, *, engagement: Engagement, **kwargs: Any) -> None:
    """Once the values commit, scan the engagement for alerts (in a task: the writer does not wait for it)."""
    from pactboard.governance import tasks, wins

    engagement_id = engagement.pk
    transaction.on_commit(lambda: tasks.alerts_scan_task.enqueue(engagement_id))
    wins.values_recorded_wins(engagement)  # the wins feed: its own task, after the alert scan
