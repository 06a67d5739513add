"""Forms of the governance pages: minutes, decisions, actions, feedback threads and comments."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from pactboard.accounts.models import Membership
from pactboard.core.errors import PactboardError
from pactboard.core.periods import Period
from pactboard.governance.action_owners import FIRST_OWNER_RULE, OWNER_RULE
from pactboard.governance.models import EmailMode


def _kpi_choices(kpi_names: dict[str, str], *, blank: str | None) -> list[tuple[str, str]]:
    choices = [(code, f"{name} ({code})") for code, name in sorted(kpi_names.items(), key=lambda kv: kv[1])]
    return [("", blank), *choices] if blank is not None else choices


class MinutesForm(forms.Form):
    minutes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}), required=False, help_text="Notes of the discussion."
    )


class DecisionForm(forms.Form):
    text = forms.CharField(label="Decision", widget=forms.Textarea(attrs={"rows": 2}))
    kpi_code = forms.ChoiceField(label="Linked KPI", required=False)

    def __init__(self, *args: Any, kpi_names: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["kpi_code"]).choices = _kpi_choices(kpi_names, blank="None")


class ActionForm(forms.Form):
    title = forms.CharField(label="Action", max_length=300)
    # As ActionReassignForm: an id not offered is refused with the service's rule, not "Select a valid choice".
    owner = forms.TypedChoiceField(
        label="Owner",
        coerce=int,
        help_text="A member of either party.",
        error_messages={"invalid_choice": FIRST_OWNER_RULE, "required": FIRST_OWNER_RULE},
    )
    due_date = forms.DateField(label="Due date", widget=forms.DateInput(attrs={"type": "date"}))
    kpi_code = forms.ChoiceField(label="Linked KPI", required=False)

    def __init__(self, *args: Any, people: list[Membership], kpi_names: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["owner"]).choices = [("", "Choose…")] + [
            (m.pk, f"{m.user.display_name} ({m.organisation.name})") for m in people
        ]
        cast(forms.ChoiceField, self.fields["kpi_code"]).choices = _kpi_choices(kpi_names, blank="None")


class ThreadForm(forms.Form):
    kpi_code = forms.ChoiceField(label="KPI")
    period = forms.CharField(
        label="Period", max_length=16, help_text="The value's period: 2026-10, 2026-Q3 or 2026-W05."
    )
    title = forms.CharField(label="Subject", max_length=200, required=False)
    body = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Mention a member of either party with @ and their e-mail address.",
    )

    def __init__(self, *args: Any, kpi_names: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["kpi_code"]).choices = _kpi_choices(kpi_names, blank=None)

    def clean_period(self) -> Period:
        try:
            return Period.parse(self.cleaned_data["period"].strip(), location=None)
        except PactboardError as exc:
            raise forms.ValidationError(exc.message) from None


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Mention a member of either party with @ and their e-mail address.",
    )


class WebhookForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=500,
        help_text="An https:// address, e.g. a Slack or Microsoft Teams incoming webhook.",
    )


class PreferencesForm(forms.Form):
    """One choice per kind of notification, and the time zone of the daily digest."""

    time_zone = forms.ChoiceField(label="Time zone of the daily digest", required=False)

    def __init__(self, *args: Any, kinds: dict[str, str], zones: list[str], default_zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kinds = kinds
        for kind, label in kinds.items():
            self.fields[f"mode:{kind}"] = forms.ChoiceField(
                label=label[:1].upper() + label[1:], choices=EmailMode.choices, required=True
            )
        field = cast(forms.ChoiceField, self.fields["time_zone"])
        field.choices = [("", f"Default ({default_zone})"), *((z, z) for z in zones)]

    def modes(self) -> dict[str, str]:
        return {kind: self.cleaned_data[f"mode:{kind}"] for kind in self.kinds}


class AlertSettingsForm(forms.Form):
    """The engagement's alert thresholds; their bounds are the service's (``alert_settings.BOUNDS``)."""

    chronic_after = forms.IntegerField(
        label="Chronic after (missed periods in a row)",
        help_text="1 to 24: a KPI missed this often in a row is chronic.",
    )
    grace_days = forms.IntegerField(
        label="Late after (days of grace)",
        help_text="0 to 90: days after a period closes before a missing value is late.",
    )
    review_notice_days = forms.IntegerField(
        label="Review reminder (days before)",
        help_text="1 to 30: days before a review that its attendees are reminded.",
    )


class ActionReassignForm(forms.Form):
    # An id that is not offered (tampered, another tenant's member, a member since removed) is refused with
    # the rule the service enforces, in its words: not Django's "Select a valid choice", and the same answer
    # whichever of those it is.
    owner_membership_id = forms.TypedChoiceField(
        label="New owner",
        coerce=int,
        help_text="A member of either party.",
        error_messages={"invalid_choice": OWNER_RULE, "required": OWNER_RULE},
    )

    def __init__(self, *args: Any, people: list[Membership], owner: Membership, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        field = cast(forms.TypedChoiceField, self.fields["owner_membership_id"])
        field.choices = [(m.pk, f"{m.user.display_name} ({m.organisation.name})") for m in people]
        # The owner is a valid answer (a form sent before someone else handed the action to them) but not
        # offered: choosing them is told as such, not as someone of neither party.
        field.widget.choices = [c for c in field.choices if c[0] != owner.pk]

    def clean_owner_membership_id(self) -> int:
        chosen: int = self.cleaned_data["owner_membership_id"]
        if chosen == self.owner.pk:
            raise forms.ValidationError(
                f"{self.owner.user.display_name} already owns this action: pick another member.", code="owner"
            )
        return chosen
