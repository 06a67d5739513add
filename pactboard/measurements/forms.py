"""Forms for measurements: field-level checks only; the rules (ranges, corrections, schemas) live in the services."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from pactboard.core.errors import ErrorDetail, PactboardError
from pactboard.core.forms import NumberField, form_add_domain_error
from pactboard.core.periods import Period
from pactboard.formulas.schema import COLUMN_TYPES, STANDARD_SCHEMAS
from pactboard.measurements.selectors import KpiRule
from pactboard.measurements.uploads import DATASET_FILE_SUFFIXES, VALUE_FILE_SUFFIXES

_COLUMN_LOCATION = re.compile(r"^columns\[(\d+)\]")
_PERIOD_EXAMPLES = {"week": "2026-W44", "month": "2026-10", "quarter": "2026-Q4"}


def _period_error(exc: PactboardError) -> forms.ValidationError:
    return forms.ValidationError(exc.message)


def _file_suffix_check(upload: UploadedFile, suffixes: tuple[str, ...]) -> UploadedFile:
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in suffixes:
        raise forms.ValidationError(
            f"“{upload.name}” is not a {', '.join(s.lstrip('.').upper() for s in suffixes)} file: "
            "save it in one of those formats and upload it again."
        )
    if not upload.size:
        raise forms.ValidationError(f"“{upload.name}” is empty.")
    return upload


class ValueEntryForm(forms.Form):
    """One value of one KPI, typed by hand; a correction of a recorded value needs a reason."""

    period = forms.CharField(max_length=16)
    value = NumberField(max_digits=24, decimal_places=6)
    note = forms.CharField(required=False, max_length=2000, widget=forms.TextInput())
    reason = forms.CharField(
        required=False,
        max_length=2000,
        label="Reason for the correction",
        help_text="Only when you change a value already recorded: say why (both parties will see it).",
    )

    def __init__(self, *args: Any, rule: KpiRule, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rule = rule
        example = _PERIOD_EXAMPLES.get(rule.period_kind, "2026-10")
        self.fields["period"].help_text = f"The {rule.period_kind}, e.g. {example}."
        self.fields["period"].widget.attrs.update({"placeholder": example, "autocomplete": "off"})
        value_help = []
        if rule.min_value is not None:
            value_help.append(f"at least {rule.min_value.normalize():f}")
        if rule.max_value is not None:
            value_help.append(f"at most {rule.max_value.normalize():f}")
        if rule.integer:
            value_help.append("a whole number")
        if value_help:
            self.fields["value"].help_text = "Must be " + ", ".join(value_help) + "."

    def clean_period(self) -> Period:
        label = self.cleaned_data["period"]
        try:
            return Period.parse(label, self.rule.period_kind)  # type: ignore[arg-type]
        except PactboardError as exc:
            raise _period_error(exc) from None


class ValueImportForm(forms.Form):
    file = forms.FileField(
        label="File of values",
        help_text="CSV or XLSX with the columns kpi, period, value and optionally note; the first row is the header.",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(VALUE_FILE_SUFFIXES)}),
    )
    reason = forms.CharField(
        required=False,
        max_length=2000,
        label="Reason for corrections",
        help_text="Only if the file changes values already recorded: say why.",
    )

    def clean_file(self) -> UploadedFile:
        return _file_suffix_check(self.cleaned_data["file"], VALUE_FILE_SUFFIXES)


class DatasetUploadForm(forms.Form):
    file = forms.FileField(
        label="File of records",
        help_text="CSV, Parquet or JSON Lines with the dataset's columns. The days it covers replace the same "
        "days of the previous version.",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(DATASET_FILE_SUFFIXES)}),
    )

    def clean_file(self) -> UploadedFile:
        return _file_suffix_check(self.cleaned_data["file"], DATASET_FILE_SUFFIXES)


class DatasetDeclareForm(forms.Form):
    """A dataset of raw records: a standard schema, or columns of one's own (one per line: name type [required])."""

    name = forms.SlugField(max_length=48, help_text="Lower case, digits, - and _; formulas name it (e.g. contacts).")
    standard = forms.ChoiceField(
        required=False,
        label="Standard schema",
        choices=[("", "— columns of my own (below) —")] + [(n, n) for n in sorted(STANDARD_SCHEMAS)],
        help_text="The catalogue's formulas are written against these.",
    )
    columns = forms.CharField(
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 5, "placeholder": "ticket_id text required\nopened_at timestamp required"}
        ),
        help_text=f"Only without a standard schema. One column per line: name, type ({', '.join(COLUMN_TYPES)}) "
        "and “required” if it may not be empty.",
    )
    time_column = forms.CharField(
        required=False,
        max_length=64,
        help_text="Only without a standard schema: the timestamp or date column that decides a record's period.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("standard"):
            data["columns"] = None
            data["time_column"] = ""
            return data
        columns: list[dict[str, Any]] = []
        for n, line in enumerate((data.get("columns") or "").splitlines(), start=1):
            words = line.replace(",", " ").split()
            if not words:
                continue
            if len(words) not in (2, 3) or (len(words) == 3 and words[2].lower() != "required"):
                self.add_error("columns", f"Line {n}: write “name type” or “name type required”, not “{line.strip()}”.")
                continue
            columns.append({"name": words[0], "type": words[1].lower(), "nullable": len(words) == 2})
        if not columns and "columns" not in self.errors:
            self.add_error("columns", "Pick a standard schema or declare at least one column.")
        if not data.get("time_column") and columns:
            self.add_error("time_column", "Name the column that decides each record's period.")
        data["columns"] = columns
        return data

    def add_domain_error(self, error: PactboardError) -> None:
        """Like ``form_add_domain_error``, with ``columns[1].type`` shown at the columns field as line 2."""
        details = []
        for d in error.details:
            match = _COLUMN_LOCATION.match(d.location or "")
            if match:
                d = ErrorDetail(f"Line {int(match.group(1)) + 1}: {d.message}", "columns", d.code)
            details.append(d)
        form_add_domain_error(self, PactboardError(error.message, details, error.kind))

    def service_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "standard": d.get("standard") or None,
            "columns": d.get("columns") or None,
            "time_column": d.get("time_column") or "",
            "description": d.get("description") or "",
        }


class ScorecardPeriodForm(forms.Form):
    period = forms.CharField(
        max_length=16,
        label="Period",
        help_text="A month (2026-10), a quarter (2026-Q4) or an ISO week (2026-W44).",
    )

    def clean_period(self) -> Period:
        try:
            return Period.parse(self.cleaned_data["period"])
        except PactboardError as exc:
            raise _period_error(exc) from None
