"""Numbers typed into forms: a value too large or not finite gets a message that says so.

A browser's <input type="number"> turns "1e309" (past the largest double) into an empty value, so the
server answered "This field is required". The number fields are text inputs with a decimal keyboard
instead, and the server names what is wrong.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django import forms

from pactboard.core.forms import NumberField


class Form(forms.Form):
    value = NumberField(max_digits=24, decimal_places=6)


def _errors(value: str) -> list[str]:
    form = Form({"value": value})
    assert not form.is_valid()
    return form.errors["value"]


def test_widget_sends_what_was_typed() -> None:
    html = str(Form()["value"])
    assert 'type="text"' in html
    assert 'inputmode="decimal"' in html


@pytest.mark.parametrize("typed", ["1e309", "-1e309", "1e30", "99999999999999999999"])
def test_too_large_says_out_of_range(typed: str) -> None:
    # 24 digits with 6 after the point leave 18 before it: the largest accepted is 999,999,999,999,999,999.999999.
    [message] = _errors(typed)
    assert "out of range" in message
    assert f"“{typed}”" in message
    assert "at most 18 digits before the decimal point" in message


@pytest.mark.parametrize("typed", ["inf", "-Infinity", "nan", "NaN"])
def test_not_finite_says_so(typed: str) -> None:
    [message] = _errors(typed)
    assert message == f"“{typed}” is not a finite number: type a number such as 12.5."


def test_too_many_decimals_says_how_many() -> None:
    [message] = _errors("1.1234567")
    assert message == "“1.1234567” has more than 6 digits after the decimal point: round it to 6."


def test_ordinary_numbers_pass() -> None:
    form = Form({"value": "1e3"})
    assert form.is_valid()
    assert form.cleaned_data["value"] == Decimal("1000")
    assert Form({"value": ""}).errors["value"] == ["This field is required."]
