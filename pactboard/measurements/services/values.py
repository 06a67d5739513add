"""Values: checked whole (periods begun, KPIs agreed, numbers in range), recorded as revisions, pushed once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from pactboard.accounts.models import Membership
from pactboard.audit.services import audit_record
from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.core.periods import Period, local_date
from pactboard.engagements.models import Engagement
from pactboard.formulas import CompiledFormula
from pactboard.kpis.content import plain_decimal
from pactboard.measurements import policy
from pactboard.measurements.limits import value_limit_problem
from pactboard.measurements.models import (
    DatasetVersion,
    IdempotencyKey,
    ImportBatch,
    Measurement,
    Revision,
    Source,
)
from pactboard.measurements.selectors import (
    KpiRule,
    kpi_rules,
)
from pactboard.measurements.signals import values_recorded


@dataclass(frozen=True)
class ValueRow:
    """One value to record, located where the user can find it (a file line, a batch index, a form)."""

    kpi_code: str
    period: Period
    value: Decimal | None  # None: the value became undefined (only from a recomputation; the note says why)
    note: str = ""
    location: str = ""
    line: int | None = None


@dataclass
class ApplyResult:
    created: int = 0
    revised: int = 0
    unchanged: int = 0
    undefined: int = 0  # of ``revised``: values a recomputation found undefined (recorded as empty)
    revisions: list[Revision] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """How many values were written, for an upload's or a recomputation's message."""
        undefined = f" ({self.undefined} now undefined)" if self.undefined else ""
        return f"{self.created} new values, {self.revised} changed{undefined}, {self.unchanged} unchanged"


def _require_contributor(actor: Membership, engagement: Engagement) -> None:
    policy.measurements_require(actor=actor, engagement=engagement, action="contribute")


def value_rows_not_started(
    *, engagement: Engagement, rows: Sequence[ValueRow], now: datetime | None = None, location: str = "{}.period"
) -> list[ErrorDetail]:
    """A problem for each row whose period has not begun in the engagement's zone.

    A value for a period that has not started is a forecast or a typo (2027-06 for 2026-06); taken as
    a fact it would move every page to that period. ``location`` places the error, from the row's.
    """
    today = local_date(now or timezone.now(), engagement.time_zone)
    return [
        ErrorDetail(
            f"{row.period.label} has not started (it begins on {row.period.start:%Y-%m-%d}, "
            f"{engagement.time_zone}): record a period's value once it has begun; check the year",
            location.format(row.location) if row.location else None,
            "period_not_started",
        )
        for row in rows
        if row.period.start > today
    ]


def value_rows_check(
    *,
    engagement: Engagement,
    rows: Sequence[ValueRow],
    rules: dict[str, KpiRule] | None = None,
    now: datetime | None = None,
) -> list[ErrorDetail]:
    """Every problem of a batch of values, each at its row: unknown KPI, wrong period, out of range, duplicate."""
    rules = kpi_rules(engagement=engagement) if rules is None else rules
    errors: list[ErrorDetail] = value_rows_not_started(engagement=engagement, rows=rows, now=now)
    seen: dict[tuple[str, Period], str] = {}
    for row in rows:
        where = row.location or None
        if row.value is None:  # only a recomputation records "undefined"; a person or a file gives a number
            errors.append(
                ErrorDetail(f"{row.kpi_code} {row.period.label}: a value is required", where, "missing_value")
            )
            continue
        too_large = value_limit_problem(row.value)
        if too_large is not None:
            errors.append(ErrorDetail(too_large, where, "out_of_range"))
            continue
        shown = plain_decimal(row.value)
        rule = rules.get(row.kpi_code)
        if rule is None:
            known = ", ".join(sorted(rules)) or "none agreed yet"
            errors.append(
                ErrorDetail(f"unknown KPI {row.kpi_code!r} (this engagement's KPIs: {known})", where, "unknown_kpi")
            )
            continue
        if row.period.kind != rule.period_kind:
            errors.append(
                ErrorDetail(
                    f"{row.kpi_code} is measured per {rule.period_kind}, but {row.period.label} is a {row.period.kind}",
                    where,
                    "wrong_period_kind",
                )
            )
        if row.period.end <= engagement.start_date or row.period.start > engagement.end_date:
            errors.append(
                ErrorDetail(
                    f"period {row.period.label} is outside the engagement "
                    f"({engagement.start_date:%Y-%m-%d} to {engagement.end_date:%Y-%m-%d})",
                    where,
                    "period_outside_engagement",
                )
            )
        if rule.min_value is not None and row.value < rule.min_value:
            errors.append(
                ErrorDetail(
                    f"{shown} is below the lowest value {row.kpi_code} allows ({plain_decimal(rule.min_value)})",
                    where,
                    "out_of_range",
                )
            )
        if rule.max_value is not None and row.value > rule.max_value:
            errors.append(
                ErrorDetail(
                    f"{shown} is above the highest value {row.kpi_code} allows ({plain_decimal(rule.max_value)})",
                    where,
                    "out_of_range",
                )
            )
        if rule.integer and row.value != row.value.to_integral_value():
            errors.append(
                ErrorDetail(
                    f"{row.kpi_code} counts whole items: {row.value} is not a whole number", where, "not_integer"
                )
            )
        key = (row.kpi_code, row.period)
        if key in seen:
            errors.append(
                ErrorDetail(
                    f"{row.kpi_code} {row.period.label} appears twice (also at {seen[key]})", where, "duplicate_value"
                )
            )
        else:
            seen[key] = row.location or "?"
    return errors


def _values_apply(
    *,
    engagement: Engagement,
    rows: Sequence[ValueRow],
    source: str,
    actor: Membership | None,
    reason: str = "",
    batch: ImportBatch | None = None,
    file_sha256: str = "",
    dataset_version: DatasetVersion | None = None,
    formulas: dict[str, CompiledFormula] | None = None,
    require_reason: bool = True,
) -> ApplyResult:
    """Write a checked batch: new values, or a new revision where a value changed (in the caller's transaction)."""
    result = ApplyResult()
    if not rows:
        return result
    codes = {r.kpi_code for r in rows}
    starts = {r.period.start for r in rows}
    # Lock only the values this batch may revise, in one order: ``of=("self",)`` and no ordering through
    # the engagement, whose join would lock the engagement's row too (FOR UPDATE locks every joined table)
    # and deadlock on PostgreSQL against a writer committing its foreign keys to it (test_value_locks.py).
    existing = {
        (m.kpi_code, m.period_kind, m.period_start): m
        for m in Measurement.objects.select_for_update(of=("self",))
        .filter(engagement=engagement, kpi_code__in=codes, period_start__in=starts)
        .order_by("kpi_code", "period_kind", "period_start")
    }
    now = timezone.now()
    changed_without_reason: list[ErrorDetail] = []
    new_measurements: list[Measurement] = []
    pending: list[tuple[Measurement, ValueRow, int]] = []
    updates: list[Measurement] = []
    for row in rows:
        key = (row.kpi_code, row.period.kind, row.period.start)
        m = existing.get(key)
        if m is None and row.value is None:
            continue  # nothing was recorded and nothing can be: there is no history to extend
        if m is None:
            m = Measurement(
                engagement=engagement,
                kpi_code=row.kpi_code,
                period_kind=row.period.kind,
                period_start=row.period.start,
                value=row.value,
                source=source,
                revision_count=1,
                updated_at=now,
            )
            new_measurements.append(m)
            existing[key] = m
            pending.append((m, row, 1))
            result.created += 1
            continue
        if m.value == row.value:
            result.unchanged += 1
            continue
        if require_reason and not reason.strip():
            changed_without_reason.append(
                ErrorDetail(
                    f"{row.kpi_code} {row.period.label} already has the value {plain_decimal(m.value) or 'undefined'}: "
                    "a correction needs a reason",
                    row.location or None,
                    "reason_required",
                )
            )
            continue
        m.value, m.source, m.updated_at = row.value, source, now
        m.revision_count += 1
        updates.append(m)
        pending.append((m, row, m.revision_count))
        result.revised += 1
        result.undefined += row.value is None
    if changed_without_reason:
        raise PactboardError(
            "Some values would change values already recorded; give a reason for the correction. Nothing was written.",
            changed_without_reason,
        )
    Measurement.objects.bulk_create(new_measurements, batch_size=1000)
    Measurement.objects.bulk_update(updates, ["value", "source", "revision_count", "updated_at"], batch_size=1000)
    revisions = []
    for m, row, number in pending:
        compiled = (formulas or {}).get(row.kpi_code)
        revisions.append(
            Revision(
                measurement=m,
                number=number,
                value=row.value,
                source=source,
                note=row.note,
                reason=reason if number > 1 else "",
                recorded_by=actor.user if actor else None,
                recorded_by_org=actor.organisation if actor else None,
                recorded_at=now,
                import_batch=batch,
                file_sha256=file_sha256,
                file_line=row.line,
                dataset_version=dataset_version,
                formula=compiled.expression if compiled else "",
                row_filter=(compiled.row_filter or "") if compiled else "",
                formula_fingerprint=compiled.fingerprint if compiled else "",
            )
        )
    result.revisions = Revision.objects.bulk_create(revisions, batch_size=1000)
    if pending:
        values_recorded.send(
            sender=Measurement, engagement=engagement, kpi_codes=sorted({m.kpi_code for m, _, _ in pending})
        )
    return result


def measurement_record(
    *,
    actor: Membership,
    engagement: Engagement,
    kpi_code: str,
    period: Period,
    value: Decimal,
    note: str = "",
    reason: str = "",
    source: str = Source.MANUAL,
    now: datetime | None = None,
) -> ApplyResult:
    """Record one value by hand; changing a recorded value needs a reason and adds a revision."""
    _require_contributor(actor, engagement)
    row = ValueRow(kpi_code=kpi_code, period=period, value=value, note=note, location="value")
    errors = value_rows_check(engagement=engagement, rows=[row], now=now)
    # One value has one period field: put the "not started" problem there, not on the value.
    errors = [ErrorDetail(e.message, "period", e.code) if e.location == "value.period" else e for e in errors]
    if errors:
        raise PactboardError("The value was not recorded.", errors)
    with transaction.atomic():
        try:
            result = _values_apply(engagement=engagement, rows=[row], source=source, actor=actor, reason=reason)
        except PactboardError as exc:
            raise PactboardError(exc.message, [ErrorDetail(d.message, "reason", d.code) for d in exc.details]) from None
        if result.created or result.revised:
            audit_record(
                actor=actor.user,
                organisation=actor.organisation,
                action="measurement.record" if result.created else "measurement.correct",
                object_type="measurements.measurement",
                object_id=result.revisions[0].measurement_id,
                after={"kpi": kpi_code, "period": period.label, "value": value, "reason": reason, "source": source},
                engagement_id=engagement.pk,
            )
    return result


def values_push(
    *,
    actor: Membership,
    engagement: Engagement,
    rows: Sequence[ValueRow],
    reason: str = "",
    now: datetime | None = None,
) -> ApplyResult:
    """Record a batch of values from the API: all or nothing."""
    _require_contributor(actor, engagement)
    errors = value_rows_check(engagement=engagement, rows=rows, now=now)
    if errors:
        raise PactboardError("The batch was refused; nothing was written.", errors)
    with transaction.atomic():
        result = _values_apply(engagement=engagement, rows=rows, source=Source.API, actor=actor, reason=reason)
        audit_record(
            actor=actor.user,
            organisation=actor.organisation,
            action="measurement.push",
            object_type="engagements.engagement",
            object_id=engagement.pk,
            after={
                "created": result.created,
                "revised": result.revised,
                "unchanged": result.unchanged,
                "reason": reason,
            },
            engagement_id=engagement.pk,
        )
    return result


def values_push_idempotent(
    *,
    actor: Membership,
    engagement: Engagement,
    rows: Sequence[ValueRow],
    reason: str = "",
    key: str = "",
    request_sha256: str = "",
    endpoint: str = "measurements.push",
) -> tuple[int, dict[str, int]]:
    """``values_push`` whose answer is kept under ``key``: a retry of the same batch gets the same answer.

    Returns the HTTP status (201 when something was written, 200 when nothing changed) and the body.
    """
    if key:
        done = IdempotencyKey.objects.filter(
            organisation_id=actor.organisation_id, engagement=engagement, endpoint=endpoint, key=key
        ).first()
        if done is not None:
            if done.request_sha256 != request_sha256:
                raise PactboardError(
                    "This Idempotency-Key was used for a different batch: use a new key for new data.", kind="conflict"
                )
            return done.status_code, done.response
    with transaction.atomic():
        result = values_push(actor=actor, engagement=engagement, rows=rows, reason=reason)
        body = {"created": result.created, "revised": result.revised, "unchanged": result.unchanged}
        status = 201 if result.created or result.revised else 200
        if key:
            try:
                with transaction.atomic():
                    IdempotencyKey.objects.create(
                        organisation_id=actor.organisation_id,
                        engagement=engagement,
                        endpoint=endpoint,
                        key=key,
                        request_sha256=request_sha256,
                        response=body,
                        status_code=status,
                    )
            except IntegrityError:
                raise PactboardError(
                    "A request with this Idempotency-Key is being processed; retry.", kind="conflict"
                ) from None
    return status, body
