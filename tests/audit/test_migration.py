"""Migration 0003 re-chains the old single global chain into one chain per engagement/organisation/system."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from pactboard.audit.chain import GENESIS_HASH, event_content, event_hash
from pactboard.audit.guard import guard_install, guard_remove
from pactboard.audit.models import AuditEvent
from pactboard.audit.selectors import audit_verify

BEFORE = [("audit", "0002_append_only_triggers")]
AFTER = [("audit", "0003_chain_per_engagement")]

# (engagement_id, organisation_id) of six events in the order they happened.
OLD_EVENTS = [(7, 3), (8, 4), (None, 3), (None, None), (7, 4), (7, 3)]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def _write_old_global_chain(apps, *, break_at: int | None = None) -> None:
    """Events as the pre-0003 code wrote them: one chain, seq 1..n over all of them."""
    Old = apps.get_model("audit", "AuditEvent")
    prev = GENESIS_HASH
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    for seq, (engagement_id, organisation_id) in enumerate(OLD_EVENTS, start=1):
        fields = {
            "seq": seq,
            "occurred_at": start + timedelta(minutes=seq),
            "actor_id": None,
            "actor_email": "",
            "organisation_id": organisation_id,
            "organisation_name": "",
            "engagement_id": engagement_id,
            "action": "thing.update",
            "object_type": "thing",
            "object_id": str(seq),
            "object_repr": "",
            "before": None,
            "after": {"n": seq},
        }
        digest = event_hash(prev_hash=prev, content=event_content(**fields))
        if seq == break_at:
            fields["after"] = {"n": -1}  # edited after it was hashed
        Old.objects.create(prev_hash=prev, hash=digest, **fields)
        prev = digest


@pytest.mark.django_db(transaction=True)
def test_old_events_are_rechained_per_engagement_in_their_original_order():
    apps = _migrate(BEFORE)
    guard_remove(connection)
    _write_old_global_chain(apps)
    guard_install(connection)
    _migrate(AFTER)
    rows = list(AuditEvent.objects.order_by("id").values_list("chain", "seq", "object_id"))
    # Worked from OLD_EVENTS: engagement 7 has events 1, 5, 6; engagement 8 event 2; organisation 3
    # event 3; the system event 4.
    assert rows == [
        ("engagement:7", 1, "1"),
        ("engagement:8", 1, "2"),
        ("organisation:3", 1, "3"),
        ("system", 1, "4"),
        ("engagement:7", 2, "5"),
        ("engagement:7", 3, "6"),
    ]
    result = audit_verify()
    assert result.ok
    assert sorted(c.chain for c in result.chains) == ["engagement:7", "engagement:8", "organisation:3", "system"]
    # The triggers are back after the migration.
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")


@pytest.mark.django_db(transaction=True)
def test_a_broken_old_chain_is_not_resealed():
    apps = _migrate(BEFORE)
    guard_remove(connection)
    _write_old_global_chain(apps, break_at=4)
    with pytest.raises(RuntimeError, match=r"broken at event #4 \(edited\).*restore the trail from a backup"):
        _migrate(AFTER)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")
    _migrate(AFTER)
    assert AuditEvent.objects.count() == 0
