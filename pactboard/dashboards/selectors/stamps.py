"""One-query change stamps that tell an open page whether anything it shows has changed."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Max, OuterRef, Q, Subquery

from pactboard.accounts.models import Membership
from pactboard.engagements.models import BusinessChange, Engagement
from pactboard.kpis.models import AgreementVersion
from pactboard.measurements.models import Measurement


def _stamp_text(*parts: object) -> str:
    """URL-safe: counts, ids and instants (as microseconds since the epoch) joined by dashes."""
    return "-".join(
        "0" if p is None else str(int(p.timestamp() * 1_000_000)) if isinstance(p, datetime) else str(p) for p in parts
    )


def engagement_stamp(*, engagement_id: int) -> str:
    """What changes when anything an engagement's pages show changes: one query, cheap enough to poll each second.

    Values (count and newest ``updated_at``: a new value, a correction, from any source or process),
    business changes and agreed versions.
    """
    measurements = Measurement.objects.filter(engagement_id=OuterRef("pk")).order_by().values("engagement_id")
    changes = BusinessChange.objects.filter(engagement_id=OuterRef("pk")).order_by().values("engagement_id")
    versions = (
        AgreementVersion.objects.filter(engagement_id=OuterRef("pk"), status=AgreementVersion.Status.AGREED)
        .order_by()
        .values("engagement_id")
    )
    row = (
        Engagement.objects.filter(pk=engagement_id)
        .annotate(
            m_n=Subquery(measurements.annotate(n=Count("id")).values("n")),
            m_at=Subquery(measurements.annotate(t=Max("updated_at")).values("t")),
            c_n=Subquery(changes.annotate(n=Count("id")).values("n")),
            c_at=Subquery(changes.annotate(t=Max("updated_at")).values("t")),
            v_id=Subquery(versions.annotate(m=Max("id")).values("m")),
            # With the count, a version agreed after a newer one (a lower id) still changes the stamp.
            v_n=Subquery(versions.annotate(n=Count("id")).values("n")),
        )
        .values_list("m_n", "m_at", "c_n", "c_at", "v_id", "v_n")
        .first()
    )
    return _stamp_text(*(row or ()))


def portfolio_stamp(*, membership: Membership | None) -> str:
    """The portfolio's version: the visible engagements, their agreed versions and values (two queries)."""
    visible = Engagement.objects.visible_to(membership)
    engagements = visible.aggregate(
        n=Count("id", distinct=True),
        v=Max("versions__id", filter=Q(versions__status=AgreementVersion.Status.AGREED)),
        v_n=Count("versions__id", filter=Q(versions__status=AgreementVersion.Status.AGREED), distinct=True),
        at=Max("updated_at"),
    )
    values = Measurement.objects.visible_to(membership).aggregate(n=Count("id"), at=Max("updated_at"))
    return portfolio_stamp_text(
        engagements=engagements["n"],
        newest_agreed=engagements["v"],
        agreed=engagements["v_n"],
        engagements_at=engagements["at"],
        values=values["n"],
        values_at=values["at"],
    )


def portfolio_stamp_text(
    *,
    engagements: int,
    newest_agreed: int | None,
    agreed: int,
    engagements_at: datetime | None,
    values: int,
    values_at: datetime | None,
) -> str:
    """The portfolio's stamp from its parts: the portfolio page builds it from rows it reads anyway."""
    return _stamp_text(engagements, newest_agreed, agreed, engagements_at, values, values_at)
