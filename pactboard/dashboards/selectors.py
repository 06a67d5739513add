"""Reads for the portfolio, the engagement dashboard and the KPI page.

Each page costs a constant number of queries whatever the number of engagements, KPIs and
periods: the agreed versions, their KPIs and milestones, and the measurements are each read
once, then judged in Python by ``pactboard.scoring`` (pure), so every page shows the numbers
the scorecard API gives. docs/dashboards.md explains the choices.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from django.db.models import Count, Max, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from pactboard.accounts.models import Membership, Organisation
from pactboard.core.errors import PactboardError, not_found
from pactboard.core.periods import Period, PeriodKind, latest_closed_period, local_date, periods_between
from pactboard.engagements.models import BusinessChange, Engagement
from pactboard.engagements.selectors import business_change_list
from pactboard.kpis.models import AgreementVersion, Milestone, VersionKpi
from pactboard.kpis.selectors import kpi_terms
from pactboard.measurements.models import Measurement
from pactboard.scoring import (
    KpiResult,
    KpiTerms,
    Scorecard,
    Status,
    Trend,
    scorecard_compute,
    trend_direction,
    trend_is_better,
)

# When a version mixes period kinds, the page is organised by the most common one; ties go this way.
KIND_PREFERENCE: tuple[PeriodKind, ...] = ("month", "quarter", "week")
SPARK_PERIODS = 12
PORTFOLIO_TREND_PERIODS = 4  # the last period and the three before it (docs/scoring.md, trend arrow)
ATTENTION_STATUSES: tuple[Status, ...] = ("missed", "at_risk")


# --- agreed KPI sets ------------------------------------------------------------------------------


def kind_of(kpi: VersionKpi) -> PeriodKind:
    """A KPI's period kind (the model stores it as text limited to the same choices)."""
    return cast(PeriodKind, kpi.period)


@dataclass(frozen=True)
class AgreedSet:
    """An agreed version with its active KPIs (in agreed order) and their scoring terms."""

    version: AgreementVersion
    kpis: tuple[VersionKpi, ...]
    terms: dict[str, KpiTerms]

    @property
    def main_kind(self) -> PeriodKind:
        counts = Counter(k.period for k in self.kpis)
        if not counts:
            return "month"
        return max(KIND_PREFERENCE, key=lambda kind: (counts.get(kind, 0), -KIND_PREFERENCE.index(kind)))

    def kpi(self, code: str) -> VersionKpi | None:
        return next((k for k in self.kpis if k.code == code), None)


# An agreed version never changes (kpis.models refuses it), so its KPIs and terms are kept per process,
# keyed by the version and the hash both parties signed. Bounded; cleared by tests.
_AGREED_CACHE: OrderedDict[tuple[int, str], tuple[tuple[VersionKpi, ...], dict[str, KpiTerms]]] = OrderedDict()
_AGREED_CACHE_SIZE = 4096
_AGREED_LOCK = threading.Lock()


def agreed_cache_clear() -> None:
    with _AGREED_LOCK:
        _AGREED_CACHE.clear()


def agreed_sets(*, engagement_ids: Iterable[int]) -> dict[int, list[AgreedSet]]:
    """Every agreed version of the engagements with its active KPIs: one query, two more for versions not seen yet."""
    ids = list(engagement_ids)
    versions = list(
        AgreementVersion.objects.filter(engagement_id__in=ids, status=AgreementVersion.Status.AGREED).order_by(
            "engagement_id", "-effective_from", "-number"
        )
    )
    with _AGREED_LOCK:
        known = {key: _AGREED_CACHE[key] for key in ((v.pk, v.content_hash) for v in versions) if key in _AGREED_CACHE}
    missing = [v for v in versions if (v.pk, v.content_hash) not in known]
    if missing:
        kpis_by_version: dict[int, list[VersionKpi]] = defaultdict(list)
        for kpi in (
            VersionKpi.objects.filter(version__in=[v.pk for v in missing], active=True)
            .prefetch_related(Prefetch("milestones", queryset=Milestone.objects.order_by("date")))
            .order_by("position", "id")
        ):
            kpis_by_version[kpi.version_id].append(kpi)
        for v in missing:
            kpis = tuple(kpis_by_version.get(v.pk, []))
            known[(v.pk, v.content_hash)] = (kpis, {k.code: kpi_terms(k) for k in kpis})
        with _AGREED_LOCK:
            for v in missing:
                _AGREED_CACHE[(v.pk, v.content_hash)] = known[(v.pk, v.content_hash)]
            while len(_AGREED_CACHE) > _AGREED_CACHE_SIZE:
                _AGREED_CACHE.popitem(last=False)
    out: dict[int, list[AgreedSet]] = defaultdict(list)
    for v in versions:
        kpis, terms = known[(v.pk, v.content_hash)]
        out[v.engagement_id].append(AgreedSet(version=v, kpis=kpis, terms=terms))
    return out


