"""Forms for the KPI catalogue and agreements: field-level validation only; the rules live in the services."""

from __future__ import annotations

import re
from typing import Any, cast

from django import forms

from pactboard.core.errors import PactboardError
from pactboard.core.forms import NumberField
from pactboard.engagements.forms import DateInput
from pactboard.engagements.models import Engagement, Objective
from pactboard.kpis.catalogue import CatalogueKpi
from pactboard.kpis.models import Category, CustomKpi, DataSource, Direction, PeriodKind, VersionKpi
from pactboard.kpis.services import KPI_EDITABLE_FIELDS, MilestoneSpec
from pactboard.kpis.spec import MAX_LENGTHS, catalogue_defaults


def _decimal(**kwargs: Any) -> forms.DecimalField:
    """A decimal as the KPI models store it (20 digits, 6 after the point)."""
    return NumberField(max_digits=20, decimal_places=6, **kwargs)


# Where a service error names a location that is not a form field, the field that shows it.
_LOCATION_TO_FIELD = {"thresholds.amber": "amber", "thresholds.stretch": "stretch", "objective_ids": "objectives"}
_MILESTONE_LOCATION = re.compile(r"^milestones\[(\d+)\]\.(\w+)$")


class CustomKpiForm(forms.ModelForm):
    class Meta:
        model = CustomKpi
        fields = [
            "code",
            "name",
            "category",
            "unit",
            "direction",
            "definition",
            "default_period",
            "dataset",
            "formula",
            "row_filter",
            "min_value",
            "max_value",
        ]
        widgets = {
            "definition": forms.Textarea(attrs={"rows": 3}),
            "formula": forms.Textarea(attrs={"rows": 2}),
            "row_filter": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"min_value": "Lowest possible value", "max_value": "Highest possible value"}
        help_texts = {
            "code": "2–48 lower-case letters, digits and underscores, e.g. refund_rate.",
            "unit": "e.g. %, seconds, hours, count, currency, score.",
            "dataset": "Optional: the standard dataset the formula reads.",
        }

    def validate_unique(self) -> None:
        # The organisation is set by the service, which also checks the code is free.
        return


