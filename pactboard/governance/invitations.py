"""iCalendar (.ics) invitations for reviews, built with the ``icalendar`` library (RFC 5545).

The event's UID is stable per meeting and its SEQUENCE rises with each sending, so calendars update
the event they already have instead of adding a second one. Times are written in UTC (a "Z" time),
which every calendar converts to its user's zone; the description names the engagement's zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlparse

from django.conf import settings
from django.urls import reverse
from icalendar import Calendar, Event, vCalAddress, vText

from pactboard.governance.models import Meeting


def meeting_uid(meeting: Meeting) -> str:
    host = urlparse(settings.SITE_URL).hostname or "pactboard"
    return f"meeting-{meeting.pk}@{host}"


def meeting_ics(*, meeting: Meeting, attendee_emails: list[tuple[str, str]], now: datetime, sequence: int) -> bytes:
    """A REQUEST calendar with one event for the meeting; ``attendee_emails`` is ``[(email, name), ...]``."""
    cal = Calendar()
    cal.add("prodid", "-//Pactboard//Reviews//EN")
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("sequence", sequence)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", meeting.starts_at.astimezone(UTC))
    event.add("dtend", meeting.starts_at.astimezone(UTC) + timedelta(minutes=meeting.duration_minutes))
    event.add("summary", meeting.title)
    link = settings.SITE_URL + reverse("governance:meeting", args=[meeting.engagement_id, meeting.pk])
    event.add(
        "description",
        f"Review of {meeting.engagement.name} ({meeting.engagement.time_zone}). Agenda and minutes: {link}",
    )
    event.add("url", link)
    if meeting.location:
        event.add("location", meeting.location)
    organizer = vCalAddress(f"mailto:{parseaddr(str(settings.DEFAULT_FROM_EMAIL))[1]}")
    organizer.params["cn"] = vText("Pactboard")
    event.add("organizer", organizer)
    for email, name in attendee_emails:
        attendee = vCalAddress(f"mailto:{email}")
        attendee.params["cn"] = vText(name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("NEEDS-ACTION")
        attendee.params["rsvp"] = vText("TRUE")
        event.add("attendee", attendee, encode=False)
    cal.add_component(event)
    return cal.to_ical()
