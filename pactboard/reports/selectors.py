"""Reads for reports: a period's report assembled from the rooms below it, the archive, the recipients.

A report is one JSON-ready dict (``report_data``): every renderer (web page, PDF, XLSX, CSV) and
the API read that dict, and a final report stores it, so an archived report reads back exactly as
it was made. Decimals are written as decimal text (``"91.5"``), never floats; the renderers turn
them back into numbers. The numbers come from the scorecard selector the scorecard page uses
(``measurements.selectors.scorecard_for_period``) and the pure scoring functions; docs/reports.md
is the written definition of every section.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet

from pactboard.accounts.models import Membership
from pactboard.audit.selectors import audit_head
from pactboard.core.errors import PactboardError, not_found
from pactboard.core.formatting import number_text, ratio_percent_text, value_text
from pactboard.core.periods import (
    Period,
    PeriodKind,
    latest_closed_period,
    local_date,
    period_has_started,
    period_is_closed,
    periods_overlapping,
)
from pactboard.engagements.models import BusinessChange, Engagement
from pactboard.governance.models import ActionItem, Alert
from pactboard.incentives.models import Settlement
from pactboard.kpis.models import Milestone, VersionKpi
from pactboard.kpis.selectors import kpi_terms, version_in_force
from pactboard.measurements.models import Measurement
from pactboard.measurements.outlook import kpi_outlooks
from pactboard.measurements.selectors import kpi_rules, scorecard_for_period
from pactboard.reports.models import Report, ReportRecipient
from pactboard.reports.outlook_cells import outlook_cells
from pactboard.scoring import KpiResult, kpi_result, trend_direction, trend_is_better

#: The shape of ``report_data``; bumped when a key changes meaning (archived reports keep theirs).
DATA_SCHEMA = 1
#: Periods of history per KPI shown on the report's charts (the report period and the ones before it).
HISTORY_PERIODS = 6
CADENCE_KIND: dict[str, PeriodKind] = {"weekly": "week", "monthly": "month", "quarterly": "quarter"}
STATUS_TEXT = {"exceeded": "Exceeded", "met": "Met", "at_risk": "At risk", "missed": "Missed", "no_data": "No data"}
ATTENTION = ("at_risk", "missed")


def report_kind(engagement: Engagement) -> PeriodKind:
    """The period kind of the engagement's report cadence (weekly, monthly, quarterly)."""
    return CADENCE_KIND.get(engagement.report_cadence, "month")


def report_period_parse(*, engagement: Engagement, label: str, now: datetime) -> Period:
    """The period a report is asked for: a label of any kind (2026-10, 2026-Q3, 2026-W40) that has begun."""
    period = Period.parse(label, location="period")
    if not period_has_started(period, now=now, tz=engagement.time_zone):
        raise PactboardError(
            f"{period.label} has not started: there is nothing to report yet. Pick a period that has begun.",
            kind="invalid",
        )
    if period.last_day < engagement.start_date or period.start > engagement.end_date:
        raise PactboardError(
            f"{period.label} is outside the engagement ({engagement.start_date} to {engagement.end_date}): "
            "pick a period within it.",
            kind="invalid",
        )
    return period


def report_due_period(*, engagement: Engagement, now: datetime) -> Period | None:
    """The latest period of the report cadence that has closed within the engagement's dates (None: none yet)."""
    kind = report_kind(engagement)
    latest = min(
        latest_closed_period(kind, now=now, tz=engagement.time_zone), Period.containing(kind, engagement.end_date)
    )
    return latest if latest >= Period.containing(kind, engagement.start_date) else None


def display_period(kind: PeriodKind, anchor: Period) -> Period:
    """The period of ``kind`` reported beside ``anchor``: the latest one that has ended by the anchor's last day."""
    if kind == anchor.kind:
        return anchor
    candidate = Period.containing(kind, anchor.last_day)
    return candidate if candidate.last_day == anchor.last_day else candidate.previous()


def _text(value: Decimal | None) -> str | None:
    """Decimal text as stored (no exponent, trailing zeros dropped); None stays None."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def _findings(rows: Sequence[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Successes and challenges derived from the KPI rows, by the rules of docs/reports.md."""
    successes: list[str] = []
    challenges: list[str] = []
    for r in rows:
        name, status, prev_status = r["name"], r["status"], r["previous_status"]
        value, target, previous = r["value_text"], r["target_text"], r["previous_text"]
        if status == "exceeded":
            successes.append(f"{name} exceeded its target: {value} against {target}.")
        elif status == "met" and prev_status in ATTENTION:
            successes.append(f"{name} is back on target: {value} against {target}, from {previous} the period before.")
        elif status == "met":
            successes.append(f"{name} met its target: {value} against {target}.")
        elif status in ATTENTION and r["improved"]:
            successes.append(f"{name} improved from {previous} to {value} (target {target}).")
        if status == "missed":
            challenges.append(f"{name} missed its target: {value} against {target}.")
        elif status == "at_risk":
            challenges.append(f"{name} is at risk: {value} against {target}, short of the target.")
        elif status == "no_data":
            challenges.append(f"{name} has no value for {r['period']}: the data is late or missing.")
        if status in ("met", "exceeded") and r["improved"] is False and prev_status in ("met", "exceeded"):
            challenges.append(f"{name} fell from {previous} to {value}, still on target.")
        if r["chronic"]:
            challenges.append(f"{name} is chronic: it has missed its target several periods in a row.")
    return successes, challenges


