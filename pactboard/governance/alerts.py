"""The alert scan: which causes hold for an engagement's KPIs now, raised once, cleared when they clear.

``alerts_scan`` reads each KPI's closed periods (judged by the version in force in each period),
asks ``alert_rules`` which causes hold, and reconciles the ``Alert`` rows: a new cause is inserted
inside a savepoint, so when two scans race the database's unique key (engagement, cause key) lets
one insert win and the other sees an IntegrityError and moves on; a cleared alert whose cause is
back is re-opened by a conditional update that only one scan can win. Only the scan that won a
change audits it and notifies, so nothing is told twice. docs/governance.md, "Alerts".

Besides the KPI causes of ``alert_rules``, ``alert_duties`` adds the causes people owe (a signature,
an overdue action, a review about to start), each told to those people only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import cast

from django.db import IntegrityError, transaction
from django.urls import reverse

from pactboard.accounts.models import Membership, Role
from pactboard.audit.services import audit_record
from pactboard.core.periods import Period, PeriodKind, latest_closed_period, local_date, periods_between
from pactboard.engagements.models import Engagement
from pactboard.governance.alert_duties import REVIEW_NOTICE_DAYS, DutyCause, duty_causes
from pactboard.governance.alert_rules import CHRONIC_AFTER, GRACE_DAYS, KINDS, Cause, PeriodResult, causes_for_kpi
from pactboard.governance.models import Alert, AlertSettings
from pactboard.governance.notify import notify
from pactboard.kpis.models import AgreementVersion, VersionKpi
from pactboard.kpis.selectors import kpi_terms
from pactboard.measurements.models import Measurement
from pactboard.scoring.attainment import KpiTerms
from pactboard.scoring.scorecard import kpi_result

KIND_WORDS = {
    "breach": "missed",
    "at_risk": "at risk",
    "dip": "dipped (a special cause on its control chart)",
    "chronic": "chronic: missed several periods in a row",
    "late": "late: no value recorded",
    "awaiting_signature": "awaiting your signature",
    "action_overdue": "action overdue",
    "review_soon": "review soon",
}


@dataclass
class ScanResult:
    raised: list[Alert] = field(default_factory=list)
    cleared: list[Alert] = field(default_factory=list)


@dataclass(frozen=True)
class KpiHistory:
    code: str
    name: str
    terms: KpiTerms
    history: list[PeriodResult]


def alert_thresholds(*, engagement: Engagement) -> tuple[int, int, int]:
    """(chronic_after, grace_days, review_notice_days) of the engagement: its AlertSettings row, else the defaults."""
    row = AlertSettings.objects.filter(engagement=engagement).first()
    if row is None:
        return CHRONIC_AFTER, GRACE_DAYS, REVIEW_NOTICE_DAYS
    return row.chronic_after, row.grace_days, row.review_notice_days


def kpi_histories(
    *, engagement: Engagement, now: datetime, kpi_codes: Collection[str] | None = None
) -> list[KpiHistory]:
    """Every KPI's closed periods within the engagement, each judged by the version in force on its first day.

    A period in which no agreed version held the KPI is left out (nothing was owed then). With
    ``kpi_codes``, only those KPIs.
    """
    versions = list(
        AgreementVersion.objects.filter(
            engagement=engagement, status=AgreementVersion.Status.AGREED, effective_from__isnull=False
        ).order_by("effective_from", "number")
    )
    kpis_by_version: dict[int, dict[str, VersionKpi]] = defaultdict(dict)
    kpi_rows = VersionKpi.objects.filter(version__in=versions, active=True)
    values = Measurement.objects.filter(engagement=engagement)
    if kpi_codes is not None:
        kpi_rows, values = kpi_rows.filter(code__in=kpi_codes), values.filter(kpi_code__in=kpi_codes)
    for kpi in kpi_rows.prefetch_related("milestones"):
        kpis_by_version[kpi.version_id][kpi.code] = kpi
    stored = {
        (code, kind, start): value
        for code, kind, start, value in values.values_list("kpi_code", "period_kind", "period_start", "value")
    }

    def in_force(day: date) -> AgreementVersion | None:
        live = [v for v in versions if v.effective_from is not None and v.effective_from <= day]
        return max(live, key=lambda v: (v.effective_from, v.number)) if live else None

    # Codes in the order of the newest version that has them (the newest definition names the KPI).
    newest: dict[str, VersionKpi] = {}
    for v in reversed(versions):
        for code, kpi in sorted(kpis_by_version[v.pk].items(), key=lambda item: (item[1].position, item[1].pk)):
            newest.setdefault(code, kpi)
    out: list[KpiHistory] = []
    for code, latest in newest.items():
        kind = cast(PeriodKind, latest.period)
        last = min(
            latest_closed_period(kind, now=now, tz=engagement.time_zone),
            Period.containing(kind, engagement.end_date),
        )
        first = Period.containing(kind, engagement.start_date)
        history: list[PeriodResult] = []
        if last >= first:
            for period in periods_between(kind, first, last):
                version = in_force(period.start)
                held_kpi = kpis_by_version[version.pk].get(code) if version is not None else None
                if held_kpi is None or held_kpi.period != kind:
                    continue
                value: Decimal | None = stored.get((code, kind, period.start))
                result = kpi_result(terms=kpi_terms(held_kpi), value=value, period_last_day=period.last_day)
                history.append(
                    PeriodResult(
                        label=period.label,
                        closes_on=period.end,
                        value=value,
                        status=result.status,
                        target=result.target,
                    )
                )
        out.append(KpiHistory(code=code, name=latest.name, terms=kpi_terms(latest), history=history))
    return out


def alert_causes(
    *,
    engagement: Engagement,
    now: datetime,
    kpi_codes: Collection[str] | None = None,
    thresholds: tuple[int, int, int] | None = None,
) -> tuple[list[Cause], dict[str, str]]:
    """Every KPI cause that holds now (of ``kpi_codes`` only, when given), and the KPI names by code."""
    chronic_after, grace_days, _ = thresholds or alert_thresholds(engagement=engagement)
    today = local_date(now, engagement.time_zone)
    causes: list[Cause] = []
    names: dict[str, str] = {}
    for h in kpi_histories(engagement=engagement, now=now, kpi_codes=kpi_codes):
        names[h.code] = h.name
        causes.extend(
            causes_for_kpi(
                code=h.code,
                direction=h.terms.direction,
                history=h.history,
                today=today,
                chronic_after=chronic_after,
                grace_days=grace_days,
            )
        )
    return causes, names


def alert_title(*, alert: Alert, name: str, cleared: bool = False) -> str:
    if cleared:
        return f"{name}: {alert.kind.replace('_', ' ')} cleared ({alert.period})"
    return f"{name}: {KIND_WORDS.get(alert.kind, alert.kind)} ({alert.period})"


def _managers(engagement: Engagement) -> list[Membership]:
    return list(
        Membership.objects.filter(
            organisation_id__in=[engagement.client_id, engagement.provider_id], role=Role.MANAGER
        ).select_related("user")
    )


def _audit(action: str, alert: Alert) -> None:
    audit_record(
        actor=None,
        organisation=None,
        action=action,
        obj=alert,
        after={"cause_key": alert.cause_key, "kind": alert.kind, "evidence": alert.evidence},
        engagement_id=alert.engagement_id,
    )


def _notify(
    *, engagement: Engagement, alert: Alert, name: str, now: datetime, cleared: bool, managers: list[Membership]
) -> None:
    kind = f"alert.{alert.kind}.cleared" if cleared else f"alert.{alert.kind}"
    url = reverse("dashboards:kpi", args=[engagement.pk, alert.kpi_code]) if alert.kpi_code else ""
    title = alert_title(alert=alert, name=name, cleared=cleared)
    notify(
        recipients=managers,
        kind=kind,
        cause_key=alert.cause_key,
        title=title,
        body=f"{engagement.name}: {title}.",
        url=url,
        engagement_id=engagement.pk,
        now=now,
    )


def _notify_duty(*, engagement: Engagement, duty: DutyCause, now: datetime) -> None:
    """A duty is told to the people who owe it only (a party's signers, an action's owner, attendees)."""
    notify(
        recipients=duty.recipients,
        kind=f"alert.{duty.kind}",
        cause_key=duty.key,
        title=duty.title,
        body=f"{engagement.name}: {duty.title}.",
        url=duty.url,
        engagement_id=engagement.pk,
        now=now,
    )


def alerts_scan(*, engagement: Engagement, now: datetime, kpi_codes: Collection[str] | None = None) -> ScanResult:
    """Raise the alerts whose cause holds and is not raised yet; clear the open ones whose cause is gone.

    With ``kpi_codes``, only the alerts of those KPIs are judged (the scan after values are recorded);
    the others are left as they are. Safe to run any number of times, by any number of workers at
    once (see the module's docstring).
    """
    thresholds = alert_thresholds(engagement=engagement)
    causes, names = alert_causes(engagement=engagement, now=now, kpi_codes=kpi_codes, thresholds=thresholds)
    # Duties (signatures, overdue actions, reviews soon) belong to no KPI: a scan of some KPIs leaves them be.
    duties = (
        {}
        if kpi_codes is not None
        else {d.key: d for d in duty_causes(engagement=engagement, now=now, notice_days=thresholds[2])}
    )
    held: dict[str, Cause | DutyCause] = {c.key: c for c in causes}
    held.update(duties)
    result = ScanResult()
    managers: list[Membership] | None = None
    with transaction.atomic():
        scope = Alert.objects.filter(engagement=engagement)
        if kpi_codes is not None:
            scope = scope.filter(kpi_code__in=kpi_codes, kind__in=KINDS)  # an overdue action may name a KPI too
        existing = {a.cause_key: a for a in scope}
        for key, cause in held.items():
            alert = existing.get(key)
            if alert is None:
                try:
                    with transaction.atomic():  # a savepoint: a lost race leaves the scan's transaction usable
                        alert = Alert.objects.create(
                            engagement=engagement,
                            kind=cause.kind,
                            cause_key=key,
                            kpi_code=cause.kpi_code,
                            period=cause.period,
                            raised_at=now,
                            evidence=cause.evidence,
                        )
                except IntegrityError:
                    continue  # another scan raised it a moment ago
                result.raised.append(alert)
            elif alert.cleared_at is not None:
                won = Alert.objects.filter(pk=alert.pk, cleared_at__isnull=False).update(
                    cleared_at=None, raised_at=now, evidence=cause.evidence
                )
                if won:
                    alert.cleared_at, alert.raised_at, alert.evidence = None, now, cause.evidence
                    result.raised.append(alert)
        for key, alert in existing.items():
            if (
                alert.cleared_at is None
                and key not in held
                and Alert.objects.filter(pk=alert.pk, cleared_at__isnull=True).update(cleared_at=now)
            ):
                alert.cleared_at = now
                result.cleared.append(alert)
        for alert in result.raised:
            _audit("alert.raise", alert)
            duty = duties.get(alert.cause_key)
            if duty is not None:
                _notify_duty(engagement=engagement, duty=duty, now=now)
                continue
            managers = _managers(engagement) if managers is None else managers
            _notify(
                engagement=engagement,
                alert=alert,
                name=names.get(alert.kpi_code, alert.kpi_code),
                now=now,
                cleared=False,
                managers=managers,
            )
        for alert in result.cleared:
            _audit("alert.clear", alert)
            if alert.kind == "chronic":
                managers = _managers(engagement) if managers is None else managers
                _notify(
                    engagement=engagement,
                    alert=alert,
                    name=names.get(alert.kpi_code, alert.kpi_code),
                    now=now,
                    cleared=True,
                    managers=managers,
                )
    return result


def alerts_open(*, engagement: Engagement) -> list[Alert]:
    """The engagement's open alerts, newest first: one query (dashboards read chronic flags from it)."""
    return list(Alert.objects.filter(engagement=engagement, cleared_at__isnull=True).order_by("-raised_at", "id"))
