"""Database triggers that freeze proposed and agreed agreement versions (SQLite and PostgreSQL).

A version's KPIs, milestones and objective links change only while the version is a draft; a
proposed version may only change status (to agreed, superseded or withdrawn); an agreed version
and every signature never change.
"""

from __future__ import annotations

from pactboard.core.dbguard import Guard, guard_register

_VERSION_OF_KPI = "(SELECT status FROM kpis_agreementversion WHERE id = {ref}.version_id)"
_VERSION_OF_CHILD = (
    "(SELECT v.status FROM kpis_agreementversion v JOIN kpis_versionkpi k ON k.version_id = v.id "
    "WHERE k.id = {ref}.version_kpi_id)"
)
_MESSAGE = "this agreement version is frozen: change a new draft instead"


def _sqlite_child(table: str, status_of: str) -> list[str]:
    out = []
    for event, ref in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD")):
        out.append(
            f"CREATE TRIGGER IF NOT EXISTS {table}_frozen_{event.lower()} BEFORE {event} ON {table} "
            f"WHEN {status_of.format(ref=ref)} != 'draft' "
            f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END;"
        )
    return out


SQLITE_INSTALL = [
    *_sqlite_child("kpis_versionkpi", _VERSION_OF_KPI),
    *_sqlite_child("kpis_milestone", _VERSION_OF_CHILD),
    *_sqlite_child("kpis_versionkpiobjective", _VERSION_OF_CHILD),
    f"""CREATE TRIGGER IF NOT EXISTS kpis_version_agreed_update BEFORE UPDATE ON kpis_agreementversion
        WHEN OLD.status = 'agreed' OR (OLD.status != 'draft' AND (
            NEW.effective_from IS NOT OLD.effective_from OR NEW.max_active_kpis IS NOT OLD.max_active_kpis
            OR NEW.content_hash IS NOT OLD.content_hash OR NEW.engagement_id IS NOT OLD.engagement_id
            OR NEW.number IS NOT OLD.number OR NEW.note IS NOT OLD.note))
        BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END;""",
    f"""CREATE TRIGGER IF NOT EXISTS kpis_version_frozen_delete BEFORE DELETE ON kpis_agreementversion
        WHEN OLD.status != 'draft' BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END;""",
    """CREATE TRIGGER IF NOT EXISTS kpis_signature_no_update BEFORE UPDATE ON kpis_signature
        BEGIN SELECT RAISE(ABORT, 'signatures never change'); END;""",
    """CREATE TRIGGER IF NOT EXISTS kpis_signature_no_delete BEFORE DELETE ON kpis_signature
        BEGIN SELECT RAISE(ABORT, 'signatures never change'); END;""",
]
SQLITE_REMOVE = [
    *(
        f"DROP TRIGGER IF EXISTS {t}_frozen_{e};"
        for t in ("kpis_versionkpi", "kpis_milestone", "kpis_versionkpiobjective")
        for e in ("insert", "update", "delete")
    ),
    "DROP TRIGGER IF EXISTS kpis_version_agreed_update;",
    "DROP TRIGGER IF EXISTS kpis_version_frozen_delete;",
    "DROP TRIGGER IF EXISTS kpis_signature_no_update;",
    "DROP TRIGGER IF EXISTS kpis_signature_no_delete;",
]

