"""Recomputing KPI values from the datasets in force: on demand, and when an agreed version comes into force.

A KPI that joins in a newly agreed version, or an agreement signed after the records arrived, has
records but no values until something computes them. A recomputation is a job (an ``ImportBatch``
of kind ``recompute``) so a page or an API client can follow its progress, one dataset at a time,
and it writes through the same ``dataset_kpis_compute`` as an upload: same revisions, same reasons.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from pactboard.accounts.models import Membership, Organisation, User
from pactboard.audit.services import audit_record
from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.core.periods import Period
from pactboard.engagements.models import Engagement
from pactboard.measurements import policy
from pactboard.measurements.models import ImportBatch
from pactboard.measurements.selectors import dataset_versions_in_force, kpi_rules
from pactboard.measurements.services import ApplyResult, _batch_fail, dataset_kpis_compute

__all__ = ["measurements_recompute", "recompute_run", "recompute_start", "recompute_start_for_agreement"]


def _scope_check(*, engagement: Engagement, kpi_code: str, period_from: str) -> dict[str, str]:
    """The recomputation's options, checked: a KPI computed from a dataset, a period label."""
    errors: list[ErrorDetail] = []
    if kpi_code:
        computed = sorted(code for code, r in kpi_rules(engagement=engagement).items() if r.source == "dataset")
        if kpi_code not in computed:
            errors.append(
                ErrorDetail(
                    f"{kpi_code!r} is not an agreed KPI computed from a dataset "
                    f"(those of this engagement: {', '.join(computed) or 'none'})",
                    "kpi",
                    "not_a_dataset_kpi",
                )
            )
    if period_from:
        try:
            Period.parse(period_from, location="from")
        except PactboardError as exc:
            errors.extend(exc.details)
    if errors:
        raise PactboardError("The recomputation was not started.", errors)
    return {"kpi": kpi_code, "from": period_from}


def _batch_create(
    *, engagement: Engagement, user: User, organisation: Organisation, options: dict[str, str]
) -> ImportBatch:
    what = " ".join(filter(None, [options.get("kpi"), f"from {options['from']}" if options.get("from") else ""]))
    batch = ImportBatch.objects.create(
        engagement=engagement,
        kind=ImportBatch.Kind.RECOMPUTE,
        file_name=f"recompute {what or 'all KPIs'}"[:255],
        file_sha256="",
        stored_path="",
        options=options,
        created_by=user,
        created_by_org=organisation,
    )
    audit_record(
        actor=user,
        organisation=organisation,
        action="measurement.recompute_request",
        obj=batch,
        after=options,
        engagement_id=engagement.pk,
    )
    return batch


def recompute_start(
    *, actor: Membership, engagement: Engagement, kpi_code: str = "", period_from: str = ""
) -> ImportBatch:
    """Register a recomputation from the datasets in force (managers); run it with ``recompute_run``."""
    policy.measurements_require(actor=actor, engagement=engagement, action="recompute")
    options = _scope_check(engagement=engagement, kpi_code=kpi_code, period_from=period_from)
    with transaction.atomic():
        return _batch_create(engagement=engagement, user=actor.user, organisation=actor.organisation, options=options)


def recompute_start_for_agreement(*, engagement_id: int, user_id: int, organisation_id: int) -> ImportBatch | None:
    """A recomputation of every KPI when a version is agreed, by the party whose signature agreed it.

    None when the engagement has no dataset version yet: there is nothing to compute from.
    """
    engagement = Engagement.objects.get(pk=engagement_id)
    if not dataset_versions_in_force(engagement=engagement):
        return None
    with transaction.atomic():
        return _batch_create(
            engagement=engagement,
            user=User.objects.get(pk=user_id),
            organisation=Organisation.objects.get(pk=organisation_id),
            options={"kpi": "", "from": ""},
        )


def measurements_recompute(
    *,
    engagement: Engagement,
    actor: Membership | None,
    kpi_code: str = "",
    period_from: str = "",
    now: datetime | None = None,
    progress: Any = None,
) -> ApplyResult:
    """Compute the agreed dataset KPIs from each dataset's version in force, one transaction per dataset.

    Each dataset's values are consistent on their own (computed from its version in force), so a
    long recomputation commits dataset by dataset and its progress is visible while it runs.
    """
    options = _scope_check(engagement=engagement, kpi_code=kpi_code, period_from=period_from)
    start = Period.parse(options["from"]) if options["from"] else None
    versions = list(dataset_versions_in_force(engagement=engagement).values())
    total = ApplyResult()
    for done, version in enumerate(versions, start=1):
        with transaction.atomic():
            result = dataset_kpis_compute(
                version=version,
                actor=actor,
                kpi_codes=[kpi_code] if kpi_code else None,
                period_from=start,
                now=now,
            )
            total.created += result.created
            total.revised += result.revised
            total.unchanged += result.unchanged
            total.undefined += result.undefined
            if progress is not None:
                progress(done, len(versions))
    with transaction.atomic():
        audit_record(
            actor=actor.user if actor else None,
            organisation=actor.organisation if actor else None,
            action="measurement.recompute",
            object_type="engagements.engagement",
            object_id=engagement.pk,
            after={
                **options,
                "datasets": [f"{v.dataset.name} v{v.number}" for v in versions],
                "created": total.created,
                "revised": total.revised,
                "undefined": total.undefined,
            },
            engagement_id=engagement.pk,
        )
    return total


def recompute_run(*, batch_id: int, now: datetime | None = None) -> ImportBatch:
    """Run a registered recomputation, reporting progress per dataset; safe to run twice."""
    batch = ImportBatch.objects.select_related("engagement", "created_by", "created_by_org").get(pk=batch_id)
    if batch.status in (ImportBatch.Status.DONE, ImportBatch.Status.FAILED):
        return batch
    actor = Membership.objects.filter(user=batch.created_by, organisation=batch.created_by_org).first()
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING)

    def report(done: int, total: int) -> None:
        ImportBatch.objects.filter(pk=batch.pk).update(progress_done=done, progress_total=total)

    try:
        result = measurements_recompute(
            engagement=batch.engagement,
            actor=actor,
            kpi_code=batch.options.get("kpi", ""),
            period_from=batch.options.get("from", ""),
            now=now,
            progress=report,
        )
        with transaction.atomic():
            ImportBatch.objects.filter(pk=batch.pk).update(
                status=ImportBatch.Status.DONE,
                rows_written=result.created + result.revised,
                message=f"Recomputed from the datasets in force: {result.summary}.",
                updated_at=timezone.now(),
            )
    except PactboardError as exc:
        _batch_fail(batch, exc)
    batch.refresh_from_db()
    return batch
