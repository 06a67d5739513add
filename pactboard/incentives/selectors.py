"""Reads for incentives: the scheme in force, a period's figures, settlements, what-if, backtest, renewal.

Values come from the measurements room (monthly values of the scheme's KPIs); the scheme from the
agreed KPI version in force on the period's first day. Histories are read in one query whatever
their length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from pactboard.accounts.models import Membership
from pactboard.core.errors import PactboardError, not_found
from pactboard.core.periods import Period, periods_between
from pactboard.engagements.models import Engagement
from pactboard.incentives.calc import (
    Backtest,
    Correction,
    PeriodFigures,
    Recommendation,
    RenewalPeriod,
    SchemeTerms,
    Statement,
    renewal_recommend,
    scheme_from_json,
    settlement_backtest,
    settlement_compute,
)
from pactboard.incentives.calc.settlement import KpiValues
from pactboard.incentives.models import Settlement
from pactboard.incentives.statements import values_from_json
from pactboard.kpis.models import AgreementVersion
from pactboard.kpis.selectors import version_in_force, version_terms
from pactboard.measurements.models import Measurement
from pactboard.scoring import scorecard_compute

# How far back a settlement looks for chronic runs (the longest chronic window an agreement uses).
HISTORY_MONTHS = 24


def month_parse(label: str, *, location: str = "period") -> Period:
    """A settlement period: a calendar month such as 2026-10."""
    period = Period.parse(label, location=location)
    if period.kind != "month":
        raise PactboardError(f"Settlements are monthly: give a month such as 2026-10, not {label!r}.")
    return period


def scheme_terms(*, version: AgreementVersion) -> SchemeTerms | None:
    """The version's scheme read into the calc's terms (None: the version pays no incentives)."""
    return None if version.incentive_scheme is None else scheme_from_json(version.incentive_scheme)


def scheme_version_for(*, engagement: Engagement, period: Period) -> tuple[AgreementVersion, SchemeTerms]:
    """The agreed version in force on the period's first day and its scheme; refused when there is none."""
    version = version_in_force(engagement=engagement, on=period.start)
    if version is None:
        raise PactboardError(f"No agreed KPI set is in force in {period.label}: agree one first.", kind="conflict")
    terms = scheme_terms(version=version)
    if terms is None:
        raise PactboardError(
            f"Version {version.number}, in force in {period.label}, has no incentive scheme: agree one with the KPIs.",
            kind="conflict",
        )
    return version, terms


def fee_bases_for(*, engagement: Engagement, terms: SchemeTerms) -> dict[str, Decimal]:
    """The engagement's monthly fee, and the fee amounts the scheme states (which win on a shared name)."""
    return {"monthly_fee": engagement.monthly_fee, **terms.fee_bases}


def values_by_period(
    *, engagement: Engagement, codes: Sequence[str], periods: Sequence[Period]
) -> dict[str, dict[str, Decimal | None]]:
    """``{period label: {code: value or None}}`` for monthly values, in one query."""
    out: dict[str, dict[str, Decimal | None]] = {p.label: dict.fromkeys(codes) for p in periods}
    if not periods or not codes:
        return out
    labels = {p.start: p.label for p in periods}
    rows = Measurement.objects.filter(
        engagement=engagement,
        period_kind="month",
        kpi_code__in=list(codes),
        period_start__gte=min(labels),
        period_start__lte=max(labels),
    ).values_list("period_start", "kpi_code", "value")
    for start, code, value in rows:
        if start in labels:
            # As written ("88", not the column's "88.000000"), so explanations read like the contract.
            out[labels[start]][code] = value.normalize() if value is not None else None
    return out


@dataclass(frozen=True)
class SettlementInputs:
    version: AgreementVersion
    terms: SchemeTerms
    figures: PeriodFigures
    before: list[KpiValues]
    after: list[KpiValues]
    corrections: list[Correction]


def _first_month(engagement: Engagement, period: Period) -> Period:
    start = Period.containing("month", engagement.start_date)
    floor = period.shift(-HISTORY_MONTHS)
    return max(start, floor)