def set_in_force(sets: Sequence[AgreedSet], on: date) -> AgreedSet | None:
    """The agreed set in force on a day: the rule of ``kpis.selectors.version_in_force``, on loaded versions."""
    live = [s for s in sets if s.version.effective_from is not None and s.version.effective_from <= on]
    if not live:
        return None
    return max(live, key=lambda s: (s.version.effective_from, s.version.number))


def local_today(engagement: Engagement, now: datetime | None = None) -> date:
    """Today in the engagement's time zone (periods are calendar days there)."""
    return local_date(now or timezone.now(), engagement.time_zone)


def closed_period(kind: PeriodKind, engagement: Engagement, now: datetime | None = None) -> Period | None:
    """The period pages show by default: the latest one that has ended, within the engagement's dates.

    A running period's values are partial (a month's first day of data can read 0 % or 100 %), so it
    never replaces the last complete one. None while the engagement's first period is still running.
    """
    latest = min(
        latest_closed_period(kind, now=now or timezone.now(), tz=engagement.time_zone),
        Period.containing(kind, engagement.end_date),
    )
    return latest if latest >= Period.containing(kind, engagement.start_date) else None


def display_period(kind: PeriodKind, anchor: Period) -> Period:
    """The period of ``kind`` shown beside ``anchor``: the latest one that has ended by the anchor's last day.

    A quarterly KPI next to the month 2026-05 shows 2026-Q1; next to 2026-06 it shows 2026-Q2.
    """
    if kind == anchor.kind:
        return anchor
    candidate = Period.containing(kind, anchor.last_day)
    return candidate if candidate.last_day == anchor.last_day else candidate.previous()


@dataclass(frozen=True)
class Value:
    value: Decimal | None  # None: undefined from the records in force ("no data")
    updated_at: datetime
    revision_count: int
    source: str


def _values(rows: Iterable[tuple[Any, ...]]) -> dict[tuple[str, str, date], Value]:
    return {
        (code, kind, start): Value(value, updated, revs, source)
        for code, kind, start, value, updated, revs, source in rows
    }


_VALUE_FIELDS = ("kpi_code", "period_kind", "period_start", "value", "updated_at", "revision_count", "source")


# --- live stamps ----------------------------------------------------------------------------------


def _stamp_text(*parts: object) -> str:
    """URL-safe: counts, ids and instants (as microseconds since the epoch) joined by dashes."""
    return "-".join(
        "0" if p is None else str(int(p.timestamp() * 1_000_000)) if isinstance(p, datetime) else str(p) for p in parts
    )


def engagement_stamp(*, engagement_id: int) -> str:
    """What changes when anything an engagement's pages show changes: one query, cheap enough to poll each second.

    Values (count and newest ``updated_at``: a new value, a correction, from any source or process),
    business changes and agreed versions.
    """
    measurements = Measurement.objects.filter(engagement_id=OuterRef("pk")).order_by().values("engagement_id")
    changes = BusinessChange.objects.filter(engagement_id=OuterRef("pk")).order_by().values("engagement_id")
    versions = (
        AgreementVersion.objects.filter(engagement_id=OuterRef("pk"), status=AgreementVersion.Status.AGREED)
        .order_by()
        .values("engagement_id")
    )
    row = (
        Engagement.objects.filter(pk=engagement_id)
        .annotate(
            m_n=Subquery(measurements.annotate(n=Count("id")).values("n")),
            m_at=Subquery(measurements.annotate(t=Max("updated_at")).values("t")),
            c_n=Subquery(changes.annotate(n=Count("id")).values("n")),
            c_at=Subquery(changes.annotate(t=Max("updated_at")).values("t")),
            v_id=Subquery(versions.annotate(m=Max("id")).values("m")),
        )
        .values_list("m_n", "m_at", "c_n", "c_at", "v_id")
        .first()
    )
    return _stamp_text(*(row or ()))


