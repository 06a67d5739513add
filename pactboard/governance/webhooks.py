"""Webhooks per engagement: every notification cause of the engagement as signed JSON to an HTTPS endpoint.

A cause is stored as one ``WebhookDelivery`` per webhook, unique per (webhook, kind, cause key), in
the transaction that recorded the notification, and sent by the ``webhook_deliver`` task after the
commit. A worker claims a delivery with a conditional update (a lease), so two workers, or a task
run twice, never send it twice, and a delivered one is never sent again. A failed attempt is
retried with exponential back-off (1, 2, 4, ... minutes, at most an hour; ``next_attempt_at``),
picked up by ``webhook_retries_due`` on a schedule. After ``DISABLE_AFTER`` failed attempts in a
row the webhook is disabled and the engagement's managers are notified. docs/governance.md, "Webhooks".

Only ``https://`` URLs to public addresses are accepted (the address is checked again, after DNS,
at every attempt, and the connection goes to the address that was checked); redirects are not
followed. ``PACTBOARD_WEBHOOKS_ALLOW_LOCAL`` opens loopback and private addresses for tests and
local use.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch, Q, QuerySet
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from pactboard.accounts.models import Membership, Role
from pactboard.audit.services import audit_record
from pactboard.core.errors import invalid, not_found
from pactboard.core.policy import ALLOWED, NOT_A_PARTY, Verdict, verdict_require
from pactboard.engagements.models import Engagement
from pactboard.governance.models import Webhook, WebhookAttempt, WebhookDelivery
from pactboard.governance.notify import NotifyEvent, notify

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Pactboard-Signature"
DISABLE_AFTER = 5  # failed attempts in a row, across deliveries
MAX_ATTEMPTS = 8  # a delivery gives up after this many (reached only if other deliveries succeed meanwhile)
BACKOFF_FIRST = 60  # seconds before the first retry; doubled each time
BACKOFF_CAP = 3600
EXCERPT = 500
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
MANAGERS_ONLY = "Only administrators and managers of either party manage the engagement's webhooks."


class WebhookRefusedError(Exception):
    """The endpoint's address may not be called (private, loopback, ...): the attempt fails without a request."""


# --- policy ---------------------------------------------------------------------------------------


def webhooks_may(*, actor: Membership, engagement: Engagement) -> Verdict:
    """Managers (and administrators) of either party see and manage the webhooks; others are refused."""
    if engagement.party_role(actor.organisation_id) is None:
        return NOT_A_PARTY
    return ALLOWED if actor.is_manager else Verdict(False, MANAGERS_ONLY)


# --- addresses ------------------------------------------------------------------------------------


def _local_allowed() -> bool:
    return bool(getattr(settings, "PACTBOARD_WEBHOOKS_ALLOW_LOCAL", False))


def address_allowed(address: str) -> bool:
    """A public address; with the local setting also loopback, private and link-local ones."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.is_global:
        return True
    return _local_allowed() and (ip.is_loopback or ip.is_private or ip.is_link_local)


def webhook_url_check(url: str) -> str:
    """The URL if a webhook may call it; else a clear error naming the fix (field ``url``)."""
    url = url.strip()
    if len(url) > 500:
        raise invalid("The URL is longer than 500 characters.", location="url", code="too_long")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise invalid(
            "This is not a URL: give the endpoint's full https:// address.", location="url", code="invalid_url"
        ) from None
    if parts.scheme not in ("https", "http") or not host:
        raise invalid("Give the endpoint's full https:// address.", location="url", code="invalid_url")
    if parts.username or parts.password:
        raise invalid("Leave the user name and password out of the URL.", location="url", code="credentials_in_url")
    if parts.scheme == "http" and not (_local_allowed() and host in LOOPBACK_NAMES):
        raise invalid("Webhooks are sent over HTTPS only: use an https:// address.", location="url", code="not_https")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    local_name = host == "localhost" or host.endswith((".localhost", ".local", ".internal"))
    if (literal is not None and not address_allowed(str(literal))) or (local_name and not _local_allowed()):
        raise invalid(
            "This address is on a private or local network: use the endpoint's public https:// address.",
            location="url",
            code="private_address",
        )
    return url


def _resolve(host: str, port: int) -> str:
    """The address to connect to; every address the name resolves to must be allowed (no DNS tricks)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise WebhookRefusedError(f"cannot resolve {host}: {exc.strerror}") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses or not all(address_allowed(a) for a in addresses):
        raise WebhookRefusedError(f"{host} resolves to a private or local address; not called")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, while the Host header names the host."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        self._ssl_context = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._ssl_context)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._ssl_context.wrap_socket(sock, server_hostname=self.host)