def _last_known_month(engagement: Engagement, codes: Sequence[str]) -> Period | None:
    latest = (
        Measurement.objects.filter(engagement=engagement, period_kind="month", kpi_code__in=list(codes))
        .order_by("-period_start")
        .values_list("period_start", flat=True)
        .first()
    )
    return None if latest is None else Period(kind="month", start=latest)


def settlement_inputs(*, engagement: Engagement, period: Period, exclude_id: int | None = None) -> SettlementInputs:
    """Everything the period's settlement is computed from, as the data stands now.

    ``after`` holds the later months up to the last one with any value (at most the earn-back
    periods): a month nobody has measured yet is not known, rather than missed.
    """
    version, terms = scheme_version_for(engagement=engagement, period=period)
    codes = terms.scheme.kpis()
    first = _first_month(engagement, period)
    last_known = _last_known_month(engagement, codes)
    wanted_after = terms.scheme.earn_back.periods if terms.scheme.earn_back is not None else 0
    after_periods = [period.shift(i) for i in range(1, wanted_after + 1)]
    after_periods = [p for p in after_periods if last_known is not None and p.start <= last_known.start]
    before_periods = periods_between("month", first, period.previous()) if first < period else []
    values = values_by_period(engagement=engagement, codes=codes, periods=[*before_periods, period, *after_periods])
    figures = PeriodFigures(
        period=period.label, values=values[period.label], fee_bases=fee_bases_for(engagement=engagement, terms=terms)
    )
    return SettlementInputs(
        version=version,
        terms=terms,
        figures=figures,
        before=[values[p.label] for p in before_periods],
        after=[values[p.label] for p in after_periods],
        corrections=corrections_for(engagement=engagement, period=period, exclude_id=exclude_id),
    )


def corrections_for(*, engagement: Engagement, period: Period, exclude_id: int | None = None) -> list[Correction]:
    """Earlier final settlements whose net changed since: each as one correction.

    A final month is recomputed with its own values as they stand now and the later months known
    now (so a credit pending earn-back becomes due or waived), with the neighbouring months before
    it and the fee amounts it was settled with. The settled net of a month is its final net plus
    the adjustments later final settlements already made for it, so each change is adjusted once.
    """
    query = Settlement.objects.filter(engagement=engagement, status=Settlement.Status.FINAL, period__lt=period.label)
    if exclude_id is not None:
        query = query.exclude(pk=exclude_id)
    finals = list(query.select_related("version").order_by("period"))
    if not finals:
        return []
    settled: dict[str, Decimal] = {s.period: s.net for s in finals}
    for s in finals:
        for c in s.inputs.get("corrections", []):
            if c["period"] in settled:
                settled[c["period"]] += Decimal(c["corrected_net"]) - Decimal(c["final_net"])
    codes: set[str] = set()
    terms_of: dict[int, SchemeTerms] = {}
    for s in finals:
        terms = scheme_terms(version=s.version)
        assert terms is not None  # a settlement is made only under a scheme
        terms_of[s.pk] = terms
        codes.update(terms.scheme.kpis())
    last_known = _last_known_month(engagement, sorted(codes))
    after_of: dict[int, list[Period]] = {}
    needed: set[Period] = set()
    for s in finals:
        month = month_parse(s.period)
        earn_back = terms_of[s.pk].scheme.earn_back
        wanted = [month.shift(i) for i in range(1, (earn_back.periods if earn_back else 0) + 1)]
        after_of[s.pk] = [p for p in wanted if last_known is not None and p.start <= last_known.start]
        needed.update([month, *after_of[s.pk]])
    current = values_by_period(engagement=engagement, codes=sorted(codes), periods=sorted(needed))
    out = []
    for s in finals:
        inputs = s.inputs
        stored = values_from_json(inputs["values"])
        now = {code: current[s.period].get(code) for code in stored}
        stored_after = [values_from_json(v) for v in inputs["after"]]
        now_after = [{code: current[p.label].get(code) for code in stored} for p in after_of[s.pk]]
        if now == stored and now_after == stored_after:
            continue
        recomputed = settlement_compute(
            scheme=terms_of[s.pk].scheme,
            figures=PeriodFigures(
                period=s.period, values=now, fee_bases={k: Decimal(v) for k, v in inputs["fee_bases"].items()}
            ),
            before=[values_from_json(v) for v in inputs["before"]],
            after=now_after,
        )
        if recomputed.net == settled[s.period]:
            continue
        why = [f"{c} {stored[c]} → {now[c]}" for c in stored if stored[c] != now[c]]
        was = {x["rule"]: x["earn_back"] for x in s.statement["lines"]}
        why += [
            f"{x.rule} earn-back {was[x.rule]} → {x.earn_back}"
            for x in recomputed.lines
            if x.rule in was and was[x.rule] != x.earn_back
        ]
        out.append(
            Correction(
                period=s.period,
                final_net=settled[s.period],
                corrected_net=recomputed.net,
                reason="; ".join(why) or "recomputed",
            )
        )
    return out


