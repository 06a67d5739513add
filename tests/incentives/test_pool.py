"""Pool allocation as outsourcing contracts write it: credit = A × B × the At-Risk Amount, capped at it.

Source: the Service Level Methodology of the Texas Department of Information Resources (DIR) Data
Center Services agreements, section "Service Level Credits" (as reproduced at
https://www.lawinsider.com/clause/service-level-credits), which reads:

  "For each Service Level Default, the Service Provider shall pay to DIR ... a Service Level Credit
  that will be computed in accordance with the following formula: A = The Allocation of the Pool
  Percentage specified for the Performance Category in which the Service Level Default occurred ...
  B = The Service Level Credit Allocation Percentage for which the Service Level Default occurred"
  and C the At-Risk Amount, with the worked example: "the Service Provider's Service Level Invoice
  Amount for the month in which the Service Level Default occurred was $100,000 and that the At Risk
  Amount is 10% of these charges. Additionally, assume that the Allocation of Pool Percentage for the
  Performance Category of such Critical Service Level is 50% and that its Service Level Credit
  Allocation Percentage is 40%." ... "= $2,000 (the amount of the Service Level Credit)".
  "2. ... if more than one Service Level Default has occurred in a single month, the sum of the
  corresponding Service Level Credits shall be credited to DIR. 3. In no event shall the amount of
  Service Level Credits credited to DIR with respect to all Service Level Defaults occurring in a
  single month exceed, in total, the At-Risk Amount."
  The same form elsewhere: "In no event may the sum of the Service Level Credit Allocation
  Percentages for all Critical Service Levels exceed the Pool Percentage Available for Allocation."

The first test is the source's own example; the other categories, service levels, allocations and
the 200 % pool percentage available are illustrative.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from pactboard.core.errors import PactboardError
from pactboard.incentives.calc import PerformanceCategory, PeriodFigures, Pool, PoolRule, Scheme, settlement_compute

D = Decimal
INVOICE = {"invoice": D("100000.00")}  # the source's Service Level Invoice Amount


def pool(available: str | None = "200") -> Pool:
    return Pool(
        at_risk_percent=D(10),
        base="invoice",
        pool_percent_available=None if available is None else D(available),
        categories=(
            PerformanceCategory(name="Availability", allocation_percent=D(50)),
            PerformanceCategory(name="Service Desk", allocation_percent=D(100)),
        ),
    )


def csl(code: str, category: str, b: str, level: str = "99.5") -> PoolRule:
    return PoolRule(
        code=code,
        kpi=code,
        direction="higher",
        level=D(level),
        category=category,
        credit_allocation_percent=D(b),
    )


RULES = (
    csl("CSL1", "Availability", "40"),  # 50 % × 40 % × 10,000 = 2,000
    csl("CSL2", "Availability", "60"),  # 50 % × 60 % × 10,000 = 3,000
    csl("CSL3", "Service Desk", "50"),  # 100 % × 50 % × 10,000 = 5,000
    csl("CSL4", "Service Desk", "30"),  # 100 % × 30 % × 10,000 = 3,000
)
MET, MISSED = D("99.9"), D("98.0")


def settle(values: dict[str, Decimal | None], rules: tuple[PoolRule, ...] = RULES) -> tuple:
    scheme = Scheme(currency="USD", pool=pool(), credit_rules=rules)
    statement = settlement_compute(
        scheme=scheme, figures=PeriodFigures(period="2026-04", values=values, fee_bases=INVOICE)
    )
    return statement, {line.rule: line.amount for line in statement.lines}


def test_the_sources_worked_example() -> None:
    # A = 50 %, B = 40 %, C = 10 % × $100,000 = $10,000: 0.5 × 0.4 × 10,000 = $2,000.
    statement, amounts = settle({"CSL1": MISSED}, rules=RULES[:1])
    assert amounts == {"CSL1": D("2000.00")}
    line = statement.line("CSL1")
    assert (line.allocation_percent, line.credit_allocation_percent, line.at_risk_amount) == (50, 40, D("10000.00"))
    assert statement.at_risk_amount == D("10000.00")
    assert statement.credits_due == D("2000.00")


def test_several_defaults_in_one_month_are_summed() -> None:
    # CSL1 and CSL3 missed: 2,000 + 5,000 = 7,000, under the 10,000 at risk.
    statement, amounts = settle({"CSL1": MISSED, "CSL2": MET, "CSL3": MISSED, "CSL4": MET})
    assert amounts == {"CSL1": D("2000.00"), "CSL2": 0, "CSL3": D("5000.00"), "CSL4": 0}
    assert statement.credits_due == D("7000.00")


def test_the_month_never_exceeds_the_at_risk_amount() -> None:
    # All four missed: 2,000 + 3,000 + 5,000 + 3,000 = 13,000 > 10,000 at risk. In rule order the first
    # three fill 10,000 exactly; CSL4 gets nothing.
    statement, amounts = settle({"CSL1": MISSED, "CSL2": MISSED, "CSL3": MISSED, "CSL4": MISSED})
    assert amounts == {"CSL1": D("2000.00"), "CSL2": D("3000.00"), "CSL3": D("5000.00"), "CSL4": 0}
    assert statement.credits_due == D("10000.00")
    capped = statement.line("CSL4")
    assert capped.computed == D("3000.00")
    assert capped.cap == D("10000.00")
    assert "at-risk amount 10000.00 reached" in capped.explanation[-1]


def test_allocations_beyond_100_percent_are_allowed_up_to_the_pool_available() -> None:
    # Category allocations 50 % + 100 % = 150 % of the pool and B sums to 180 %: both beyond 100 %,
    # as contracts allow; only the pool percentage available (200 %) bounds B's sum.
    Scheme(currency="USD", pool=pool("180"), credit_rules=RULES)
    with pytest.raises(PactboardError) as caught:
        Scheme(currency="USD", pool=pool("150"), credit_rules=RULES)
    detail = caught.value.details[0]
    assert detail.location == "pool.pool_percent_available"
    assert "180 %" in detail.message
    assert "150 %" in detail.message


def test_lower_is_better_levels_and_no_data() -> None:
    rule = PoolRule(
        code="MTTR", kpi="mttr_hours", direction="lower", level=D(4), category="Service Desk",
        credit_allocation_percent=D(10),
    )  # fmt: skip
    # 4 hours is at the level (met); 4.01 misses: 100 % × 10 % × 10,000 = 1,000.
    assert settle({"mttr_hours": D(4)}, rules=(rule,))[1] == {"MTTR": 0}
    assert settle({"mttr_hours": D("4.01")}, rules=(rule,))[1] == {"MTTR": D("1000.00")}
    statement, amounts = settle({}, rules=(rule,))
    assert amounts == {"MTTR": 0}
    assert "no value" in statement.line("MTTR").explanation[0]


def test_a_pool_rule_needs_a_pool_and_a_known_category() -> None:
    with pytest.raises(PactboardError) as caught:
        Scheme(currency="USD", credit_rules=[csl("X", "Availability", "10")])
    assert caught.value.details[0].location == "credit_rules[0]"
    with pytest.raises(PactboardError) as caught:
        Scheme(currency="USD", pool=pool(), credit_rules=[csl("X", "Network", "10")])
    assert caught.value.details[0].location == "credit_rules[0].category"


def test_the_invoice_amount_is_required() -> None:
    scheme = Scheme(currency="USD", pool=pool(), credit_rules=RULES)
    with pytest.raises(PactboardError) as caught:
        settlement_compute(scheme=scheme, figures=PeriodFigures(period="2026-04", values={}, fee_bases={}))
    assert caught.value.details[0].location == "fee_bases.invoice"
