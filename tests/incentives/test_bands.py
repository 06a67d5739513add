"""Band sets: one band per value, edges inclusive on the side their text says, gaps and overlaps refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pactboard.core.errors import PactboardError
from pactboard.incentives.calc import Band, Edge, Fixed, PercentOf, band_for, bands_check, bands_require
from tests.incentives.tables import at_least, aws_compute_region_bands, less_than

D = Decimal


# The Amazon Compute Region-Level schedule (tests/incentives/tables.py quotes it). Each edge is
# checked at the edge and one step either side; the expected band is read off the quoted text:
# "less than 99.99% but equal to or greater than 99.0%" puts 99.99 in the no-credit band and 99.0
# in the 10 % band; "less than 99.0% but equal to or greater than 95.0%" puts 95.0 in the 30 % band.
@pytest.mark.parametrize(
    ("uptime", "percent"),
    [
        ("100", None),
        ("99.991", None),
        ("99.99", None),  # at the edge: not "less than 99.99%"
        ("99.98999999", D(10)),
        ("99.5", D(10)),
        ("99.00000001", D(10)),
        ("99.0", D(10)),  # at the edge: "equal to or greater than 99.0%"
        ("98.99999999", D(30)),
        ("95.00000001", D(30)),
        ("95.0", D(30)),  # "equal to or greater than 95.0%"
        ("94.99999999", D(100)),  # "less than 95.0%"
        ("0", D(100)),
    ],
)
def test_aws_compute_schedule_boundaries(uptime: str, percent: Decimal | None) -> None:
    bands = aws_compute_region_bands()
    assert bands_check(bands) == []
    amount = bands[band_for(bands, D(uptime))].amount
    if percent is None:
        assert amount is None
    else:
        assert isinstance(amount, PercentOf)
        assert amount.percent == percent


def test_bands_may_be_listed_in_any_order() -> None:
    bands = tuple(reversed(aws_compute_region_bands()))
    assert bands_check(bands) == []
    assert bands[band_for(bands, D("99.0"))].describe() == "99.0 ≤ value < 99.99"


def _codes(bands: tuple[Band, ...]) -> list[tuple[str | None, str | None]]:
    return [(p.location, p.code) for p in bands_check(bands)]


def test_both_sides_inclusive_is_an_overlap_named_at_the_edge() -> None:
    bands = (
        Band(lower=at_least("99.99")),
        Band(lower=at_least("99.0"), upper=Edge(value=D("99.99"), inclusive=True), amount=Fixed(amount=D(1))),
        Band(upper=less_than("99.0"), amount=Fixed(amount=D(2))),
    )
    problems = bands_check(bands)
    assert [(p.location, p.code) for p in problems] == [("bands[1].upper", "band_overlap")]
    assert "99.99" in problems[0].message


def test_neither_side_inclusive_is_a_gap_named_at_the_edge() -> None:
    bands = (
        Band(lower=Edge(value=D("99.99"), inclusive=False)),
        Band(lower=at_least("99.0"), upper=less_than("99.99"), amount=Fixed(amount=D(1))),
        Band(upper=less_than("99.0"), amount=Fixed(amount=D(2))),
    )
    problems = bands_check(bands)
    assert [(p.location, p.code) for p in problems] == [("bands[1].upper", "band_gap")]
    assert "99.99" in problems[0].message


def test_a_range_between_bands_is_a_gap_and_a_shared_range_an_overlap() -> None:
    gap = (Band(lower=at_least("99.9")), Band(upper=less_than("99.5"), amount=Fixed(amount=D(1))))
    assert _codes(gap) == [("bands[1].upper", "band_gap")]
    overlap = (Band(lower=at_least("99.5")), Band(upper=less_than("99.9"), amount=Fixed(amount=D(1))))
    assert _codes(overlap) == [("bands[1].upper", "band_overlap")]


def test_the_ends_must_be_open() -> None:
    bands = (Band(lower=at_least("95"), upper=less_than("99")), Band(lower=at_least("99"), upper=at_least("100")))
    # "at_least" as an upper edge means inclusive: 100 is in, above 100 is not.
    assert _codes(bands) == [("bands[0].lower", "band_gap"), ("bands[1].upper", "band_gap")]


def test_an_empty_band_is_refused() -> None:
    bands = (Band(lower=at_least("99"), upper=less_than("99")), Band())
    assert _codes(bands) == [("bands[0]", "empty_band")]


def test_a_point_band_with_both_sides_inclusive_is_allowed() -> None:
    bands = (
        Band(upper=less_than("100")),
        Band(lower=at_least("100"), upper=Edge(value=D(100), inclusive=True), amount=Fixed(amount=D(5))),
        Band(lower=Edge(value=D(100), inclusive=False)),
    )
    assert bands_check(bands) == []
    assert band_for(bands, D(100)) == 1


def test_bands_require_raises_with_every_problem() -> None:
    with pytest.raises(PactboardError) as caught:
        bands_require((Band(lower=at_least("1")), Band(lower=at_least("1"), amount=PercentOf(percent=D(-1), base=""))))
    locations = {d.location for d in caught.value.details}
    assert locations == {"bands[1].amount.percent", "bands[1].amount.base"}


def test_band_for_refuses_float() -> None:
    with pytest.raises(TypeError):
        band_for(aws_compute_region_bands(), 99.5)  # type: ignore[arg-type]