def portfolio_stamp(*, membership: Membership | None) -> str:
    """The portfolio's version: the visible engagements, their agreed versions and values (two queries)."""
    visible = Engagement.objects.visible_to(membership)
    engagements = visible.aggregate(
        n=Count("id", distinct=True),
        v=Max("versions__id", filter=Q(versions__status=AgreementVersion.Status.AGREED)),
        at=Max("updated_at"),
    )
    values = Measurement.objects.visible_to(membership).aggregate(n=Count("id"), at=Max("updated_at"))
    return _stamp_text(engagements["n"], engagements["v"], engagements["at"], values["n"], values["at"])


# --- engagement dashboard -------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiTile:
    """One KPI on the dashboard: its value for its period, judged; its last periods; its arrow."""

    kpi: VersionKpi
    period: Period
    result: KpiResult
    history: tuple[tuple[Period, Decimal | None], ...]
    trend: Trend | None
    trend_better: bool | None
    updated_at: datetime | None
    revision_count: int
    source: str
    in_score: bool


@dataclass(frozen=True)
class KindScore:
    """The scorecard of the KPIs of one period kind (the page's own kind, or another one beside it)."""

    kind: PeriodKind
    period: Period
    scorecard: Scorecard


@dataclass(frozen=True)
class EngagementDashboard:
    engagement: Engagement
    version: AgreementVersion | None
    period: Period | None
    periods: list[Period]
    tiles: list[KpiTile]
    scorecard: Scorecard | None
    other_scores: list[KindScore]
    last_arrival: datetime | None
    changes: list[BusinessChange]
    stamp: str
    period_error: str = ""
    in_progress: bool = False  # the period shown has not ended: its values are partial

    @property
    def attention(self) -> list[KpiTile]:
        return [t for t in self.tiles if t.result.status in ATTENTION_STATUSES]


def _current_period(kind: PeriodKind, engagement: Engagement, now: datetime | None = None) -> Period:
    """The period holding today, kept within the engagement's dates."""
    today = local_today(engagement, now)
    return Period.containing(kind, min(max(today, engagement.start_date), engagement.end_date))


