"""Database triggers that make some rows unchangeable, whatever code runs against the database.

Each app that needs one declares a ``Guard`` (SQL per database vendor to install and to remove
it), registers it, and installs it from a migration. Test suites that empty the database
between tests lift the guards around that flush (tests/conftest.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Guard:
    name: str
    install: dict[str, list[str]] = field(default_factory=dict)
    remove: dict[str, list[str]] = field(default_factory=dict)


GUARDS: dict[str, Guard] = {}


def guard_register(guard: Guard) -> Guard:
    GUARDS[guard.name] = guard
    return guard


def _run(connection: Any, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def guard_install(connection: Any, name: str | None = None) -> None:
    """Create the triggers of one guard, or of all registered guards (idempotent)."""
    for guard in [GUARDS[name]] if name else list(GUARDS.values()):
        _run(connection, guard.install.get(connection.vendor, []))


def guard_remove(connection: Any, name: str | None = None) -> None:
    """Drop the triggers of one guard, or of all (for database maintenance and test flushes)."""
    for guard in [GUARDS[name]] if name else list(GUARDS.values()):
        _run(connection, guard.remove.get(connection.vendor, []))
