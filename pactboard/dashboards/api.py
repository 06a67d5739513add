"""REST endpoints of the dashboards room: the portfolio, and an engagement's audit trail (paged events, verification).

``router`` is mounted under ``/engagements``; ``portfolio_router`` at the root (``GET /api/portfolio``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from ninja import Field, Query, Schema

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.audit import selectors as audit_selectors
from pactboard.audit.describe import event_words
from pactboard.audit.models import AuditEvent
from pactboard.audit.selectors import AuditFilters
from pactboard.core.api import ApiRouter, Mapped, mapped, paged
from pactboard.dashboards import selectors as dashboard_selectors
from pactboard.engagements.models import Engagement
from pactboard.engagements.selectors import engagement_get

router = ApiRouter(tags=["audit"])
portfolio_router = ApiRouter(tags=["portfolio"])


class AuditQuery(Schema):
    actor: str = ""
    action: str = ""
    object_type: str = ""
    date_from: date | None = None
    date_to: date | None = None


class ChangeOut(Schema):
    field: str
    before: str
    after: str


class AuditEventOut(Schema):
    chain: str
    seq: int
    occurred_at: datetime
    actor_email: str
    organisation_name: str
    action: str
    what: str
    object_type: str
    object_id: str
    object_repr: str
    changes: list[ChangeOut]
    before: Any
    after: Any
    prev_hash: str
    hash: str


class ProblemOut(Schema):
    seq: int
    kind: str
    message: str


class AuditVerifyOut(Schema):
    ok: bool
    chain: str
    count: int
    head_seq: int
    head_hash: str
    problem: ProblemOut | None


def _event_out(e: AuditEvent) -> dict[str, Any]:
    words = event_words(e)
    return {
        "chain": e.chain,
        "seq": e.seq,
        "occurred_at": e.occurred_at,
        "actor_email": e.actor_email,
        "organisation_name": e.organisation_name,
        "action": e.action,
        "what": words.what,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "object_repr": e.object_repr,
        "changes": [vars(c) for c in words.changes],
        "before": e.before,
        "after": e.after,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


@router.get("/{engagement_id}/audit/events", response=list[AuditEventOut])
@paged
def audit_events(
    request: AuthenticatedHttpRequest, engagement_id: int, q: Query[AuditQuery]
) -> Mapped[AuditEvent, dict[str, Any]]:
    """The engagement's audit events, newest first; dates are calendar days in the engagement's zone."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    filters = AuditFilters(
        actor=q.actor,
        action=q.action,
        object_type=q.object_type,
        date_from=q.date_from,
        date_to=q.date_to,
        zone=engagement.time_zone,
    )
    return mapped(audit_selectors.audit_event_list(engagement_id=engagement.pk, filters=filters), _event_out)


@router.get("/{engagement_id}/audit/verify", response=AuditVerifyOut)
def audit_verify(request: AuthenticatedHttpRequest, engagement_id: int, head: str = "") -> dict[str, Any]:
    """Recompute the engagement's chain; with ``head`` (kept from a report), also check that it is still in it."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    result = audit_selectors.audit_engagement_verify(engagement_id=engagement.pk, head_hash=head or None)
    problem = result.problem
    return {
        "ok": result.ok,
        "chain": result.chain,
        "count": result.count,
        "head_seq": result.head_seq,
        "head_hash": result.head_hash,
        "problem": None if problem is None else {"seq": problem.seq, "kind": problem.kind, "message": problem.message},
    }


# --- the portfolio -----------------------------------------------------------------------------

PortfolioSort = Literal[
    "name", "-name", "counterparty", "-counterparty", "status_score", "-status_score", "score", "-score",
    "missed", "-missed", "last_data", "-last_data",
]  # fmt: skip


# "" (any status) or one of the engagement's statuses, read off Engagement.Status so the filter cannot drift
# from the model. A Literal rather than the TextChoices class: it stays inline in the OpenAPI parameter (a
# component named "Status" exists already) and its values are the same strings.
if TYPE_CHECKING:
    PortfolioStatus = str
else:
    PortfolioStatus = Literal["", *Engagement.Status.values]


class PortfolioQuery(Schema):
    q: str = Field("", max_length=100, description="Part of the engagement's, the client's or the provider's name.")
    status: PortfolioStatus = Field("", description="Only engagements in this status.")
    attention: bool = Field(False, description="Only engagements with a KPI missed or at risk.")
    sort: PortfolioSort = Field("name", description="The column to sort by; a leading - sorts descending.")


class PortfolioItemOut(Schema):
    engagement_id: int
    engagement: str
    engagement_status: str
    counterparty: str
    period_kind: str | None
    period_start: date | None
    period_end: date | None
    period_label: str | None
    kpis: int
    status_score: Decimal | None
    score: Decimal | None
    coverage: Decimal | None
    met: int
    at_risk: int
    missed: int
    no_data: int
    trend: str | None
    trend_better: bool | None
    last_data_at: datetime | None


def _portfolio_item(r: dashboard_selectors.PortfolioRow) -> dict[str, Any]:
    period = r.period
    return {
        "engagement_id": r.engagement.pk,
        "engagement": r.engagement.name,
        "engagement_status": r.engagement.status,
        "counterparty": r.counterparty.name,
        "period_kind": period.kind if period else None,
        "period_start": period.start if period else None,
        "period_end": period.last_day if period else None,
        "period_label": period.label if period else None,
        "kpis": r.kpi_count,
        "status_score": r.status_score,
        "score": r.score,
        "coverage": r.coverage,
        "met": r.met,
        "at_risk": r.at_risk,
        "missed": r.missed,
        "no_data": r.no_data,
        "trend": r.trend,
        "trend_better": r.trend_better,
        "last_data_at": r.last_arrival,
    }


@portfolio_router.get("/portfolio", response=list[PortfolioItemOut])
@paged
def portfolio(
    request: AuthenticatedHttpRequest, q: Query[PortfolioQuery]
) -> Mapped[dashboard_selectors.PortfolioRow, dict[str, Any]]:
    """The caller organisation's engagements as the portfolio page shows them, each at its latest closed period.

    ``status_score`` weighs KPI statuses (met/exceeded 100, at risk 50, missed 0); ``score`` is the
    weighted mean attainment; ``met`` counts met or exceeded KPIs; ``trend`` is the status score's
    direction over the last periods (up, down, flat, or null).
    """
    data = dashboard_selectors.portfolio(
        membership=request.membership, q=q.q.strip(), status=q.status, attention=q.attention, sort=q.sort
    )
    return mapped(data.rows, _portfolio_item)
