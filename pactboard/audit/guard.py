"""Database triggers that refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) of audit events.

Installed by the audit app's migration. Removing them is the only way to change the trail,
and `pactboard audit verify` detects any change made while they were gone. Test suites that
empty the database between tests (transactional tests) lift them around that flush.
"""

from __future__ import annotations

from typing import Any

from pactboard.core import dbguard
from pactboard.core.dbguard import Guard, guard_register

SQLITE_INSTALL = [
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;""",
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;""",
]
SQLITE_REMOVE = ["DROP TRIGGER IF EXISTS audit_event_no_update;", "DROP TRIGGER IF EXISTS audit_event_no_delete;"]

POSTGRESQL_INSTALL = [
    """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql;""",
    """CREATE OR REPLACE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_auditevent
       FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();""",
    """CREATE OR REPLACE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
       FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();""",
]
POSTGRESQL_REMOVE = [
    "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_auditevent;",
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;",
]

AUDIT_GUARD = guard_register(
    Guard(
        name="audit",
        install={"sqlite": SQLITE_INSTALL, "postgresql": POSTGRESQL_INSTALL},
        remove={"sqlite": SQLITE_REMOVE, "postgresql": POSTGRESQL_REMOVE},
    )
)


def guard_install(connection: Any) -> None:
    """Create the audit trail's append-only triggers (idempotent)."""
    dbguard.guard_install(connection, AUDIT_GUARD.name)


def guard_remove(connection: Any) -> None:
    """Drop them (for database maintenance; the trail stays verifiable)."""
    dbguard.guard_remove(connection, AUDIT_GUARD.name)
