"""A period's settlement: minimum, exclusive groups, caps, critical levels, earn-back, bonuses, rounding, adjustments.

Unless a test cites a source, its terms and amounts are illustrative; every expected amount is
worked out by hand in the comment beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, localcontext

import pytest

from pactboard.core.errors import PactboardError
from pactboard.incentives.calc import (
    Band,
    BandRule,
    BonusRule,
    Correction,
    EarnBack,
    Fixed,
    PercentOf,
    PeriodFigures,
    Scheme,
    correction_between,
    settlement_backtest,
    settlement_compute,
    settlement_what_if,
)
from tests.incentives.tables import at_least, aws_compute_rule, less_than

D = Decimal


def figures(values: Mapping[str, Decimal | None], **bases: str) -> PeriodFigures:
    return PeriodFigures(period="2026-04", values=values, fee_bases={k: D(v) for k, v in bases.items()})


# --- minimum credit -----------------------------------------------------------------------------
# AWS: "A Service Credit will be applicable and issued only if the credit amount for the applicable
# monthly billing cycle is greater than one dollar ($1 USD)" (tests/incentives/tables.py). An uptime
# of 99.5 % is in the 10 % band; the amount compared is the line's amount in cents.
@pytest.mark.parametrize(
    ("charges", "credit"),
    [
        ("10.00", "0"),  # 10 % = 1.00: not greater than $1 → none
        ("10.04", "0"),  # 1.004 → 1.00 → none
        ("10.05", "1.01"),  # 1.005 → 1.01 (half-up) → greater than $1 → issued
        ("25.00", "2.50"),
    ],
)
def test_aws_one_dollar_minimum(charges: str, credit: str) -> None:
    scheme = Scheme(currency="USD", credit_rules=[aws_compute_rule()], credit_minimum=D(1))
    statement = settlement_compute(scheme=scheme, figures=figures({"uptime": D("99.5")}, monthly_charges=charges))
    assert statement.credits_due == D(credit)
    assert statement.line("ec2-region").minimum == D(1)


# --- exclusive groups and the monthly cap --------------------------------------------------------
def desk_rules(group: str | None) -> list[BandRule]:
    return [
        BandRule(
            code="desk-availability", kpi="availability", exclusive_group=group,
            bands=(
                Band(lower=at_least("99.5")),
                Band(upper=less_than("99.5"), amount=PercentOf(percent=D(10), base="fee")),
            ),
        ),
        BandRule(
            code="desk-resolution", kpi="resolved_in_4h", exclusive_group=group,
            bands=(Band(lower=at_least("90")), Band(upper=less_than("90"), amount=Fixed(amount=D(500)))),
        ),
    ]  # fmt: skip


def test_exclusive_group_pays_only_the_largest_credit() -> None:
    # Fee 3,000: availability 99 % → 10 % = 300; resolution 80 % → fixed 500. Same service, one group:
    # only 500 is paid, never 800.
    values = {"availability": D(99), "resolved_in_4h": D(80)}
    statement = settlement_compute(
        scheme=Scheme(currency="EUR", credit_rules=desk_rules("desk")), figures=figures(values, fee="3000")
    )
    assert statement.line("desk-resolution").amount == D(500)
    assert statement.line("desk-availability").amount == 0
    assert statement.line("desk-availability").computed == D(300)
    assert "only the largest is paid (desk-resolution: 500.00)" in statement.line("desk-availability").explanation[-1]
    assert statement.credits_due == D(500)
    apart = settlement_compute(
        scheme=Scheme(currency="EUR", credit_rules=desk_rules(None)), figures=figures(values, fee="3000")
    )
    assert apart.credits_due == D(800)


def test_monthly_cap_is_filled_in_rule_order() -> None:
    # Fee 3,000, cap 12 % = 360. Credits 300 then 500: the first fits (room 60 left), the second gets 60.
    scheme = Scheme(currency="EUR", credit_rules=desk_rules(None), credit_cap=PercentOf(percent=D(12), base="fee"))
    statement = settlement_compute(
        scheme=scheme, figures=figures({"availability": D(99), "resolved_in_4h": D(80)}, fee="3000")
    )
    assert (statement.line("desk-availability").amount, statement.line("desk-resolution").amount) == (300, 60)
    assert statement.credit_cap == D("360.00")
    assert statement.credits_due == D("360.00")


# --- critical service levels ---------------------------------------------------------------------
def test_a_critical_miss_opens_an_action_even_when_no_credit_is_paid() -> None:
    rule = aws_compute_rule(critical=True)
    scheme = Scheme(currency="USD", credit_rules=[rule], credit_minimum=D(1000))
    missed = settlement_compute(scheme=scheme, figures=figures({"uptime": D("99.5")}, monthly_charges="100"))
    assert missed.credits_due == 0  # 10 % of 100 = 10, under the minimum
    assert [(a.rule, a.kpi, a.period) for a in missed.actions] == [("ec2-region", "uptime", "2026-04")]
    met = settlement_compute(scheme=scheme, figures=figures({"uptime": D("99.99")}, monthly_charges="100"))
    assert met.actions == ()


# --- earn-back -----------------------------------------------------------------------------------
# Earn-back over the next 3 periods; 3 misses within 6 periods is a chronic run. Charges 1,000 at
# 99.5 % uptime: 10 % = 100.00 credit.
EARN_BACK = EarnBack(periods=3, chronic_misses=3, chronic_window=6)
MISS, MET = {"uptime": D("99.5")}, {"uptime": D("99.995")}


def earn_back_statement(before: list[dict], after: list[dict]) -> tuple[str, Decimal, Decimal, Decimal]:
    scheme = Scheme(currency="USD", credit_rules=[aws_compute_rule()], earn_back=EARN_BACK)
    statement = settlement_compute(
        scheme=scheme, figures=figures(MISS, monthly_charges="1000"), before=before, after=after
    )
    return (
        statement.line("ec2-region").earn_back,
        statement.credits_due,
        statement.credits_pending,
        statement.credits_waived,
    )


@pytest.mark.parametrize(
    ("before", "after", "status"),
    [
        ([], [], "pending"),
        ([], [MET, MET], "pending"),  # 2 of 3 periods met so far
        ([], [MET, MET, MET], "waived"),
        ([], [MET, MET, MET, MISS], "waived"),  # only the next 3 count
        ([], [MET, MISS], "due"),
        ([], [MET, {"uptime": None}], "due"),  # no value: not earned back
        ([MISS, MET, MET, MET, MISS], [MET, MET, MET], "due"),  # 2 earlier misses + this one within 6: chronic
        ([MISS, MET, MET, MET, MET, MISS], [MET, MET, MET], "waived"),  # the first miss is 6 back: outside the window
    ],
)
def test_earn_back(before: list[dict], after: list[dict], status: str) -> None:
    found, due, pending, waived = earn_back_statement(before, after)
    assert found == status
    assert (due, pending, waived) == {
        "pending": (0, D(100), 0),
        "waived": (0, 0, D(100)),
        "due": (D(100), 0, 0),
    }[status]


# --- bonuses and net -----------------------------------------------------------------------------
def test_bonus_bands_cap_and_net() -> None:
    # CSAT ≥ 95 → 5 % of the 10,000 fee = 500; bonus cap 3 % = 300. Availability 99 % → 10 % = 1,000 credit.
    # Net = 300 − 1,000 = −700.
    bonus = BonusRule(
        code="csat-bonus", kpi="csat",
        bands=(
            Band(upper=less_than("90")),
            Band(lower=at_least("90"), upper=less_than("95"), amount=PercentOf(percent=D(2), base="fee")),
            Band(lower=at_least("95"), amount=PercentOf(percent=D(5), base="fee")),
        ),
    )  # fmt: skip
    scheme = Scheme(
        currency="EUR",
        credit_rules=desk_rules(None)[:1],
        bonus_rules=[bonus],
        bonus_cap=PercentOf(percent=D(3), base="fee"),
    )
    statement = settlement_compute(scheme=scheme, figures=figures({"csat": D(96), "availability": D(99)}, fee="10000"))
    assert statement.line("csat-bonus").computed == D("500.00")
    assert statement.bonuses == D("300.00")
    assert statement.credits_due == D("1000.00")
    assert statement.net == D("-700.00")


# --- rounding ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("currency", "rounding", "fee", "credit"),
    [
        ("EUR", "half_up", "1.25", "0.13"),  # 10 % = 0.125
        ("EUR", "half_even", "1.25", "0.12"),
        ("EUR", "down", "1.29", "0.12"),  # 0.129
        ("JPY", "half_up", "12345", "1235"),  # 1,234.5 → yen have no minor unit
        ("JPY", "half_even", "12345", "1234"),
        ("KWD", "half_up", "1.2345", "0.123"),  # 0.12345 → 3 digits: 0.123
    ],
)
def test_each_line_is_rounded_once_to_the_minor_unit(currency: str, rounding: str, fee: str, credit: str) -> None:
    scheme = Scheme(currency=currency, credit_rules=[aws_compute_rule()], rounding=rounding)  # type: ignore[arg-type]
    statement = settlement_compute(scheme=scheme, figures=figures({"uptime": D("99.5")}, monthly_charges=fee))
    assert statement.credits_due == D(credit)
    assert str(statement.credits_due) == credit


# --- corrections after final ---------------------------------------------------------------------
def test_a_correction_after_final_becomes_one_adjustment_line() -> None:
    scheme = Scheme(currency="USD", credit_rules=[aws_compute_rule()])
    march = PeriodFigures(period="2026-03", values={"uptime": D("99.5")}, fee_bases={"monthly_charges": D("1234.56")})
    final = settlement_compute(scheme=scheme, figures=march)  # 10 % → −123.46 net
    corrected = settlement_compute(
        scheme=scheme, figures=PeriodFigures(**{**march.__dict__, "values": {"uptime": D(98)}})
    )
    correction = correction_between(final=final, corrected=corrected, reason="late incident records")
    # Corrected: 30 % → −370.37. Adjustment −370.37 − (−123.46) = −246.91.
    april = settlement_compute(
        scheme=scheme, figures=figures({"uptime": D(100)}, monthly_charges="1234.56"), corrections=[correction]
    )
    adjustments = [line for line in april.lines if line.kind == "adjustment"]
    assert [(a.rule, a.amount) for a in adjustments] == [("adjustment:2026-03", D("-246.91"))]
    assert (april.net, april.adjustments, april.payable) == (0, D("-246.91"), D("-246.91"))


def test_corrections_are_refused_when_ambiguous() -> None:
    scheme = Scheme(currency="USD", credit_rules=[aws_compute_rule()])
    twice = [Correction(period="2026-03", final_net=D(0), corrected_net=D(-1))] * 2
    with pytest.raises(PactboardError) as caught:
        settlement_compute(scheme=scheme, figures=figures({}, monthly_charges="1"), corrections=twice)
    assert caught.value.details[0].location == "corrections[1].period"
    with pytest.raises(PactboardError) as caught:
        settlement_compute(
            scheme=scheme,
            figures=figures({}, monthly_charges="1"),
            corrections=[Correction(period="2026-03", final_net=D("0.001"), corrected_net=D(0))],
        )
    assert caught.value.details[0].location == "corrections[0].final_net"


# --- what-if and backtest ------------------------------------------------------------------------
def test_what_if_recomputes_with_changed_values() -> None:
    scheme = Scheme(currency="USD", credit_rules=[aws_compute_rule()])
    base = figures({"uptime": D("99.995")}, monthly_charges="1234.56")
    result = settlement_what_if(scheme=scheme, figures=base, changes={"uptime": D(98)})
    # 99.995 → no credit; 98 → 30 % = 370.37: net falls by 370.37.
    assert (result.actual.net, result.changed.net, result.net_change) == (0, D("-370.37"), D("-370.37"))
    assert base.values["uptime"] == D("99.995")  # the input is not changed
    with pytest.raises(PactboardError) as caught:
        settlement_what_if(scheme=scheme, figures=base, changes={"csat": D(1)})
    assert caught.value.details[0].location == "changes.csat"


def test_backtest_settles_each_period_with_the_history_around_it() -> None:
    # Charges 1,000 each month; earn-back over 2 periods, no chronic rule.
    # Jan 99.5 % → 100 credit, then Feb and Mar met → waived. Apr 98 % → 300, May met, Jun 99 % → due.
    # Jun 99 % → 100, nothing after it → pending. Due 300, pending 100, waived 100, net −300.
    scheme = Scheme(currency="USD", credit_rules=[aws_compute_rule()], earn_back=EarnBack(periods=2))
    uptimes = ["99.5", "100", "100", "98", "100", "99"]
    history = [
        PeriodFigures(period=f"2026-0{i + 1}", values={"uptime": D(u)}, fee_bases={"monthly_charges": D(1000)})
        for i, u in enumerate(uptimes)
    ]
    result = settlement_backtest(scheme=scheme, history=history)
    assert [s.line("ec2-region").earn_back for s in result.statements] == [
        "waived", "none", "none", "due", "none", "pending",
    ]  # fmt: skip
    assert (result.credits_due, result.credits_pending, result.credits_waived, result.net) == (
        D(300), D(100), D(100), D(-300),
    )  # fmt: skip
    with pytest.raises(PactboardError):
        settlement_backtest(scheme=scheme, history=[history[0], history[0]])


# --- scheme terms --------------------------------------------------------------------------------
def test_inconsistent_schemes_are_refused_with_every_problem() -> None:
    # Both bands include 99 (the second's upper edge is inclusive): an overlap at 99.
    broken_bands = (Band(lower=at_least("99")), Band(upper=at_least("99"), amount=Fixed(amount=D(1))))
    with pytest.raises(PactboardError) as caught:
        Scheme(
            currency="XYZ",
            rounding="bankers",  # type: ignore[arg-type]
            credit_rules=[
                BandRule(code="a", kpi="k", bands=broken_bands),
                BandRule(code="a", kpi="", bands=broken_bands[:1], minimum=D(-1)),
            ],
            credit_cap=Fixed(amount=D(-5)),
            earn_back=EarnBack(periods=0, chronic_misses=4, chronic_window=3),
        )
    locations = {d.location for d in caught.value.details}
    assert locations == {
        "currency",
        "rounding",
        "credit_cap.amount",
        "credit_rules[0].bands[1].upper",
        "credit_rules[1].code",
        "credit_rules[1].kpi",
        "credit_rules[1].bands[0].lower",  # one band from 99 up leaves values below 99 without a band
        "credit_rules[1].minimum",
        "earn_back.periods",
        "earn_back.chronic_misses",
    }


def test_unknown_currency_with_a_stated_minor_unit_is_accepted() -> None:
    scheme = Scheme(currency="XYZ", minor_unit=1, credit_rules=[aws_compute_rule()])
    statement = settlement_compute(scheme=scheme, figures=figures({"uptime": D(99)}, monthly_charges="12.34"))
    assert statement.credits_due == D("1.2")  # 10 % = 1.234 → one digit, half-up: 1.2


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        Scheme(currency="USD", credit_minimum=1.0)  # type: ignore[arg-type]
    scheme = Scheme(currency="USD", credit_rules=[aws_compute_rule()])
    with pytest.raises(TypeError):
        settlement_compute(
            scheme=scheme,
            figures=PeriodFigures(period="p", values={"uptime": 99.5}, fee_bases={"monthly_charges": D(1)}),  # type: ignore[dict-item]
        )


def test_results_do_not_depend_on_the_callers_decimal_context() -> None:
    # Under a 3-digit context, 1,234.56 would become 1.23E+3; the settlement works at its own width:
    # 30 % of 1,234.56 = 370.368 → 370.37, as in the default context.
    scheme = Scheme(currency="USD", credit_rules=[aws_compute_rule()])
    with localcontext() as context:
        context.prec = 3
        statement = settlement_compute(scheme=scheme, figures=figures({"uptime": D(98)}, monthly_charges="1234.56"))
        assert statement.credits_due == D("370.37")
        assert statement.net == D("-370.37")


def test_every_amount_is_in_the_minor_unit_even_when_nothing_is_due() -> None:
    scheme = Scheme(currency="USD", credit_rules=[aws_compute_rule()])
    statement = settlement_compute(scheme=scheme, figures=figures({"uptime": D(100)}, monthly_charges="1234.56"))
    assert [str(x) for x in (statement.line("ec2-region").amount, statement.credits_due, statement.net)] == [
        "0.00",
        "0.00",
        "0.00",
    ]
