"""REST endpoints of the notification channels: an engagement's webhooks and their delivery log, one's preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.utils import timezone
from ninja import Schema
from ninja.responses import Status

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.api import ApiRouter, ErrorOut, Mapped, mapped, paged
from pactboard.core.policy import verdict_require
from pactboard.engagements.selectors import engagement_get
from pactboard.governance import preferences, webhooks
from pactboard.governance.models import Webhook, WebhookDelivery
from pactboard.governance.notify import KIND_LABELS

router = ApiRouter(tags=["notifications"])

Mode = Literal["immediately", "digest", "off"]


NOT_FOUND = "No such engagement or webhook, or not yours to see."
FORBIDDEN = "Only administrators and managers of either party manage webhooks."


class WebhookOut(Schema):
    id: int
    url: str  # cut after the first path segment: chat webhooks carry their key in the path
    active: bool
    failure_count: int
    disabled_at: datetime | None
    disabled_reason: str
    created_by: str
    created_by_organisation: str
    created_at: datetime


class WebhookCreatedOut(WebhookOut):
    secret: str  # returned once, here: the key of the X-Pactboard-Signature HMAC


class WebhookIn(Schema):
    url: str


class WebhookPatchIn(Schema):
    active: bool


class AttemptOut(Schema):
    number: int
    attempted_at: datetime
    status_code: int | None
    ok: bool
    error: str
    response_excerpt: str
    duration_ms: int


class DeliveryOut(Schema):
    id: int
    kind: str
    cause_key: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    attempt_log: list[AttemptOut]


class PreferencesOut(Schema):
    modes: dict[str, Mode]
    kinds: dict[str, str]  # every known kind and what it is about; unknown kinds are e-mailed immediately
    time_zone: str  # "" = the default below
    default_time_zone: str


class PreferencesIn(Schema):
    modes: dict[str, Mode] = {}
    time_zone: str | None = None


def _webhook_out(w: Webhook) -> dict[str, Any]:
    return {
        "id": w.pk,
        "url": w.url_shown,
        "active": w.active,
        "failure_count": w.failure_count,
        "disabled_at": w.disabled_at,
        "disabled_reason": w.disabled_reason,
        "created_by": w.created_by.email,
        "created_by_organisation": w.created_by_org.name,
        "created_at": w.created_at,
    }


def _delivery_out(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.pk,
        "kind": d.kind,
        "cause_key": d.cause_key,
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at,
        "delivered_at": d.delivered_at,
        "created_at": d.created_at,
        "attempt_log": [
            {
                "number": a.number,
                "attempted_at": a.attempted_at,
                "status_code": a.status_code,
                "ok": a.ok,
                "error": a.error,
                "response_excerpt": a.response_excerpt,
                "duration_ms": a.duration_ms,
            }
            for a in d.attempt_log.all()
        ],
    }


def _webhook(request: AuthenticatedHttpRequest, engagement_id: int, webhook_id: int) -> Webhook:
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    return webhooks.webhook_get(membership=request.membership, engagement=engagement, webhook_id=webhook_id)


@router.get(
    "/engagements/{engagement_id}/webhooks",
    response={200: list[WebhookOut], 403: ErrorOut, 404: ErrorOut},
    summary="List the engagement's webhooks",
    openapi_extra={"responses": {403: {"description": FORBIDDEN}, 404: {"description": NOT_FOUND}}},
)
@paged
def list_webhooks(request: AuthenticatedHttpRequest, engagement_id: int) -> Mapped[Webhook, dict[str, Any]]:
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    verdict_require(webhooks.webhooks_may(actor=request.membership, engagement=engagement))
    return mapped(webhooks.webhook_list(engagement=engagement), _webhook_out)


@router.post(
    "/engagements/{engagement_id}/webhooks",
    response={201: WebhookCreatedOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Add a webhook (its signing secret is in this answer only)",
    openapi_extra={
        "responses": {
            403: {"description": FORBIDDEN},
            404: {"description": NOT_FOUND},
            422: {"description": "The URL is not a public https:// address (details name the fix)."},
        }
    },
)
def create_webhook(request: AuthenticatedHttpRequest, engagement_id: int, payload: WebhookIn) -> Status:
    engagement = engagement_get(membership=request.membership, engagement_id=engagement_id)
    hook = webhooks.webhook_create(actor=request.membership, engagement=engagement, url=payload.url, now=timezone.now())
    return Status(201, {**_webhook_out(hook), "secret": hook.secret})


@router.get(
    "/engagements/{engagement_id}/webhooks/{webhook_id}",
    response={200: WebhookOut, 403: ErrorOut, 404: ErrorOut},
    summary="One webhook",
    openapi_extra={"responses": {403: {"description": FORBIDDEN}, 404: {"description": NOT_FOUND}}},
)
def get_webhook(request: AuthenticatedHttpRequest, engagement_id: int, webhook_id: int) -> dict[str, Any]:
    return _webhook_out(_webhook(request, engagement_id, webhook_id))


@router.patch(
    "/engagements/{engagement_id}/webhooks/{webhook_id}",
    response={200: WebhookOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Disable (active: false) or enable (active: true) a webhook",
    openapi_extra={
        "responses": {
            403: {"description": FORBIDDEN},
            404: {"description": NOT_FOUND},
            422: {"description": "Enabling a webhook whose URL is no longer accepted."},
        }
    },
)
def update_webhook(
    request: AuthenticatedHttpRequest, engagement_id: int, webhook_id: int, payload: WebhookPatchIn
) -> dict[str, Any]:
    hook = _webhook(request, engagement_id, webhook_id)
    if payload.active:
        hook = webhooks.webhook_enable(actor=request.membership, webhook=hook)
    else:
        hook = webhooks.webhook_disable(actor=request.membership, webhook=hook, now=timezone.now())
    return _webhook_out(hook)


@router.get(
    "/engagements/{engagement_id}/webhooks/{webhook_id}/deliveries",
    response={200: list[DeliveryOut], 403: ErrorOut, 404: ErrorOut},
    summary="The delivery log: deliveries, newest first, with every attempt",
    openapi_extra={"responses": {403: {"description": FORBIDDEN}, 404: {"description": NOT_FOUND}}},
)
@paged
def list_webhook_deliveries(
    request: AuthenticatedHttpRequest, engagement_id: int, webhook_id: int, status: WebhookDelivery.Status | None = None
) -> Mapped[WebhookDelivery, dict[str, Any]]:
    """``status`` keeps the deliveries in that state (pending, delivered, failed, ...)."""
    hook = _webhook(request, engagement_id, webhook_id)
    return mapped(webhooks.webhook_delivery_list(webhook=hook, status=status), _delivery_out)


def _preferences_out(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    actor = request.membership
    return {
        "modes": preferences.preferences_for(membership=actor, kinds=KIND_LABELS),
        "kinds": dict(KIND_LABELS),
        "time_zone": preferences.recipient_time_zone_chosen(membership=actor),
        "default_time_zone": preferences.default_time_zones(membership_ids=[actor.pk])[actor.pk],
    }


@router.get(
    "/notifications/preferences",
    response={200: PreferencesOut},
    summary="The token's member's e-mail mode per kind and digest time zone",
)
def get_preferences(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    return _preferences_out(request)


@router.put(
    "/notifications/preferences",
    response={200: PreferencesOut, 422: ErrorOut},
    summary="Set e-mail modes (only the kinds given change) and the digest time zone ('' = default)",
    openapi_extra={"responses": {422: {"description": "An unknown mode, kind or time zone (details name it)."}}},
)
def set_preferences(request: AuthenticatedHttpRequest, payload: PreferencesIn) -> dict[str, Any]:
    preferences.preferences_set(
        actor=request.membership, modes=payload.modes, time_zone=payload.time_zone, all_kinds=KIND_LABELS
    )
    return _preferences_out(request)
