"""A review's agenda, generated from the engagement's data.

Each section is built by one function from an ``AgendaContext`` (the meeting, the day the data is
read for, the previous and next meetings) and returns plain items, each linked to its evidence.
The sections run in the order of ``AGENDA_SECTIONS``; ``agenda_section_register`` is the
extension point for sections that later rooms add (dips and chronic flags come with alerts):
they register a builder from their ``AppConfig.ready()`` instead of editing this module.

The agenda is JSON-ready (``Agenda.as_dict``) because it is frozen onto the meeting when the
meeting starts and read back from there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.urls import reverse

from pactboard.core.periods import Period, PeriodKind, zone
from pactboard.engagements.models import BusinessChange, Engagement
from pactboard.governance.models import ActionItem, FeedbackThread, Meeting
from pactboard.kpis.content import plain_decimal
from pactboard.kpis.models import AgreementVersion, Milestone, VersionKpi
from pactboard.kpis.selectors import version_in_force
from pactboard.measurements.selectors import scorecard_for_period

# How far ahead "milestones due before the next meeting" looks when no next meeting is scheduled.
CADENCE_DAYS = {"weekly": 7, "monthly": 31, "quarterly": 92}
STATUS_WORDS = {"missed": "missed", "at_risk": "at risk"}


@dataclass(frozen=True)
class Evidence:
    label: str
    url: str


@dataclass(frozen=True)
class AgendaItem:
    text: str
    url: str
    detail: str = ""
    flag: str = ""  # a CSS-ready word: missed, at_risk, overdue, open ...
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class AgendaSection:
    key: str
    title: str
    items: tuple[AgendaItem, ...]


@dataclass(frozen=True)
class Agenda:
    generated_at: datetime
    as_of: date
    until: date
    sections: tuple[AgendaSection, ...]
    frozen: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "as_of": self.as_of.isoformat(),
            "until": self.until.isoformat(),
            "sections": [asdict(s) for s in self.sections],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, frozen: bool) -> Agenda:
        return cls(
            generated_at=datetime.fromisoformat(data["generated_at"]),
            as_of=date.fromisoformat(data["as_of"]),
            until=date.fromisoformat(data["until"]),
            frozen=frozen,
            sections=tuple(
                AgendaSection(
                    key=s["key"],
                    title=s["title"],
                    items=tuple(
                        AgendaItem(
                            text=i["text"],
                            url=i["url"],
                            detail=i.get("detail", ""),
                            flag=i.get("flag", ""),
                            evidence=tuple(Evidence(**e) for e in i.get("evidence", ())),
                        )
                        for i in s["items"]
                    ),
                )
                for s in data["sections"]
            ),
        )

    def section(self, key: str) -> AgendaSection | None:
        return next((s for s in self.sections if s.key == key), None)


@dataclass(frozen=True)
class AgendaContext:
    meeting: Meeting
    engagement: Engagement
    now: datetime
    day: date  # the meeting's day in the engagement's zone, or today if the meeting is later
    meeting_day: date
    since: date | None  # the previous meeting's day
    until: date  # the next meeting's day (or one cadence ahead)
    version: AgreementVersion | None = field(default=None)


SectionBuilder = Callable[[AgendaContext], list[AgendaItem]]
AGENDA_SECTIONS: list[tuple[str, str, SectionBuilder]] = []


def agenda_section_register(*, key: str, title: str, builder: SectionBuilder, after: str | None = None) -> None:
    """Add a section (once per key), after the section ``after`` or at the end."""
    if any(k == key for k, _, _ in AGENDA_SECTIONS):
        return
    index = len(AGENDA_SECTIONS)
    if after is not None:
        index = next((i + 1 for i, (k, _, _) in enumerate(AGENDA_SECTIONS) if k == after), index)
    AGENDA_SECTIONS.insert(index, (key, title, builder))


def _kpi_url(engagement: Engagement, code: str) -> str:
    return reverse("dashboards:kpi", args=[engagement.pk, code])


def _kpi_evidence(engagement: Engagement, code: str) -> tuple[Evidence, ...]:
    return (
        Evidence("KPI page", _kpi_url(engagement, code)),
        Evidence("Values and sources", reverse("measurements:kpi_values", args=[engagement.pk, code])),
    )


def kpis_attention(ctx: AgendaContext) -> list[AgendaItem]:
    """KPIs missed or at risk in the latest period of their kind that ended before the meeting (and has values)."""
    if ctx.version is None:
        return []
    kpis = {k.code: k for k in VersionKpi.objects.filter(version=ctx.version, active=True).order_by("position", "id")}
    items: list[AgendaItem] = []
    for kind in sorted({k.period for k in kpis.values()}):
        # The latest period ended before the day; while its values are not in yet (a review early in the
        # month), the one before it, so the agenda speaks about the latest results there are.
        period = Period.containing(cast(PeriodKind, kind), ctx.day).previous()
        card = scorecard_for_period(engagement=ctx.engagement, period=period).scorecard
        if card is not None and all(r.value is None for r in card.results):
            period = period.previous()
            card = scorecard_for_period(engagement=ctx.engagement, period=period).scorecard
        if card is None:
            continue
        for result in card.results:
            if result.status not in STATUS_WORDS:
                continue
            kpi = kpis.get(result.code)
            name = kpi.name if kpi else result.code
            unit = f" {kpi.unit}" if kpi and kpi.unit else ""
            items.append(
                AgendaItem(
                    text=f"{name}: {STATUS_WORDS[result.status]} in {period.label}",
                    detail=f"value {plain_decimal(result.value) or '—'}{unit}, "
                    f"target {plain_decimal(result.target)}{unit}",
                    url=_kpi_url(ctx.engagement, result.code),
                    flag=result.status,
                    evidence=_kpi_evidence(ctx.engagement, result.code),
                )
            )
    return items


def milestones_due(ctx: AgendaContext) -> list[AgendaItem]:
    if ctx.version is None:
        return []
    rows = (
        Milestone.objects.filter(
            version_kpi__version=ctx.version, version_kpi__active=True, date__gte=ctx.meeting_day, date__lt=ctx.until
        )
        .select_related("version_kpi")
        .order_by("date", "version_kpi__position")
    )
    return [
        AgendaItem(
            text=f"{m.version_kpi.name}: milestone target {plain_decimal(m.target)} {m.version_kpi.unit}"
            f" by {m.date:%-d %b %Y}",
            detail=m.note,
            url=_kpi_url(ctx.engagement, m.version_kpi.code),
            flag="milestone",
            evidence=_kpi_evidence(ctx.engagement, m.version_kpi.code),
        )
        for m in rows
    ]


def actions_open(ctx: AgendaContext) -> list[AgendaItem]:
    rows = (
        ActionItem.objects.filter(engagement=ctx.engagement, status=ActionItem.Status.OPEN)
        .select_related("owner__user", "owner__organisation", "meeting")
        .order_by("due_date", "id")
    )
    items = []
    for a in rows:
        overdue = a.due_date < ctx.meeting_day
        evidence = [Evidence("Action", reverse("governance:action", args=[ctx.engagement.pk, a.pk]))]
        if a.kpi_code:
            evidence.append(Evidence("KPI page", _kpi_url(ctx.engagement, a.kpi_code)))
        items.append(
            AgendaItem(
                text=f"{a.title} ({a.owner.user.display_name}, {a.owner.organisation.name})",
                detail=f"{'overdue since' if overdue else 'due'} {a.due_date:%-d %b %Y}",
                url=evidence[0].url,
                flag="overdue" if overdue else "open",
                evidence=tuple(evidence),
            )
        )
    return items


def proposals_awaiting(ctx: AgendaContext) -> list[AgendaItem]:
    rows = AgreementVersion.objects.filter(
        engagement=ctx.engagement, status=AgreementVersion.Status.PROPOSED
    ).prefetch_related("signatures__organisation")
    items = []
    for v in rows:
        signed = sorted(s.organisation.name for s in v.signatures.all())
        url = reverse("kpis:version", args=[ctx.engagement.pk, v.pk])
        items.append(
            AgendaItem(
                text=f"Agreement version {v.number} awaits signatures",
                detail=f"signed by {', '.join(signed)}" if signed else "not signed yet",
                url=url,
                flag="proposal",
                evidence=(Evidence("Proposal", url),),
            )
        )
    return items


def business_changes(ctx: AgendaContext) -> list[AgendaItem]:
    qs = BusinessChange.objects.filter(engagement=ctx.engagement, date__lte=ctx.meeting_day)
    if ctx.since is not None:
        qs = qs.filter(date__gt=ctx.since)
    url = reverse("dashboards:changes", args=[ctx.engagement.pk])
    return [
        AgendaItem(
            text=f"{c.date:%-d %b %Y}: {c.title}",
            detail=c.get_kind_display(),
            url=url,
            flag="change",
            evidence=tuple(_kpi_evidence(ctx.engagement, code)[0] for code in c.kpi_codes) or (Evidence("Log", url),),
        )
        for c in qs.order_by("date", "id")
    ]


def feedback_open(ctx: AgendaContext) -> list[AgendaItem]:
    rows = FeedbackThread.objects.filter(
        engagement=ctx.engagement, resolved_at__isnull=True, created_at__lte=max(ctx.now, ctx.meeting.starts_at)
    ).order_by("created_at", "id")
    items = []
    for t in rows:
        url = reverse("governance:thread", args=[ctx.engagement.pk, t.pk])
        period = Period(cast(PeriodKind, t.period_kind), t.period_start)
        items.append(
            AgendaItem(
                text=t.title,
                detail=f"{t.kpi_code}, {period.label}",
                url=url,
                flag="feedback",
                evidence=(Evidence("Thread", url), Evidence("KPI page", _kpi_url(ctx.engagement, t.kpi_code))),
            )
        )
    return items


for _key, _title, _builder in (
    ("kpis", "KPIs missed or at risk", kpis_attention),
    ("milestones", "Milestones due before the next meeting", milestones_due),
    ("actions", "Open and overdue actions", actions_open),
    ("proposals", "Proposals awaiting a signature", proposals_awaiting),
    ("changes", "Business changes since the last meeting", business_changes),
    ("feedback", "Feedback threads still open", feedback_open),
):
    agenda_section_register(key=_key, title=_title, builder=_builder)


def agenda_build(*, meeting: Meeting, now: datetime, previous: Meeting | None, following: Meeting | None) -> Agenda:
    """The agenda as the data stands at ``now`` (reads only)."""
    engagement = meeting.engagement
    tz = zone(engagement.time_zone)
    meeting_day = meeting.starts_at.astimezone(tz).date()
    day = min(meeting_day, now.astimezone(tz).date())
    until = (
        following.starts_at.astimezone(tz).date()
        if following is not None
        else meeting_day + timedelta(days=CADENCE_DAYS.get(engagement.review_cadence, 31))
    )
    ctx = AgendaContext(
        meeting=meeting,
        engagement=engagement,
        now=now,
        day=day,
        meeting_day=meeting_day,
        since=previous.starts_at.astimezone(tz).date() if previous is not None else None,
        until=until,
        version=version_in_force(engagement=engagement, on=day),
    )
    sections = tuple(AgendaSection(key, title, tuple(builder(ctx))) for key, title, builder in AGENDA_SECTIONS)
    return Agenda(generated_at=now, as_of=day, until=until, sections=sections)
