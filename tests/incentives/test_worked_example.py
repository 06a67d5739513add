"""The worked example of docs/incentives.md, number for number (illustrative terms, worked by hand there)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pactboard.core.periods import Period
from pactboard.incentives.calc import (
    Band,
    BandRule,
    BonusRule,
    EarnBack,
    Interval,
    PercentOf,
    PerformanceCategory,
    PeriodFigures,
    Pool,
    PoolRule,
    Scheme,
    availability_compute,
    settlement_compute,
)
from tests.incentives.tables import at_least, less_than

D = Decimal


def scheme() -> Scheme:
    fee = "monthly_fee"
    return Scheme(
        code="northwind-desk",
        currency="EUR",
        credit_rules=[
            BandRule(
                code="uptime",
                kpi="uptime",
                bands=(
                    Band(lower=at_least("99.9")),
                    Band(lower=at_least("99.0"), upper=less_than("99.9"), amount=PercentOf(percent=D(5), base=fee)),
                    Band(upper=less_than("99.0"), amount=PercentOf(percent=D(10), base=fee)),
                ),
            ),
            PoolRule(
                code="fcr",
                kpi="fcr",
                direction="higher",
                level=D(80),
                category="Service Desk",
                credit_allocation_percent=D(30),
                earn_back=False,
            ),
            PoolRule(
                code="p1-response",
                kpi="p1_minutes",
                direction="lower",
                level=D(30),
                category="Service Desk",
                credit_allocation_percent=D(20),
            ),
        ],
        pool=Pool(
            at_risk_percent=D(12),
            base="invoice",
            pool_percent_available=D(200),
            categories=(
                PerformanceCategory(name="Availability", allocation_percent=D(50)),
                PerformanceCategory(name="Service Desk", allocation_percent=D(100)),
            ),
        ),
        credit_cap=PercentOf(percent=D(10), base=fee),
        credit_minimum=D(50),
        bonus_rules=[
            BonusRule(
                code="csat-bonus",
                kpi="csat",
                bands=(
                    Band(upper=less_than("4.5")),
                    Band(lower=at_least("4.5"), amount=PercentOf(percent=D(1), base=fee)),
                ),
            )
        ],
        bonus_cap=PercentOf(percent=D(2), base=fee),
        earn_back=EarnBack(periods=3, chronic_misses=3, chronic_window=6),
    )


def test_the_worked_example() -> None:
    start, end = Period("month", date(2026, 4, 1)).bounds("Europe/Berlin")
    day = start + timedelta(days=9, hours=14)
    outages = [
        Interval(start=day, end=day + timedelta(minutes=45)),
        Interval(start=day + timedelta(minutes=40), end=day + timedelta(minutes=60)),  # overlaps: one hour in all
    ]
    uptime = availability_compute(start=start, end=end, outages=outages)
    assert (uptime.period_minutes, uptime.downtime_minutes) == (43_200, 60)
    assert uptime.percent.quantize(D("0.0001")) == D("99.8611")  # 43,140 / 43,200
    figures = PeriodFigures(
        period="2026-04",
        values={"uptime": uptime.percent, "fcr": D(76), "p1_minutes": D(28), "csat": D("4.6")},
        fee_bases={"monthly_fee": D(20_000), "invoice": D(20_000)},
    )
    statement = settlement_compute(scheme=scheme(), figures=figures)
    amounts = {line.rule: (line.amount, line.earn_back) for line in statement.lines}
    assert amounts == {
        "uptime": (D("1000.00"), "pending"),
        "fcr": (D("720.00"), "due"),
        "p1-response": (D(0), "none"),
        "csat-bonus": (D("200.00"), "none"),
    }
    assert (statement.at_risk_amount, statement.credit_cap, statement.bonus_cap) == (
        D("2400.00"), D("2000.00"), D("400.00"),
    )  # fmt: skip
    assert (statement.credits_assessed, statement.credits_due, statement.credits_pending) == (
        D("1720.00"), D("720.00"), D("1000.00"),
    )  # fmt: skip
    assert (statement.bonuses, statement.net) == (D("200.00"), D("-520.00"))
    # Three months met after it: the uptime credit is waived.
    met = {"uptime": D(100), "fcr": D(85), "p1_minutes": D(20), "csat": D(4)}
    later = settlement_compute(scheme=scheme(), figures=figures, after=[met, met, met])
    assert later.line("uptime").earn_back == "waived"
    assert (later.credits_due, later.credits_waived, later.net) == (D("720.00"), D("1000.00"), D("-520.00"))
    # One of them misses instead: the credit is due and April's net is 200 − 1,720 = −1,520.
    missed = {**met, "uptime": D("99.5")}
    due = settlement_compute(scheme=scheme(), figures=figures, after=[met, missed])
    assert (due.line("uptime").earn_back, due.net) == ("due", D("-1520.00"))
