"""Daily digests: at 08:00 in each recipient's time zone, one e-mail with what was queued for it since the last.

``digests_send`` runs every hour. A ``Digest`` row keyed by (recipient, local day) is inserted before
anything is sent, so a second run in the same hour, or a second worker at the same moment, finds
the day taken and sends nothing: each recipient gets at most one digest per local day. The queued
notifications are claimed by a conditional update (``digest IS NULL``), so each is in one digest.
A send that fails gives the day back (row deleted, notifications released) for the next run.
docs/governance.md, "Daily digests".
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from pactboard.accounts.models import Membership
from pactboard.governance.models import Digest, EmailMode, Notification
from pactboard.governance.notify import unsubscribe_url
from pactboard.governance.preferences import preferences_for, recipient_time_zones

logger = logging.getLogger(__name__)

DIGEST_HOUR = 8


def digest_email(
    *, recipient: Membership, items: list[Notification], local_date: date, tz: str
) -> EmailMultiAlternatives:
    """The digest: text and HTML parts listing each notification; the unsubscribe link in both and the headers."""
    unsubscribe = unsubscribe_url(membership_id=recipient.pk, kind="")
    zone = ZoneInfo(tz)
    rows = [
        {
            "title": n.title,
            "when": f"{n.created_at.astimezone(zone):%-d %b, %H:%M}",
            "link": settings.SITE_URL + n.url if n.url.startswith("/") else n.url,
        }
        for n in items
    ]
    subject = f"Pactboard digest for {local_date:%-d %b %Y}: {len(items)} notification{'s' if len(items) != 1 else ''}"
    context = {
        "recipient": recipient,
        "subject": subject,
        "rows": rows,
        "unsubscribe": unsubscribe,
        "preferences": settings.SITE_URL + reverse("governance:preferences"),
        "tz": tz,
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("governance/email/digest.txt", context),
        to=[recipient.user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(render_to_string("governance/email/digest.html", context), "text/html")
    return message


def _queued() -> QuerySet[Notification]:
    return Notification.objects.filter(email_mode=EmailMode.DIGEST, digest__isnull=True, emailed_at__isnull=True)


def digest_send(*, recipient_id: int, local_date: date, tz: str, now: datetime) -> int:
    """Send one recipient's digest for ``local_date`` unless that day's is taken; return how many items it listed."""
    try:
        with transaction.atomic():
            digest = Digest.objects.create(
                recipient_id=recipient_id, local_date=local_date, time_zone=tz, created_at=now
            )
            _queued().filter(recipient_id=recipient_id, created_at__lte=now).update(digest=digest)
    except IntegrityError:
        return 0  # this day's digest was sent (or is being sent) by another run
    claimed = list(Notification.objects.filter(digest=digest).order_by("created_at", "id"))
    recipient = Membership.objects.select_related("user", "organisation").get(pk=recipient_id)
    # A kind switched off (or unsubscribed) since it was queued is left out.
    modes = preferences_for(membership=recipient, kinds={n.kind for n in claimed})
    items = [n for n in claimed if modes[n.kind] != EmailMode.OFF]
    if items:
        try:
            with mailers["default"] as connection:
                connection.send_messages([digest_email(recipient=recipient, items=items, local_date=local_date, tz=tz)])
        except OSError:
            logger.exception("cannot send the digest of membership %s", recipient_id)
            with transaction.atomic():
                Notification.objects.filter(digest=digest).update(digest=None)
                digest.delete()
            return 0
    with transaction.atomic():
        Notification.objects.filter(pk__in=[n.pk for n in items]).update(emailed_at=now)
        Digest.objects.filter(pk=digest.pk).update(sent_at=now if items else None, item_count=len(items))
    return len(items)


def digests_due(*, now: datetime) -> list[tuple[int, date, str]]:
    """(recipient, local day, zone) of everyone with something queued whose local time is in the 08:00 hour."""
    ids = sorted(set(_queued().values_list("recipient_id", flat=True)))
    zones = recipient_time_zones(membership_ids=ids)
    due = []
    for pk in ids:
        local = now.astimezone(ZoneInfo(zones[pk]))
        if local.hour == DIGEST_HOUR:
            due.append((pk, local.date(), zones[pk]))
    return due


def digests_send_all(*, now: datetime) -> int:
    """Send every digest due now; return how many went. Safe to run twice and on two workers at once."""
    return sum(
        1
        for recipient_id, local_date, tz in digests_due(now=now)
        if digest_send(recipient_id=recipient_id, local_date=local_date, tz=tz, now=now)
    )


@task
def digests_send(now: str | None = None) -> str:
    """Scheduled hourly (minute 0): each recipient's digest at 08:00 local time. ``now`` (ISO 8601) is for tests."""
    when = (parse_datetime(now) if now else None) or timezone.now()
    return f"{digests_send_all(now=when)} digests sent"
