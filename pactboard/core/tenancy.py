"""Tenancy in one place: the queryset every engagement-owned model inherits.

An engagement has two parties, a client and a provider organisation. A row owned by an
engagement (directly, or through a version, a dataset, a value ...) is visible to an actor
exactly when the actor's organisation is one of the two parties of that engagement. Each
model's queryset names the path from the model to its engagement in ``engagement_path``;
``visible_to`` builds the filter from it, so no selector writes ``engagement__in=...`` by hand.

A model owned by an organisation rather than an engagement (a custom KPI, a provider profile)
overrides the one hook, ``visible_filter``. Core knows no domain model: the actor is anything
with an ``organisation_id`` (a ``Membership``).
"""

from __future__ import annotations

from typing import ClassVar, Protocol, Self

from django.db import models
from django.db.models import Q


class Actor(Protocol):
    """Who reads: the organisation they act for (``accounts.Membership`` is one)."""

    @property
    def organisation_id(self) -> int: ...


class TenantQuerySet[M: models.Model](models.QuerySet[M]):
    """Rows of engagements the actor's organisation is a party to; nothing for no actor."""

    # The lookup path from the model to its Engagement: "" for Engagement itself, "engagement",
    # "version__engagement", ... Every path is a chain of forward foreign keys, so the join
    # yields at most one engagement per row and never duplicates rows.
    engagement_path: ClassVar[str | None] = None

    def visible_filter(self, *, organisation_id: int) -> Q:
        """The hook: which rows an organisation may see. Override only for rows no engagement owns."""
        if self.engagement_path is None:
            raise NotImplementedError(f"{type(self).__name__} names no engagement_path and overrides no visible_filter")
        prefix = f"{self.engagement_path}__" if self.engagement_path else ""
        return Q(**{f"{prefix}client_id": organisation_id}) | Q(**{f"{prefix}provider_id": organisation_id})

    def visible_to(self, actor: Actor | None) -> Self:
        """The one scoping helper: what the actor may see (an object outside it is a 404, never a 403)."""
        if actor is None:
            return self.none()
        return self.filter(self.visible_filter(organisation_id=actor.organisation_id))
