"""Pages of the notification channels: an engagement's webhooks (with their delivery log) and one's preferences."""

from __future__ import annotations

from zoneinfo import available_timezones

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from pactboard.accounts.http import AuthenticatedHttpRequest
from pactboard.core.errors import PactboardError
from pactboard.core.forms import form_add_domain_error
from pactboard.core.policy import verdict_require
from pactboard.core.views import membership_required
from pactboard.engagements.selectors import engagement_get
from pactboard.governance import preferences, webhooks
from pactboard.governance.forms import PreferencesForm, WebhookForm
from pactboard.governance.models import Webhook
from pactboard.governance.notify import KIND_LABELS

_ZONES = sorted(available_timezones())


# --- webhooks -------------------------------------------------------------------------------------


@membership_required
@require_http_methods(["GET", "POST"])
def webhooks_page(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The engagement's webhooks; managers of either party add one (its secret is shown once, here)."""
    engagement = engagement_get(membership=request.membership, engagement_id=pk)
    verdict_require(webhooks.webhooks_may(actor=request.membership, engagement=engagement))
    form = WebhookForm(request.POST or None)
    created: Webhook | None = None
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                created = webhooks.webhook_create(
                    actor=request.membership, engagement=engagement, url=form.cleaned_data["url"], now=timezone.now()
                )
            except PactboardError as exc:
                if exc.kind in {"not_found", "forbidden"}:
                    raise
                form_add_domain_error(form, exc)
            else:
                status, form = 201, WebhookForm()
    return render(
        request,
        "governance/webhooks.html",
        {
            "engagement": engagement,
            "webhooks": list(webhooks.webhook_list(engagement=engagement)),
            "form": form,
            "created": created,
        },
        status=status,
    )


@membership_required
def webhook_detail(request: AuthenticatedHttpRequest, pk: int, webhook_id: int) -> HttpResponse:
    engagement = engagement_get(membership=request.membership, engagement_id=pk)
    webhook = webhooks.webhook_get(membership=request.membership, engagement=engagement, webhook_id=webhook_id)
    return render(
        request,
        "governance/webhook.html",
        {
            "engagement": engagement,
            "webhook": webhook,
            "deliveries": webhooks.webhook_deliveries(webhook=webhook),
            "disable_after": webhooks.DISABLE_AFTER,
        },
    )


@membership_required
@require_POST
def webhook_switch(request: AuthenticatedHttpRequest, pk: int, webhook_id: int) -> HttpResponse:
    """Disable (``active=0``) or enable (``active=1``) the webhook."""
    engagement = engagement_get(membership=request.membership, engagement_id=pk)
    webhook = webhooks.webhook_get(membership=request.membership, engagement=engagement, webhook_id=webhook_id)
    try:
        if request.POST.get("active") == "1":
            webhooks.webhook_enable(actor=request.membership, webhook=webhook)
            messages.success(request, "Webhook enabled: new notifications are sent to it.")
        else:
            webhooks.webhook_disable(actor=request.membership, webhook=webhook, now=timezone.now())
            messages.success(request, "Webhook disabled: nothing more is sent to it.")
    except PactboardError as exc:
        if exc.kind in {"not_found", "forbidden"}:
            raise
        messages.error(request, str(exc))
    return redirect("governance:webhook", engagement.pk, webhook.pk)


# --- preferences ----------------------------------------------------------------------------------


@membership_required
@require_http_methods(["GET", "POST"])
def preferences_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The actor's own choice per kind (immediately, daily digest, off) and the digest's time zone."""
    actor = request.membership
    default_zone = preferences.default_time_zones(membership_ids=[actor.pk])[actor.pk]
    chosen = preferences.recipient_time_zone_chosen(membership=actor)
    kinds = dict(KIND_LABELS)
    current = preferences.preferences_for(membership=actor, kinds=kinds)
    initial = {"time_zone": chosen, **{f"mode:{k}": m for k, m in current.items()}}
    form = PreferencesForm(request.POST or None, initial=initial, kinds=kinds, zones=_ZONES, default_zone=default_zone)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                preferences.preferences_set(
                    actor=actor, modes=form.modes(), time_zone=form.cleaned_data["time_zone"], all_kinds=kinds
                )
            except PactboardError as exc:
                form_add_domain_error(form, exc)
            else:
                messages.success(request, "Preferences saved.")
                return redirect("governance:preferences")
    return render(request, "governance/preferences.html", {"form": form}, status=status)