def engagement_dashboard(
    *, membership: Membership | None, engagement: Engagement, period_label: str = "", now: datetime | None = None
) -> EngagementDashboard:
    """Tiles for every KPI of the version in force in the chosen period (default: the latest closed one)."""
    now = now or timezone.now()
    stamp = engagement_stamp(engagement_id=engagement.pk)
    summary: dict[str, dict[str, Any]] = {
        row["period_kind"]: dict(row)
        for row in Measurement.objects.filter(engagement=engagement)
        .values("period_kind")
        .annotate(last_period=Max("period_start"), last_update=Max("updated_at"))
        .order_by()
    }
    last_arrival = max((r["last_update"] for r in summary.values()), default=None)
    sets = agreed_sets(engagement_ids=[engagement.pk]).get(engagement.pk, [])
    changes = business_change_list(membership=membership, engagement=engagement)[:5]
    current = set_in_force(sets, local_today(engagement, now)) or (sets[0] if sets else None)
    if current is None:
        return EngagementDashboard(engagement, None, None, [], [], None, [], last_arrival, changes, stamp)

    kind = current.main_kind
    running = _current_period(kind, engagement, now)
    default = closed_period(kind, engagement, now) or running
    # The running period is offered (it is shown only when chosen); periods not yet begun are not.
    periods = periods_between(kind, Period.containing(kind, engagement.start_date), running)
    selected, error = default, ""
    if period_label:
        try:
            chosen = Period.parse(period_label, kind)
        except PactboardError as exc:
            error = exc.message
        else:
            if chosen.start > local_today(engagement, now):
                error = f"{chosen.label} has not started: there is nothing to show for it yet."
            else:
                selected = chosen
    agreed = set_in_force(sets, selected.start) or current

    display: dict[PeriodKind, Period] = {k: display_period(k, selected) for k in {kind_of(kpi) for kpi in agreed.kpis}}
    earliest = min(p.shift(1 - SPARK_PERIODS).start for p in display.values()) if display else selected.start
    stored = _values(
        Measurement.objects.filter(
            engagement=engagement,
            kpi_code__in=[k.code for k in agreed.kpis],
            period_start__gte=earliest,
            period_start__lte=selected.last_day,
        ).values_list(*_VALUE_FIELDS)
    )
    cards: dict[PeriodKind, Scorecard] = {}
    for k_kind, k_period in display.items():
        terms = [agreed.terms[k.code] for k in agreed.kpis if k.period == k_kind]
        values = {t.code: _value_of(stored, t.code, k_period) for t in terms}
        cards[k_kind] = scorecard_compute(terms=terms, values=values, period_last_day=k_period.last_day)

    tiles: list[KpiTile] = []
    for kpi in agreed.kpis:
        k_period = display[kind_of(kpi)]
        window = [k_period.shift(i) for i in range(1 - SPARK_PERIODS, 1)]
        history = tuple((p, _value_of(stored, kpi.code, p)) for p in window)
        result = cards[kind_of(kpi)].result(kpi.code)
        trend = trend_direction(values=[v for _, v in history], target=result.target)
        held = stored.get((kpi.code, k_period.kind, k_period.start))
        tiles.append(
            KpiTile(
                kpi=kpi,
                period=k_period,
                result=result,
                history=history,
                trend=trend,
                trend_better=trend_is_better(trend=trend, direction=kpi.direction),  # type: ignore[arg-type]
                updated_at=held.updated_at if held else None,
                revision_count=held.revision_count if held else 0,
                source=held.source if held else "",
                in_score=kpi.period == selected.kind,
            )
        )
    other = [
        KindScore(kind=k_kind, period=display[k_kind], scorecard=card)
        for k_kind, card in sorted(cards.items(), key=lambda item: KIND_PREFERENCE.index(item[0]))
        if k_kind != selected.kind
    ]
    return EngagementDashboard(
        engagement=engagement,
        version=agreed.version,
        period=selected,
        periods=periods,
        tiles=tiles,
        scorecard=cards.get(selected.kind),
        other_scores=other,
        last_arrival=last_arrival,
        changes=changes,
        stamp=stamp,
        period_error=error,
        in_progress=selected.end > local_today(engagement, now),
    )


def _value_of(stored: dict[tuple[str, str, date], Value], code: str, period: Period) -> Decimal | None:
    held = stored.get((code, period.kind, period.start))
    return held.value if held else None


# --- KPI page -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiPoint:
    """One period of a KPI: its value (if any) judged against the target in force then."""

    period: Period
    result: KpiResult
    updated_at: datetime | None
    revision_count: int
    source: str
    in_progress: bool = False  # the period has not ended: its value is partial


@dataclass(frozen=True)
class KpiSeries:
    engagement: Engagement
    kpi: VersionKpi
    version: AgreementVersion
    points: list[KpiPoint]
    changes: list[BusinessChange]
    stamp: str
    milestones: list[Milestone] = field(default_factory=list)

    @property
    def latest(self) -> KpiPoint | None:
        """The newest closed period with a value (a running period's partial value is not "latest")."""
        return next((p for p in reversed(self.points) if p.result.value is not None and not p.in_progress), None)

    @property
    def with_data(self) -> list[KpiPoint]:
        return [p for p in self.points if p.result.value is not None]

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(p.result.status for p in self.with_data)
        return {s: counted.get(s, 0) for s in ("exceeded", "met", "at_risk", "missed")}


