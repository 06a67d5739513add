"""Webhooks: a real local HTTP server checks the documented signature, fails once, and sees the retry.

The receiver verifies every request with the snippet published in docs/governance.md (executed
here as written), so the documentation and the signing cannot drift apart.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from pactboard.core.errors import PactboardError
from pactboard.governance import services, webhooks
from pactboard.governance.models import Notification, Webhook, WebhookAttempt, WebhookDelivery
from pactboard.governance.notify import notify
from pactboard.governance.webhooks import webhook_deliver, webhook_retries_due
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs" / "governance.md"


def documented_verifier() -> Callable[[str, str, bytes], bool]:
    """The verification snippet of docs/governance.md, run as a reader would copy it."""
    text = DOCS.read_text()
    match = re.search(r"<!-- signature-snippet[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert match, "docs/governance.md lost its signature snippet"
    namespace: dict[str, Any] = {}
    exec(match.group(1), namespace)  # noqa: S102 - our own documentation, on purpose
    return namespace["pactboard_signature_valid"]


@dataclass
class Receiver:
    secret: str = ""
    answers: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    settings.PACTBOARD_WEBHOOKS_ALLOW_LOCAL = True
    settings.SITE_URL = "https://pactboard.example"
    verify = documented_verifier()
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            valid = verify(state.secret, self.headers.get("X-Pactboard-Signature", ""), body)
            status = (state.answers.pop(0) if state.answers else 200) if valid else 401
            state.requests.append({"headers": dict(self.headers), "body": body, "valid": valid, "status": status})
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"temporarily broken: try later")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/pactboard?team=ops"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _hook(world: World, receiver: Receiver) -> Webhook:
    hook = webhooks.webhook_create(
        actor=world.client_manager, engagement=world.engagement, url=receiver.url, now=timezone.now()
    )
    receiver.secret = hook.secret
    return hook


def _assign(world: World, title: str = "Staff the evening shift") -> int:
    action = services.action_create(
        actor=world.client_manager,
        engagement=world.engagement,
        title=title,
        owner_id=world.provider_manager.pk,
        due_date=date(2026, 11, 30),
        now=timezone.now(),
    )
    return action.pk


def test_a_signed_delivery_answered_500_is_retried_and_accepted(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    hook = _hook(world, receiver)
    receiver.answers = [500, 200]
    # The suite's task backend runs tasks at once: the first attempt follows the commit.
    with django_capture_on_commit_callbacks(execute=True):
        action_id = _assign(world)
    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get(webhook=hook)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    # Back-off after the first failure: 1 minute (docs/governance.md, "Delivery and retries").
    first_try = WebhookAttempt.objects.get(delivery=delivery)
    assert delivery.next_attempt_at == first_try.attempted_at + timedelta(minutes=1)
    due = delivery.next_attempt_at

    # Half a minute before it is due nothing goes; once due, the retry goes and is accepted.
    assert webhook_retries_due.enqueue((due - timedelta(seconds=30)).isoformat()).return_value == "0 due"
    assert len(receiver.requests) == 1
    assert webhook_retries_due.enqueue((due + timedelta(seconds=1)).isoformat()).return_value == "1 due"
    assert [r["status"] for r in receiver.requests] == [500, 200]
    assert all(r["valid"] for r in receiver.requests)
    first, second = receiver.requests
    assert first["body"] == second["body"]  # the same bytes, each attempt signed with its own time
    assert first["headers"]["X-Pactboard-Signature"] != second["headers"]["X-Pactboard-Signature"]
    assert first["headers"]["X-Pactboard-Delivery"] == str(delivery.pk)
    payload = json.loads(second["body"])
    link = f"https://pactboard.example/engagements/{world.engagement.pk}/actions/{action_id}/"
    assert payload["text"] == f"Acme support: Action for you: Staff the evening shift\n{link}"
    assert payload["kind"] == "action.assigned"
    assert payload["cause_key"] == f"action:{action_id}"
    assert payload["url"] == link
    assert payload["engagement"] == {"id": world.engagement.pk, "name": "Acme support"}

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    hook.refresh_from_db()
    assert hook.failure_count == 0
    # Idempotent: running the task again (a retried task, a second worker) sends nothing more.
    assert webhook_deliver.enqueue(delivery.pk, (due + timedelta(minutes=5)).isoformat()).return_value == "skipped"
    assert len(receiver.requests) == 2

    # The delivery log on the webhook's page shows both attempts.
    page = client_for(world.provider_manager)
    url = f"/engagements/{world.engagement.pk}/webhooks/{hook.pk}/"
    with django_assert_max_num_queries(9):
        response = page.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="attempt"') == 2
    assert "HTTP 500" in html
    assert "HTTP 200" in html
    assert "temporarily broken: try later" in html
    assert receiver.secret not in html  # the secret is shown once, at creation
    assert "/hooks/…" in html
    assert "team=ops" not in html


def test_the_log_page_does_not_grow_queries_with_deliveries(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    hook = _hook(world, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(4):
            _assign(world, f"Action {n}")
    assert WebhookAttempt.objects.filter(delivery__webhook=hook).count() == 4
    page = client_for(world.client_manager)
    with django_assert_max_num_queries(9):
        assert page.get(f"/engagements/{world.engagement.pk}/webhooks/{hook.pk}/").status_code == 200
    with django_assert_max_num_queries(8):
        assert page.get(f"/engagements/{world.engagement.pk}/webhooks/").status_code == 200


def test_five_failures_in_a_row_disable_the_webhook_and_tell_the_managers(
    world: World, receiver: Receiver, django_capture_on_commit_callbacks
):
    hook = _hook(world, receiver)
    receiver.answers = [500] * 10
    with django_capture_on_commit_callbacks(execute=True):
        _assign(world)
    delivery = WebhookDelivery.objects.get(webhook=hook)
    # Retries after 1, 2, 4 and 8 minutes: the 5th failure in a row disables it.
    waits = []
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(4):
            delivery.refresh_from_db()
            last = WebhookAttempt.objects.filter(delivery=delivery).order_by("-number").first()
            assert delivery.next_attempt_at is not None
            assert last is not None
            waits.append((delivery.next_attempt_at - last.attempted_at) / timedelta(minutes=1))
            webhook_retries_due.enqueue(delivery.next_attempt_at.isoformat())
    assert waits == [1, 2, 4, 8]
    assert len(receiver.requests) == 5
    hook.refresh_from_db()
    delivery.refresh_from_db()
    assert not hook.active
    assert hook.disabled_at is not None
    assert "5 failed deliveries in a row" in hook.disabled_reason
    assert delivery.status == "cancelled"
    # Administrators and managers of both parties are told, in the app and by e-mail.
    told = Notification.objects.filter(kind="webhook.disabled")
    assert sorted(n.recipient.user.email for n in told) == ["carla@acme.example", "pedro@helpline.example"]
    disabled_mail = [m for m in mail.outbox if m.subject.startswith("Webhook disabled")]
    assert sorted(m.to[0] for m in disabled_mail) == ["carla@acme.example", "pedro@helpline.example"]
    assert f"/engagements/{world.engagement.pk}/webhooks/{hook.pk}/" in disabled_mail[0].body
    # A disabled webhook receives nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        _assign(world, "Another")
    assert len(receiver.requests) == 5


def test_a_success_resets_the_count_of_failures(world: World, receiver: Receiver, django_capture_on_commit_callbacks):
    hook = _hook(world, receiver)
    receiver.answers = [500, 500, 500, 500, 200, 500]
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(6):
            _assign(world, f"Action {n}")
    hook.refresh_from_db()
    # Four failures, a success (count back to 0), one failure: 1 in a row, still active.
    assert (hook.active, hook.failure_count) == (True, 1)


@pytest.mark.parametrize(
    ("url", "why", "code"),
    [
        ("http://hooks.example.com/x", "HTTPS only", "not_https"),
        ("ftp://hooks.example.com/x", "https://", "invalid_url"),  # neither https nor http
        ("https://10.1.2.3/hook", "private or local", "private_address"),
        ("https://192.168.0.10/hook", "private or local", "private_address"),
        ("https://169.254.169.254/latest/meta-data", "private or local", "private_address"),
        ("https://127.0.0.1/hook", "private or local", "private_address"),
        ("https://[::1]/hook", "private or local", "private_address"),
        ("https://localhost/hook", "private or local", "private_address"),
        ("https://printer.local/hook", "private or local", "private_address"),
        ("http://127.0.0.1:8080/hook", "HTTPS only", "not_https"),  # http is checked before the address
        ("https://user:pass@hooks.example.com/x", "user name and password", "credentials_in_url"),
        ("hooks.example.com/x", "https://", "invalid_url"),  # no scheme: urlsplit reads it all as a path
    ],
)
def test_urls_that_are_not_public_https_are_refused(world: World, url: str, why: str, code: str):
    with pytest.raises(PactboardError) as refused:
        webhooks.webhook_create(actor=world.client_manager, engagement=world.engagement, url=url, now=timezone.now())
    assert why in str(refused.value)
    assert (refused.value.details[0].location, refused.value.details[0].code) == ("url", code)
    assert not Webhook.objects.exists()


def test_the_local_setting_opens_loopback_http_only(world: World, settings):
    settings.PACTBOARD_WEBHOOKS_ALLOW_LOCAL = True
    for url in ("http://127.0.0.1:8080/hook", "http://localhost/hook", "https://10.1.2.3/hook"):
        webhooks.webhook_create(actor=world.client_manager, engagement=world.engagement, url=url, now=timezone.now())
    with pytest.raises(PactboardError, match="HTTPS only"):
        webhooks.webhook_create(
            actor=world.client_manager, engagement=world.engagement, url="http://10.1.2.3/x", now=timezone.now()
        )


def test_a_name_that_resolves_to_a_private_address_is_not_called(world: World, monkeypatch):
    hook = webhooks.webhook_create(
        actor=world.client_manager, engagement=world.engagement, url="https://hooks.example.com/x", now=timezone.now()
    )
    monkeypatch.setattr(
        webhooks.socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("10.0.0.7", 443))]
    )  # DNS answering with an internal address
    now = timezone.now()
    delivery = WebhookDelivery.objects.create(
        webhook=hook, kind="k", cause_key="c", body="{}", next_attempt_at=now, created_at=now
    )
    result = webhooks.webhook_delivery_attempt(delivery_id=delivery.pk, now=now)
    assert result.outcome == "retry"
    attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert attempt.status_code is None
    assert "private or local address" in attempt.error


def test_viewers_are_refused_and_outsiders_do_not_see_the_webhooks(world: World):
    with pytest.raises(PactboardError) as refused:
        webhooks.webhook_create(
            actor=world.client_viewer,
            engagement=world.engagement,
            url="https://hooks.example.com/x",
            now=timezone.now(),
        )
    assert refused.value.kind == "forbidden"
    url = f"/engagements/{world.engagement.pk}/webhooks/"
    assert client_for(world.client_viewer).get(url).status_code == 403
    assert client_for(world.outsider).get(url).status_code == 404
    assert client_for(world.provider_manager).get(url).status_code == 200


def test_a_manager_adds_a_webhook_on_the_page_sees_its_secret_once_and_disables_it(world: World):
    page = client_for(world.provider_manager)
    url = f"/engagements/{world.engagement.pk}/webhooks/"
    refused = page.post(url, {"url": "http://hooks.example.com/x"})
    assert refused.status_code == 422
    assert "HTTPS only" in refused.content.decode()
    response = page.post(url, {"url": "https://hooks.slack.com/services/T0/B0/secretpart"})
    assert response.status_code == 201
    hook = Webhook.objects.get()
    assert hook.secret in response.content.decode()
    listing = page.get(url).content.decode()
    assert hook.secret not in listing
    assert "https://hooks.slack.com/services/…" in listing
    assert "secretpart" not in listing
    switched = page.post(f"{url}{hook.pk}/active/", {"active": "0"})
    assert switched.status_code == 302
    hook.refresh_from_db()
    assert not hook.active


def test_one_delivery_per_cause_and_a_held_lease_is_not_sent_twice(world: World, receiver: Receiver):
    hook = _hook(world, receiver)
    now = timezone.now()
    for _ in range(2):  # the same cause told twice (a scan run again) is one delivery
        notify(
            recipients=[],
            kind="alert.breach",
            cause_key="breach:kpi_00:2026-10",
            title="FCR: missed (2026-10)",
            body="",
            url="",
            engagement_id=world.engagement.pk,
            now=now,
        )
    delivery = WebhookDelivery.objects.get(webhook=hook)
    # Another worker holds it: this one sends nothing.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(lease_until=now + timedelta(seconds=60))
    assert webhooks.webhook_delivery_attempt(delivery_id=delivery.pk, now=now).outcome == "skipped"
    assert receiver.requests == []
    # Once the lease has lapsed (its worker died), the delivery is sent, once.
    later = now + timedelta(seconds=61)
    assert webhooks.webhook_delivery_attempt(delivery_id=delivery.pk, now=later).outcome == "delivered"
    assert webhooks.webhook_delivery_attempt(delivery_id=delivery.pk, now=later).outcome == "skipped"
    assert len(receiver.requests) == 1
    assert json.loads(receiver.requests[0]["body"])["text"] == "Acme support: FCR: missed (2026-10)"
