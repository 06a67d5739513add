"""The wins feed (F18): wins the scan finds in the KPIs' histories, and kudos people post.

``wins_scan`` reads each KPI's closed periods (judged by the version in force in each period, like the
alert scan), asks ``win_rules`` which wins hold, and posts the new ones: each insert runs in a
savepoint, so when two scans race the database's unique key (engagement, cause key) lets one insert
win and the other sees an IntegrityError and moves on. Only the scan that posted a win audits it.
A posted win stays on the feed (a celebration is not taken back when a later value is revised).

Kudos come from a member of either party, about one KPI of the engagement and one of its closed periods.
docs/governance.md, "Collaboration".
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import cast

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.tasks import task
from django.utils import timezone

from pactboard.accounts.models import Membership
from pactboard.audit.services import audit_record
from pactboard.core.errors import PactboardError, invalid
from pactboard.core.formatting import number_text
from pactboard.core.periods import Period, PeriodKind, latest_closed_period
from pactboard.core.task_results import enqueue_unless_pending
from pactboard.engagements.models import Engagement
from pactboard.governance.alerts import alert_thresholds
from pactboard.governance.collaboration_models import Win
from pactboard.governance.policy import ALLOWED, NOT_FOUND, VIEWERS_READ, Verdict
from pactboard.governance.win_rules import WIN_WINDOW, WinCause, WinPeriod, wins_for_kpi
from pactboard.kpis.models import AgreementVersion, VersionKpi
from pactboard.kpis.selectors import kpi_terms
from pactboard.measurements.models import Measurement
from pactboard.scoring.attainment import KpiTerms, kpi_status, target_in_force

MESSAGE_MAX = 500
FEED_LIMIT = 100


def _agreed(engagement: Engagement) -> tuple[list[AgreementVersion], dict[int, dict[str, VersionKpi]]]:
    versions = list(
        AgreementVersion.objects.filter(
            engagement=engagement, status=AgreementVersion.Status.AGREED, effective_from__isnull=False
        ).order_by("effective_from", "number")
    )
    kpis: dict[int, dict[str, VersionKpi]] = defaultdict(dict)
    for kpi in VersionKpi.objects.filter(version__in=versions, active=True).prefetch_related("milestones"):
        kpis[kpi.version_id][kpi.code] = kpi
    return versions, kpis


def _newest(versions: list[AgreementVersion], kpis: dict[int, dict[str, VersionKpi]]) -> dict[str, VersionKpi]:
    """Each code's newest definition, in the newest version's order."""
    newest: dict[str, VersionKpi] = {}
    for v in reversed(versions):
        for code, kpi in sorted(kpis[v.pk].items(), key=lambda item: (item[1].position, item[1].pk)):
            newest.setdefault(code, kpi)
    return newest


def win_histories(*, engagement: Engagement, now: datetime) -> list[tuple[str, str, list[WinPeriod]]]:
    """(code, name, closed periods) of every agreed KPI, each period judged by the version in force on its first day.

    Four queries whatever the history's length: versions, their KPIs, the KPIs' milestones, the values.
    The rules skip periods without a value, so only periods with one are judged, plus the newest
    WIN_WINDOW closed periods (with or without one), which say which periods may post.
    """
    versions, kpis = _agreed(engagement)
    stored: dict[tuple[str, str], dict[date, Decimal | None]] = defaultdict(dict)
    for code, kind, start, recorded in Measurement.objects.filter(engagement=engagement).values_list(
        "kpi_code", "period_kind", "period_start", "value"
    ):
        stored[(code, kind)][start] = recorded

    def in_force(day: date) -> AgreementVersion | None:
        live = [v for v in versions if v.effective_from is not None and v.effective_from <= day]
        return max(live, key=lambda v: (v.effective_from, v.number)) if live else None

    terms: dict[int, KpiTerms] = {}  # built once per KPI definition, not once per period
    out: list[tuple[str, str, list[WinPeriod]]] = []
    for code, latest in _newest(versions, kpis).items():
        kind = cast(PeriodKind, latest.period)
        last = min(
            latest_closed_period(kind, now=now, tz=engagement.time_zone), Period.containing(kind, engagement.end_date)
        )
        first = Period.containing(kind, engagement.start_date)
        history: list[WinPeriod] = []
        if last >= first:
            values = stored.get((code, kind), {})
            starts = {day for day in values if first.start <= day <= last.start}
            window = last
            for _ in range(WIN_WINDOW):
                if window < first:
                    break
                starts.add(window.start)
                window = window.previous()
            for day in sorted(starts):
                period = Period(kind, day)
                version = in_force(day)
                held = kpis[version.pk].get(code) if version is not None else None
                if held is None or held.period != kind:
                    continue
                value: Decimal | None = values.get(day)
                if value is None:
                    history.append(WinPeriod(label=period.label, value=None, status="no_data"))
                    continue
                held_terms = terms.get(held.pk) or terms.setdefault(held.pk, kpi_terms(held))
                levels = target_in_force(terms=held_terms, period_last_day=period.last_day)
                status = kpi_status(
                    direction=held_terms.direction,
                    value=value,
                    target=levels.target,
                    amber=levels.amber,
                    stretch=levels.stretch,
                )
                history.append(
                    WinPeriod(
                        label=period.label,
                        value=value,
                        status=status,
                        target=levels.target,
                        stretch=levels.stretch,
                        milestone_date=levels.milestone_date,
                    )
                )
        out.append((code, latest.name, history))
    return out


def win_message(*, cause: WinCause, name: str) -> str:
    """The words of an automatic post (numbers as the pages show them)."""
    e = {k: number_text(v) if k in {"value", "target", "stretch"} else v for k, v in cause.evidence.items()}
    if cause.kind == "met_again":
        return (
            f"{name} met its target again in {cause.period} (value {e['value']}, target {e['target']}) "
            f"after missing it in {e['missed_in']}."
        )
    if cause.kind == "chronic_cleared":
        return (
            f"{name} is no longer chronic: met in {cause.period} (value {e['value']}, target {e['target']}) "
            "after a run of missed periods."
        )
    if cause.kind == "milestone":
        return (
            f"{name} reached its milestone of {e['milestone']} in {cause.period} "
            f"(value {e['value']}, interim target {e['target']})."
        )
    return f"{name} exceeded its stretch target in {cause.period} (value {e['value']}, stretch {e['stretch']})."


def win_causes(*, engagement: Engagement, now: datetime) -> tuple[list[WinCause], dict[str, str]]:
    """Every win the last WIN_WINDOW closed periods hold now, and the KPI names by code."""
    chronic_after, _grace, _notice = alert_thresholds(engagement=engagement)
    causes: list[WinCause] = []
    names: dict[str, str] = {}
    for code, name, history in win_histories(engagement=engagement, now=now):
        names[code] = name
        causes.extend(wins_for_kpi(code=code, history=history, chronic_after=chronic_after, window=WIN_WINDOW))
    return causes, names


def _audit(win: Win, actor: Membership | None) -> None:
    audit_record(
        actor=actor.user if actor else None,
        organisation=actor.organisation if actor else None,
        action="win.kudos" if win.kind == Win.Kind.KUDOS else "win.post",
        obj=win,
        after={"kind": win.kind, "cause_key": win.cause_key, "kpi_code": win.kpi_code, "period": win.period},
        engagement_id=win.engagement_id,
    )


def wins_scan(*, engagement: Engagement, now: datetime) -> list[Win]:
    """Post the wins that hold and are not posted yet; safe to run any number of times, by several workers at once."""
    causes, names = win_causes(engagement=engagement, now=now)
    posted: list[Win] = []
    with transaction.atomic():
        known = set(
            Win.objects.filter(engagement=engagement, cause_key__in=[c.key for c in causes]).values_list(
                "cause_key", flat=True
            )
        )
        for cause in causes:
            if cause.key in known:
                continue
            try:
                with transaction.atomic():  # a savepoint: a lost race leaves the scan's transaction usable
                    win = Win.objects.create(
                        engagement=engagement,
                        kind=cause.kind,
                        cause_key=cause.key,
                        kpi_code=cause.kpi_code,
                        period=cause.period,
                        message=win_message(cause=cause, name=names.get(cause.kpi_code, cause.kpi_code))[:MESSAGE_MAX],
                        evidence=cause.evidence,
                        posted_at=now,
                    )
            except IntegrityError:
                continue  # another scan posted it a moment ago
            known.add(cause.key)
            posted.append(win)
        for win in posted:
            _audit(win, None)
    return posted


def kudos_may(*, actor: Membership, engagement: Engagement) -> Verdict:
    """Contributors and managers of either party post kudos; viewers read the feed."""
    if engagement.party_role(actor.organisation_id) is None:
        return NOT_FOUND
    return ALLOWED if actor.can_contribute else Verdict(False, VIEWERS_READ)


def kudos_post(
    *, actor: Membership, engagement: Engagement, kpi_code: str, period: str, message: str, now: datetime
) -> Win:
    """Thank the other party (or one's own) for one KPI in one closed period, with a short message."""
    verdict = kudos_may(actor=actor, engagement=engagement)
    if not verdict.allowed:
        raise PactboardError(verdict.reason, kind=verdict.kind)
    message = message.strip()
    if not message:
        raise invalid("Write a short message with the kudos.", location="message", code="required")
    if len(message) > MESSAGE_MAX:
        raise invalid(
            f"The message is {len(message)} characters long: keep it to {MESSAGE_MAX}.",
            location="message",
            code="too_long",
        )
    kpi_code = kpi_code.strip()
    versions, kpis = _agreed(engagement)
    kpi = _newest(versions, kpis).get(kpi_code)
    if kpi is None:
        raise invalid(
            f"{kpi_code!r} is not an agreed KPI of this engagement: pick one of its KPIs.",
            location="kpi_code",
            code="unknown_kpi",
        )
    kind = cast(PeriodKind, kpi.period)
    parsed = Period.parse(period, kind)
    last = min(
        latest_closed_period(kind, now=now, tz=engagement.time_zone), Period.containing(kind, engagement.end_date)
    )
    first = Period.containing(kind, engagement.start_date)
    if not first <= parsed <= last:
        raise invalid(
            f"{parsed.label} is not a closed period of this engagement: pick one from {first.label} to {last.label}.",
            location="period",
            code="out_of_range",
        )
    with transaction.atomic():
        win = Win.objects.create(
            engagement=engagement,
            kind=Win.Kind.KUDOS,
            kpi_code=kpi_code,
            period=parsed.label,
            message=message,
            posted_at=now,
            author=actor.user,
            author_org=actor.organisation,
        )
        _audit(win, actor)
    return win


def kudos_kpis(*, engagement: Engagement) -> dict[str, str]:
    """The agreed KPIs kudos may be about: code -> newest name (three queries)."""
    versions, kpis = _agreed(engagement)
    return {code: kpi.name for code, kpi in _newest(versions, kpis).items()}


def win_feed(*, membership: Membership, engagement: Engagement, limit: int | None = FEED_LIMIT) -> QuerySet[Win]:
    """The engagement's newest posts, automatic and kudos, with their authors (one query); ``limit=None``: all."""
    feed = (
        Win.objects.visible_to(membership)
        .filter(engagement=engagement)
        .select_related("author", "author_org")
        .order_by("-posted_at", "-id")
    )
    return feed if limit is None else feed[:limit]


@task
def wins_scan_task(engagement_id: int) -> str:
    engagement = Engagement.objects.filter(pk=engagement_id).first()
    if engagement is None:
        return "engagement deleted: nothing to scan"
    return f"{len(wins_scan(engagement=engagement, now=timezone.now()))} posted"


def values_recorded_wins(engagement: Engagement) -> None:
    """Once the values commit, look for wins (in a task: the writer does not wait for it)."""
    engagement_id = engagement.pk
    transaction.on_commit(lambda: enqueue_unless_pending(wins_scan_task, engagement_id))  # one waiting is enough


__all__ = ["kudos_kpis", "kudos_post", "values_recorded_wins", "win_causes", "win_feed", "win_histories", "wins_scan"]
