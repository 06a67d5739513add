"""Form helpers: domain errors become messages at the fields they name."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator

from pactboard.core.errors import ErrorDetail, PactboardError


def form_add_domain_error(
    form: forms.BaseForm, error: PactboardError, *, fields: Mapping[str, str] | None = None
) -> None:
    """Attach a PactboardError to the form: details located at a field go to that field.

    ``fields`` names the form's field for a location the service gives in the API's words
    (``{"owner_membership_id": "owner"}``).
    """
    placed = False
    for detail in error.details:
        location = (fields or {}).get(detail.location or "", detail.location)
        if location and location in form.fields:
            form.add_error(location, detail.message)
            placed = True
        else:
            form.add_error(None, str(detail))
            placed = True
    if not placed:
        form.add_error(None, error.message)


def _digits(value: Decimal) -> tuple[int, int]:
    """Digits before and after the decimal point of a finite Decimal, trailing zeros of a fraction ignored."""
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    numerals = list(digits)
    while exponent < 0 and len(numerals) > 1 and numerals[-1] == 0:
        numerals.pop()
        exponent += 1
    if numerals == [0]:
        return 0, 0
    after = max(-exponent, 0)
    before = max(len(numerals) + exponent, 0)
    return before, after


class NumberField(forms.DecimalField):
    """A decimal typed as text, with messages that say what is wrong with it.

    Not ``<input type="number">``: a browser sends an empty value for what it cannot hold in a double
    ("1e309"), and the answer was "This field is required". A text input with a decimal keyboard sends
    what was typed; out-of-range and non-finite numbers are named as such.
    """

    widget = forms.TextInput

    def __init__(self, *, max_digits: int, decimal_places: int, **kwargs: Any) -> None:
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)
        # The digit checks are made in to_python with messages that quote the input.
        self.validators = [v for v in self.validators if not isinstance(v, DecimalValidator)]

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "decimal", "autocomplete": "off"})
        return attrs

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]  # the stubs say int
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            message = f"“{text}” is not a number: type a number such as 12.5."
            raise forms.ValidationError(message, code="invalid") from None
        if not number.is_finite():
            raise forms.ValidationError(
                f"“{text}” is not a finite number: type a number such as 12.5.", code="not_finite"
            )
        places = self.decimal_places or 0
        whole = (self.max_digits or 0) - places
        before, after = _digits(number)
        if self.max_digits is not None and before > whole:
            raise forms.ValidationError(
                f"“{text}” is out of range: a value may have at most {whole} digits before the decimal point.",
                code="out_of_range",
            )
        if self.decimal_places is not None and after > places:
            raise forms.ValidationError(
                f"“{text}” has more than {places} digits after the decimal point: round it to {places}.",
                code="max_decimal_places",
            )
        return number


def _form_error_code(form: forms.BaseForm, field: str, error: ValidationError) -> str:
    """The code Django's ValidationError names its problem with (required, invalid_choice, ...), in the API's words.

    An e-mail field's bare "invalid" is invalid_email, so a form and a service refusing the same thing send
    the same word (``validation_error_code``); "invalid" when the error names none.
    """
    code = validation_error_code(error)
    if code == "invalid" and isinstance(form.fields.get(field), forms.EmailField):
        return "invalid_email"
    return code


# Django's words for problems the API already names: a model's empty field (blank, null) is "required",
# a text past max_length is "too_long".
_DJANGO_CODES = {"blank": "required", "null": "required", "max_length": "too_long"}


def validation_error_code(error: ValidationError) -> str:
    """The API's code for one Django ValidationError (its own code, or the API's word for it); "invalid" if none."""
    code = error.code or "invalid"
    return _DJANGO_CODES.get(code, code)


def form_require_valid(form: forms.BaseForm, message: str) -> dict[str, Any]:
    """The form's cleaned data, or a PactboardError with each field's messages at that field.

    The API validates its input with the page's form, so both refuse the same things in the same words.
    """
    if form.is_valid():
        return form.cleaned_data
    details = [
        ErrorDetail(str(text), None if field == "__all__" else field, _form_error_code(form, field, error))
        for field, texts in form.errors.items()
        for text, error in zip(texts, texts.as_data(), strict=True)
    ]
    raise PactboardError(message, details)