class KpiForm(forms.Form):
    """One KPI of a draft: definition, objectives, targets, thresholds, baseline and data source."""

    catalogue_code = forms.CharField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(max_length=MAX_LENGTHS["name"])
    code = forms.CharField(
        max_length=MAX_LENGTHS["code"],
        help_text="2–48 lower-case letters, digits and underscores; unique in this version.",
    )
    # Required, but checked by the service so that its message comes with every other problem at once.
    objectives = forms.ModelMultipleChoiceField(
        queryset=Objective.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Every KPI measures at least one objective of the engagement.",
    )
    category = forms.ChoiceField(choices=Category.choices)
    unit = forms.CharField(max_length=MAX_LENGTHS["unit"], help_text="e.g. %, seconds, hours, count, currency, score.")
    direction = forms.ChoiceField(choices=Direction.choices)
    definition = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    period = forms.ChoiceField(choices=PeriodKind.choices, initial=PeriodKind.MONTH, label="Measured per")
    weight = _decimal(initial=1, help_text="Share of the weighted score (above 0).")
    target = _decimal()
    amber = _decimal(required=False, label="Amber threshold", help_text="Worse than the target, still amber (not red).")
    stretch = _decimal(required=False, label="Stretch target", help_text="Better than the target (bonus level).")
    baseline_value = _decimal(required=False, label="Baseline value")
    baseline_period = forms.CharField(
        max_length=MAX_LENGTHS["baseline_period"],
        required=False,
        label="Baseline period",
        help_text="e.g. 2025-Q4 or 2025-07..2025-12.",
    )
    baseline_source = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Baseline source",
        help_text="Where the baseline comes from (before outsourcing).",
    )
    source = forms.ChoiceField(choices=DataSource.choices, initial=DataSource.MANUAL, label="Data source")
    dataset = forms.CharField(
        max_length=MAX_LENGTHS["dataset"], required=False, help_text="For a computed KPI: the dataset it reads."
    )
    formula = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    row_filter = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label="Row filter")
    min_value = _decimal(required=False, label="Lowest possible value")
    max_value = _decimal(required=False, label="Highest possible value")
    active = forms.BooleanField(required=False, initial=True, help_text="Inactive KPIs are kept but not scored.")

    GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("What is measured", ("name", "code", "objectives", "category", "unit", "direction", "definition")),
        ("Target and thresholds", ("period", "target", "amber", "stretch", "weight", "active")),
        ("Baseline (before outsourcing)", ("baseline_value", "baseline_period", "baseline_source")),
        ("Where the values come from", ("source", "dataset", "formula", "row_filter", "min_value", "max_value")),
    )

    def __init__(self, *args: Any, engagement: Engagement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        objectives = self.fields["objectives"]
        objectives.queryset = Objective.objects.filter(engagement=engagement).order_by("position", "id")  # type: ignore[attr-defined]
        objectives.label_from_instance = lambda o: f"{o.statement} ({o.key})"  # type: ignore[attr-defined]

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The visible fields in labelled groups (fieldsets)."""
        return [(legend, [self[name] for name in names]) for legend, names in self.GROUPS]

    def service_fields(self) -> dict[str, Any]:
        """The cleaned values as the services take them (every editable field, objectives apart)."""
        return {name: self.cleaned_data.get(name) for name in KPI_EDITABLE_FIELDS}

    def objective_ids(self) -> list[int]:
        return [o.pk for o in self.cleaned_data.get("objectives", [])]


def kpi_initial_from_catalogue(entry: CatalogueKpi) -> dict[str, Any]:
    return {
        **catalogue_defaults(entry),
        "catalogue_code": entry.code,
        "source": DataSource.DATASET if entry.formula else DataSource.MANUAL,
    }


def kpi_initial_from_custom(entry: CustomKpi) -> dict[str, Any]:
    return {
        "code": entry.code,
        "name": entry.name,
        "category": entry.category,
        "unit": entry.unit,
        "direction": entry.direction,
        "definition": entry.definition,
        "period": entry.default_period,
        "source": DataSource.DATASET if entry.formula else DataSource.MANUAL,
        "dataset": entry.dataset,
        "formula": entry.formula,
        "row_filter": entry.row_filter,
        "min_value": entry.min_value,
        "max_value": entry.max_value,
    }


def kpi_initial_from_kpi(kpi: VersionKpi) -> dict[str, Any]:
    initial = {name: getattr(kpi, name) for name in KPI_EDITABLE_FIELDS}
    initial["objectives"] = [link.objective_id for link in kpi.objective_links.all()]
    return initial


class MilestoneForm(forms.Form):
    date = forms.DateField(widget=DateInput())
    target = _decimal(label="Interim target")
    amber = _decimal(required=False, label="Interim amber")
    stretch = _decimal(required=False, label="Interim stretch")
    note = forms.CharField(max_length=200, required=False)


class BaseMilestoneFormSet(forms.BaseFormSet):
    def kept_forms(self) -> list[forms.Form]:
        """The filled-in rows not marked for removal, in order: the service's milestones[i] is the i-th."""
        return [
            f
            for f in self.forms
            if f.has_changed() or f.initial
            if not (self.can_delete and getattr(f, "cleaned_data", {}).get(forms.formsets.DELETION_FIELD_NAME))
        ]

    def specs(self) -> list[MilestoneSpec]:
        return [
            MilestoneSpec(
                date=f.cleaned_data["date"],
                target=f.cleaned_data["target"],
                amber=f.cleaned_data.get("amber"),
                stretch=f.cleaned_data.get("stretch"),
                note=f.cleaned_data.get("note") or "",
            )
            for f in self.kept_forms()
        ]


MilestoneFormSet = forms.formset_factory(
    MilestoneForm, formset=BaseMilestoneFormSet, extra=2, can_delete=True, max_num=24, validate_max=True
)


def milestone_formset(data: Any = None, *, kpi: VersionKpi | None = None) -> BaseMilestoneFormSet:
    initial = []
    if kpi is not None:
        initial = [
            {"date": m.date, "target": m.target, "amber": m.amber, "stretch": m.stretch, "note": m.note}
            for m in kpi.milestones.all()
        ]
    return cast(BaseMilestoneFormSet, MilestoneFormSet(data, initial=initial, prefix="milestones"))


NO_OBJECTIVE = "Link the KPI to at least one objective."


def kpi_form_add_domain_error(form: KpiForm, milestones: BaseMilestoneFormSet, error: PactboardError) -> None:
    """Place each detail of a service error at its field, milestone row, or above the form.

    The service checks the objectives only once every field is right; a missing objective is
    said at once here so that the user sees every problem in one round.
    """
    if not form.objective_ids() and not any(d.location == "objectives" for d in error.details):
        form.add_error("objectives", NO_OBJECTIVE)
    kept = milestones.kept_forms()
    placed = False
    for detail in error.details:
        location = _LOCATION_TO_FIELD.get(detail.location or "", detail.location)
        match = _MILESTONE_LOCATION.match(location or "")
        if match and int(match[1]) < len(kept) and match[2] in kept[int(match[1])].fields:
            kept[int(match[1])].add_error(match[2], detail.message)
        elif location and location in form.fields and not form.fields[location].widget.is_hidden:
            form.add_error(location, detail.message)
        else:
            form.add_error(None, str(detail))
        placed = True
    if not placed:
        form.add_error(None, error.message)


class ProposeForm(forms.Form):
    prefix = "propose"

    effective_from = forms.DateField(
        widget=DateInput(),
        label="Effective from",
        help_text="The day the agreement comes into force once both sign; suggested: the start of the next period.",
    )
    retroactive = forms.BooleanField(
        required=False,
        label="This change is retroactive",
        help_text="Needed for a date that re-scores periods already scored; both parties see which before signing.",
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text="What this version changes and why."
    )


class CommentForm(forms.Form):
    kpi_code = forms.CharField(widget=forms.HiddenInput, required=False)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Comment")


class CounterProposeForm(forms.Form):
    prefix = "counter"

    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Counter-proposal note",
        help_text="What you intend to change, and why.",
    )


class DraftStartForm(forms.Form):
    prefix = "draft"

    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text="What this version will change, and why."
    )


class CompareForm(forms.Form):
    """Pick two versions to compare (``a`` before ``b``)."""

    a = forms.TypedChoiceField(coerce=int, label="From version")
    b = forms.TypedChoiceField(coerce=int, label="To version")

    def __init__(self, *args: Any, versions: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(v.pk, f"v{v.number} · {v.get_status_display()}") for v in versions]
        self.fields["a"].choices = choices  # type: ignore[attr-defined]
        self.fields["b"].choices = choices  # type: ignore[attr-defined]
