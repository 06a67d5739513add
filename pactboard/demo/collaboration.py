"""Demo collaboration: a shared strategy note (and a draft), knowledge-base articles by both parties, and wins.

The wins scan is replayed month by month over the demo's history (as if it had run when each month's
values arrived), so the feed shows what the history holds: milestones reached, stretch targets beaten,
targets met again. Kudos from both parties sit beside them. Everything goes through the services.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.utils import timezone

from pactboard.core.periods import Period
from pactboard.demo.history import (
    DATA_ENTRY,
    DATA_ENTRY_MANAGER,
    SALES,
    SUPPORT,
    SUPPORT_MANAGER,
    SUPPORT_TEAM_LEAD,
    _engagement,
    _member,
    history_months,
)
from pactboard.governance import collaboration
from pactboard.governance.collaboration_models import Article, Win
from pactboard.governance.wins import kudos_post, wins_scan

CLIENT_ADMIN = "vera.client@northwind.example"

STRATEGY_2027 = """## Where we want support to be in 2027

Our loyalty programme relaunches in **March 2027**. Support is the first place members feel it, so:

1. **First-contact resolution above 78 %** by the relaunch: fewer repeat contacts matter more to us
   than a shorter handle time.
2. **Service level stays at 80 % in 20 s** through the relaunch peak; we will share the campaign
   calendar six weeks ahead.
3. A **Polish-language queue** from January (volumes in the forecast we sent in October).

What we need from Brightline:

- a staffing plan for the relaunch weeks by the end of January;
- a proposal for a loyalty-specialist tier (see the knowledge base: *warm hand-over to second line*).

| Quarter | Focus |
|---|---|
| 2027-Q1 | Relaunch readiness, Polish queue |
| 2027-Q2 | Loyalty tier, repeat-contact drivers |
"""

DRAFT_NOTE = """Thinking aloud before the budget round: should the Polish queue move to the Kraków site only?
Not for Brightline yet."""

ARTICLES = [
    # (engagement, author e-mail, kind, title, body, tags)
    (
        SUPPORT,
        SUPPORT_MANAGER,
        "practice",
        "Warm hand-over to second line",
        "Stay on the call until second line picks up and introduce the customer's case in one sentence.\n\n"
        "- cuts repeat contacts on returns by about a third (pilot, Kraków, 2026-Q2);\n"
        "- logged as *resolved at first contact* only when second line closes it in the same call.",
        "escalation, first-contact-resolution",
    ),
    (
        SUPPORT,
        CLIENT_ADMIN,
        "lesson",
        "Telephony migration: run both platforms in parallel",
        "The February 2026 cut-over dropped the service level for two months. Next time:\n\n"
        "1. keep the old platform answering for **two weeks**;\n"
        "2. move queues one language at a time;\n"
        "3. agree a temporary service-level target *before* the migration, not after.",
        "telephony, service-level, change",
    ),
    (
        SUPPORT,
        SUPPORT_TEAM_LEAD,
        "practice",
        "Daily ten-minute huddle on repeat contacts",
        "Each morning team leads pick the three most repeated contact reasons of yesterday and agree one fix "
        "(a macro, a knowledge article, a call-back rule).",
        "first-contact-resolution, coaching",
    ),
    (
        DATA_ENTRY,
        DATA_ENTRY_MANAGER,
        "lesson",
        "Double-key verification for new operator cohorts",
        "Accuracy dipped with the April 2026 supplier layout and again with the September cohort. "
        "Double-key verification for an operator's first six weeks keeps accuracy above 99.5 % "
        "at a cost of about 4 % of throughput.",
        "accuracy, onboarding",
    ),
]


def _replay_wins(*, now: datetime) -> None:
    """Run the wins scan as it would have run a few days after each month of the history closed."""
    engagements = [e for e in (_engagement(n) for n in (SUPPORT, DATA_ENTRY, SALES)) if e is not None]
    for month in history_months(today=now.date()):
        at = datetime.combine(month.end + timedelta(days=3), time(9, 0), tzinfo=UTC)
        for engagement in engagements:
            wins_scan(engagement=engagement, now=min(at, now))


def demo_collaboration_load(*, now: datetime | None = None) -> bool:
    """Load the demo collaboration once; False when it is there already (or the engagements are not)."""
    now = now or timezone.now()
    support, data_entry = _engagement(SUPPORT), _engagement(DATA_ENTRY)
    if support is None or data_entry is None or Article.objects.filter(engagement=support).exists():
        return False
    client = _member(CLIENT_ADMIN)
    note = collaboration.note_create(
        actor=client,
        engagement=support,
        title="Support strategy 2027: the loyalty relaunch",
        body=STRATEGY_2027,
        share=True,
        now=now - timedelta(days=12),
    )
    collaboration.note_create(
        actor=client, engagement=support, title="Polish queue: one site?", body=DRAFT_NOTE, share=False, now=now
    )
    for name, email, kind, title, body, tags in ARTICLES:
        engagement = support if name == SUPPORT else data_entry
        collaboration.article_create(
            actor=_member(email), engagement=engagement, kind=kind, title=title, body=body, tags=tags
        )
    _replay_wins(now=now)
    last = Period.containing("month", now.date()).previous()
    kudos_post(
        actor=client,
        engagement=support,
        kpi_code="service_level",
        period=last.label,
        message="Service level held above target all quarter after the migration: thank you, Brightline!",
        now=now - timedelta(days=5),
    )
    kudos_post(
        actor=_member(SUPPORT_MANAGER),
        engagement=support,
        kpi_code="fcr",
        period=last.label,
        message="Thanks to Northwind's product team for the new returns macros: they moved first-contact resolution.",
        now=now - timedelta(days=4),
    )
    kudos_post(
        actor=client,
        engagement=data_entry,
        kpi_code="turnaround_time",
        period=last.label,
        message="Turnaround well under the stretch target: the catalogue team noticed.",
        now=now - timedelta(days=3),
    )
    return note.pk is not None and Win.objects.filter(engagement=support).exists()


__all__ = ["demo_collaboration_load"]
