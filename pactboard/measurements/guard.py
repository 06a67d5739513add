"""Database triggers: revisions and dataset versions are never updated or deleted."""

from __future__ import annotations

from pactboard.core.dbguard import Guard, guard_register

_TABLES = ("measurements_revision", "measurements_datasetversion")

MEASUREMENTS_GUARD = guard_register(
    Guard(
        name="measurements",
        install={
            "sqlite": [
                f"CREATE TRIGGER IF NOT EXISTS {t}_no_{op.lower()} BEFORE {op} ON {t} "
                f"BEGIN SELECT RAISE(ABORT, '{t.split('_')[1]} rows are never changed'); END;"
                for t in _TABLES
                for op in ("UPDATE", "DELETE")
            ],
            "postgresql": [
                """CREATE OR REPLACE FUNCTION measurements_immutable() RETURNS trigger AS $$
                   BEGIN RAISE EXCEPTION '% rows are never changed', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql;""",
                *(
                    f"CREATE OR REPLACE TRIGGER {t}_immutable BEFORE UPDATE OR DELETE ON {t} "
                    "FOR EACH ROW EXECUTE FUNCTION measurements_immutable();"
                    for t in _TABLES
                ),
            ],
        },
        remove={
            "sqlite": [f"DROP TRIGGER IF EXISTS {t}_no_{op};" for t in _TABLES for op in ("update", "delete")],
            "postgresql": [f"DROP TRIGGER IF EXISTS {t}_immutable ON {t};" for t in _TABLES],
        },
    )
)
