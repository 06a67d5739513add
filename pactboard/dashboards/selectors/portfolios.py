"""The portfolio: every engagement of the actor's organisation side by side."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Q
from django.utils import timezone

from pactboard.accounts.models import Membership, Organisation
from pactboard.core.periods import Period
from pactboard.dashboards.pagecache import page_cache_get_many, page_cache_set_many, page_key
from pactboard.dashboards.selectors.common import (
    PORTFOLIO_TREND_PERIODS,
    AgreedSet,
    agreed_sets,
    closed_period,
    local_today,
    set_in_force,
)
from pactboard.dashboards.selectors.stamps import portfolio_stamp_text
from pactboard.engagements.models import Engagement
from pactboard.measurements.models import Measurement
from pactboard.scoring import (
    Scorecard,
    Trend,
    scorecard_compute,
    trend_direction,
    trend_is_better,
)


@dataclass(frozen=True)
class PortfolioRow:
    engagement: Engagement
    counterparty: Organisation
    period: Period | None
    scorecard: Scorecard | None
    trend: Trend | None
    last_arrival: datetime | None
    kpi_count: int
    # The page cache's key of this row's computed data (empty: not cached); the view keys its HTML on it.
    cache_key: str = ""

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
    stamp: str | None = None,
) -> Portfolio:
    """The actor's engagements side by side, each at its latest closed period (a constant number of queries).

    Each engagement's row (period, scorecard, trend) is cached (``dashboards.pagecache``) on what it is
    computed from: the engagement's values (their number and newest change, per period kind), its agreed
    versions, its dates and zone, and the day there. ``stamp``: the portfolio's stamp if just read (else
    built from the rows read here; equal to ``portfolio_stamp``).
    """
    if membership is None:
        return Portfolio([], 0, "", "client")
    now = now or timezone.now()  # one reading for every row
    org_id = membership.organisation_id
    side = "provider" if membership.organisation.is_provider else "client"
    visible = Engagement.objects.visible_to(membership).select_related("client", "provider")
    every = list(visible.order_by("name"))
    engagements = every
    if status or q.strip():
        qs = visible
        if status:
            qs = qs.filter(status=status)
        if q.strip():
            text = q.strip()
            qs = qs.filter(
                Q(name__icontains=text) | Q(client__name__icontains=text) | Q(provider__name__icontains=text)
            )
        wanted = set(qs.values_list("pk", flat=True))
        engagements = [e for e in every if e.pk in wanted]
    # Versions and value summaries of every visible engagement (not only the filtered ones): the
    # stamp is built from them, saving the two queries of ``portfolio_stamp``.
    every_ids = [e.pk for e in every]
    sets = agreed_sets(engagement_ids=every_ids)
    summary: dict[tuple[int, str], dict[str, Any]] = {
        (r["engagement_id"], r["period_kind"]): dict(r)
        for r in Measurement.objects.filter(engagement_id__in=every_ids)
        .values("engagement_id", "period_kind")
        .annotate(n=Count("id"), last_period=Max("period_start"), last_update=Max("updated_at"))
        .order_by()
    }
    if stamp is None:
        stamp = portfolio_stamp_text(
            engagements=len(every),
            newest_agreed=max((s.version.pk for e_sets in sets.values() for s in e_sets), default=None),
            agreed=sum(len(e_sets) for e_sets in sets.values()),
            engagements_at=max((e.updated_at for e in every), default=None),
            values=sum(r["n"] for r in summary.values()),
            values_at=max((r["last_update"] for r in summary.values()), default=None),
        )
    total = len(every)
    by_engagement: dict[int, list[tuple[str, int, date, datetime]]] = defaultdict(list)
    for (eid, kind), r in sorted(summary.items()):
        by_engagement[eid].append((kind, r["n"], r["last_period"], r["last_update"]))
    keys = {e.pk: _row_key(e, org_id, now, by_engagement.get(e.pk, []), sets.get(e.pk, [])) for e in engagements}
    held: dict[str, _RowData] = page_cache_get_many(list(keys.values()))
    plan: dict[int, tuple[AgreedSet, Period]] = {}
    for e in engagements:
        if keys[e.pk] in held:
            continue
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
    fresh: dict[str, _RowData] = {}
    rows: list[PortfolioRow] = []
    for e in engagements:
        counterparty = e.provider if e.client_id == org_id else e.client
        last_arrival = max((at for _, _, _, at in by_engagement.get(e.pk, [])), default=None)
        data = held.get(keys[e.pk])
        if data is None:
            data = fresh[keys[e.pk]] = _row_data(e, sets.get(e.pk, []), plan.get(e.pk), values_by_engagement)
        rows.append(
            PortfolioRow(
                e, counterparty, data.period, data.scorecard, data.trend, last_arrival, data.kpi_count, keys[e.pk]
            )
        )
    page_cache_set_many(fresh)
    if attention:
        rows = [r for r in rows if r.needs_attention]
    return Portfolio(rows=portfolio_sort(rows, sort), total=total, stamp=stamp, side=side)


@dataclass(frozen=True)
class _RowData:
    """What a portfolio row computes: cached per engagement."""

    period: Period | None
    scorecard: Scorecard | None
    trend: Trend | None
    kpi_count: int


def _row_key(
    e: Engagement,
    org_id: int,
    now: datetime,
    values: list[tuple[str, int, date, datetime]],
    e_sets: list[AgreedSet],
) -> str:
    return page_key(
        "portfolio-row",
        e.pk,
        org_id,
        (e.updated_at, e.time_zone, e.start_date, e.end_date),
        local_today(e, now),
        tuple(values),
        tuple((s.version.pk, s.version.content_hash, s.version.number, s.version.effective_from) for s in e_sets),
    )


def _row_data(
    e: Engagement,
    e_sets: list[AgreedSet],
    planned: tuple[AgreedSet, Period] | None,
    values_by_engagement: dict[int, dict[tuple[str, date], Decimal | None]],
) -> _RowData:
    if planned is None:
        return _RowData(None, None, None, len(e_sets[0].kpis) if e_sets else 0)
    current, period = planned
    e_values = values_by_engagement.get(e.pk, {})
    scores: list[Decimal | None] = []
    card: Scorecard | None = None
    for p in [period.shift(i) for i in range(1 - PORTFOLIO_TREND_PERIODS, 1)]:
        agreed = set_in_force(e_sets, p.start)
        card = None
        if agreed is not None:
            terms = [agreed.terms[k.code] for k in agreed.kpis if k.period == p.kind]
            values = {t.code: e_values.get((t.code, p.start)) for t in terms}
            card = scorecard_compute(terms=terms, values=values, period_last_day=p.last_day)
        scores.append(card.status_score if card else None)
    trend = trend_direction(values=scores, target=Decimal(100))
    return _RowData(period, card, trend, len(current.kpis))


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
