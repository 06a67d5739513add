"""Database triggers that keep a final settlement as approved (SQLite and PostgreSQL), like signed versions."""

from __future__ import annotations

from pactboard.core.dbguard import Guard, guard_register

_MESSAGE = "this settlement is final: a correction goes into the next settlement"

SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS incentives_settlement_final_update BEFORE UPDATE ON incentives_settlement
        WHEN OLD.status = 'final' BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END;""",
    f"""CREATE TRIGGER IF NOT EXISTS incentives_settlement_final_delete BEFORE DELETE ON incentives_settlement
        WHEN OLD.status = 'final' BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END;""",
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS incentives_settlement_final_update;",
    "DROP TRIGGER IF EXISTS incentives_settlement_final_delete;",
]
POSTGRESQL_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION incentives_settlement_final() RETURNS trigger AS $$
        BEGIN
          IF OLD.status = 'final' THEN RAISE EXCEPTION '{_MESSAGE}'; END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END; $$ LANGUAGE plpgsql;""",
    """CREATE OR REPLACE TRIGGER incentives_settlement_final BEFORE UPDATE OR DELETE ON incentives_settlement
        FOR EACH ROW EXECUTE FUNCTION incentives_settlement_final();""",
]
POSTGRESQL_REMOVE = ["DROP TRIGGER IF EXISTS incentives_settlement_final ON incentives_settlement;"]

INCENTIVES_GUARD = guard_register(
    Guard(
        name="incentives",
        install={"sqlite": SQLITE_INSTALL, "postgresql": POSTGRESQL_INSTALL},
        remove={"sqlite": SQLITE_REMOVE, "postgresql": POSTGRESQL_REMOVE},
    )
)
