"""Work scheduled when something below this app changes: values recorded start an alert scan."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from pactboard.core.task_results import enqueue_unless_pending
from pactboard.engagements.models import Engagement


def values_recorded_scan(
    sender: Any, *, engagement: Engagement, kpi_codes: list[str] | None = None, **kwargs: Any
) -> None:
    """Once the values commit, scan the KPIs they touched for alerts (in a task: the writer does not wait).

    Only those KPIs: a value typed into one KPI of a hundred must not re-judge the other ninety-nine
    (their late-data alerts come from the scheduled scan of the whole engagement).
    """
    from pactboard.governance import tasks, wins

    engagement_id = engagement.pk
    codes = sorted(kpi_codes) if kpi_codes is not None else None
    # A scan still waiting in the queue reads these values when it runs: one covering them is enough
    # (a stream of writes would otherwise queue a scan per batch, and every tenant's work behind them).
    transaction.on_commit(
        lambda: enqueue_unless_pending(tasks.alerts_scan_task, engagement_id, codes, covers=tasks.alerts_scan_covers)
    )
    wins.values_recorded_wins(engagement)  # the wins feed: its own task, after the alert scan
