"""Reviews (meetings with a generated agenda, minutes, decisions), actions, feedback threads, notifications, alerts.

A meeting's agenda is generated from the data until the meeting starts; from then on the stored
``agenda`` snapshot is what everyone reads (frozen with the meeting, docs/governance.md).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models

from pactboard.accounts.models import Membership, Organisation
from pactboard.core.models import TimeStampedModel
from pactboard.core.tenancy import TenantQuerySet
from pactboard.engagements.models import Engagement


class MeetingQuerySet(TenantQuerySet["Meeting"]):
    engagement_path = "engagement"


class Meeting(TimeStampedModel):
    """One review of an engagement: both parties see the same meeting."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="meetings")
    # The cadence occurrence this meeting stands for (a day); rescheduling moves starts_at, never the slot,
    # so the schedule service can run any number of times without creating a meeting twice.
    slot = models.DateField(null=True, blank=True)
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField(help_text="Stored in UTC; shown in the engagement's time zone.")
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    location = models.CharField(max_length=200, blank=True, help_text="A room or a video-call link.")
    attendees = models.ManyToManyField(Membership, through="MeetingAttendee", related_name="meetings")
    agenda = models.JSONField(null=True, blank=True, help_text="The agenda frozen when the meeting started.")
    agenda_frozen_at = models.DateTimeField(null=True, blank=True)
    minutes = models.TextField(blank=True)
    minutes_closed_at = models.DateTimeField(null=True, blank=True)
    minutes_closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    invitation_sequence = models.PositiveIntegerField(
        default=0, help_text="iCalendar SEQUENCE: raised each time the invitation is sent again."
    )
    invited_at = models.DateTimeField(null=True, blank=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "starts_at"]
        constraints = [models.UniqueConstraint(fields=["engagement", "slot"], name="meeting_slot_unique")]
        indexes = [models.Index(fields=["engagement", "starts_at"], name="meeting_start_idx")]

    def __str__(self) -> str:
        return self.title

    def has_started(self, now: datetime) -> bool:
        return now >= self.starts_at

    @property
    def minutes_closed(self) -> bool:
        return self.minutes_closed_at is not None


class MeetingAttendeeQuerySet(TenantQuerySet["MeetingAttendee"]):
    engagement_path = "meeting__engagement"


class MeetingAttendee(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")

    objects = MeetingAttendeeQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "membership"], name="meeting_attendee_unique")]

    def __str__(self) -> str:
        return f"{self.membership} at {self.meeting}"


class DecisionQuerySet(TenantQuerySet["Decision"]):
    engagement_path = "meeting__engagement"


class Decision(TimeStampedModel):
    """What the parties decided in a meeting."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    text = models.TextField()
    kpi_code = models.CharField(max_length=48, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_by_org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")

    objects = DecisionQuerySet.as_manager()

    class Meta:
        ordering = ["meeting", "created_at", "id"]

    def __str__(self) -> str:
        return self.text[:80]


class ActionItemQuerySet(TenantQuerySet["ActionItem"]):
    engagement_path = "engagement"

    def open(self) -> ActionItemQuerySet:
        return self.filter(status=ActionItem.Status.OPEN)


class ActionItem(TimeStampedModel):
    """Something one person (of either party) owes by a date; born in a meeting or on its own."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="actions")
    meeting = models.ForeignKey(Meeting, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions")
    title = models.CharField(max_length=300)
    owner = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="owned_actions")
    due_date = models.DateField(help_text="A day in the engagement's time zone.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    kpi_code = models.CharField(max_length=48, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_by_org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    # What opened the action when a rule did, not a person ("settlement:7:rule:qa-credit"); empty for
    # actions recorded by hand. Unique per engagement, so a retried or repeated rule opens it once.
    cause_key = models.CharField(max_length=100, blank=True, default="")

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["engagement", "status", "due_date"], name="action_open_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "cause_key"], condition=~models.Q(cause_key=""), name="action_once_per_cause"
            )
        ]

    def __str__(self) -> str:
        return self.title


class FeedbackThreadQuerySet(TenantQuerySet["FeedbackThread"]):
    engagement_path = "engagement"