def kpi_series(
    *, membership: Membership | None, engagement: Engagement, kpi_code: str, now: datetime | None = None
) -> KpiSeries:
    """Every period of one KPI from the engagement's start, each judged by the version in force then."""
    stamp = engagement_stamp(engagement_id=engagement.pk)
    sets = agreed_sets(engagement_ids=[engagement.pk]).get(engagement.pk, [])
    today = local_today(engagement, now)
    current = set_in_force(sets, today)
    shown = current if current is not None and current.kpi(kpi_code) else None
    if shown is None:
        # A KPI retired or not yet in force: its newest agreed definition.
        shown = next((s for s in sets if s.kpi(kpi_code)), None)
    if shown is None:
        raise not_found("No such KPI in this engagement's agreements.")
    kpi = shown.kpi(kpi_code)
    assert kpi is not None
    kind = kind_of(kpi)
    stored = _values(
        Measurement.objects.filter(engagement=engagement, kpi_code=kpi_code, period_kind=kind).values_list(
            *_VALUE_FIELDS
        )
    )
    # Up to the running period: a stored value for a later one (refused since) is not a reason to show it.
    last = _current_period(kind, engagement, now)
    points: list[KpiPoint] = []
    for period in periods_between(kind, Period.containing(kind, engagement.start_date), last):
        in_force = set_in_force(sets, period.start)
        terms = in_force.terms.get(kpi_code) if in_force else None
        terms = terms or shown.terms[kpi_code]
        held = stored.get((kpi_code, kind, period.start))
        card = scorecard_compute(
            terms=[terms], values={kpi_code: held.value if held else None}, period_last_day=period.last_day
        )
        points.append(
            KpiPoint(
                period=period,
                result=card.results[0],
                updated_at=held.updated_at if held else None,
                revision_count=held.revision_count if held else 0,
                source=held.source if held else "",
                in_progress=period.end > today,
            )
        )
    return KpiSeries(
        engagement=engagement,
        kpi=kpi,
        version=shown.version,
        points=points,
        changes=business_change_list(membership=membership, engagement=engagement, kpi_code=kpi_code),
        stamp=stamp,
        milestones=list(kpi.milestones.all()),
    )


# --- portfolio ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortfolioRow:
    engagement: Engagement
    counterparty: Organisation
    period: Period | None
    scorecard: Scorecard | None
    trend: Trend | None
    last_arrival: datetime | None
    kpi_count: int

    @property
    def status_score(self) -> Decimal | None:
        return self.scorecard.status_score if self.scorecard else None

    @property
    def score(self) -> Decimal | None:
        return self.scorecard.score if self.scorecard else None

    @property
    def coverage(self) -> Decimal | None:
        return self.scorecard.coverage if self.scorecard else None

    def count(self, status: str) -> int:
        return self.scorecard.counts.get(status, 0) if self.scorecard else 0  # type: ignore[call-overload]

    @property
    def missed(self) -> int:
        return self.count("missed")

    @property
    def at_risk(self) -> int:
        return self.count("at_risk")

    @property
    def met(self) -> int:
        return self.count("met") + self.count("exceeded")

    @property
    def no_data(self) -> int:
        return self.count("no_data")

    @property
    def trend_better(self) -> bool | None:
        return trend_is_better(trend=self.trend, direction="higher")

    @property
    def needs_attention(self) -> bool:
        return self.missed > 0 or self.at_risk > 0


SORT_KEYS: dict[str, str] = {
    "name": "Engagement",
    "counterparty": "Counterparty",
    "status_score": "Status score",
    "score": "Score",
    "missed": "Missed",
    "last_data": "Last data",
}


def _sort_value(row: PortfolioRow, key: str) -> Any:
    return {
        "name": row.engagement.name.lower(),
        "counterparty": row.counterparty.name.lower(),
        "status_score": row.status_score,
        "score": row.score,
        "missed": row.missed,
        "last_data": row.last_arrival,
    }[key]


def portfolio_sort(rows: list[PortfolioRow], sort: str) -> list[PortfolioRow]:
    """Rows sorted by a column (``-`` prefix: descending); rows without a value always go last."""
    key = sort.removeprefix("-")
    if key not in SORT_KEYS:
        key, sort = "name", "name"
    present = [r for r in rows if _sort_value(r, key) is not None]
    absent = [r for r in rows if _sort_value(r, key) is None]
    present.sort(key=lambda r: (_sort_value(r, key), r.engagement.name.lower()), reverse=sort.startswith("-"))
    return present + sorted(absent, key=lambda r: r.engagement.name.lower())


@dataclass(frozen=True)
class Portfolio:
    rows: list[PortfolioRow]
    total: int
    stamp: str
    side: str  # "client" or "provider": whose portfolio it is

    @property
    def counterparty_label(self) -> str:
        return "Provider" if self.side == "client" else "Client"