def settlement_recompute(*, inputs: SettlementInputs) -> Statement:
    return settlement_compute(
        scheme=inputs.terms.scheme,
        figures=inputs.figures,
        before=inputs.before,
        after=inputs.after,
        corrections=inputs.corrections,
    )


def settlement_list(*, engagement: Engagement) -> QuerySet[Settlement]:
    return (
        Settlement.objects.filter(engagement=engagement)
        .select_related("client_approved_by", "provider_approved_by")
        .order_by("-period")
    )


def settlement_get(*, membership: Membership | None, settlement_id: int) -> Settlement:
    settlement = (
        Settlement.objects.visible_to(membership)
        .select_related("engagement", "version", "client_approved_by", "provider_approved_by")
        .filter(pk=settlement_id)
        .first()
    )
    if settlement is None:
        raise not_found("No such settlement.")
    return settlement


def settlement_for_period(*, engagement: Engagement, period: str) -> Settlement | None:
    return settlement_list(engagement=engagement).filter(period=period).first()


def scheme_backtest(*, engagement: Engagement, terms: SchemeTerms, last: Period | None = None) -> Backtest:
    """What ``terms`` would have paid over the engagement's history, month by month (nothing stored)."""
    codes = terms.scheme.kpis()
    first = Period.containing("month", engagement.start_date)
    end = last or _last_known_month(engagement, codes)
    if end is None or end < first:
        return settlement_backtest(scheme=terms.scheme, history=[])
    periods = periods_between("month", first, end)
    values = values_by_period(engagement=engagement, codes=codes, periods=periods)
    fees = fee_bases_for(engagement=engagement, terms=terms)
    history = [PeriodFigures(period=p.label, values=values[p.label], fee_bases=fees) for p in periods]
    return settlement_backtest(scheme=terms.scheme, history=history)


def renewal_for(*, engagement: Engagement, on: date | None = None) -> Recommendation | None:
    """The renewal recommendation from the scheme's rule over the months before ``on`` (None: no rule agreed)."""
    today = on or timezone.localdate()
    version = version_in_force(engagement=engagement, on=today) or version_in_force(
        engagement=engagement, on=engagement.end_date
    )
    terms = scheme_terms(version=version) if version is not None else None
    if version is None or terms is None or terms.renewal is None:
        return None
    rule = terms.renewal
    last = Period.containing("month", today).previous()
    first = max(Period.containing("month", engagement.start_date), last.shift(1 - rule.window))
    if last < first:
        return renewal_recommend(rule=rule, history=[])
    kpi_terms = version_terms(version=version)
    periods = periods_between("month", first, last)
    values = values_by_period(engagement=engagement, codes=[t.code for t in kpi_terms], periods=periods)
    history = []
    for p in periods:
        card = scorecard_compute(terms=kpi_terms, values=values[p.label], period_last_day=p.last_day)
        missed: Mapping[str, bool | None] = {
            r.code: None if r.status == "no_data" else r.status == "missed" for r in card.results
        }
        history.append(RenewalPeriod(period=p.label, score=card.score, missed=missed))
    return renewal_recommend(rule=rule, history=history)
