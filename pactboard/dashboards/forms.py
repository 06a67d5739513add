"""Forms: field-level validation only; the rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms

from pactboard.engagements.forms import DateInput
from pactboard.engagements.models import BusinessChange


class BusinessChangeForm(forms.Form):
    date = forms.DateField(widget=DateInput(), help_text="When it happened or takes effect.")
    kind = forms.ChoiceField(choices=BusinessChange.Kind.choices)
    title = forms.CharField(max_length=120, help_text="A short headline, shown on the charts.")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="What changed and which numbers it is expected to move.",
    )
    kpi_codes = forms.MultipleChoiceField(
        choices=[],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Linked KPIs",
        help_text="Leave all unticked when it concerns the whole engagement.",
    )

    def __init__(self, *args: Any, kpi_names: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kpi_codes"].choices = [(code, f"{name} ({code})") for code, name in (kpi_names or {}).items()]  # type: ignore[attr-defined]
