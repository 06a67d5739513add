"""One-query change stamps that tell an open page whether anything it shows has changed."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.db.models import Count, Max, Q
from django.utils.dateparse import parse_datetime

from pactboard.accounts.models import Membership
from pactboard.dashboards.selectors.common import quoted_column, quoted_table
from pactboard.engagements.models import BusinessChange, Engagement
from pactboard.kpis.models import AgreementVersion
from pactboard.measurements.models import Measurement


def _stamp_text(*parts: object) -> str:
    """URL-safe: counts, ids and instants (as microseconds since the epoch) joined by dashes."""
    return "-".join(
        "0" if p is None else str(int(p.timestamp() * 1_000_000)) if isinstance(p, datetime) else str(p) for p in parts
    )


@dataclass(frozen=True)
class EngagementState:
    """An engagement's change stamp (``text``) and the newest ``updated_at`` of its values (``values_at``)."""

    text: str
    values_at: datetime | None


@functools.cache
def _state_sql(vendor: str) -> str:
    """The stamp's statement for the backend ``vendor`` (its key here: each backend quotes names its own way)."""
    # Written out rather than built by the ORM on each call: compiling six correlated subqueries cost
    # 3 ms of CPU per dashboard, KPI page and poll; running this statement costs 0.25 ms (bench/README.md).
    m, c, v = (quoted_table(model) for model in (Measurement, BusinessChange, AgreementVersion))
    m_eng, m_at = quoted_column(Measurement, "engagement"), quoted_column(Measurement, "updated_at")
    c_eng, c_at = quoted_column(BusinessChange, "engagement"), quoted_column(BusinessChange, "updated_at")
    v_eng, v_id, v_status = (quoted_column(AgreementVersion, name) for name in ("engagement", "id", "status"))
    # Identifiers come from the models, quoted by the backend; every value is a parameter.
    return (
        f"SELECT (SELECT COUNT(*) FROM {m} WHERE {m_eng} = %s), (SELECT MAX({m_at}) FROM {m} WHERE {m_eng} = %s), "  # noqa: S608
        f"(SELECT COUNT(*) FROM {c} WHERE {c_eng} = %s), (SELECT MAX({c_at}) FROM {c} WHERE {c_eng} = %s), "
        f"(SELECT MAX({v_id}) FROM {v} WHERE {v_eng} = %s AND {v_status} = %s), "
        f"(SELECT COUNT(*) FROM {v} WHERE {v_eng} = %s AND {v_status} = %s)"
    )


def _instant(value: datetime | str | None) -> datetime | None:
    """A ``MAX(updated_at)`` as the ORM would give it: SQLite answers text in UTC, PostgreSQL a datetime."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError(f"not a stored time: {value!r}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def engagement_state(*, engagement_id: int) -> EngagementState:
    """What changes when anything an engagement's pages show changes: one query, cheap enough to poll each second.

    Values (count and newest ``updated_at``: a new value, a correction, from any source or process),
    business changes and agreed versions. The newest value's time is the dashboard's "last value arrived".
    """
    agreed = AgreementVersion.Status.AGREED.value
    with connection.cursor() as cursor:
        cursor.execute(
            _state_sql(connection.vendor),
            [engagement_id, engagement_id, engagement_id, engagement_id, engagement_id, agreed, engagement_id, agreed],
        )
        m_n, m_at, c_n, c_at, v_id, v_n = cursor.fetchone()
    values_at = _instant(m_at)
    # With the count, a version agreed after a newer one (a lower id) still changes the stamp.
    return EngagementState(text=_stamp_text(m_n, values_at, c_n, _instant(c_at), v_id, v_n), values_at=values_at)


def engagement_stamp(*, engagement_id: int) -> str:
    """The engagement's change stamp (``engagement_state``'s text): what a live page polls with."""
    return engagement_state(engagement_id=engagement_id).text


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