def _kpi_row(
    *,
    kpi: VersionKpi,
    period: Period,
    result: KpiResult,
    history: list[tuple[Period, KpiResult]],
    chronic: bool,
    currency: str,
) -> dict[str, Any]:
    unit = kpi.unit
    previous = history[-2][1] if len(history) > 1 else None
    trend = trend_direction(values=[previous.value if previous else None, result.value], target=result.target, window=1)
    better = trend_is_better(trend=trend, direction=cast(Any, kpi.direction))
    return {
        "code": kpi.code,
        "name": kpi.name,
        "category": kpi.category,
        "unit": unit,
        "direction": kpi.direction,
        "period": period.label,
        "value": _text(result.value),
        "target": _text(result.target),
        "amber": _text(result.amber),
        "stretch": _text(result.stretch),
        "status": result.status,
        "status_text": STATUS_TEXT[result.status],
        "attainment": _text(result.attainment),
        "weight": _text(result.weight),
        "milestone_date": result.milestone_date.isoformat() if result.milestone_date else None,
        "value_text": value_text(result.value, unit=unit, currency=currency),
        "target_text": value_text(result.target, unit=unit, currency=currency),
        "amber_text": value_text(result.amber, unit=unit, currency=currency),
        "attainment_text": ratio_percent_text(result.attainment),
        "previous_value": _text(previous.value) if previous else None,
        "previous_text": value_text(previous.value if previous else None, unit=unit, currency=currency),
        "previous_status": previous.status if previous else None,
        # True: moved the better way by more than 1 % of the target; False: the worse way; None: flat or unknown.
        "improved": better,
        "chronic": chronic,
        "history": [
            {
                "period": p.label,
                "start": p.start.isoformat(),
                "value": _text(r.value),
                "target": _text(r.target),
                "status": r.status,
            }
            for p, r in history
        ],
    }