def webhook_post(*, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST once (no redirects followed); the status and the first characters of the answer."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    address = _resolve(host, port)
    timeout = float(getattr(settings, "PACTBOARD_WEBHOOK_TIMEOUT_SECONDS", 5))
    cls = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    connection = cls(host, port, address=address, timeout=timeout)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(4 * EXCERPT).decode("utf-8", "replace")[:EXCERPT]
    finally:
        connection.close()


# --- signature and payload ------------------------------------------------------------------------


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed with the webhook's secret."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret=secret, timestamp=timestamp, body=body)}"


def webhook_payload(*, event: NotifyEvent, engagement_name: str) -> str:
    """The JSON body: ``text`` for chat tools (Slack, Microsoft Teams) plus the structured fields."""
    link = settings.SITE_URL + event.url if event.url.startswith("/") else event.url
    text = f"{engagement_name}: {event.title}" + (f"\n{link}" if link else "")
    data = {
        "text": text,
        "kind": event.kind,
        "cause_key": event.cause_key,
        "title": event.title,
        "body": event.body,
        "url": link,
        "engagement": {"id": event.engagement_id, "name": engagement_name},
        "created_at": event.now.isoformat(),
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def backoff(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failure: 1, 2, 4, 8, ... minutes, at most an hour."""
    return timedelta(seconds=min(BACKOFF_FIRST * 2 ** (attempts - 1), BACKOFF_CAP))


# --- services -------------------------------------------------------------------------------------


def _audit(actor: Membership | None, action: str, webhook: Webhook, **after: Any) -> None:
    audit_record(
        actor=actor.user if actor else None,
        organisation=actor.organisation if actor else None,
        action=action,
        obj=webhook,
        after={"url": webhook.url_shown, **after},
        engagement_id=webhook.engagement_id,
    )


def webhook_create(*, actor: Membership, engagement: Engagement, url: str, now: datetime) -> Webhook:
    """Add an endpoint with a new secret (shown to its creator once, in the answer)."""
    verdict_require(webhooks_may(actor=actor, engagement=engagement))
    url = webhook_url_check(url)
    with transaction.atomic():
        webhook = Webhook.objects.create(
            engagement=engagement,
            url=url,
            secret=f"whsec_{secrets.token_urlsafe(32)}",
            created_by=actor.user,
            created_by_org=actor.organisation,
            created_at=now,
        )
        _audit(actor, "webhook.create", webhook)
    return webhook


def _pending_cancel(webhook: Webhook) -> int:
    return WebhookDelivery.objects.filter(webhook=webhook, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.CANCELLED, next_attempt_at=None, lease_until=None
    )


def webhook_disable(*, actor: Membership, webhook: Webhook, now: datetime) -> Webhook:
    """Stop sending to the endpoint; deliveries still pending are cancelled."""
    verdict_require(webhooks_may(actor=actor, engagement=webhook.engagement))
    with transaction.atomic():
        if Webhook.objects.filter(pk=webhook.pk, active=True).update(
            active=False, disabled_at=now, disabled_reason=f"Disabled by {actor.user.display_name}."
        ):
            _pending_cancel(webhook)
            _audit(actor, "webhook.disable", webhook)
    webhook.refresh_from_db()
    return webhook


def webhook_enable(*, actor: Membership, webhook: Webhook) -> Webhook:
    """Send to the endpoint again (new causes only), with its failure count back at zero."""
    verdict_require(webhooks_may(actor=actor, engagement=webhook.engagement))
    webhook_url_check(webhook.url)
    with transaction.atomic():
        if Webhook.objects.filter(pk=webhook.pk, active=False).update(
            active=True, failure_count=0, disabled_at=None, disabled_reason=""
        ):
            _audit(actor, "webhook.enable", webhook)
    webhook.refresh_from_db()
    return webhook


def webhook_deliveries_create(event: NotifyEvent) -> list[int]:
    """The notify channel: one delivery per active webhook of the engagement (once per cause), sent after commit."""
    hooks = list(Webhook.objects.filter(engagement_id=event.engagement_id, active=True).select_related("engagement"))
    ids: list[int] = []
    for hook in hooks:
        try:
            with transaction.atomic():  # a savepoint: a cause already delivered leaves the caller's work intact
                delivery = WebhookDelivery.objects.create(
                    webhook=hook,
                    kind=event.kind,
                    cause_key=event.cause_key,
                    body=webhook_payload(event=event, engagement_name=hook.engagement.name),
                    next_attempt_at=event.now,
                    created_at=event.now,
                )
        except IntegrityError:
            continue
        ids.append(delivery.pk)
    if ids:
        transaction.on_commit(lambda: [webhook_deliver.enqueue(pk) for pk in ids])
    return ids


@dataclass(frozen=True)
class AttemptResult:
    outcome: str  # "delivered", "retry", "gave up", "skipped"
    status_code: int | None = None
    disabled: bool = False


def _managers(engagement: Engagement) -> list[Membership]:
    return list(
        Membership.objects.filter(
            organisation_id__in=[engagement.client_id, engagement.provider_id], role__in=[Role.ADMIN, Role.MANAGER]
        ).select_related("user", "organisation")
    )


def _auto_disable(*, webhook: Webhook, now: datetime) -> bool:
    """Disable after DISABLE_AFTER failures in a row; only the worker whose update wins tells the managers."""
    reason = f"Disabled after {DISABLE_AFTER} failed deliveries in a row."
    if not Webhook.objects.filter(pk=webhook.pk, active=True, failure_count__gte=DISABLE_AFTER).update(
        active=False, disabled_at=now, disabled_reason=reason
    ):
        return False
    _pending_cancel(webhook)
    _audit(None, "webhook.auto_disable", webhook, failures=DISABLE_AFTER)
    engagement = webhook.engagement
    notify(
        recipients=_managers(engagement),
        kind="webhook.disabled",
        cause_key=f"webhook:{webhook.pk}:disabled:{int(now.timestamp())}",
        title=f"Webhook disabled: {webhook.url_shown}",
        body=f"{engagement.name}: the webhook {webhook.url_shown} failed {DISABLE_AFTER} times in a row and"
        " was disabled. Check the endpoint and its delivery log, then enable it again.",
        url=reverse("governance:webhook", args=[engagement.pk, webhook.pk]),
        engagement_id=engagement.pk,
        now=now,
    )
    return True


def webhook_delivery_attempt(*, delivery_id: int, now: datetime) -> AttemptResult:
    """Send a pending, due delivery once (claimed by a lease so no other worker sends it meanwhile)."""
    timeout = int(getattr(settings, "PACTBOARD_WEBHOOK_TIMEOUT_SECONDS", 5))
    claimed = (
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=WebhookDelivery.Status.PENDING, webhook__active=True, next_attempt_at__lte=now
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + timedelta(seconds=2 * timeout + 30))
    )
    if not claimed:
        return AttemptResult("skipped")
    delivery = WebhookDelivery.objects.select_related("webhook__engagement").get(pk=delivery_id)
    webhook = delivery.webhook
    number = delivery.attempts + 1
    body = delivery.body.encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Pactboard-Webhook/1",
        SIGNATURE_HEADER: signature_header(secret=webhook.secret, timestamp=timestamp, body=body),
        "X-Pactboard-Delivery": str(delivery.pk),
        "X-Pactboard-Event": delivery.kind,
    }
    started = time.monotonic()
    status: int | None = None
    excerpt = error = ""
    try:
        status, excerpt = webhook_post(url=webhook.url, body=body, headers=headers)
    except (OSError, http.client.HTTPException, WebhookRefusedError, ValueError) as exc:
        error = (str(exc) or exc.__class__.__name__)[:300]
    ok = status is not None and 200 <= status < 300
    if status is not None and not ok:
        error = f"HTTP {status}"
    elapsed = int((time.monotonic() - started) * 1000)
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            attempted_at=now,
            status_code=status,
            ok=ok,
            error=error,
            response_excerpt=excerpt,
            duration_ms=elapsed,
        )
        if ok:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=WebhookDelivery.Status.DELIVERED,
                attempts=number,
                delivered_at=now,
                next_attempt_at=None,
                lease_until=None,
            )
            Webhook.objects.filter(pk=webhook.pk).update(failure_count=0)
            return AttemptResult("delivered", status)
        gave_up = number >= MAX_ATTEMPTS
        next_at = None if gave_up else now + backoff(number)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED if gave_up else WebhookDelivery.Status.PENDING,
            attempts=number,
            next_attempt_at=next_at,
            lease_until=None,
        )
        Webhook.objects.filter(pk=webhook.pk).update(failure_count=F("failure_count") + 1)
        disabled = _auto_disable(webhook=webhook, now=now)
    if next_at is not None and not disabled and webhook_deliver.get_backend().supports_defer:
        # Backends that can wait run the retry on time; the scheduled sweep catches any that were lost.
        transaction.on_commit(lambda: webhook_deliver.using(run_after=next_at).enqueue(delivery.pk))
    return AttemptResult("gave up" if gave_up else "retry", status, disabled)


def webhook_deliveries_due(*, now: datetime) -> list[int]:
    """Pending deliveries of active webhooks whose next attempt is due (and that no worker holds)."""
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, webhook__active=True, next_attempt_at__lte=now
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:500]
    )


# --- selectors ------------------------------------------------------------------------------------


def webhook_list(*, engagement: Engagement) -> QuerySet[Webhook]:
    return Webhook.objects.filter(engagement=engagement).select_related("created_by", "created_by_org")


def webhook_get(*, membership: Membership, engagement: Engagement, webhook_id: int) -> Webhook:
    """A webhook of the engagement the actor may see, or not found; managers only (else forbidden)."""
    verdict_require(webhooks_may(actor=membership, engagement=engagement))
    webhook = (
        Webhook.objects.visible_to(membership)
        .filter(pk=webhook_id, engagement=engagement)
        .select_related("engagement", "created_by", "created_by_org")
        .first()
    )
    if webhook is None:
        raise not_found("No such webhook.")
    return webhook


def webhook_delivery_list(*, webhook: Webhook, status: str | None = None) -> QuerySet[WebhookDelivery]:
    """The webhook's deliveries, newest first, each with every attempt (two queries); ``status`` keeps one."""
    deliveries = WebhookDelivery.objects.filter(webhook=webhook)
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries.prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number"))
    ).order_by("-created_at", "-pk")


def webhook_deliveries(*, webhook: Webhook, limit: int = 50) -> list[WebhookDelivery]:
    """The newest deliveries with every attempt: two queries."""
    return list(webhook_delivery_list(webhook=webhook)[:limit])


# --- tasks ----------------------------------------------------------------------------------------


def _when(now: str | None) -> datetime:
    parsed = parse_datetime(now) if now else None
    return parsed if parsed is not None else timezone.now()


@task
def webhook_deliver(delivery_id: int, now: str | None = None) -> str:
    """Send one delivery if it is pending and due (safe to run twice: a delivered one is never resent)."""
    result = webhook_delivery_attempt(delivery_id=delivery_id, now=_when(now))
    return result.outcome + (" and the webhook was disabled" if result.disabled else "")


@task
def webhook_retries_due(now: str | None = None) -> str:
    """Scheduled (every minute): send each delivery whose retry is due. ``now`` (ISO 8601) is for tests."""
    ids = webhook_deliveries_due(now=_when(now))
    for pk in ids:
        webhook_deliver.enqueue(pk, now)
    return f"{len(ids)} due"
