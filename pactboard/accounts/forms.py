from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from pactboard.accounts.models import ApiToken, Role


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(label="E-mail")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.CONTRIBUTOR)


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(max_length=150, label="Your name")
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), label="Password")
    password_again = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), label="Password again"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ: type the same password twice.")
        return data


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Which system will use it, e.g. “WFM export”.")
    scope = forms.ChoiceField(
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
        help_text="Read only unless the system has to change something.",
    )
    expires_in_days = forms.TypedChoiceField(
        label="Works for",
        choices=[(30, "30 days"), (90, "90 days"), (180, "180 days"), (365, "1 year")],
        coerce=int,
        initial=90,
    )
