"""REST endpoints: an engagement's settlements, one month's statement, draft and approve."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.api import ApiRouter, Mapped, mapped, paged
from pactboard.core.errors import not_found
from pactboard.engagements.selectors import engagement_get
from pactboard.incentives import selectors, services
from pactboard.incentives.exports import statement_as_dict
from pactboard.incentives.models import Settlement

router = ApiRouter(tags=["incentives"])


class SettlementLineOut(Schema):
    kind: str
    kpi: str | None
    rule: Any
    value: Any
    band: Any
    amount: Any
    earn_back: Any
    explanation: Any


class SettlementOut(Schema):
    """A month's settlement: its statement's totals (decimal strings) and lines, and who approved it when."""

    id: int
    engagement: str
    period: str
    status: str
    currency: str
    credits: str
    credits_pending: str
    credits_waived: str
    bonuses: str
    net: str
    adjustments: str
    payable: str
    lines: list[SettlementLineOut]
    agreement_version: int
    content_hash: str
    client_approved_at: datetime | None
    provider_approved_at: datetime | None


def _out(settlement: Settlement) -> dict[str, Any]:
    return {
        "id": settlement.pk,
        **statement_as_dict(
            engagement=settlement.engagement.name,
            period=settlement.period,
            status=settlement.status,
            statement=settlement.statement,
        ),
        "agreement_version": settlement.version.number,
        "content_hash": settlement.content_hash,
        "client_approved_at": settlement.client_approved_at,
        "provider_approved_at": settlement.provider_approved_at,
    }


def _get(request: AuthenticatedHttpRequest, engagement_id: int, period: str) -> Settlement:
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    found = selectors.settlement_for_period(engagement=engagement, period=period)
    if found is None:
        raise not_found(f"No settlement of {period} yet: draft one first.")
    return found


@router.get("/{engagement_id}/settlements", response=list[SettlementOut])
@paged
def list_settlements(request: AuthenticatedHttpRequest, engagement_id: int) -> Mapped[Settlement, dict[str, Any]]:
    """Every settlement of the engagement, newest month first, with its lines and totals (decimal strings)."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    return mapped(selectors.settlement_list(engagement=engagement).select_related("engagement", "version"), _out)


@router.get("/{engagement_id}/settlements/{period}", response=SettlementOut)
def get_settlement(request: AuthenticatedHttpRequest, engagement_id: int, period: str) -> dict[str, Any]:
    """One month's settlement."""
    return _out(_get(request, engagement_id, period))


class SettlementDraftIn(Schema):
    period: str


@router.post("/{engagement_id}/settlements", response=SettlementOut)
def draft_settlement(
    request: AuthenticatedHttpRequest, engagement_id: int, payload: SettlementDraftIn
) -> dict[str, Any]:
    """Compute (or recompute) a month's draft settlement from the values as they stand."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    return _out(services.settlement_draft(actor=request.membership, engagement=engagement, period=payload.period))


@router.post("/{engagement_id}/settlements/{period}/approve", response=SettlementOut)
def approve_settlement(request: AuthenticatedHttpRequest, engagement_id: int, period: str) -> dict[str, Any]:
    """Approve a draft for the caller's side; with both sides' approvals it is final."""
    return _out(services.settlement_approve(actor=request.membership, settlement=_get(request, engagement_id, period)))