class FeedbackThread(TimeStampedModel):
    """A discussion of one KPI value: the KPI and its period."""

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="feedback_threads")
    kpi_code = models.CharField(max_length=48)
    period_kind = models.CharField(max_length=7)
    period_start = models.DateField()
    title = models.CharField(max_length=200)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_by_org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")

    objects = FeedbackThreadQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "-created_at", "-id"]
        indexes = [models.Index(fields=["engagement", "kpi_code", "resolved_at"], name="feedback_kpi_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class FeedbackCommentQuerySet(TenantQuerySet["FeedbackComment"]):
    engagement_path = "thread__engagement"


class FeedbackComment(TimeStampedModel):
    thread = models.ForeignKey(FeedbackThread, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    mentions = models.ManyToManyField(Membership, blank=True, related_name="+")

    objects = FeedbackCommentQuerySet.as_manager()

    class Meta:
        ordering = ["thread", "created_at", "id"]

    def __str__(self) -> str:
        return f"Comment by {self.author} on {self.thread}"


class EmailMode(models.TextChoices):
    """What a recipient wants done with e-mail of one kind of notification."""

    IMMEDIATELY = "immediately", "Immediately"
    DIGEST = "digest", "Daily digest"
    OFF = "off", "Off"


class NotificationQuerySet(models.QuerySet["Notification"]):
    def for_recipient(self, membership: Membership | None) -> NotificationQuerySet:
        """A notification belongs to one membership: nobody else (not even colleagues) reads it."""
        if membership is None:
            return self.none()
        return self.filter(recipient=membership)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One thing one person should know, in the app and (unless they opted out) by e-mail.

    ``kind`` + ``cause_key`` name the cause ("action.assigned" + "action:12"); with the recipient they
    are unique, so a cause never notifies the same person twice. Later channels (webhooks, digests)
    read the same rows: ``emailed_at`` is when the e-mail went out, None while pending or opted out.
    The engagement is kept as a plain id (like the audit log): a notification is owned by its
    recipient, not by both parties of the engagement.
    """

    recipient = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    cause_key = models.CharField(max_length=100)
    engagement_id = models.PositiveIntegerField(null=True, blank=True)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, help_text="Where the cause is, relative to the site.")
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # How the recipient's preference for this kind said to e-mail it, fixed when it was recorded.
    email_mode = models.CharField(max_length=12, choices=EmailMode.choices, default=EmailMode.IMMEDIATELY)
    digest = models.ForeignKey("Digest", on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications")

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "kind", "cause_key"], name="notification_once_per_cause")
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return self.title


class EmailOptOut(models.Model):
    """A recipient who unsubscribed from e-mail of one kind ("" = every kind); in-app notices still come."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["membership", "kind"], name="email_opt_out_unique")]

    def __str__(self) -> str:
        return f"{self.membership} opted out of {self.kind or 'all'} e-mail"


class NotificationPreference(models.Model):
    """A recipient's choice for e-mail of one kind; a kind without a row is e-mailed immediately."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)
    mode = models.CharField(max_length=12, choices=EmailMode.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["membership", "kind"], name="notification_preference_unique")]

    def __str__(self) -> str:
        return f"{self.membership}: {self.kind} {self.mode}"


class RecipientSettings(models.Model):
    """A recipient's time zone for the daily digest; empty means the zone of their organisation's engagement."""

    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="+")
    time_zone = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"{self.membership}: {self.time_zone or 'default zone'}"


class Digest(models.Model):
    """One recipient's daily digest e-mail: (recipient, local day) is unique, so it goes once a day."""

    recipient = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="+")
    local_date = models.DateField()
    time_zone = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    item_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-local_date", "id"]
        constraints = [models.UniqueConstraint(fields=["recipient", "local_date"], name="digest_once_per_day")]

    def __str__(self) -> str:
        return f"Digest of {self.recipient} for {self.local_date}"


class AlertQuerySet(TenantQuerySet["Alert"]):
    engagement_path = "engagement"

    def open(self) -> AlertQuerySet:
        return self.filter(cleared_at__isnull=True)


class Alert(models.Model):
    """Something about an engagement that holds now: a breach, a dip, a chronic miss, late data (about a KPI);
    a proposal awaiting a party's signature, an overdue action, a review starting soon (owed by people).

    ``cause_key`` names the cause ("breach:fcr:2026-10"); it is unique per engagement, so however
    often (and however many workers at once) the scan runs, a cause raises one row. The row stays
    when the cause clears (``cleared_at``) and is raised again if the cause comes back.
    """

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20)
    cause_key = models.CharField(max_length=120)
    kpi_code = models.CharField(max_length=48, blank=True)
    period = models.CharField(max_length=16, blank=True, help_text="The period label, as Period.label writes it.")
    raised_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    evidence = models.JSONField(default=dict, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["engagement", "-raised_at", "id"]
        constraints = [models.UniqueConstraint(fields=["engagement", "cause_key"], name="alert_once_per_cause")]
        indexes = [models.Index(fields=["engagement", "cleared_at"], name="alert_open_idx")]

    def __str__(self) -> str:
        return self.cause_key

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class AlertSettingsQuerySet(TenantQuerySet["AlertSettings"]):
    engagement_path = "engagement"


class AlertSettings(models.Model):
    """Per-engagement alert thresholds; an engagement without a row uses the defaults of alert_rules."""

    engagement = models.OneToOneField(Engagement, on_delete=models.CASCADE, related_name="alert_settings")
    chronic_after = models.PositiveSmallIntegerField(
        default=3, help_text="Missed periods in a row that make a KPI chronic."
    )
    grace_days = models.PositiveSmallIntegerField(
        default=5, help_text="Days after a period closes before its missing value is late."
    )
    review_notice_days = models.PositiveSmallIntegerField(
        default=3, help_text="Days before a review starts that its attendees are reminded of it."
    )

    objects = AlertSettingsQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Alert settings of {self.engagement}"


__all__ = [
    "ActionItem",
    "Alert",
    "AlertSettings",
    "Decision",
    "Digest",
    "EmailMode",
    "EmailOptOut",
    "FeedbackComment",
    "FeedbackThread",
    "Meeting",
    "MeetingAttendee",
    "Notification",
    "NotificationPreference",
    "RecipientSettings",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
]


# KPI relevance reviews (F11) live in their own module; importing them here registers them with the app.
from pactboard.governance.relevance_models import (  # noqa: E402
    RelevanceComment,
    RelevanceItem,
    RelevanceReview,
    RelevanceSettings,
)

__all__ += ["RelevanceComment", "RelevanceItem", "RelevanceReview", "RelevanceSettings"]
# Collaboration (F18) lives in its own module; importing it here registers its models with the app.
from pactboard.governance.collaboration_models import Article, StrategyNote, Win  # noqa: E402

__all__ += ["Article", "StrategyNote", "Win"]
# Webhooks (F21) live in their own module; importing them here registers them with the app.
from pactboard.governance.webhook_models import Webhook, WebhookAttempt, WebhookDelivery  # noqa: E402
