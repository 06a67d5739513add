"""The alert scan: each cause raises once (twice run, two workers at once) and clears when its cause clears.

The ``gov`` world (tests/governance/conftest.py): kpi_00 (higher, 80/75) = 77 in 2026-10, at risk;
kpi_01 (lower, 20/25) = 30 in 2026-10, missed; no other values. At NOW (10 Nov 2026) the closed
months are 2026-01 .. 2026-10; of the last three closed (August to October), August and September
have no value and closed more than 5 days (the default grace) ago, so each KPI is late for 2 months:
4 late + 1 at risk + 1 breach = 6.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection

from pactboard.audit.models import AuditEvent
from pactboard.core.periods import Period
from pactboard.engagements.models import Engagement
from pactboard.governance.alerts import alerts_scan
from pactboard.governance.models import Alert, AlertSettings, Notification
from pactboard.measurements import services as measurement_services
from tests.conftest import World
from tests.governance.conftest import NOW

EXPECTED = 6


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


def _open_keys(world: World) -> set[str]:
    return set(
        Alert.objects.filter(engagement=world.engagement, cleared_at__isnull=True).values_list("cause_key", flat=True)
    )


def test_each_cause_fires_once_when_the_scan_runs_twice(gov: World):
    first = alerts_scan(engagement=gov.engagement, now=NOW)
    second = alerts_scan(engagement=gov.engagement, now=NOW)
    assert len(first.raised) == EXPECTED
    assert second.raised == []
    assert second.cleared == []
    keys = _open_keys(gov)
    assert {"breach:kpi_01:2026-10", "at_risk:kpi_00:2026-10", "late:kpi_00:2026-08", "late:kpi_01:2026-09"} <= keys
    assert len(keys) == EXPECTED
    # Managers of both parties, once per cause; the viewer and outsiders hear nothing.
    notes = Notification.objects.filter(cause_key="breach:kpi_01:2026-10")
    assert sorted(n.recipient_id for n in notes) == sorted([gov.client_manager.pk, gov.provider_manager.pk])
    assert {n.kind for n in notes} == {"alert.breach"}
    assert Notification.objects.filter(kind__startswith="alert.").count() == 2 * EXPECTED
    assert AuditEvent.objects.filter(action="alert.raise").count() == EXPECTED


def test_a_cause_that_clears_clears_its_alert_once(gov: World):
    alerts_scan(engagement=gov.engagement, now=NOW)
    _push(gov, "kpi_01", {"2026-10": 18})  # lower-is-better, target 20: 18 is met
    _push(gov, "kpi_00", {"2026-09": 85})  # the late September value arrives
    result = alerts_scan(engagement=gov.engagement, now=NOW)
    assert sorted(a.cause_key for a in result.cleared) == ["breach:kpi_01:2026-10", "late:kpi_00:2026-09"]
    assert result.raised == []
    assert alerts_scan(engagement=gov.engagement, now=NOW).cleared == []
    assert AuditEvent.objects.filter(action="alert.clear").count() == 2
    # The cause comes back: the same row is raised again, not a second one.
    _push(gov, "kpi_01", {"2026-10": 31})
    again = alerts_scan(engagement=gov.engagement, now=NOW)
    assert [a.cause_key for a in again.raised] == ["breach:kpi_01:2026-10"]
    assert Alert.objects.filter(cause_key="breach:kpi_01:2026-10").count() == 1


def test_chronic_after_three_missed_months_until_met_again(gov: World):
    _push(gov, "kpi_01", {"2026-08": 30, "2026-09": 40})  # with October's 30: three missed (> amber 25) in a row
    alerts_scan(engagement=gov.engagement, now=NOW)
    assert "chronic:kpi_01:2026-08" in _open_keys(gov)
    assert Notification.objects.filter(kind="alert.chronic", cause_key="chronic:kpi_01:2026-08").count() == 2
    _push(gov, "kpi_01", {"2026-10": 20})  # exactly on target: met
    result = alerts_scan(engagement=gov.engagement, now=NOW)
    assert "chronic:kpi_01:2026-08" in {a.cause_key for a in result.cleared}
    assert Notification.objects.filter(kind="alert.chronic.cleared").count() == 2
    # August and September's misses are history now that October (met) is the latest closed month.
    assert not {"breach:kpi_01:2026-08", "breach:kpi_01:2026-09"} & _open_keys(gov)


def test_chronic_threshold_and_grace_per_engagement(gov: World):
    AlertSettings.objects.create(engagement=gov.engagement, chronic_after=1, grace_days=60)
    alerts_scan(engagement=gov.engagement, now=NOW)
    keys = _open_keys(gov)
    assert "chronic:kpi_01:2026-10" in keys  # one missed month is chronic at N = 1
    # 60 days' grace: late when closed on or before 10 Nov - 60 days = 11 Sep 2026, so of the last three
    # closed months August (closes on 1 Sep) is late and September (closes on 1 Oct) is not yet.
    assert "late:kpi_00:2026-08" in keys
    assert "late:kpi_00:2026-09" not in keys


def test_dip_on_the_kpis_own_chart(gov: World):
    # kpi_00 (higher) March..October: 90, 92, 90, 92, 90, 92, 90, 60. Centre 696 / 8 = 87; moving ranges
    # 2 (x6) and 30: mean 6, sigma 6 / 1.128 = 5.319; lower limit 87 - 15.96 = 71.04 > 60: rule 1.
    values = [90, 92, 90, 92, 90, 92, 90, 60]
    _push(gov, "kpi_00", {f"2026-{m:02d}": v for m, v in zip(range(3, 11), values, strict=True)})
    alerts_scan(engagement=gov.engagement, now=NOW)
    dip = Alert.objects.get(cause_key="dip:kpi_00:2026-10")
    assert dip.evidence["rules"] == ["we1"]
    assert [k for k in _open_keys(gov) if k.startswith("dip:")] == ["dip:kpi_00:2026-10"]


@pytest.mark.django_db(transaction=True)
def test_two_workers_scanning_at_once_raise_each_cause_once(gov: World):
    # Here the fixture's values committed, so the scan they started has run: start from no alerts.
    Notification.objects.filter(kind__startswith="alert.").delete()
    Alert.objects.all().delete()
    audited = AuditEvent.objects.filter(action="alert.raise").count()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def scan() -> None:
        barrier.wait()
        try:
            result = alerts_scan(engagement=Engagement.objects.get(pk=gov.engagement.pk), now=NOW)
            outcome = f"raised {len(result.raised)}"
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
    assert sorted(outcomes) == ["raised 0", f"raised {EXPECTED}"], outcomes
    assert Alert.objects.filter(engagement=gov.engagement).count() == EXPECTED
    assert Notification.objects.filter(kind__startswith="alert.").count() == 2 * EXPECTED
    assert AuditEvent.objects.filter(action="alert.raise").count() == audited + EXPECTED


def test_recording_values_scans_after_the_commit(gov: World, django_capture_on_commit_callbacks, monkeypatch):
    # Tasks run at once under the test settings (ImmediateBackend): the scan follows the commit.
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW)
    with django_capture_on_commit_callbacks(execute=True):
        _push(gov, "kpi_00", {"2026-10": 70})  # higher is better, 80 / 75: 70 is missed
    assert "breach:kpi_00:2026-10" in _open_keys(gov)


def test_scan_command_is_idempotent(gov: World, capsys):
    from django.core.management import call_command

    call_command("alerts", "scan", str(gov.engagement.pk))
    assert f"Acme support: {EXPECTED} raised, 0 cleared" in capsys.readouterr().out
    call_command("alerts", "scan", str(gov.engagement.pk))
    assert "Acme support: 0 raised, 0 cleared" in capsys.readouterr().out


def test_chronic_flag_on_the_tile_and_the_kpi_page_until_met_again(gov: World):
    from tests.conftest import client_for

    _push(gov, "kpi_01", {"2026-08": 30, "2026-09": 40})  # three missed months with October's 30
    alerts_scan(engagement=gov.engagement, now=NOW)
    c = client_for(gov.client_manager)
    dashboard = c.get(f"/engagements/{gov.engagement.pk}/dashboard/").content.decode()
    assert dashboard.count('data-testid="tile-chronic"') == 1
    kpi = c.get(f"/engagements/{gov.engagement.pk}/kpis/kpi_01/").content.decode()
    assert "Chronic: missed in a row since 2026-08" in kpi
    assert 'data-testid="kpi-chronic"' not in c.get(f"/engagements/{gov.engagement.pk}/kpis/kpi_00/").content.decode()
    _push(gov, "kpi_01", {"2026-10": 20})  # met: the flag goes
    alerts_scan(engagement=gov.engagement, now=NOW)
    assert 'data-testid="tile-chronic"' not in c.get(f"/engagements/{gov.engagement.pk}/dashboard/").content.decode()


def test_agenda_lists_dips_and_chronic_kpis(gov: World):
    from datetime import timedelta

    from pactboard.governance.models import Meeting
    from pactboard.governance.selectors import meeting_agenda_live

    _push(gov, "kpi_01", {"2026-08": 30, "2026-09": 40})  # chronic since August (see the chronic test)
    values = [90, 92, 90, 92, 90, 92, 90, 60]  # the dip of test_dip_on_the_kpis_own_chart
    _push(gov, "kpi_00", {f"2026-{m:02d}": v for m, v in zip(range(3, 11), values, strict=True)})
    alerts_scan(engagement=gov.engagement, now=NOW)
    meeting = Meeting.objects.create(engagement=gov.engagement, title="Review", starts_at=NOW + timedelta(days=2))
    agenda = meeting_agenda_live(meeting=meeting, now=NOW)
    keys = [s.key for s in agenda.sections]
    assert keys.index("alerts") == keys.index("kpis") + 1
    section = agenda.section("alerts")
    assert section is not None
    assert [i.text for i in section.items] == [
        "KPI 01: chronic, missed in a row since 2026-08",
        "KPI 00: a dip in 2026-10",
    ]
    assert section.items[1].detail == "value 60; Western Electric rule 1"


def test_a_scan_of_some_kpis_leaves_the_others_alone(gov: World):
    # The scan after a value is recorded judges only the KPIs it touched: kpi_00's at-risk October and
    # late August/September are not raised by a scan of kpi_01, and a later kpi_01-only scan does not
    # clear kpi_00's alerts raised by the full scan.
    only = alerts_scan(engagement=gov.engagement, now=NOW, kpi_codes=["kpi_01"])
    assert sorted(a.cause_key for a in only.raised) == [
        "breach:kpi_01:2026-10",
        "late:kpi_01:2026-08",
        "late:kpi_01:2026-09",
    ]
    alerts_scan(engagement=gov.engagement, now=NOW)
    assert "at_risk:kpi_00:2026-10" in _open_keys(gov)
    again = alerts_scan(engagement=gov.engagement, now=NOW, kpi_codes=["kpi_01"])
    assert again.raised == []
    assert again.cleared == []
    assert len(_open_keys(gov)) == EXPECTED


def test_a_stream_of_writes_queues_one_waiting_scan_per_engagement(
    gov: World, settings, django_capture_on_commit_callbacks
):
    """Each batch of values used to queue an alert scan and a wins scan (bench/bench_load.py: 3,468 tasks in
    60 s, uploads of every tenant waiting behind them). A scan not yet started reads the values when it
    runs: three batches on kpi_00 queue one of each; a batch on kpi_01 adds an alert scan of kpi_01 only."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    for value in (71, 72, 73):
        with django_capture_on_commit_callbacks(execute=True):
            _push(gov, "kpi_00", {"2026-10": value})
    with django_capture_on_commit_callbacks(execute=True):
        _push(gov, "kpi_01", {"2026-10": 31})
    waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY).order_by("enqueued_at")
    queued = [(r.task_path.rsplit(".", 1)[1], r.args_kwargs["args"]) for r in waiting]
    pk = gov.engagement.pk
    assert queued == [
        ("alerts_scan_task", [pk, ["kpi_00"]]),
        ("wins_scan_task", [pk]),
        ("alerts_scan_task", [pk, ["kpi_01"]]),
    ]
