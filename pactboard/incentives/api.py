"""REST endpoints: an engagement's settlements, one month's statement, draft and approve."""

from __future__ import annotations

from typing import Any

from ninja import Schema

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.api import ApiRouter
from pactboard.core.errors import not_found
from pactboard.engagements.selectors import engagement_get
from pactboard.incentives import selectors, services
from pactboard.incentives.exports import statement_as_dict
from pactboard.incentives.models import Settlement

router = ApiRouter(tags=["incentives"])


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


@router.get("/{engagement_id}/settlements")
def list_settlements(request: AuthenticatedHttpRequest, engagement_id: int) -> list[dict[str, Any]]:
    """Every settlement of the engagement, newest month first, with its lines and totals (decimal strings)."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    return [_out(s) for s in selectors.settlement_list(engagement=engagement).select_related("engagement", "version")]


@router.get("/{engagement_id}/settlements/{period}")
def get_settlement(request: AuthenticatedHttpRequest, engagement_id: int, period: str) -> dict[str, Any]:
    """One month's settlement."""
    return _out(_get(request, engagement_id, period))


class DraftIn(Schema):
    period: str


@router.post("/{engagement_id}/settlements")
def draft_settlement(request: AuthenticatedHttpRequest, engagement_id: int, payload: DraftIn) -> dict[str, Any]:
    """Compute (or recompute) a month's draft settlement from the values as they stand."""
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    return _out(services.settlement_draft(actor=request.membership, engagement=engagement, period=payload.period))


@router.post("/{engagement_id}/settlements/{period}/approve")
def approve_settlement(request: AuthenticatedHttpRequest, engagement_id: int, period: str) -> dict[str, Any]:
    """Approve a draft for the caller's side; with both sides' approvals it is final."""
    return _out(services.settlement_approve(actor=request.membership, settlement=_get(request, engagement_id, period)))
