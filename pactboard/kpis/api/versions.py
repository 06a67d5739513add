"""Versions of the KPI set: list, start a draft, read, propose, comment, sign, counter-propose, withdraw, diff."""

from __future__ import annotations

from datetime import date
from typing import Any

from ninja import Schema, Status

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.api import Mapped, mapped, paged
from pactboard.core.errors import not_found
from pactboard.engagements import selectors as engagement_selectors
from pactboard.kpis import negotiation, selectors, services
from pactboard.kpis.api.common import (
    CommentOut,
    VersionOut,
    VersionSummaryOut,
    _actor,
    _fresh,
    _summary,
    _version,
    _version_out,
    router,
)


class DraftIn(Schema):
    based_on_id: int | None = None
    note: str = ""


class ProposeIn(Schema):
    effective_from: date | None = None  # default: the start of the next period
    note: str | None = None
    retroactive: bool = False  # required for a date that re-scores periods already scored


class CommentIn(Schema):
    body: str
    kpi_code: str = ""


class CounterIn(Schema):
    note: str = ""


class FieldChangeOut(Schema):
    field: str
    before: Any
    after: Any


class KpiChangeOut(Schema):
    code: str
    name: str
    changes: list[FieldChangeOut]


class DiffOut(Schema):
    added: list[str]
    removed: list[str]
    changed: list[KpiChangeOut]
    settings: list[FieldChangeOut]


@router.get("/engagements/{engagement_id}/versions", response=list[VersionSummaryOut])
@paged
def agreement_versions_list(request: AuthenticatedHttpRequest, engagement_id: int) -> Mapped[Any, dict[str, Any]]:
    """Every version of an engagement's KPI agreement, newest first."""
    actor = _actor(request)
    engagement = engagement_selectors.engagement_get(membership=actor, engagement_id=engagement_id)
    versions = selectors.version_list(membership=actor, engagement=engagement)
    return mapped(versions, lambda v: _summary(v, list(v.signatures.all()), v.kpi_count))


@router.post("/engagements/{engagement_id}/versions", response={201: VersionOut})
def agreement_draft_start(
    request: AuthenticatedHttpRequest, engagement_id: int, payload: DraftIn
) -> Status[dict[str, Any]]:
    """Start a draft, copied from ``based_on_id`` or else from the newest agreed version."""
    actor = _actor(request)
    engagement = engagement_selectors.engagement_get(membership=actor, engagement_id=engagement_id)
    based_on = _version(request, payload.based_on_id) if payload.based_on_id else None
    draft = services.version_draft_start(actor=actor, engagement=engagement, based_on=based_on, note=payload.note)
    return Status(201, _fresh(request, draft.pk))


@router.get("/versions/{version_id}", response=VersionOut)
def agreement_version_get(request: AuthenticatedHttpRequest, version_id: int) -> dict[str, Any]:
    """One version with its KPIs, signatures and comments."""
    return _version_out(_version(request, version_id))


@router.post("/versions/{version_id}/propose", response=VersionOut)
def agreement_propose(request: AuthenticatedHttpRequest, version_id: int, payload: ProposeIn) -> dict[str, Any]:
    """Freeze a draft for review, with the date it takes effect once both parties sign."""
    version = _version(request, version_id)
    negotiation.version_propose(
        actor=_actor(request),
        version=version,
        effective_from=payload.effective_from,
        note=payload.note,
        retroactive=payload.retroactive,
    )
    return _fresh(request, version_id)


@router.post("/versions/{version_id}/comments", response={201: CommentOut})
def agreement_comment(request: AuthenticatedHttpRequest, version_id: int, payload: CommentIn) -> Status[dict[str, Any]]:
    """Comment on a version, or on one of its KPIs (``kpi_code``)."""
    actor = _actor(request)
    comment = negotiation.version_comment(
        actor=actor, version=_version(request, version_id), body=payload.body, kpi_code=payload.kpi_code
    )
    return Status(
        201,
        {
            "id": comment.pk,
            "kpi_code": comment.kpi_code,
            "author_email": actor.user.email,
            "organisation": actor.organisation.name,
            "body": comment.body,
            "created_at": comment.created_at,
        },
    )


@router.post("/versions/{version_id}/sign", response=VersionOut)
def agreement_sign(request: AuthenticatedHttpRequest, version_id: int) -> dict[str, Any]:
    """Sign a proposed version for the token's organisation; the second signature makes it agreed."""
    negotiation.version_sign(actor=_actor(request), version=_version(request, version_id))
    return _fresh(request, version_id)


@router.post("/versions/{version_id}/counter-proposal", response={201: VersionOut})
def agreement_counter_propose(
    request: AuthenticatedHttpRequest, version_id: int, payload: CounterIn
) -> Status[dict[str, Any]]:
    """Answer the other party's proposal with a new draft based on it (the proposal is superseded)."""
    draft = negotiation.version_counter_propose(
        actor=_actor(request), version=_version(request, version_id), note=payload.note
    )
    return Status(201, _fresh(request, draft.pk))


@router.post("/versions/{version_id}/withdraw", response=VersionOut)
def agreement_withdraw(request: AuthenticatedHttpRequest, version_id: int) -> dict[str, Any]:
    """Withdraw a draft, or one's own proposal before it is agreed."""
    negotiation.version_withdraw(actor=_actor(request), version=_version(request, version_id))
    return _fresh(request, version_id)


@router.get("/versions/{version_id}/diff/{other_id}", response=DiffOut)
def agreement_diff(request: AuthenticatedHttpRequest, version_id: int, other_id: int) -> dict[str, Any]:
    """What changed from ``version_id`` to ``other_id`` (KPIs added, removed, changed field by field)."""
    before, after = _version(request, version_id), _version(request, other_id)
    if before.engagement_id != after.engagement_id:
        raise not_found("No such agreement version.")
    diff = selectors.version_diff(before=before, after=after)
    return {
        "added": list(diff.added),
        "removed": list(diff.removed),
        "changed": [
            {
                "code": k.code,
                "name": k.name,
                "changes": [{"field": c.field, "before": c.before, "after": c.after} for c in k.changes],
            }
            for k in diff.changed
        ],
        "settings": [{"field": c.field, "before": c.before, "after": c.after} for c in diff.settings],
    }
