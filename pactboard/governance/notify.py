"""Notifications: in-app rows, and e-mail over SMTP with a plain-text and an HTML part.

Every e-mail carries an unsubscribe link and a ``List-Unsubscribe`` header (with
``List-Unsubscribe-Post`` for one-click unsubscribe, RFC 8058). The link holds a signed token
naming the recipient's membership and the kind; opting out stops e-mail of that kind, never the
in-app notice. Mail is sent after the service's transaction commits, so nothing is mailed about
a change that was rolled back; a notification whose e-mail could not be sent keeps
``emailed_at`` empty (later channels and retries read the same rows).

Each recipient's preference for the kind (``preferences.email_modes``) decides the e-mail:
immediately, queued for the daily digest (``digests.py``), or none. Other channels (webhooks)
register with ``notify_channel_register`` and hear of every cause of an engagement once per call,
inside the caller's transaction. Marking notifications read and opting out through the link
(``email_unsubscribe``) are at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from pactboard.accounts.models import Membership
from pactboard.audit.services import audit_record
from pactboard.core.errors import PactboardError, invalid
from pactboard.governance.models import EmailMode, EmailOptOut, Notification
from pactboard.governance.preferences import email_modes

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "pactboard.governance.unsubscribe"
KIND_LABELS = {
    "action.assigned": "actions assigned to you",
    "feedback.mention": "mentions in feedback threads",
    "meeting.invitation": "review invitations",
    "meeting.minutes": "review minutes",
    "alert.breach": "KPIs missed",
    "alert.at_risk": "KPIs at risk",
    "alert.dip": "dips on a KPI's control chart",
    "alert.chronic": "KPIs missed several periods in a row",
    "alert.chronic.cleared": "chronic KPIs met again",
    "alert.late": "late KPI data",
    "alert.awaiting_signature": "agreements awaiting your signature",
    "alert.action_overdue": "overdue actions",
    "alert.review_soon": "reviews starting soon",
    "webhook.disabled": "webhooks disabled after repeated failures",
    "report.sent": "scheduled engagement reports",
}


@dataclass(frozen=True)
class NotifyEvent:
    """One cause of an engagement as other channels hear it (the same words as the notification)."""

    kind: str
    cause_key: str
    title: str
    body: str
    url: str
    engagement_id: int
    now: datetime


NotifyChannel = Callable[[NotifyEvent], object]
_channels: dict[str, NotifyChannel] = {}


def notify_channel_register(*, name: str, channel: NotifyChannel) -> None:
    """Let a channel (webhooks) hear every engagement cause ``notify`` records; registered from ``ready()``."""
    _channels[name] = channel


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


def unsubscribe_token(*, membership_id: int, kind: str) -> str:
    return signing.dumps({"m": membership_id, "k": kind}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_token_read(token: str) -> tuple[int, str]:
    """The membership id and kind a token names; a bad token is a clear error, never a guess."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        raise invalid("This unsubscribe link is not valid: use the link of a recent e-mail.") from None
    return int(data["m"]), str(data["k"])


def unsubscribe_url(*, membership_id: int, kind: str) -> str:
    token = unsubscribe_token(membership_id=membership_id, kind=kind)
    return settings.SITE_URL + reverse("governance:unsubscribe", args=[token])


