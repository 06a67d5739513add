"""Work scheduled when something below this app changes: a version agreed computes its dataset KPIs."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from pactboard.accounts.models import Organisation, User
from pactboard.kpis.models import AgreementVersion
from pactboard.measurements import tasks
from pactboard.measurements.recompute import recompute_start_for_agreement


def _recompute_after_agreement(engagement_id: int, user_id: int, organisation_id: int) -> None:
    batch = recompute_start_for_agreement(engagement_id=engagement_id, user_id=user_id, organisation_id=organisation_id)
    if batch is not None:
        tasks.recompute_task.enqueue(batch.pk)


def version_agreed_recompute(
    sender: Any, *, version: AgreementVersion, user: User, organisation: Organisation, **kwargs: Any
) -> None:
    """Once the agreement commits, compute the values its KPIs take from the datasets already uploaded."""
    ids = (version.engagement_id, user.pk, organisation.pk)
    transaction.on_commit(lambda: _recompute_after_agreement(*ids))
