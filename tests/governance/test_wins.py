"""The wins scan posts each win once (run twice, two workers at once); kudos are checked and posted.

The ``gov`` world (tests/governance/conftest.py): kpi_00 higher-is-better, target 80 / amber 75 /
stretch 90, with a milestone of 78 on 15 Dec 2026 whose amber and stretch keep their distance
(73 and 88, docs/scoring.md) and which judges every month whose last day is on or before 15 Dec
(January to November 2026); kpi_01 lower-is-better, target 20 / amber 25 / stretch 15. In October
kpi_00 = 77 (at risk) and kpi_01 = 30 (missed). At NOW (10 Nov 2026) the closed months end with
October, so the win window (3) is August to October.

With kpi_00 August = 70 (missed, < 73) and September = 89 (exceeded, >= 88), and kpi_01 August = 30
(missed) and September = 18 (met, <= 20 but above the stretch 15), the wins are:
  met_again:kpi_00:2026-09, milestone:kpi_00:2026-12-15 (first met month of that milestone),
  stretch:kpi_00:2026-09, met_again:kpi_01:2026-09  -> 4.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection

from pactboard.audit.models import AuditEvent
from pactboard.core.errors import PactboardError
from pactboard.core.periods import Period
from pactboard.engagements.models import Engagement
from pactboard.governance.collaboration_models import Win
from pactboard.governance.wins import kudos_post, wins_scan
from pactboard.measurements import services as measurement_services
from tests.conftest import World
from tests.governance.conftest import NOW

EXPECTED = {
    "met_again:kpi_00:2026-09",
    "milestone:kpi_00:2026-12-15",
    "stretch:kpi_00:2026-09",
    "met_again:kpi_01:2026-09",
}


def _push(world: World, code: str, values: dict[str, int]) -> None:
    measurement_services.values_push(
        actor=world.provider_manager,
        engagement=world.engagement,
        rows=[
            measurement_services.ValueRow(kpi_code=code, period=Period.parse(label), value=Decimal(v))
            for label, v in values.items()
        ],
        reason="corrected",
    )


def _history(world: World) -> None:
    _push(world, "kpi_00", {"2026-08": 70, "2026-09": 89})
    _push(world, "kpi_01", {"2026-08": 30, "2026-09": 18})


def test_each_win_is_posted_once_when_the_scan_runs_twice(gov: World):
    _history(gov)
    first = wins_scan(engagement=gov.engagement, now=NOW)
    second = wins_scan(engagement=gov.engagement, now=NOW)
    assert {w.cause_key for w in first} == EXPECTED
    assert second == []
    assert Win.objects.filter(engagement=gov.engagement).count() == len(EXPECTED)
    assert AuditEvent.objects.filter(action="win.post").count() == len(EXPECTED)
    milestone = Win.objects.get(cause_key="milestone:kpi_00:2026-12-15")
    assert milestone.period == "2026-09"
    assert milestone.message == "KPI 00 reached its milestone of 2026-12-15 in 2026-09 (value 89, interim target 78)."


def test_chronic_cleared_and_stretch(gov: World):
    # kpi_01 missed July, August, September (3 in a row: chronic); October 14 is met and beats the stretch 15.
    _push(gov, "kpi_01", {"2026-07": 30, "2026-08": 30, "2026-09": 30, "2026-10": 14})
    keys = {w.cause_key for w in wins_scan(engagement=gov.engagement, now=NOW)}
    assert keys == {"chronic_cleared:kpi_01:2026-10", "stretch:kpi_01:2026-10"}


def test_a_posted_win_stays_when_a_value_is_revised(gov: World):
    _history(gov)
    wins_scan(engagement=gov.engagement, now=NOW)
    _push(gov, "kpi_01", {"2026-09": 24})  # September now at risk: no new win, the old one stays
    assert wins_scan(engagement=gov.engagement, now=NOW) == []
    assert Win.objects.filter(cause_key="met_again:kpi_01:2026-09").exists()


@pytest.mark.django_db(transaction=True)
def test_two_workers_scanning_at_once_post_each_win_once(gov: World):
    _history(gov)
    # The values committed here, so the scans they started have run: start from an empty feed.
    Win.objects.all().delete()
    audited = AuditEvent.objects.filter(action="win.post").count()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def scan() -> None:
        barrier.wait()
        try:
            posted = wins_scan(engagement=Engagement.objects.get(pk=gov.engagement.pk), now=NOW)
            outcome = f"posted {len(posted)}"
        except DatabaseError as exc:  # SQLite may time out a writer instead of queueing it
            outcome = f"db: {exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["posted 0", f"posted {len(EXPECTED)}"], outcomes
    assert set(Win.objects.values_list("cause_key", flat=True)) == EXPECTED
    assert AuditEvent.objects.filter(action="win.post").count() == audited + len(EXPECTED)


def test_recording_values_scans_for_wins_after_the_commit(gov: World, django_capture_on_commit_callbacks, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW)
    with django_capture_on_commit_callbacks(execute=True):
        _history(gov)
    assert set(Win.objects.values_list("cause_key", flat=True)) == EXPECTED


def test_kudos_from_either_party_for_a_kpi_and_a_closed_period(gov: World):
    win = kudos_post(
        actor=gov.provider_manager,
        engagement=gov.engagement,
        kpi_code="kpi_00",
        period="2026-10",
        message="Thanks for the quick sign-off on the new script!",
        now=NOW,
    )
    assert (win.kind, win.author_org_id, win.period, win.cause_key) == ("kudos", gov.provider_org.pk, "2026-10", "")
    kudos_post(
        actor=gov.client_manager, engagement=gov.engagement, kpi_code="kpi_01", period="2026-01", message="Well done",
        now=NOW,
    )  # fmt: skip
    assert AuditEvent.objects.filter(action="win.kudos").count() == 2


@pytest.mark.parametrize(
    ("kpi_code", "period", "message", "location", "code"),
    [
        ("nope", "2026-10", "Great", "kpi_code", "unknown_kpi"),  # not a KPI of the engagement
        ("kpi_00", "2026-11", "Great", "period", "out_of_range"),  # November has not closed on 10 Nov
        ("kpi_00", "2025-12", "Great", "period", "out_of_range"),  # before the engagement began (1 Jan 2026)
        ("kpi_00", "2026-Q3", "Great", "period", "wrong_period_kind"),  # a quarter, but the KPI is monthly
        ("kpi_00", "2026-10", "  ", "message", "required"),
        ("kpi_00", "2026-10", "x" * 501, "message", "too_long"),  # MESSAGE_MAX is 500
    ],
)
def test_kudos_refuses_what_it_cannot_tie(gov: World, kpi_code, period, message, location, code):
    with pytest.raises(PactboardError) as exc:
        kudos_post(
            actor=gov.client_manager, engagement=gov.engagement, kpi_code=kpi_code, period=period, message=message,
            now=NOW,
        )  # fmt: skip
    assert exc.value.kind == "invalid"
    assert [(d.location, d.code) for d in exc.value.details] == [(location, code)]
    assert not Win.objects.exists()


def test_kudos_viewer_and_outsider_refused(gov: World):
    for actor, kind in ((gov.client_viewer, "forbidden"), (gov.outsider, "not_found")):
        with pytest.raises(PactboardError) as exc:
            kudos_post(
                actor=actor, engagement=gov.engagement, kpi_code="kpi_00", period="2026-10", message="Hi", now=NOW
            )
        assert exc.value.kind == kind


def test_only_the_last_three_closed_periods_post_and_gaps_are_skipped(gov: World):
    # kpi_01 (lower, target 20): March 30 missed, April 18 met -> met again in April, but April is
    # older than the window (August to October), so nothing is posted for it. July 30 missed, August
    # has no value, September 18 met: September's previous period with a value is July -> met again.
    _push(gov, "kpi_01", {"2026-03": 30, "2026-04": 18, "2026-07": 30, "2026-09": 18})
    keys = {w.cause_key for w in wins_scan(engagement=gov.engagement, now=NOW)}
    assert keys == {"met_again:kpi_01:2026-09"}


def test_wins_scan_command_is_idempotent(gov: World, capsys, monkeypatch):
    from django.core.management import call_command
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW)
    _history(gov)
    call_command("wins", "scan", str(gov.engagement.pk))
    assert f"Acme support: {len(EXPECTED)} wins posted" in capsys.readouterr().out
    call_command("wins", "scan")
    assert "Acme support: 0 wins posted" in capsys.readouterr().out