def email_build(
    *,
    recipient: Membership,
    kind: str,
    subject: str,
    text: str,
    url: str,
    attachments: Sequence[Attachment] = (),
) -> EmailMultiAlternatives:
    """One e-mail: plain text and HTML from the same words, the unsubscribe link in both and in the headers."""
    link = settings.SITE_URL + url if url.startswith("/") else url
    unsubscribe = unsubscribe_url(membership_id=recipient.pk, kind=kind)
    context = {
        "recipient": recipient,
        "subject": subject,
        "text": text,
        "link": link,
        "unsubscribe": unsubscribe,
        "kind_label": KIND_LABELS.get(kind, kind),
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("governance/email/message.txt", context),
        to=[recipient.user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(render_to_string("governance/email/message.html", context), "text/html")
    for a in attachments:
        message.attach(a.filename, a.content, a.mimetype)
    return message


def _opted_out(recipient_ids: Iterable[int]) -> set[tuple[int, str]]:
    return set(EmailOptOut.objects.filter(membership_id__in=list(recipient_ids)).values_list("membership_id", "kind"))


def notifications_email(
    *, notification_ids: Sequence[int], now: datetime, attachments: Sequence[Attachment] = ()
) -> int:
    """Send the e-mail of each notification not sent yet (unless its recipient opted out); return how many went."""
    rows = list(
        Notification.objects.filter(pk__in=list(notification_ids), emailed_at__isnull=True).select_related(
            "recipient__user"
        )
    )
    opted = _opted_out(n.recipient_id for n in rows)
    sent = 0
    # One open connection for the batch (Django's MAILERS "default").
    with mailers["default"] as connection:
        for n in rows:
            if (n.recipient_id, "") in opted or (n.recipient_id, n.kind) in opted:
                continue
            message = email_build(
                recipient=n.recipient, kind=n.kind, subject=n.title, text=n.body, url=n.url, attachments=attachments
            )
            try:
                connection.send_messages([message])
            except OSError:
                # The in-app notice stands; emailed_at stays empty so a later run can retry.
                logger.exception("cannot e-mail notification %s", n.pk)
                continue
            Notification.objects.filter(pk=n.pk).update(emailed_at=now)
            sent += 1
    return sent


def notify(
    *,
    recipients: Iterable[Membership],
    kind: str,
    cause_key: str,
    title: str,
    body: str,
    url: str,
    engagement_id: int | None,
    now: datetime,
    attachments: Sequence[Attachment] = (),
    skip: Membership | None = None,
) -> list[Notification]:
    """Record one notification per recipient (once per cause), e-mail it as each one prefers, tell the channels.

    Immediate e-mail goes after the transaction commits; digest ones wait for ``digests_send``.
    """
    unique = {m.pk: m for m in recipients if skip is None or m.pk != skip.pk}
    existing = set(
        Notification.objects.filter(recipient_id__in=list(unique), kind=kind, cause_key=cause_key).values_list(
            "recipient_id", flat=True
        )
    )
    modes = email_modes(recipient_ids=[pk for pk in unique if pk not in existing], kind=kind)
    rows = [
        Notification.objects.create(
            recipient=m,
            kind=kind,
            cause_key=cause_key,
            title=title[:300],
            body=body,
            url=url,
            engagement_id=engagement_id,
            created_at=now,
            email_mode=modes[pk],
        )
        for pk, m in unique.items()
        if pk not in existing
    ]
    ids = [n.pk for n in rows if n.email_mode == EmailMode.IMMEDIATELY]
    if ids:
        transaction.on_commit(lambda: notifications_email(notification_ids=ids, now=now, attachments=attachments))
    if engagement_id is not None:
        event = NotifyEvent(
            kind=kind, cause_key=cause_key, title=title, body=body, url=url, engagement_id=engagement_id, now=now
        )
        for channel in _channels.values():
            channel(event)
    return rows


# KPI relevance reviews (governance/relevance.py): a review opened, for the managers of both parties.
KIND_LABELS["relevance.opened"] = "KPI relevance reviews opened"


# --- reading and opting out ------------------------------------------------------------------------


def notification_mark_read(*, actor: Membership, notification: Notification, now: datetime) -> Notification:
    """Mark one of the actor's own notifications read (reading is personal: no audit event)."""
    if notification.recipient_id != actor.pk:
        raise PactboardError("No such notification.", kind="not_found")
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
    return notification


def notifications_mark_all_read(*, actor: Membership, now: datetime) -> int:
    return Notification.objects.for_recipient(actor).unread().update(read_at=now)


def email_unsubscribe(*, token: str) -> EmailOptOut:
    """Stop e-mail of the token's kind to the token's membership (in-app notices go on)."""
    membership_id, kind = unsubscribe_token_read(token)
    membership = Membership.objects.select_related("user", "organisation").filter(pk=membership_id).first()
    if membership is None:
        raise invalid("This unsubscribe link is for a membership that no longer exists.")
    with transaction.atomic():
        opt_out, created = EmailOptOut.objects.get_or_create(membership=membership, kind=kind)
        if created:
            audit_record(
                actor=membership.user,
                organisation=membership.organisation,
                action="notification.email_unsubscribe",
                obj=opt_out,
                after={"kind": kind},
            )
    return opt_out
