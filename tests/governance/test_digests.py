"""Preferences per kind (immediately, daily digest, off) and the daily digest at 08:00 local time.

Times: in November Europe/Berlin is UTC+1 and America/New_York UTC-5 (both on standard time after
the last Sunday of October / first Sunday of November 2026), so 08:00 local is 07:00 UTC in Berlin
and 13:00 UTC in New York.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import DatabaseError, connection

from pactboard.accounts.models import Membership, Organisation
from pactboard.core.errors import PactboardError
from pactboard.governance.digests import digests_send, digests_send_all
from pactboard.governance.models import Digest, EmailMode, EmailOptOut, Notification
from pactboard.governance.notify import KIND_LABELS, notify
from pactboard.governance.preferences import email_modes, preferences_set, recipient_time_zones
from tests.conftest import World, client_for

pytestmark = pytest.mark.django_db

QUEUED_AT = datetime(2026, 11, 9, 15, 0, tzinfo=UTC)


def _notify(world: World, member: Membership, *, kind: str, key: str, when: datetime = QUEUED_AT) -> list[Notification]:
    return notify(
        recipients=[member],
        kind=kind,
        cause_key=key,
        title=f"{kind} {key}",
        body="Details.",
        url=f"/engagements/{world.engagement.pk}/",
        engagement_id=world.engagement.pk,
        now=when,
    )


def test_off_records_in_app_but_sends_no_mail_and_digest_waits(world: World, django_capture_on_commit_callbacks):
    pm = world.provider_manager
    preferences_set(actor=pm, modes={"alert.breach": "off", "alert.at_risk": "digest"})
    with django_capture_on_commit_callbacks(execute=True):
        _notify(world, pm, kind="alert.breach", key="breach:a:2026-10")
        _notify(world, pm, kind="alert.at_risk", key="at_risk:a:2026-10")
        _notify(world, pm, kind="alert.dip", key="dip:a:2026-10")  # no preference: immediately
    assert [m.subject for m in mail.outbox] == ["alert.dip dip:a:2026-10"]
    modes = dict(Notification.objects.filter(recipient=pm).values_list("kind", "email_mode"))
    assert modes == {"alert.breach": "off", "alert.at_risk": "digest", "alert.dip": "immediately"}
    assert Notification.objects.for_recipient(pm).unread().count() == 3  # the centre keeps every one


def test_unknown_kinds_default_to_immediately_and_unsubscribes_read_as_off(world: World):
    pm = world.provider_manager
    assert email_modes(recipient_ids=[pm.pk], kind="renewal.recommended") == {pm.pk: "immediately"}
    EmailOptOut.objects.create(membership=pm, kind="")
    assert email_modes(recipient_ids=[pm.pk], kind="renewal.recommended") == {pm.pk: "off"}
    # Choosing one kind again lifts the opt-out of all e-mail without switching the others on.
    preferences_set(actor=pm, modes={"alert.breach": "immediately"}, all_kinds=["alert.breach", "alert.dip"])
    assert email_modes(recipient_ids=[pm.pk], kind="alert.breach") == {pm.pk: "immediately"}
    assert email_modes(recipient_ids=[pm.pk], kind="alert.dip") == {pm.pk: "off"}


def test_bad_preferences_are_refused_naming_the_field(world: World):
    with pytest.raises(PactboardError) as refused:
        preferences_set(
            actor=world.client_manager,
            modes={"alert.breach": "weekly", "Alert Breach": "off"},
            time_zone="Mars/Olympus",
        )
    # "weekly" is not one of the modes; "Alert Breach" is not written like alert.breach; Mars has no IANA zone.
    assert [(d.location, d.code) for d in refused.value.details] == [
        ("modes.alert.breach", "invalid_choice"),
        ("modes.Alert Breach", "invalid_kind"),
        ("time_zone", "unknown_time_zone"),
    ]


def test_time_zone_defaults_to_the_engagement_then_utc(world: World):
    solo = Organisation.objects.create(name="Solo", slug="solo", kind="client")  # no engagement at all
    loner = Membership.objects.create(user=world.client_viewer.user, organisation=solo)
    zones = recipient_time_zones(membership_ids=[world.provider_manager.pk, loner.pk])
    assert zones == {world.provider_manager.pk: "Europe/Berlin", loner.pk: "UTC"}
    preferences_set(actor=world.provider_manager, modes={}, time_zone="America/New_York")
    assert recipient_time_zones(membership_ids=[world.provider_manager.pk]) == {
        world.provider_manager.pk: "America/New_York"
    }


def test_the_digest_goes_at_eight_local_once_a_day_with_both_parts_and_unsubscribe(world: World, settings):
    settings.SITE_URL = "https://pactboard.example"
    pm = world.provider_manager
    preferences_set(actor=pm, modes={"alert.breach": "digest", "action.assigned": "digest"})
    _notify(world, pm, kind="alert.breach", key="breach:a:2026-10")
    _notify(world, pm, kind="action.assigned", key="action:1")
    assert mail.outbox == []

    # 06:59 UTC is 07:59 in Berlin: not yet. 07:00 UTC is 08:00 there: the digest goes.
    assert digests_send_all(now=datetime(2026, 11, 10, 6, 59, tzinfo=UTC)) == 0
    assert digests_send.enqueue("2026-11-10T07:00:00+00:00").return_value == "1 digests sent"
    (message,) = mail.outbox
    assert message.to == ["pedro@helpline.example"]
    assert message.subject == "Pactboard digest for 10 Nov 2026: 2 notifications"
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "alert.breach breach:a:2026-10" in message.body
    assert "action.assigned action:1" in message.body
    assert "alert.breach breach:a:2026-10" in html
    # Queued at 15:00 UTC = 16:00 Berlin.
    assert "9 Nov, 16:00" in message.body
    unsubscribe = message.extra_headers["List-Unsubscribe"][1:-1]
    assert unsubscribe.startswith("https://pactboard.example/unsubscribe/")
    assert unsubscribe in message.body
    assert f'href="{unsubscribe}"' in html
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert Notification.objects.filter(recipient=pm, emailed_at__isnull=False).count() == 2

    # Run again within the hour, and something new queued after 08:00: nothing more today.
    _notify(world, pm, kind="alert.breach", key="breach:b:2026-10", when=datetime(2026, 11, 10, 7, 20, tzinfo=UTC))
    assert digests_send_all(now=datetime(2026, 11, 10, 7, 30, tzinfo=UTC)) == 0
    assert len(mail.outbox) == 1
    # The next morning it does.
    assert digests_send_all(now=datetime(2026, 11, 11, 7, 0, tzinfo=UTC)) == 1
    assert mail.outbox[1].subject == "Pactboard digest for 11 Nov 2026: 1 notification"
    assert list(Digest.objects.filter(recipient=pm).values_list("local_date", "item_count")) == [
        (datetime(2026, 11, 11).date(), 1),
        (datetime(2026, 11, 10).date(), 2),
    ]

    # One-click unsubscribe from the digest stops all e-mail of the membership; in-app stays.
    path = unsubscribe.removeprefix("https://pactboard.example")
    assert client_for(world.client_manager).post(path).status_code == 200
    assert EmailOptOut.objects.filter(membership=pm, kind="").exists()


def test_the_users_own_time_zone_moves_the_digest(world: World):
    pm = world.provider_manager
    preferences_set(actor=pm, modes={"alert.breach": "digest"}, time_zone="America/New_York")
    _notify(world, pm, kind="alert.breach", key="breach:a:2026-10")
    assert digests_send_all(now=datetime(2026, 11, 10, 7, 0, tzinfo=UTC)) == 0  # 02:00 in New York
    assert digests_send_all(now=datetime(2026, 11, 10, 13, 0, tzinfo=UTC)) == 1  # 08:00 in New York
    assert Digest.objects.get().local_date == datetime(2026, 11, 10).date()


def test_a_failed_send_gives_the_day_back(world: World, monkeypatch):
    pm = world.provider_manager
    preferences_set(actor=pm, modes={"alert.breach": "digest"})
    _notify(world, pm, kind="alert.breach", key="breach:a:2026-10")
    original = EmailBackend.send_messages

    def down(self, messages):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr(EmailBackend, "send_messages", down)
    assert digests_send_all(now=datetime(2026, 11, 10, 7, 0, tzinfo=UTC)) == 0
    assert not Digest.objects.exists()
    monkeypatch.setattr(EmailBackend, "send_messages", original)
    assert digests_send_all(now=datetime(2026, 11, 10, 7, 30, tzinfo=UTC)) == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_digest(world: World):
    pm = world.provider_manager
    preferences_set(actor=pm, modes={"alert.breach": "digest"})
    _notify(world, pm, kind="alert.breach", key="breach:a:2026-10")
    _notify(world, pm, kind="alert.breach", key="breach:b:2026-10")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            outcome = f"sent {digests_send_all(now=datetime(2026, 11, 10, 7, 5, tzinfo=UTC))}"
        except DatabaseError as exc:  # SQLite may time out a writer instead of queueing it
            outcome = f"db: {exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["sent 0", "sent 1"], outcomes
    assert len(mail.outbox) == 1
    assert Digest.objects.get().item_count == 2


def test_the_preferences_page_saves_each_kind(world: World, django_assert_max_num_queries):
    page = client_for(world.client_manager)
    with django_assert_max_num_queries(10):
        response = page.get("/notifications/preferences/")
    assert response.status_code == 200
    assert "KPIs missed" in response.content.decode()
    form = {f"mode:{k}": "immediately" for k in KIND_LABELS} | {"mode:alert.dip": "off", "time_zone": "Asia/Kolkata"}
    assert page.post("/notifications/preferences/", form).status_code == 302
    assert email_modes(recipient_ids=[world.client_manager.pk], kind="alert.dip") == {world.client_manager.pk: "off"}
    assert recipient_time_zones(membership_ids=[world.client_manager.pk]) == {world.client_manager.pk: "Asia/Kolkata"}
    bad = page.post("/notifications/preferences/", form | {"mode:alert.dip": "weekly"})
    assert bad.status_code == 422
    assert email_modes(recipient_ids=[world.client_manager.pk], kind="alert.dip") == {
        world.client_manager.pk: EmailMode.OFF
    }
