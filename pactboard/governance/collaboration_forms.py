"""Forms of the collaboration pages: strategy notes, knowledge-base articles, kudos."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from pactboard.governance.collaboration_models import Article

MARKDOWN_HELP = "Markdown: headings, lists, emphasis, code, tables and http(s) links. HTML is shown as text."


class NoteForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(label="Text", widget=forms.Textarea(attrs={"rows": 10}), help_text=MARKDOWN_HELP)
    share = forms.BooleanField(
        label="Share with the provider now",
        required=False,
        help_text="Unticked, the note stays a draft for the client.",
    )


class NoteEditForm(forms.Form):
    title = forms.CharField(max_length=200)
    body = forms.CharField(label="Text", widget=forms.Textarea(attrs={"rows": 10}), help_text=MARKDOWN_HELP)


class ArticleForm(forms.Form):
    kind = forms.ChoiceField(choices=Article.Kind.choices)
    title = forms.CharField(max_length=200)
    body = forms.CharField(label="Text", widget=forms.Textarea(attrs={"rows": 8}), help_text=MARKDOWN_HELP)
    tags = forms.CharField(max_length=400, required=False, help_text="Comma-separated, e.g. escalation, night shift.")


class KudosForm(forms.Form):
    kpi_code = forms.ChoiceField(label="KPI")
    period = forms.CharField(max_length=16, help_text="A closed period of the KPI: 2026-10, 2026-Q3 or 2026-W41.")
    message = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, kpi_names: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(code, f"{name} ({code})") for code, name in sorted(kpi_names.items(), key=lambda kv: kv[1])]
        cast(forms.ChoiceField, self.fields["kpi_code"]).choices = choices