def portfolio(
    *,
    membership: Membership | None,
    q: str = "",
    status: str = "",
    attention: bool = False,
    sort: str = "name",
    now: datetime | None = None,
) -> Portfolio:
    """The actor's engagements side by side, each at its latest closed period (a constant number of queries)."""
    if membership is None:
        return Portfolio([], 0, "", "client")
    now = now or timezone.now()  # one reading for every row
    stamp = portfolio_stamp(membership=membership)
    org_id = membership.organisation_id
    side = "provider" if membership.organisation.is_provider else "client"
    qs = Engagement.objects.visible_to(membership).select_related("client", "provider")
    total = qs.count()
    if status:
        qs = qs.filter(status=status)
    if q.strip():
        text = q.strip()
        qs = qs.filter(Q(name__icontains=text) | Q(client__name__icontains=text) | Q(provider__name__icontains=text))
    engagements = list(qs.order_by("name"))
    ids = [e.pk for e in engagements]
    sets = agreed_sets(engagement_ids=ids)
    summary: dict[tuple[int, str], dict[str, Any]] = {
        (r["engagement_id"], r["period_kind"]): dict(r)
        for r in Measurement.objects.filter(engagement_id__in=ids)
        .values("engagement_id", "period_kind")
        .annotate(last_period=Max("period_start"), last_update=Max("updated_at"))
        .order_by()
    }
    plan: dict[int, tuple[AgreedSet, Period]] = {}
    for e in engagements:
        e_sets = sets.get(e.pk, [])
        current = set_in_force(e_sets, local_today(e, now)) or (e_sets[0] if e_sets else None)
        if current is None:
            continue
        kind = current.main_kind
        # Never a running period (its first values would hide the last complete one's misses); an
        # engagement without any value yet has nothing to judge.
        period = closed_period(kind, e, now)
        if period is None or summary.get((e.pk, kind)) is None:
            continue
        plan[e.pk] = (current, period)
    values_by_engagement = _portfolio_values(plan)
    rows: list[PortfolioRow] = []
    for e in engagements:
        counterparty = e.provider if e.client_id == org_id else e.client
        arrivals = [r["last_update"] for (eid, _), r in summary.items() if eid == e.pk]
        last_arrival = max(arrivals, default=None)
        if e.pk not in plan:
            e_sets = sets.get(e.pk, [])
            kpi_count = len(e_sets[0].kpis) if e_sets else 0
            rows.append(PortfolioRow(e, counterparty, None, None, None, last_arrival, kpi_count))
            continue
        current, period = plan[e.pk]
        e_values = values_by_engagement.get(e.pk, {})
        scores: list[Decimal | None] = []
        card: Scorecard | None = None
        for p in [period.shift(i) for i in range(1 - PORTFOLIO_TREND_PERIODS, 1)]:
            agreed = set_in_force(sets[e.pk], p.start)
            card = None
            if agreed is not None:
                terms = [agreed.terms[k.code] for k in agreed.kpis if k.period == p.kind]
                values = {t.code: e_values.get((t.code, p.start)) for t in terms}
                card = scorecard_compute(terms=terms, values=values, period_last_day=p.last_day)
            scores.append(card.status_score if card else None)
        kpi_count = len(current.kpis)
        trend = trend_direction(values=scores, target=Decimal(100))
        rows.append(PortfolioRow(e, counterparty, period, card, trend, last_arrival, kpi_count))
    if attention:
        rows = [r for r in rows if r.needs_attention]
    return Portfolio(rows=portfolio_sort(rows, sort), total=total, stamp=stamp, side=side)


def _portfolio_values(
    plan: dict[int, tuple[AgreedSet, Period]],
) -> dict[int, dict[tuple[str, date], Decimal | None]]:
    """Each planned engagement's values of its kind in the trend window ending at its period (one query).

    One range over all the engagements, then each keeps its own window: simpler for the database
    than one OR-ed condition per engagement, and portfolios have their latest data close together.
    """
    out: dict[int, dict[tuple[str, date], Decimal | None]] = defaultdict(dict)
    if not plan:
        return out
    windows = {
        eid: (period.kind, period.shift(1 - PORTFOLIO_TREND_PERIODS).start, period.start)
        for eid, (_, period) in plan.items()
    }
    rows = Measurement.objects.filter(
        engagement_id__in=list(windows),
        period_kind__in={kind for kind, _, _ in windows.values()},
        period_start__gte=min(first for _, first, _ in windows.values()),
        period_start__lte=max(last for _, _, last in windows.values()),
    ).values_list("engagement_id", "kpi_code", "period_kind", "period_start", "value")
    for eid, code, kind, start, value in rows:
        w_kind, first, last = windows[eid]
        if kind == w_kind and first <= start <= last:
            out[eid][(code, start)] = value
    return out
