"""A relevance review's evidence: each KPI's history read from the stored values, and its objectives.

While a review is open the evidence is computed afresh from the closed periods (the arithmetic is
``relevance_rules.kpi_evidence``, pure); closing the review freezes it on each item
(``relevance.relevance_review_close``). docs/governance.md, "Relevance reviews".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

from pactboard.core.periods import local_date
from pactboard.governance.alerts import kpi_histories
from pactboard.governance.models import RelevanceItem, RelevanceReview
from pactboard.governance.relevance_rules import KpiEvidence, kpi_evidence
from pactboard.kpis.models import AgreementVersion, VersionKpiObjective


def _objective_keys(*, version: AgreementVersion, today: date) -> dict[str, tuple[list[str], list[str]]]:
    """Per KPI code of ``version``: the keys of its live objectives and of those whose deadline has passed."""
    out: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for code, key, deadline in VersionKpiObjective.objects.filter(version_kpi__version=version).values_list(
        "version_kpi__code", "objective__key", "objective__deadline"
    ):
        live, ended = out[code]
        (live if deadline is None or deadline >= today else ended).append(key)
    return out


def relevance_evidence(
    *, review: RelevanceReview, items: Sequence[RelevanceItem], now: datetime
) -> dict[str, KpiEvidence]:
    """Each KPI's evidence: computed from the stored values while the review is open, frozen once closed.

    A constant number of queries whatever the number of KPIs and periods (the histories read every
    version, KPI and value of the engagement at once).
    """
    if not review.is_open:
        return {i.kpi_code: KpiEvidence.from_json(i.evidence) for i in items}
    return _evidence_compute(review=review, codes=[i.kpi_code for i in items], now=now)


def _evidence_compute(*, review: RelevanceReview, codes: Sequence[str], now: datetime) -> dict[str, KpiEvidence]:
    engagement = review.engagement
    histories = {h.code: h.history for h in kpi_histories(engagement=engagement, now=now)}
    objectives = _objective_keys(version=review.based_on, today=local_date(now, engagement.time_zone))
    return {
        code: kpi_evidence(
            history=histories.get(code, []),
            live_objectives=objectives[code][0],
            ended_objectives=objectives[code][1],
        )
        for code in codes
    }