def report_data(
    *,
    engagement: Engagement,
    period: Period,
    now: datetime,
    successes: Sequence[str] | None = None,
    challenges: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The report of ``period`` as the data stands at ``now`` (a fixed number of queries, whatever the history).

    ``successes``/``challenges`` are a manager's edited texts; without them both are derived from the data.
    """
    currency = engagement.currency
    version = version_in_force(engagement=engagement, on=period.start)
    kpis: list[VersionKpi] = []
    if version is not None:
        kpis = list(
            VersionKpi.objects.filter(version=version, active=True)
            .prefetch_related(Prefetch("milestones", queryset=Milestone.objects.order_by("date")))
            .order_by("position", "id")
        )
    kinds = sorted({cast(PeriodKind, k.period) for k in kpis}, key=("week", "month", "quarter").index)
    shown = {kind: display_period(kind, period) for kind in kinds}
    cards = {kind: scorecard_for_period(engagement=engagement, period=p) for kind, p in shown.items()}
    # The history of every KPI in one query: each kind's window ends at its displayed period.
    codes = [k.code for k in kpis]
    stored: dict[tuple[str, str, date], Decimal | None] = {}
    if kpis:
        first = min(p.shift(1 - HISTORY_PERIODS).start for p in shown.values())
        for code, kind, start, value in Measurement.objects.filter(
            engagement=engagement, kpi_code__in=codes, period_start__gte=first, period_start__lte=period.last_day
        ).values_list("kpi_code", "period_kind", "period_start", "value"):
            stored[(code, kind, start)] = value
    chronic = set(
        Alert.objects.filter(engagement=engagement, kind="chronic", kpi_code__in=codes)
        .open()
        .values_list("kpi_code", flat=True)
    )
    rows: list[dict[str, Any]] = []
    for kpi in kpis:
        kind = cast(PeriodKind, kpi.period)
        k_period = shown[kind]
        card = cards[kind].scorecard
        result = card.result(kpi.code) if card is not None and kpi.code in {r.code for r in card.results} else None
        terms = kpi_terms(kpi)
        if result is None:
            result = kpi_result(
                terms=terms, value=stored.get((kpi.code, kind, k_period.start)), period_last_day=k_period.last_day
            )
        history = [
            (p, kpi_result(terms=terms, value=stored.get((kpi.code, kind, p.start)), period_last_day=p.last_day))
            for p in (k_period.shift(i) for i in range(1 - HISTORY_PERIODS, 0))
            if p.last_day >= engagement.start_date
        ]
        history.append((k_period, result))
        rows.append(
            _kpi_row(
                kpi=kpi, period=k_period, result=result, history=history, chronic=kpi.code in chronic, currency=currency
            )
        )
    # Trend and forecast as of the period's end (a report of October shows what was known on 1
    # November): the trend over the closed periods up to it, the forecast of the period after it.
    as_of = min(now, datetime.combine(period.end, time(0, 0, 1), tzinfo=ZoneInfo(engagement.time_zone)))
    outlooks = kpi_outlooks(engagement=engagement, now=as_of, codes=codes) if codes else {}
    for row in rows:
        row.update(outlook_cells(outlooks.get(row["code"]), currency=currency))
    derived_successes, derived_challenges = _findings(rows)
    main = cards.get(period.kind) or (cards[kinds[0]] if kinds else None)
    sc = main.scorecard if main is not None else None
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in STATUS_TEXT}
    head = audit_head(engagement_id=engagement.pk)
    local_today = local_date(now, engagement.time_zone)
    return {
        "schema": DATA_SCHEMA,
        "engagement": {
            "id": engagement.pk,
            "name": engagement.name,
            "client": engagement.client.name,
            "provider": engagement.provider.name,
            "currency": currency,
            "time_zone": engagement.time_zone,
            "report_cadence": engagement.report_cadence,
        },
        "period": {
            "label": period.label,
            "kind": period.kind,
            "start": period.start.isoformat(),
            "last_day": period.last_day.isoformat(),
            "closed": period_is_closed(period, now=now, tz=engagement.time_zone),
        },
        "made_at": now.isoformat(),
        "agreement_version": version.number if version is not None else None,
        "summary": {
            "score": _text(sc.score) if sc else None,
            "status_score": _text(sc.status_score) if sc else None,
            "coverage": _text(sc.coverage) if sc else None,
            "score_period": main.period.label if main is not None else None,
            "counts": counts,
            "kpi_count": len(rows),
            "text": _summary_text(rows=rows, score=sc.score if sc else None, counts=counts, period=period),
        },
        "kpis": rows,
        "successes": list(successes) if successes is not None else derived_successes,
        "challenges": list(challenges) if challenges is not None else derived_challenges,
        "texts_edited": successes is not None or challenges is not None,
        "business_changes": _changes(engagement=engagement, period=period),
        "actions": _actions(engagement=engagement, today=local_today),
        "incentives": _incentives(engagement=engagement, period=period),
        "audit": {"chain": head.chain, "seq": head.seq, "head_hash": head.hash},
    }


def _summary_text(*, rows: list[dict[str, Any]], score: Decimal | None, counts: dict[str, int], period: Period) -> str:
    if not rows:
        return f"No agreed KPI set is in force for {period.label}."
    on_target = counts["met"] + counts["exceeded"]
    parts = [f"{on_target} of {len(rows)} KPIs met or exceeded their target"]
    if counts["at_risk"]:
        parts.append(f"{counts['at_risk']} at risk")
    if counts["missed"]:
        parts.append(f"{counts['missed']} missed")
    if counts["no_data"]:
        parts.append(f"{counts['no_data']} without data")
    lead = f"Weighted score {number_text(score, places=1)} (100 = on target). " if score is not None else ""
    return lead + ", ".join(parts) + "."


def _changes(*, engagement: Engagement, period: Period) -> list[dict[str, Any]]:
    return [
        {
            "date": c.date.isoformat(),
            "kind": c.get_kind_display(),
            "title": c.title,
            "description": c.description,
            "kpis": list(c.kpi_codes or []),
        }
        for c in BusinessChange.objects.filter(
            engagement=engagement, date__gte=period.start, date__lte=period.last_day
        ).order_by("date", "id")
    ]


def _actions(*, engagement: Engagement, today: date) -> list[dict[str, Any]]:
    return [
        {
            "title": a.title,
            "owner": a.owner.user.display_name,
            "organisation": a.owner.organisation.name,
            "due_date": a.due_date.isoformat(),
            "overdue": a.due_date < today,
            "kpi": a.kpi_code,
        }
        for a in ActionItem.objects.filter(engagement=engagement, status=ActionItem.Status.OPEN)
        .select_related("owner__user", "owner__organisation")
        .order_by("due_date", "id")
    ]


def _incentives(*, engagement: Engagement, period: Period) -> list[dict[str, Any]]:
    """The settlements of the months the period covers (a week reports none: settlements are monthly)."""
    if period.kind == "week":
        return []
    months = [p.label for p in periods_overlapping("month", period.start, period.last_day)]
    out = []
    for s in Settlement.objects.filter(engagement=engagement, period__in=months).order_by("period"):
        st = s.statement or {}
        out.append(
            {
                "period": s.period,
                "status": s.status,
                "status_text": s.get_status_display(),
                "currency": s.currency,
                "credits_due": st.get("credits_due"),
                "credits_pending": st.get("credits_pending"),
                "bonuses": st.get("bonuses"),
                "net": st.get("net"),
                "payable": st.get("payable"),
                "lines": [
                    {
                        "kind": x.get("kind"),
                        "rule": x.get("rule"),
                        "kpi": x.get("kpi"),
                        "amount": x.get("amount"),
                        "earn_back": x.get("earn_back"),
                        "explanation": x.get("explanation"),
                    }
                    for x in st.get("lines", [])
                ],
            }
        )
    return out


# --- stored reports and recipients ------------------------------------------------------------


def report_for_period(*, engagement: Engagement, period: Period) -> Report | None:
    return Report.objects.filter(engagement=engagement, period=period.label).first()


def report_archive(*, engagement: Engagement) -> QuerySet[Report]:
    """The engagement's final reports, newest period first."""
    return (
        Report.objects.filter(engagement=engagement, status=Report.Status.FINAL)
        .select_related("finalised_by")
        .order_by("-period")
    )


def report_drafts(*, engagement: Engagement) -> QuerySet[Report]:
    return Report.objects.filter(engagement=engagement, status=Report.Status.DRAFT).order_by("-period")


def report_lines(text: str) -> list[str]:
    """A stored text field as its items (one per line, blanks dropped)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


@dataclass(frozen=True)
class ReportView:
    """What the report page, downloads and API show for a period: the archived data, or the live draft."""

    period: Period
    report: Report | None
    data: dict[str, Any]

    @property
    def is_final(self) -> bool:
        return self.report is not None and self.report.is_final


def report_view(*, engagement: Engagement, period: Period, now: datetime) -> ReportView:
    """The final report's stored data if the period is archived, else the report as the data stands now."""
    report = report_for_period(engagement=engagement, period=period)
    if report is not None and report.is_final:
        assert report.data is not None
        return ReportView(period, report, report.data)
    edited = report is not None and report.texts_edited
    data = report_data(
        engagement=engagement,
        period=period,
        now=now,
        successes=report_lines(report.successes) if edited and report else None,
        challenges=report_lines(report.challenges) if edited and report else None,
    )
    return ReportView(period, report, data)


def report_recipients(*, engagement: Engagement) -> QuerySet[ReportRecipient]:
    return (
        ReportRecipient.objects.filter(engagement=engagement)
        .select_related("membership__user", "membership__organisation")
        .order_by("membership__organisation__name", "membership__user__email")
    )


def report_recipient_get(
    *, membership: Membership | None, engagement: Engagement, recipient_id: int
) -> ReportRecipient:
    found = (
        ReportRecipient.objects.visible_to(membership)
        .filter(pk=recipient_id, engagement=engagement)
        .select_related("membership__organisation")
        .first()
    )
    if found is None:
        raise not_found("No such recipient.")
    return found


def report_recipient_candidates(*, engagement: Engagement, membership: Membership) -> QuerySet[Membership]:
    """Members of the actor's own organisation who do not receive the reports yet."""
    taken = ReportRecipient.objects.filter(engagement=engagement).values("membership_id")
    return (
        Membership.objects.filter(organisation_id=membership.organisation_id)
        .exclude(pk__in=taken)
        .select_related("user")
        .order_by("user__email")
    )


def scorecard_export_data(*, engagement: Engagement, period: Period) -> dict[str, Any]:
    """The scorecard page's table for a download: the same selector, names and units from the agreed KPIs."""
    card = scorecard_for_period(engagement=engagement, period=period)
    rules = kpi_rules(engagement=engagement)
    sc = card.scorecard
    rows = []
    for r in sc.results if sc else ():
        rule = rules.get(r.code)
        rows.append(
            {
                "code": r.code,
                "name": rule.name if rule else r.code,
                "unit": rule.unit if rule else "",
                "value": _text(r.value),
                "target": _text(r.target),
                "amber": _text(r.amber),
                "stretch": _text(r.stretch),
                "status": r.status,
                "attainment": _text(r.attainment),
                "weight": _text(r.weight),
            }
        )
    return {
        "engagement": {"id": engagement.pk, "name": engagement.name, "currency": engagement.currency},
        "period": {"label": period.label, "kind": period.kind},
        "agreement_version": card.version.number if card.version else None,
        "summary": {
            "score": _text(sc.score) if sc else None,
            "status_score": _text(sc.status_score) if sc else None,
            "coverage": _text(sc.coverage) if sc else None,
        },
        "kpis": rows,
    }
