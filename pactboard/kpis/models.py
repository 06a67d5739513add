"""Custom KPI definitions, and the versioned KPI set of an engagement with its signatures.

An engagement's KPI set lives in ``AgreementVersion`` rows. A draft is edited by either
party's managers; *propose* freezes it; each party signs the hash of the exact content; when
both have signed the version is agreed, in force from its effective date, and never changes
again: the services refuse, ``save()`` refuses, and database triggers refuse.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from pactboard.accounts.models import Organisation
from pactboard.core.models import TimeStampedModel
from pactboard.core.tenancy import TenantQuerySet
from pactboard.engagements.models import Engagement, Objective

code_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{1,47}$", "Use 2–48 lower-case letters, digits and underscores, starting with a letter."
)


class Category(models.TextChoices):
    OPERATIONAL = "operational", "Operational"
    QUALITY = "quality", "Quality"
    FINANCIAL = "financial", "Financial"
    CUSTOMER_SATISFACTION = "customer_satisfaction", "Customer satisfaction"


class Direction(models.TextChoices):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"


class PeriodKind(models.TextChoices):
    WEEK = "week", "Week"
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"


class DataSource(models.TextChoices):
    MANUAL = "manual", "Entered by hand"
    IMPORT = "import", "Imported from files"
    API = "api", "Pushed through the API"
    DATASET = "dataset", "Computed from a dataset by a formula"


class CustomKpiQuerySet(TenantQuerySet["CustomKpi"]):
    def visible_filter(self, *, organisation_id: int) -> Q:
        """An organisation's own definitions: no engagement owns them."""
        return Q(organisation_id=organisation_id)


class CustomKpi(TimeStampedModel):
    """An organisation's own KPI definition, offered beside the standard catalogue."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="custom_kpis")
    code = models.CharField(max_length=48, validators=[code_validator])
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=24, choices=Category.choices)
    unit = models.CharField(max_length=24)
    direction = models.CharField(max_length=6, choices=Direction.choices)
    definition = models.TextField()
    default_period = models.CharField(max_length=7, choices=PeriodKind.choices, default=PeriodKind.MONTH)
    dataset = models.CharField(max_length=48, blank=True)
    formula = models.TextField(blank=True)
    row_filter = models.TextField(blank=True)
    min_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    max_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)

    objects = CustomKpiQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "code"], name="custom_kpi_code_unique")]

    def __str__(self) -> str:
        return self.name


class FrozenError(Exception):
    """Raised when code tries to change a proposed or agreed version's content."""


class AgreementVersionQuerySet(TenantQuerySet["AgreementVersion"]):
    engagement_path = "engagement"

    def agreed(self) -> AgreementVersionQuerySet:
        return self.filter(status=AgreementVersion.Status.AGREED)