POSTGRESQL_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION kpis_child_frozen() RETURNS trigger AS $$
        DECLARE ref_version bigint; st text;
        BEGIN
          IF TG_TABLE_NAME = 'kpis_versionkpi' THEN
            ref_version := CASE WHEN TG_OP = 'INSERT' THEN NEW.version_id ELSE OLD.version_id END;
          ELSE
            SELECT version_id INTO ref_version FROM kpis_versionkpi
              WHERE id = CASE WHEN TG_OP = 'INSERT' THEN NEW.version_kpi_id ELSE OLD.version_kpi_id END;
          END IF;
          SELECT status INTO st FROM kpis_agreementversion WHERE id = ref_version;
          IF st IS NOT NULL AND st <> 'draft' THEN RAISE EXCEPTION '{_MESSAGE}'; END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END; $$ LANGUAGE plpgsql;""",
    *(
        f"""CREATE OR REPLACE TRIGGER {t}_frozen BEFORE INSERT OR UPDATE OR DELETE ON {t}
            FOR EACH ROW EXECUTE FUNCTION kpis_child_frozen();"""
        for t in ("kpis_versionkpi", "kpis_milestone", "kpis_versionkpiobjective")
    ),
    f"""CREATE OR REPLACE FUNCTION kpis_version_frozen() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            IF OLD.status <> 'draft' THEN RAISE EXCEPTION '{_MESSAGE}'; END IF;
            RETURN OLD;
          END IF;
          IF OLD.status = 'agreed' OR (OLD.status <> 'draft' AND (
              NEW.effective_from IS DISTINCT FROM OLD.effective_from
              OR NEW.max_active_kpis IS DISTINCT FROM OLD.max_active_kpis
              OR NEW.content_hash IS DISTINCT FROM OLD.content_hash
              OR NEW.engagement_id IS DISTINCT FROM OLD.engagement_id
              OR NEW.number IS DISTINCT FROM OLD.number OR NEW.note IS DISTINCT FROM OLD.note)) THEN
            RAISE EXCEPTION '{_MESSAGE}';
          END IF;
          RETURN NEW;
        END; $$ LANGUAGE plpgsql;""",
    """CREATE OR REPLACE TRIGGER kpis_version_frozen BEFORE UPDATE OR DELETE ON kpis_agreementversion
        FOR EACH ROW EXECUTE FUNCTION kpis_version_frozen();""",
    """CREATE OR REPLACE FUNCTION kpis_signature_frozen() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION 'signatures never change'; END; $$ LANGUAGE plpgsql;""",
    """CREATE OR REPLACE TRIGGER kpis_signature_frozen BEFORE UPDATE OR DELETE ON kpis_signature
        FOR EACH ROW EXECUTE FUNCTION kpis_signature_frozen();""",
    """CREATE OR REPLACE TRIGGER kpis_no_truncate BEFORE TRUNCATE ON kpis_signature
        FOR EACH STATEMENT EXECUTE FUNCTION kpis_signature_frozen();""",
]
POSTGRESQL_REMOVE = [
    *(
        f"DROP TRIGGER IF EXISTS {t}_frozen ON {t};"
        for t in ("kpis_versionkpi", "kpis_milestone", "kpis_versionkpiobjective")
    ),
    "DROP TRIGGER IF EXISTS kpis_version_frozen ON kpis_agreementversion;",
    "DROP TRIGGER IF EXISTS kpis_signature_frozen ON kpis_signature;",
    "DROP TRIGGER IF EXISTS kpis_no_truncate ON kpis_signature;",
]

KPIS_GUARD = guard_register(
    Guard(
        name="kpis",
        install={"sqlite": SQLITE_INSTALL, "postgresql": POSTGRESQL_INSTALL},
        remove={"sqlite": SQLITE_REMOVE, "postgresql": POSTGRESQL_REMOVE},
    )
)

# The incentive scheme is signed with the KPI set: once proposed it changes no more than the KPIs.
# (A guard of its own, installed by the migration that adds the column.)
_SCHEME_SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS kpis_version_scheme_frozen BEFORE UPDATE OF incentive_scheme
        ON kpis_agreementversion
        WHEN OLD.status != 'draft' AND NEW.incentive_scheme IS NOT OLD.incentive_scheme
        BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END;""",
]
_SCHEME_POSTGRESQL_INSTALL = [
    f"""CREATE OR REPLACE FUNCTION kpis_version_scheme_frozen() RETURNS trigger AS $$
        BEGIN
          IF OLD.status <> 'draft' AND NEW.incentive_scheme::text IS DISTINCT FROM OLD.incentive_scheme::text THEN
            RAISE EXCEPTION '{_MESSAGE}';
          END IF;
          RETURN NEW;
        END; $$ LANGUAGE plpgsql;""",
    """CREATE OR REPLACE TRIGGER kpis_version_scheme_frozen BEFORE UPDATE ON kpis_agreementversion
        FOR EACH ROW EXECUTE FUNCTION kpis_version_scheme_frozen();""",
]

KPIS_SCHEME_GUARD = guard_register(
    Guard(
        name="kpis_scheme",
        install={"sqlite": _SCHEME_SQLITE_INSTALL, "postgresql": _SCHEME_POSTGRESQL_INSTALL},
        remove={
            "sqlite": ["DROP TRIGGER IF EXISTS kpis_version_scheme_frozen;"],
            "postgresql": ["DROP TRIGGER IF EXISTS kpis_version_scheme_frozen ON kpis_agreementversion;"],
        },
    )
)
