"""Reads for engagements, objectives and profiles. Every query starts from ``visible_to``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

from pactboard.accounts.models import Membership, Organisation
from pactboard.core.errors import invalid, not_found
from pactboard.engagements import ports
from pactboard.engagements.models import BusinessChange, Engagement, Objective, ProviderProfile
from pactboard.engagements.smart import SmartGap, objective_smart_check


def engagement_list(*, membership: Membership | None, status: str | None = None) -> QuerySet[Engagement]:
    """Engagements the actor's organisation is a party to."""
    qs = Engagement.objects.visible_to(membership).select_related("client", "provider")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("name")


def engagement_get(*, membership: Membership | None, engagement_id: int) -> Engagement:
    """The one way views and endpoints resolve an engagement: one the actor may see, or not found (a 404)."""
    engagement = engagement_list(membership=membership).filter(pk=engagement_id).first()
    if engagement is None:
        raise not_found("No such engagement.")
    return engagement


def objective_get(*, membership: Membership | None, objective_id: int) -> Objective:
    objective = (
        Objective.objects.visible_to(membership)
        .select_related("engagement__client", "engagement__provider", "owner")
        .filter(pk=objective_id)
        .first()
    )
    if objective is None:
        raise not_found("No such objective.")
    return objective


@dataclass(frozen=True)
class ObjectiveRow:
    objective: Objective
    gaps: list[SmartGap]
    kpi_count: int

    @property
    def is_smart(self) -> bool:
        return not self.gaps


def objectives_with_smart_check(*, engagement: Engagement) -> list[ObjectiveRow]:
    """An engagement's objectives, each with what keeps it from being SMART."""
    objectives = list(engagement.objectives.select_related("owner").order_by("position", "id"))
    counts = ports.objective_kpi_counts()(objective_ids=[o.pk for o in objectives])
    return [
        ObjectiveRow(
            objective=o,
            kpi_count=counts.get(o.pk, 0),
            gaps=objective_smart_check(
                measure=o.measure,
                target=o.target,
                deadline=o.deadline,
                has_owner=o.owner_id is not None,
                linked_kpi_count=counts.get(o.pk, 0),
                relevance=o.relevance,
            ),
        )
        for o in objectives
    ]


def provider_profile_for(*, membership: Membership | None, organisation: Organisation) -> ProviderProfile | None:
    """The provider's profile if the actor may read it (own organisation, or a client of it)."""
    return ProviderProfile.objects.visible_to(membership).filter(organisation=organisation).first()


def engagement_people(*, engagement: Engagement) -> QuerySet[Membership]:
    """Members of both parties (for owner choices and the parties panel)."""
    return (
        Membership.objects.filter(organisation_id__in=[engagement.client_id, engagement.provider_id])
        .select_related("user", "organisation")
        .order_by("organisation__name", "user__email")
    )


def provider_organisations(*, membership: Membership) -> QuerySet[Organisation]:
    """Providers the actor's client organisation already works with (others are invited by e-mail)."""
    return (
        Organisation.objects.filter(
            kind=Organisation.Kind.PROVIDER, provider_engagements__client_id=membership.organisation_id
        )
        .distinct()
        .order_by("name")
    )


def engagement_lookup(*, ref: str) -> Engagement:
    """An engagement by id or exact name, for operators' commands (no tenant scope: the CLI is the operator)."""
    qs = Engagement.objects.select_related("client", "provider")
    if ref.isdigit():
        found = qs.filter(pk=int(ref)).first()
        if found is not None:
            return found
    matches = list(qs.filter(name=ref).order_by("pk"))
    if not matches:
        raise not_found(f"No engagement has the id or name {ref!r}.")
    if len(matches) > 1:
        listed = "; ".join(f"#{e.pk} {e.client} / {e.provider}" for e in matches)
        raise invalid(f"Several engagements are named {ref!r} ({listed}): give the id instead.")
    return matches[0]


def business_change_list(
    *, membership: Membership | None, engagement: Engagement, kpi_code: str | None = None
) -> list[BusinessChange]:
    """An engagement's business changes, newest first; with ``kpi_code``, those linked to it or to every KPI."""
    changes = list(
        BusinessChange.objects.visible_to(membership)
        .filter(engagement=engagement)
        .select_related("created_by", "created_by_org")
        .order_by("-date", "-id")
    )
    # Few rows per engagement; filtered here because SQLite cannot query inside a JSON list.
    return [c for c in changes if kpi_code is None or c.affects(kpi_code)]


def engagements_lookup(*, refs: Sequence[str]) -> list[Engagement]:
    """Each engagement of ``refs`` (ids or exact names), or every active one when none is given.

    For operators' commands that work engagement by engagement (no tenant scope, like ``engagement_lookup``).
    """
    if refs:
        return [engagement_lookup(ref=ref) for ref in refs]
    return list(Engagement.objects.filter(status=Engagement.Status.ACTIVE).order_by("pk"))


_MAX_ID = 2**63 - 1  # the largest id a (big) integer primary key holds


def provider_profile_get(*, membership: Membership, organisation_id: int) -> ProviderProfile:
    """A provider's profile the actor may read (its own, or a provider of the client's engagements).

    A provider that has not written its profile yet answers an empty, unsaved one; any other
    organisation (another tenant, a client, no such id) is not found.
    """
    if not 0 < organisation_id <= _MAX_ID:
        # Past the id column's range no row exists, and SQLite cannot even compare it inside an OR.
        raise not_found("No such provider profile.")
    profile = (
        ProviderProfile.objects.visible_to(membership)
        .select_related("organisation")
        .filter(organisation_id=organisation_id)
        .first()
    )
    if profile is not None:
        return profile
    own = organisation_id == membership.organisation_id
    works_for = Engagement.objects.filter(client_id=membership.organisation_id, provider_id=organisation_id)
    organisation = (
        Organisation.objects.filter(pk=organisation_id, kind=Organisation.Kind.PROVIDER).first()
        if own or works_for.exists()
        else None
    )
    if organisation is None:
        raise not_found("No such provider profile.")
    return ProviderProfile(organisation=organisation)
