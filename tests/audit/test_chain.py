"""The audit trail: chained by SHA-256, append-only in the app and in the database, verifiable."""

from __future__ import annotations

import io
from datetime import UTC

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from pactboard.audit.chain import GENESIS_HASH, event_content, event_hash
from pactboard.audit.guard import guard_install, guard_remove
from pactboard.audit.models import AppendOnlyError, AuditEvent
from pactboard.audit.selectors import audit_verify
from pactboard.audit.services import audit_record
from pactboard.engagements.services import objective_create
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _append(n: int) -> list[AuditEvent]:
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(
                audit_record(
                    actor=None,
                    organisation=None,
                    action="test.event",
                    object_type="thing",
                    object_id=i,
                    after={"i": i, "amount": "12.50"},
                )
            )
    return events


def test_events_chain_from_genesis_with_independently_computed_hashes():
    first, second = _append(2)
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    # Recompute the first hash by hand from the documented canonical form.
    import hashlib
    import json

    content = {
        "seq": 1,
        "occurred_at": first.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": None,
        "actor_email": "",
        "organisation_id": None,
        "organisation_name": "",
        "engagement_id": None,
        "action": "test.event",
        "object_type": "thing",
        "object_id": "0",
        "object_repr": "",
        "before": None,
        "after": {"amount": "12.50", "i": 0},
    }
    payload = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert first.hash == hashlib.sha256((GENESIS_HASH + "\n" + payload).encode()).hexdigest()


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError, match="inside the service's transaction"):
        audit_record(actor=None, organisation=None, action="x", object_type="y", object_id=1)


def test_application_cannot_update_or_delete_events():
    (event,) = _append(1)
    event.action = "tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="tampered")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_database_refuses_update_and_delete_even_in_raw_sql():
    (event,) = _append(1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'tampered' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


def _tamper(sql: str, params: list) -> None:
    """What someone with direct database access could do: lift the guard, change rows, put it back."""
    guard_remove(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    guard_install(connection)


def test_verify_passes_on_an_intact_trail():
    _append(5)
    result = audit_verify()
    assert result.ok
    assert result.count == 5
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "Audit trail intact: 5 events in 1 chains" in out.getvalue()


def test_verify_names_an_edited_event():
    events = _append(5)
    _tamper("UPDATE audit_auditevent SET after = %s WHERE seq = 3", ['{"i": 999, "amount": "12.50"}'])
    result = audit_verify().chains[0]
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (3, "edited")
    with pytest.raises(CommandError, match=r"system is broken at event #3 \(edited\)"):
        call_command("audit", "verify")
    assert events[3].prev_hash == events[2].hash  # the untouched successor still points to the real hash


def test_verify_names_an_edit_that_also_rewrote_the_hash():
    events = _append(4)
    forged_content = event_content(
        seq=2,
        occurred_at=events[1].occurred_at,
        actor_id=None,
        actor_email="",
        organisation_id=None,
        organisation_name="",
        engagement_id=None,
        action="test.event",
        object_type="thing",
        object_id="1",
        object_repr="",
        before=None,
        after={"i": 1, "amount": "0.00"},
    )
    forged_hash = event_hash(prev_hash=events[0].hash, content=forged_content)
    _tamper(
        "UPDATE audit_auditevent SET after = %s, hash = %s WHERE seq = 2", ['{"i": 1, "amount": "0.00"}', forged_hash]
    )
    result = audit_verify().chains[0]
    # Event 2 is self-consistent now, so the break shows at event 3, whose link no longer matches.
    assert result.problem is not None
    assert result.problem.seq == 3


def test_verify_names_a_deleted_event():
    _append(5)
    _tamper("DELETE FROM audit_auditevent WHERE seq = 2", [])
    result = audit_verify().chains[0]
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (3, "deleted")
    assert "event #2 is missing" in result.problem.message


def test_verify_names_reordered_events():
    _append(4)
    # Swap the sequence numbers of events 2 and 3.
    _tamper("UPDATE audit_auditevent SET seq = 1000 WHERE seq = 2", [])
    _tamper("UPDATE audit_auditevent SET seq = 2 WHERE seq = 3", [])
    _tamper("UPDATE audit_auditevent SET seq = 3 WHERE seq = 1000", [])
    result = audit_verify().chains[0]
    assert result.problem is not None
    assert result.problem.seq == 2


def test_services_write_events_that_verify(world: World):
    objective_create(actor=world.client_manager, engagement=world.engagement, statement="Cut AHT")
    event = AuditEvent.objects.get(action="objective.create")
    assert event.actor_email == "carla@acme.example"
    assert event.engagement_id == world.engagement.pk
    assert event.after["statement"] == "Cut AHT"
    assert audit_verify().ok
