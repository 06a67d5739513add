"""Forms of the relevance review pages: the client's decision on one KPI, a comment, the cadence."""

from __future__ import annotations

from django import forms

from pactboard.governance.models import RelevanceItem

_LEVEL = {"max_digits": 20, "decimal_places": 6, "required": False}


class RelevanceDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=RelevanceItem.Decision.choices, widget=forms.RadioSelect)
    new_target = forms.DecimalField(label="New target", **_LEVEL)  # type: ignore[arg-type]
    new_amber = forms.DecimalField(label="New amber", **_LEVEL)  # type: ignore[arg-type]
    new_stretch = forms.DecimalField(label="New stretch", **_LEVEL)  # type: ignore[arg-type]
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Required to adjust or retire: what the evidence shows.",
    )


class RelevanceCommentForm(forms.Form):
    body = forms.CharField(label="Comment", widget=forms.Textarea(attrs={"rows": 2}))


class RelevanceSettingsForm(forms.Form):
    every_months = forms.IntegerField(label="Review the KPIs every (months)", min_value=1, max_value=60)
