"""What every dashboard page reads alike: agreed KPI sets (cached), the period shown, stored values."""

from __future__ import annotations

import functools
import threading
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model, Prefetch
from django.db.models.expressions import Col
from django.utils import timezone

from pactboard.core.periods import Period, PeriodKind, latest_closed_period, local_date
from pactboard.engagements.models import Engagement
from pactboard.kpis.models import AgreementVersion, Milestone, VersionKpi
from pactboard.kpis.selectors import kpi_terms
from pactboard.measurements.models import Measurement
from pactboard.measurements.outlook import AgreedKpis
from pactboard.scoring import (
    KpiTerms,
    Status,
)

# When a version mixes period kinds, the page is organised by the most common one; ties go this way.
KIND_PREFERENCE: tuple[PeriodKind, ...] = ("month", "quarter", "week")


SPARK_PERIODS = 12


PORTFOLIO_TREND_PERIODS = 4  # the last period and the three before it (docs/scoring.md, trend arrow)


ATTENTION_STATUSES: tuple[Status, ...] = ("missed", "at_risk")


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


def outlook_versions(sets: Sequence[AgreedSet]) -> list[AgreedKpis]:
    """The loaded agreed sets as the outlook builder takes them (``measurements.outlook.outlooks_build``)."""
    return [
        AgreedKpis(
            number=s.version.number,
            effective_from=s.version.effective_from,
            kpis={k.code: k for k in s.kpis},
            terms=s.terms,
        )
        for s in sets
        if s.version.effective_from is not None
    ]


def set_in_force(sets: Sequence[AgreedSet], on: date) -> AgreedSet | None:
    """The agreed set in force on a day: the rule of ``kpis.selectors.version_in_force``, on loaded versions."""
    live = [s for s in sets if s.version.effective_from is not None and s.version.effective_from <= on]
    if not live:
        return None
    return max(live, key=lambda s: (s.version.effective_from, s.version.number))


def now_or_clock(now: datetime | None = None) -> datetime:
    """``now`` if given, else the clock (one place, so every dashboard selector reads the same one)."""
    return now or timezone.now()


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
    updated_at: datetime | None  # None only where the reader was told it is not shown
    revision_count: int
    source: str


def _values(rows: Iterable[tuple[Any, ...]]) -> dict[tuple[str, str, date], Value]:
    return {
        (code, kind, start): Value(value, updated, revs, source)
        for code, kind, start, value, updated, revs, source in rows
    }


def concrete_field(model: type[Model], name: str) -> Field[Any, Any]:
    """A model's stored field by name (for statements written out: its column, its converters)."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or field.column is None:
        raise TypeError(f"{model.__name__}.{name} is not a stored column")
    return field


def quoted_column(model: type[Model], name: str) -> str:
    return connection.ops.quote_name(cast(str, concrete_field(model, name).column))


def quoted_table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@functools.cache
def _value_columns(vendor: str) -> tuple[str, list[Col]]:
    """The SELECT list of ``_VALUE_FIELDS`` and their columns (for their converters), per backend ``vendor``."""
    cols = [concrete_field(Measurement, name).get_col(Measurement._meta.db_table) for name in _VALUE_FIELDS]
    return ", ".join(quoted_column(Measurement, name) for name in _VALUE_FIELDS), cols


def _converters(col: Col) -> tuple[Col, list[Any]]:
    """A column's converters on this thread's connection, as the ORM applies them: the backend's, then the field's."""
    return col, connection.ops.get_db_converters(col) + col.get_db_converters(connection)


def _converted(raw: object, column: tuple[Col, list[Any]]) -> Any:
    col, converters = column
    for convert in converters:
        raw = convert(raw, col, connection)
    return raw


def values_read(
    *, engagement_id: int, codes: Sequence[str], shown: Collection[tuple[str, date]]
) -> dict[tuple[str, str, date], Value]:
    """The stored values of ``codes`` by (code, kind, start), as the ORM would give them, in one written-out statement.

    ``shown``: the (kind, start) of the periods whose change time a page prints; the others' ``updated_at``
    is left None. A dashboard reads every value of its KPIs (the outlooks need their whole history, 720
    rows for 20 KPIs and 3 years) and prints 20 change times: building the query through the ORM and
    converting every row's time cost more than the read (bench/README.md, "Where a cold dashboard's time goes").
    """
    if not codes:
        return {}
    select, cols = _value_columns(connection.vendor)
    engagement, code = quoted_column(Measurement, "engagement"), quoted_column(Measurement, "kpi_code")
    places = ", ".join(["%s"] * len(codes))
    # Identifiers from the model, quoted by the backend; every value a parameter.
    sql = f"SELECT {select} FROM {quoted_table(Measurement)} WHERE {engagement} = %s AND {code} IN ({places})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [engagement_id, *codes])
        rows = cursor.fetchall()
    by_name = dict(zip(_VALUE_FIELDS, cols, strict=True))
    start_column, value_column, updated_column = (
        _converters(by_name[name]) for name in ("period_start", "value", "updated_at")
    )
    starts: dict[object, date] = {}  # a few dozen distinct period starts among hundreds of rows
    out: dict[tuple[str, str, date], Value] = {}
    for kpi_code, kind, raw_start, raw_value, raw_updated, revisions, source in rows:
        start = starts.get(raw_start)
        if start is None:
            start = starts[raw_start] = _converted(raw_start, start_column)
        updated = _converted(raw_updated, updated_column) if (kind, start) in shown else None
        out[(kpi_code, kind, start)] = Value(_converted(raw_value, value_column), updated, revisions, source)
    return out


_VALUE_FIELDS = ("kpi_code", "period_kind", "period_start", "value", "updated_at", "revision_count", "source")


def _current_period(kind: PeriodKind, engagement: Engagement, now: datetime | None = None) -> Period:
    """The period holding today, kept within the engagement's dates."""
    today = local_today(engagement, now)
    return Period.containing(kind, min(max(today, engagement.start_date), engagement.end_date))


def _value_of(stored: dict[tuple[str, str, date], Value], code: str, period: Period) -> Decimal | None:
    held = stored.get((code, period.kind, period.start))
    return held.value if held else None
