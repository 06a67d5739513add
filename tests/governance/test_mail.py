"""Notification e-mail through a real SMTP server started in the test (aiosmtpd).

What a mail client receives is read back: a multipart/alternative with a text/plain and a text/html
part, both carrying the unsubscribe link, and the ``List-Unsubscribe`` header (RFC 2369) with
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058). Following the link stops e-mail
of that kind while the in-app notice stays.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from django.test import Client

from pactboard.governance import services
from pactboard.governance.models import EmailOptOut, Notification
from pactboard.governance.notify import notifications_email
from tests.conftest import World
from tests.governance.conftest import NOW

pytestmark = pytest.mark.django_db


class Sink:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp(settings) -> Iterator[Sink]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    settings.SITE_URL = "https://pactboard.example"
    try:
        yield sink
    finally:
        controller.stop()


def _assign(gov: World) -> Notification:
    action = services.action_create(
        actor=gov.client_manager,
        engagement=gov.engagement,
        title="Staff the evening shift",
        owner_id=gov.provider_manager.pk,
        due_date=date(2026, 11, 30),
        now=NOW,
    )
    return Notification.objects.get(cause_key=f"action:{action.pk}")


def test_mail_has_text_and_html_parts_and_list_unsubscribe(gov: World, smtp: Sink):
    note = _assign(gov)
    assert notifications_email(notification_ids=[note.pk], now=NOW) == 1
    (received,) = smtp.messages
    assert received["To"] == "pedro@helpline.example"
    assert received["Subject"] == "Action for you: Staff the evening shift"
    assert received.get_content_type() == "multipart/alternative"
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    header = received["List-Unsubscribe"]
    assert header.startswith("<https://pactboard.example/unsubscribe/")
    assert header.endswith("/>")
    link = header[1:-1]
    assert link in text
    assert f'href="{link}"' in html
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    cause = f"https://pactboard.example/engagements/{gov.engagement.pk}/actions/{note.cause_key.split(':')[1]}/"
    assert cause in text
    assert cause in html
    note.refresh_from_db()
    assert note.emailed_at == NOW
    # Sent once: a second run finds nothing pending.
    assert notifications_email(notification_ids=[note.pk], now=NOW) == 0

    # One-click unsubscribe as a mail client does it: a POST to the link, no log-in, no CSRF token.
    path = link.removeprefix("https://pactboard.example")
    response = Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert EmailOptOut.objects.filter(membership=gov.provider_manager, kind="action.assigned").exists()
    second = _assign(gov)
    assert notifications_email(notification_ids=[second.pk], now=NOW) == 0
    assert len(smtp.messages) == 1
    assert Notification.objects.for_recipient(gov.provider_manager).unread().count() == 2  # in-app stays


def test_a_tampered_unsubscribe_link_is_refused(gov: World, smtp: Sink):
    response = Client().post("/unsubscribe/not-a-token/")
    assert response.status_code == 400
    assert not EmailOptOut.objects.exists()
