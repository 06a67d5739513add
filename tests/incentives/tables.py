"""Published service-credit tables, written as Pactboard bands, shared by the incentive tests.

Sources (quoted text only where it is verbatim from the source; amounts in tests are illustrative):

- Amazon Compute Service Level Agreement, Region-Level SLA (https://aws.amazon.com/compute/sla/;
  the version of May 2022 kept at https://aws.amazon.com/compute/sla/historical/):
  "Service Credits are calculated as a percentage of the total charges paid by you ... for the
  monthly billing cycle in which the Unavailability occurred", by the schedule
      "Less than 99.99% but equal to or greater than 99.0%"  -> 10%
      "Less than 99.0% but equal to or greater than 95.0%"   -> 30%
      "Less than 95.0%"                                      -> 100%
  and (February 2018 version) "Monthly Uptime Percentage is calculated by subtracting from 100% the
  percentage of minutes during the month in which any of the Included Products and Services ... was
  in the state of 'Region Unavailable.'"
- AWS service SLAs of the same form (e.g. AWS Compute Optimizer SLA, May 2022): "A Service Credit
  will be applicable and issued only if the credit amount for the applicable monthly billing cycle
  is greater than one dollar ($1 USD)."
"""

from __future__ import annotations

from decimal import Decimal

from pactboard.incentives.calc import Band, BandRule, Edge, PercentOf

D = Decimal


def at_least(value: str) -> Edge:
    return Edge(value=D(value), inclusive=True)


def less_than(value: str) -> Edge:
    return Edge(value=D(value), inclusive=False)


def aws_compute_region_bands(base: str = "monthly_charges") -> tuple[Band, ...]:
    """The Region-Level SLA schedule: each edge's inclusive side exactly as its text states it."""
    return (
        Band(lower=at_least("99.99"), label="SLA met"),
        Band(lower=at_least("99.0"), upper=less_than("99.99"), amount=PercentOf(percent=D(10), base=base)),
        Band(lower=at_least("95.0"), upper=less_than("99.0"), amount=PercentOf(percent=D(30), base=base)),
        Band(upper=less_than("95.0"), amount=PercentOf(percent=D(100), base=base)),
    )


def aws_compute_rule(code: str = "ec2-region", kpi: str = "uptime", **extra: object) -> BandRule:
    return BandRule(code=code, kpi=kpi, bands=aws_compute_region_bands(), **extra)  # type: ignore[arg-type]