class AgreementVersion(TimeStampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PROPOSED = "proposed", "Proposed, awaiting signatures"
        AGREED = "agreed", "Agreed"
        SUPERSEDED = "superseded", "Superseded by a counter-proposal"
        WITHDRAWN = "withdrawn", "Withdrawn"

    engagement = models.ForeignKey(Engagement, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    based_on = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="derived")
    note = models.TextField(blank=True, help_text="What this version changes and why.")
    effective_from = models.DateField(null=True, blank=True)
    max_active_kpis = models.PositiveSmallIntegerField(default=8)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_by_org = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, related_name="+")
    proposed_by_org = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    proposed_at = models.DateTimeField(null=True, blank=True)
    agreed_at = models.DateTimeField(null=True, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the content proposed and signed.")
    # The incentive scheme agreed with this KPI set (credits, bonuses, caps, earn-back), as the
    # canonical JSON the incentives room reads and checks; None: the agreement pays no incentives.
    incentive_scheme = models.JSONField(null=True, blank=True)

    objects = AgreementVersionQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "number"], name="version_number_unique"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(status="withdrawn") | Q(effective_from__isnull=False),
                name="version_effective_date_once_proposed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.engagement} v{self.number} ({self.get_status_display()})"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == self.Status.AGREED:
                raise FrozenError("An agreed version never changes: start a new version instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.status != self.Status.DRAFT:
            raise FrozenError("Only a draft can be deleted; proposed and agreed versions are kept forever.")
        return super().delete(*args, **kwargs)


def _refuse_unless_draft(version_id: int | None) -> None:
    if version_id is None:
        return
    status = AgreementVersion.objects.filter(pk=version_id).values_list("status", flat=True).first()
    if status is not None and status != AgreementVersion.Status.DRAFT:
        raise FrozenError("This version is frozen (proposed or agreed): change a new draft instead.")


class VersionKpiQuerySet(TenantQuerySet["VersionKpi"]):
    engagement_path = "version__engagement"


class VersionKpi(models.Model):
    """One KPI as a version of the agreement defines it."""

    version = models.ForeignKey(AgreementVersion, on_delete=models.CASCADE, related_name="kpis")
    code = models.CharField(max_length=48, validators=[code_validator])
    name = models.CharField(max_length=120)
    catalogue_code = models.CharField(max_length=48, blank=True, help_text="The standard KPI it was taken from.")
    category = models.CharField(max_length=24, choices=Category.choices)
    unit = models.CharField(max_length=24)
    direction = models.CharField(max_length=6, choices=Direction.choices)
    definition = models.TextField(blank=True)
    period = models.CharField(max_length=7, choices=PeriodKind.choices, default=PeriodKind.MONTH)
    target = models.DecimalField(max_digits=20, decimal_places=6)
    amber = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    stretch = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    weight = models.DecimalField(
        max_digits=8, decimal_places=3, default=Decimal("1"), validators=[MinValueValidator(Decimal("0.001"))]
    )
    baseline_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    baseline_period = models.CharField(max_length=40, blank=True, help_text="e.g. 2025-Q1 or 2024-07..2024-12")
    baseline_source = models.TextField(blank=True, help_text="Where the baseline comes from.")
    source = models.CharField(max_length=8, choices=DataSource.choices, default=DataSource.MANUAL)
    dataset = models.CharField(max_length=48, blank=True)
    formula = models.TextField(blank=True)
    row_filter = models.TextField(blank=True)
    min_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    max_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    objectives = models.ManyToManyField(Objective, related_name="version_kpis", through="VersionKpiObjective")

    objects = VersionKpiQuerySet.as_manager()

    class Meta:
        ordering = ["version", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="version_kpi_code_unique"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="version_kpi_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        _refuse_unless_draft(self.version_id)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        _refuse_unless_draft(self.version_id)
        return super().delete(*args, **kwargs)


class VersionKpiObjectiveQuerySet(TenantQuerySet["VersionKpiObjective"]):
    engagement_path = "version_kpi__version__engagement"


class VersionKpiObjective(models.Model):
    """The link of a KPI (in one version) to the objective it measures."""

    version_kpi = models.ForeignKey(VersionKpi, on_delete=models.CASCADE, related_name="objective_links")
    objective = models.ForeignKey(Objective, on_delete=models.PROTECT, related_name="kpi_links")

    objects = VersionKpiObjectiveQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version_kpi", "objective"], name="kpi_objective_unique")]

    def __str__(self) -> str:
        return f"KPI {self.version_kpi_id} measures objective {self.objective_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        _refuse_unless_draft(
            VersionKpi.objects.filter(pk=self.version_kpi_id).values_list("version_id", flat=True).first()
        )
        super().save(*args, **kwargs)


class MilestoneQuerySet(TenantQuerySet["Milestone"]):
    engagement_path = "version_kpi__version__engagement"


class Milestone(models.Model):
    """A dated interim target: the scorecard uses it until its date passes."""

    version_kpi = models.ForeignKey(VersionKpi, on_delete=models.CASCADE, related_name="milestones")
    date = models.DateField()
    target = models.DecimalField(max_digits=20, decimal_places=6)
    amber = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    stretch = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        ordering = ["version_kpi", "date"]
        constraints = [models.UniqueConstraint(fields=["version_kpi", "date"], name="milestone_date_unique")]

    def __str__(self) -> str:
        return f"{self.date}: {self.target}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        _refuse_unless_draft(
            VersionKpi.objects.filter(pk=self.version_kpi_id).values_list("version_id", flat=True).first()
        )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        _refuse_unless_draft(
            VersionKpi.objects.filter(pk=self.version_kpi_id).values_list("version_id", flat=True).first()
        )
        return super().delete(*args, **kwargs)


class SignatureQuerySet(TenantQuerySet["Signature"]):
    engagement_path = "version__engagement"


class Signature(models.Model):
    """One party's signature of the exact content of a proposed version."""

    version = models.ForeignKey(AgreementVersion, on_delete=models.PROTECT, related_name="signatures")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64)
    recorded_as_agreed = models.BooleanField(
        default=False, help_text="Recorded by an import of an already signed contract, not signed in Pactboard."
    )

    objects = SignatureQuerySet.as_manager()

    class Meta:
        ordering = ["signed_at"]
        constraints = [models.UniqueConstraint(fields=["version", "organisation"], name="one_signature_per_party")]

    def __str__(self) -> str:
        return f"{self.organisation} signed {self.version}"


class CommentQuerySet(TenantQuerySet["Comment"]):
    engagement_path = "version__engagement"


class Comment(TimeStampedModel):
    """A remark on a proposed version, on one of its KPIs or on the whole."""

    version = models.ForeignKey(AgreementVersion, on_delete=models.CASCADE, related_name="comments")
    kpi_code = models.CharField(max_length=48, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.version}"
