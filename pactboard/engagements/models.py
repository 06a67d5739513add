"""Engagements between a client and a provider, their objectives, and provider profiles."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from pactboard.accounts.models import Organisation
from pactboard.core.models import TimeStampedModel
from pactboard.core.tenancy import TenantQuerySet


class Cadence(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(
            f"Unknown time zone {value!r}: use an IANA name such as Europe/Berlin or America/New_York.",
            code="unknown_time_zone",
        )


class EngagementQuerySet(TenantQuerySet["Engagement"]):
    engagement_path = ""


class Engagement(TimeStampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    client = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="client_engagements", limit_choices_to={"kind": "client"}
    )
    provider = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="provider_engagements",
        limit_choices_to={"kind": "provider"},
    )
    name = models.CharField(max_length=200)
    scope = models.TextField(blank=True, help_text="What work is outsourced: services, volumes, channels, languages.")
    start_date = models.DateField()
    end_date = models.DateField()
    currency = models.CharField(
        max_length=3,
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code such as EUR or USD.")],
    )
    monthly_fee = models.DecimalField(
        max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))], default=Decimal("0")
    )
    review_cadence = models.CharField(max_length=10, choices=Cadence.choices, default=Cadence.MONTHLY)
    report_cadence = models.CharField(max_length=10, choices=Cadence.choices, default=Cadence.MONTHLY)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    max_active_kpis = models.PositiveSmallIntegerField(
        default=8, help_text="Above this many active KPIs the engagement shows a warning."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    objects = EngagementQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="engagement_end_after_start"
            ),
            models.CheckConstraint(condition=~Q(client=models.F("provider")), name="engagement_two_parties"),
            models.CheckConstraint(condition=Q(monthly_fee__gte=0), name="engagement_fee_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, ValidationError] = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = ValidationError(
                "The end date must be on or after the start date.", code="end_before_start"
            )
        if self.client_id and self.provider_id and self.client_id == self.provider_id:
            errors["provider"] = ValidationError(
                "The provider must be another organisation than the client.", code="same_organisation"
            )
        if errors:
            raise ValidationError(errors)

    def party_role(self, organisation_id: int) -> str | None:
        if organisation_id == self.client_id:
            return "client"
        if organisation_id == self.provider_id:
            return "provider"
        return None


class ObjectiveQuerySet(TenantQuerySet["Objective"]):
    engagement_path = "engagement"


class Objective(TimeStampedModel):
    """A business goal of the engagement, written SMART."""

    class Horizon(models.TextChoices):
        SHORT = "short", "Short-term"
        LONG = "long", "Long-term"

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="objectives")
    key = models.SlugField(
        max_length=60, help_text="Short name that KPIs and engagement documents use to refer to the objective."
    )
    horizon = models.CharField(max_length=5, choices=Horizon.choices, default=Horizon.SHORT)
    statement = models.CharField(max_length=300, help_text="The goal in one sentence.")
    measure = models.CharField(max_length=200, blank=True, help_text="Specific / measurable: what is measured.")
    target = models.CharField(max_length=120, blank=True, help_text="Achievable: the level to reach, e.g. 85 % or 4.5.")
    deadline = models.DateField(null=True, blank=True, help_text="Time-bound: by when.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_objectives"
    )
    relevance = models.TextField(blank=True, help_text="Relevant: why it matters to the business.")
    position = models.PositiveSmallIntegerField(default=0)

    objects = ObjectiveQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["engagement", "key"], name="objective_key_unique")]

    def __str__(self) -> str:
        return self.statement


class ProviderProfileQuerySet(TenantQuerySet["ProviderProfile"]):
    def visible_filter(self, *, organisation_id: int) -> Q:
        """A provider sees its own profile; a client sees the profiles of its engagements' providers."""
        # A subquery rather than a join through the provider's engagements: no duplicate rows to undo.
        providers = Engagement.objects.filter(client_id=organisation_id).values("provider_id")
        return Q(organisation_id=organisation_id) | Q(organisation_id__in=providers)


class ProviderProfile(TimeStampedModel):
    """What a provider can do: shown where KPIs are drafted."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="provider_profile", limit_choices_to={"kind": "provider"}
    )
    summary = models.TextField(blank=True)
    expertise = models.TextField(blank=True, help_text="One item per line: services, industries, languages.")
    resources = models.TextField(blank=True, help_text="One item per line: headcount, tooling, capacity.")
    locations = models.TextField(blank=True, help_text="One item per line: delivery sites and time zones.")
    certifications = models.TextField(blank=True, help_text="One item per line: ISO 27001, PCI DSS, COPC, ...")
    limitations = models.TextField(blank=True, help_text="One item per line: what the provider does not do.")

    objects = ProviderProfileQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Profile of {self.organisation}"

    @staticmethod
    def lines(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]


class BusinessChangeQuerySet(TenantQuerySet["BusinessChange"]):
    engagement_path = "engagement"


class BusinessChange(TimeStampedModel):
    """Something outside the KPIs that moves them: a market shift, a launch, an economic or organisational event.

    Either party records it; charts show it as an annotation at its date, so that a dip or a jump
    is read together with its cause.
    """

    class Kind(models.TextChoices):
        MARKET = "market", "Market shift"
        LAUNCH = "launch", "Launch"
        ECONOMIC = "economic", "Economic event"
        ORGANISATIONAL = "organisational", "Organisational change"
        OTHER = "other", "Other"

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="business_changes")
    date = models.DateField(help_text="When it happened or takes effect.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=120, help_text="A short headline, shown on the charts.")
    description = models.TextField(blank=True, help_text="What changed and what it is expected to move.")
    kpi_codes = models.JSONField(
        default=list, blank=True, help_text="Codes of the KPIs it affects; empty means the whole engagement."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_by_org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")

    objects = BusinessChangeQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "-date", "-id"]
        indexes = [models.Index(fields=["engagement", "date"], name="business_change_date_idx")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.title}"

    def affects(self, kpi_code: str) -> bool:
        """Whether the change is linked to the KPI (a change linked to no KPI concerns them all)."""
        return not self.kpi_codes or kpi_code in self.kpi_codes
