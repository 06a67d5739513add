"""Helpers shared by the engagement-document tests (the `engagement` command and its API twin)."""

from __future__ import annotations

from django.db.models import Model

from pactboard.accounts.models import Organisation
from pactboard.audit.models import AuditEvent
from pactboard.engagements.models import Engagement, Objective
from pactboard.kpis.models import AgreementVersion, VersionKpi
from pactboard.measurements.models import Dataset

# What importing an engagement document writes: a refused import must leave each count as it was.
IMPORT_WRITES: tuple[type[Model], ...] = (
    Organisation,
    Engagement,
    Objective,
    AgreementVersion,
    VersionKpi,
    Dataset,
    AuditEvent,
)


def import_counts(*more: type[Model]) -> tuple[int, ...]:
    """The row count of each model an import writes, then of each of ``more``."""
    return tuple(model._default_manager.count() for model in (*IMPORT_WRITES, *more))
