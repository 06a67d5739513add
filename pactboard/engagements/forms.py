"""Forms: field-level validation only; the rules live in the services."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django import forms

from pactboard.accounts.models import Organisation
from pactboard.core.forms import NumberField
from pactboard.engagements.models import Cadence, Engagement, Objective

_TIME_ZONES = sorted(available_timezones())


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class EngagementForm(forms.Form):
    name = forms.CharField(max_length=200)
    provider = forms.ModelChoiceField(
        queryset=Organisation.objects.none(),
        required=False,
        empty_label="— invite a new provider —",
        help_text="A provider you already work with, or leave empty and invite a new one below.",
    )
    new_provider_name = forms.CharField(max_length=200, required=False, label="New provider's name")
    new_provider_admin_email = forms.EmailField(required=False, label="New provider administrator's e-mail")
    scope = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    start_date = forms.DateField(widget=DateInput())
    end_date = forms.DateField(widget=DateInput())
    currency = forms.CharField(max_length=3, initial="EUR", help_text="ISO 4217 code, e.g. EUR, USD, GBP.")
    monthly_fee = NumberField(max_digits=14, decimal_places=2, min_value=0, initial=0)
    review_cadence = forms.ChoiceField(choices=Cadence.choices, initial=Cadence.MONTHLY)
    report_cadence = forms.ChoiceField(choices=Cadence.choices, initial=Cadence.MONTHLY)
    time_zone = forms.ChoiceField(choices=[(z, z) for z in _TIME_ZONES], initial="UTC")
    status = forms.ChoiceField(choices=Engagement.Status.choices, initial=Engagement.Status.DRAFT)

    def __init__(self, *args: Any, providers: Any = None, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            for name in ("provider", "new_provider_name", "new_provider_admin_email"):
                del self.fields[name]
        else:
            self.fields["provider"].queryset = providers if providers is not None else Organisation.objects.none()  # type: ignore[attr-defined]

    def clean_currency(self) -> str:
        value = self.cleaned_data["currency"].strip().upper()
        if len(value) != 3 or not value.isalpha():
            raise forms.ValidationError("Use a three-letter ISO 4217 code such as EUR or USD.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date must be on or after the start date.")
        return data


class ObjectiveForm(forms.ModelForm):
    class Meta:
        model = Objective
        fields = ["horizon", "statement", "measure", "target", "deadline", "owner", "relevance"]
        widgets = {"deadline": DateInput(), "relevance": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, people: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owner_field = self.fields["owner"]
        if people is not None:
            owner_field.queryset = owner_field.queryset.filter(  # type: ignore[attr-defined]
                pk__in=[m.user_id for m in people]
            )
        owner_field.label_from_instance = lambda u: u.display_name  # type: ignore[attr-defined]


# The most a profile field holds (UI and API alike): a page of text, one item a line.
PROFILE_TEXT_MAX = 5_000


class ProviderProfileForm(forms.Form):
    """The capability profile's fields; the API's PATCH validates with this form too."""

    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=PROFILE_TEXT_MAX)
    expertise = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=PROFILE_TEXT_MAX, help_text="One per line."
    )
    resources = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=PROFILE_TEXT_MAX, help_text="One per line."
    )
    locations = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=PROFILE_TEXT_MAX, help_text="One per line."
    )
    certifications = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=PROFILE_TEXT_MAX, help_text="One per line."
    )
    limitations = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=PROFILE_TEXT_MAX, help_text="One per line."
    )
