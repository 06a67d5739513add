"""Tenancy in one place: every model with a path to an engagement is scoped by ``visible_to``.

The models are found through Django's app registry (any chain of forward foreign keys that ends
at ``Engagement``), so a model added tomorrow is checked the day it lands: it fails here until
its queryset inherits ``TenantQuerySet`` and the test knows how to build one of its rows.

Expected visibility comes from the definition (ARCHITECTURE.md, "Tenancy in one place"): a row
is visible exactly to the two parties (client and provider organisations) of its engagement.
"""

from __future__ import annotations

from collections import deque
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import models
from django.utils import timezone

from pactboard.accounts.models import Membership, Organisation
from pactboard.core.tenancy import TenantQuerySet
from pactboard.engagements.models import BusinessChange, Engagement, Objective, ProviderProfile
from pactboard.governance.collaboration_models import Article, StrategyNote, Win
from pactboard.governance.models import (
    ActionItem,
    Alert,
    AlertSettings,
    Decision,
    FeedbackComment,
    FeedbackThread,
    Meeting,
    MeetingAttendee,
    RelevanceComment,
    RelevanceItem,
    RelevanceReview,
    RelevanceSettings,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from pactboard.incentives.models import Settlement
from pactboard.kpis.models import (
    AgreementVersion,
    Comment,
    CustomKpi,
    Milestone,
    Signature,
    VersionKpi,
    VersionKpiObjective,
)
from pactboard.measurements.models import (
    Dataset,
    DatasetVersion,
    IdempotencyKey,
    ImportBatch,
    Measurement,
    Revision,
)
from pactboard.reports.models import Report, ReportRecipient
from tests.conftest import World

# Models with a path to an engagement that are deliberately not scoped by TenantQuerySet, each
# with the reason. Empty today. (AuditEvent is not listed because it has no foreign key: it keeps
# the engagement as a plain id so the log never changes, and is read only for an engagement that
# engagement_get resolved first.)
NOT_SCOPED: dict[str, str] = {}


def _forward_relations(model: type[models.Model]) -> list[models.Field]:
    return [
        f
        for f in model._meta.get_fields()
        if isinstance(f, models.Field) and f.is_relation and (f.many_to_one or f.one_to_one)
    ]


def _path_to_engagement(model: type[models.Model]) -> str | None:
    """The shortest chain of forward foreign keys from ``model`` to Engagement ("" for Engagement)."""
    queue: deque[tuple[type[models.Model], str]] = deque([(model, "")])
    seen = {model}
    while queue:
        current, path = queue.popleft()
        if current is Engagement:
            return path
        for field in _forward_relations(current):
            target = field.related_model
            if isinstance(target, type) and target not in seen:
                seen.add(target)
                queue.append((target, f"{path}__{field.name}" if path else field.name))
    return None


ENGAGEMENT_OWNED = sorted(
    (m for m in apps.get_models() if _path_to_engagement(m) is not None and m._meta.label not in NOT_SCOPED),
    key=lambda m: m._meta.label,
)


def _rows(engagement: Engagement, objective: Objective, member: Membership) -> dict[type[models.Model], models.Model]:
    """One row of every engagement-owned model, all belonging to ``engagement``."""
    org, user, now = member.organisation, member.user, timezone.now()
    version = AgreementVersion.objects.create(engagement=engagement, number=1)
    kpi = VersionKpi.objects.create(
        version=version, code="fcr", name="FCR", category="quality", unit="%", direction="higher", target=Decimal(75)
    )
    dataset = Dataset.objects.create(engagement=engagement, name="contacts", columns=[], time_column="at")
    measurement = Measurement.objects.create(
        engagement=engagement,
        kpi_code="fcr",
        period_kind="month",
        period_start=date(2026, 1, 1),
        value=Decimal(70),
        source="manual",
        updated_at=now,
    )
    meeting = Meeting.objects.create(engagement=engagement, title="Review", starts_at=now)
    thread = FeedbackThread.objects.create(
        engagement=engagement,
        kpi_code="fcr",
        period_kind="month",
        period_start=date(2026, 1, 1),
        title="January",
        created_by=user,
        created_by_org=org,
    )
    webhook = Webhook.objects.create(
        engagement=engagement,
        url="https://hooks.example.com/x",
        secret="s",
        created_by=user,
        created_by_org=org,
        created_at=now,
    )
    delivery = WebhookDelivery.objects.create(webhook=webhook, kind="k", cause_key="c", body="{}", created_at=now)
    relevance_review = RelevanceReview.objects.create(engagement=engagement, due_on=date(2026, 7, 1), based_on=version)
    relevance_item = RelevanceItem.objects.create(
        review=relevance_review,
        kpi_code="fcr",
        kpi_name="FCR",
        unit="%",
        direction="higher",
        period_kind="month",
        target=Decimal(75),
    )
    rows: list[models.Model] = [
        webhook,
        delivery,
        WebhookAttempt.objects.create(delivery=delivery, number=1, attempted_at=now),
        relevance_review,
        relevance_item,
        RelevanceComment.objects.create(item=relevance_item, author=user, organisation=org, body="Still relevant?"),
        RelevanceSettings.objects.create(engagement=engagement),
        meeting,
        thread,
        MeetingAttendee.objects.create(meeting=meeting, membership=member),
        Decision.objects.create(meeting=meeting, text="Go", recorded_by=user, recorded_by_org=org),
        ActionItem.objects.create(
            engagement=engagement,
            meeting=meeting,
            title="Do it",
            owner=member,
            due_date=date(2026, 2, 1),
            created_by=user,
            created_by_org=org,
        ),
        FeedbackComment.objects.create(thread=thread, author=user, organisation=org, body="Why?"),
        Alert.objects.create(engagement=engagement, kind="late", cause_key="late:fcr:2026-01", raised_at=now),
        AlertSettings.objects.create(engagement=engagement),
        engagement,
        objective,
        version,
        kpi,
        dataset,
        measurement,
        BusinessChange.objects.create(
            engagement=engagement, date=date(2026, 2, 1), kind="launch", title="New app", created_by_org=org
        ),
        VersionKpiObjective.objects.create(version_kpi=kpi, objective=objective),
        Milestone.objects.create(version_kpi=kpi, date=date(2026, 6, 30), target=Decimal(70)),
        Signature.objects.create(version=version, organisation=org, signer=user, signed_at=now, content_hash="0" * 64),
        Comment.objects.create(version=version, author=user, organisation=org, body="Why 75 %?"),
        DatasetVersion.objects.create(
            dataset=dataset,
            number=1,
            parquet_sha256="1" * 64,
            row_count=0,
            upload_sha256="2" * 64,
            upload_name="contacts.csv",
            upload_rows=0,
        ),
        ImportBatch.objects.create(
            engagement=engagement,
            kind="values",
            file_name="values.csv",
            file_sha256="3" * 64,
            stored_path="imports/values.csv",
            created_by=user,
            created_by_org=org,
        ),
        Revision.objects.create(measurement=measurement, number=1, value=Decimal(70), source="manual", recorded_at=now),
        IdempotencyKey.objects.create(
            organisation=org,
            engagement=engagement,
            endpoint="measurements.push",
            key="k-1",
            request_sha256="5" * 64,
            response={"created": 1},
            status_code=201,
        ),
        Settlement.objects.create(
            engagement=engagement,
            period="2026-01",
            version=version,
            currency="EUR",
            inputs={},
            statement={},
            content_hash="4" * 64,
            credits_due=0,
            bonuses=0,
            net=0,
            adjustments=0,
            payable=0,
        ),
        # Collaboration (F18)
        StrategyNote.objects.create(engagement=engagement, title="Plan", body="x", author=user, updated_by=user),
        Article.objects.create(
            engagement=engagement, title="Lesson", body="x", author=user, author_org=org, updated_by=user
        ),
        Win.objects.create(
            engagement=engagement, kind="kudos", kpi_code="fcr", period="2026-01", message="Hi", posted_at=now
        ),
        Report.objects.create(engagement=engagement, period="2026-01"),
        ReportRecipient.objects.create(engagement=engagement, membership=member),
    ]
    return {type(r): r for r in rows}


@pytest.fixture
def two_tenants(world: World) -> tuple[dict[type[models.Model], models.Model], dict[type[models.Model], models.Model]]:
    """The same kind of rows in the personas' engagement and in the outsider's."""
    other_objective = Objective.objects.create(engagement=world.other_engagement, key="cost", statement="Lower cost")
    return (
        _rows(world.engagement, world.objective, world.client_manager),
        _rows(world.other_engagement, other_objective, world.outsider),
    )


def test_models_with_a_path_to_an_engagement_are_found() -> None:
    # A guard on the discovery itself: these are owned through one, two and three foreign keys.
    labels = {m._meta.label for m in ENGAGEMENT_OWNED}
    assert {"engagements.Engagement", "kpis.AgreementVersion", "kpis.VersionKpi", "kpis.Milestone"} <= labels
    assert "measurements.Revision" in labels
    assert "accounts.Organisation" not in labels  # engagements point to it, not the other way


@pytest.mark.parametrize("model", ENGAGEMENT_OWNED, ids=lambda m: m._meta.label)
def test_queryset_inherits_the_tenancy_mechanism(model: type[models.Model]) -> None:
    qs = model._default_manager.all()
    assert isinstance(qs, TenantQuerySet), f"{model._meta.label}: its queryset must inherit core.tenancy.TenantQuerySet"
    # The declared path must lead to Engagement through forward foreign keys (not only the shortest one).
    current: type[models.Model] = model
    for name in filter(None, (qs.engagement_path or "").split("__")):
        field = current._meta.get_field(name)
        assert field.many_to_one or field.one_to_one, f"{model._meta.label}: {name} is not a forward foreign key"
        current = field.related_model
    assert current is Engagement, f"{model._meta.label}: engagement_path {qs.engagement_path!r} does not end there"


@pytest.mark.parametrize("model", ENGAGEMENT_OWNED, ids=lambda m: m._meta.label)
def test_parties_see_the_row_and_an_outsider_does_not(model: type[models.Model], world: World, two_tenants) -> None:
    ours, theirs = two_tenants
    assert model in ours, f"add a row of {model._meta.label} to _rows() in {__file__}"
    mine, other = ours[model].pk, theirs[model].pk
    manager = model._default_manager
    for party in (world.client_manager, world.client_viewer, world.provider_manager):
        visible = set(manager.visible_to(party).values_list("pk", flat=True))
        assert mine in visible
        assert other not in visible
    outsider_sees = set(manager.visible_to(world.outsider).values_list("pk", flat=True))
    assert mine not in outsider_sees
    assert other in outsider_sees
    assert not manager.visible_to(None).exists()


def test_custom_kpis_are_seen_by_their_own_organisation_only(world: World) -> None:
    fields = {"category": "quality", "unit": "%", "direction": "higher", "definition": "Share of good calls."}
    acme = CustomKpi.objects.create(organisation=world.client_org, code="good_calls", name="Good calls", **fields)
    CustomKpi.objects.create(organisation=world.other_client_org, code="good_calls", name="Good calls", **fields)
    assert list(CustomKpi.objects.visible_to(world.client_viewer)) == [acme]
    # The provider of the same engagement does not see the client's own definitions.
    assert not CustomKpi.objects.visible_to(world.provider_manager).exists()


def test_provider_profiles_are_seen_by_the_provider_and_its_clients(world: World) -> None:
    helpline = ProviderProfile.objects.create(organisation=world.provider_org, summary="Multilingual support")
    initech = ProviderProfile.objects.create(organisation=world.other_provider_org, summary="Back office")
    assert list(ProviderProfile.objects.visible_to(world.provider_manager)) == [helpline]
    assert list(ProviderProfile.objects.visible_to(world.client_manager)) == [helpline]
    assert list(ProviderProfile.objects.visible_to(world.outsider)) == [initech]
    # A second engagement between the same parties must not list the profile twice.
    Engagement.objects.create(
        client=world.client_org,
        provider=world.provider_org,
        name="Acme chat",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        currency="EUR",
    )
    assert list(ProviderProfile.objects.visible_to(world.client_manager)) == [helpline]
    # Another provider never sees a competitor's profile.
    other = Organisation.objects.create(name="Umbrella Care", slug="umbrella", kind="provider")
    assert not ProviderProfile.objects.visible_to(Membership(organisation=other)).exists()
