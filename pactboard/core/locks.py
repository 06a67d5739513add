"""Row locks for writers that must take turns, without blocking the rows that point at the locked one.

``for_update(qs)`` is ``select_for_update`` as ``FOR NO KEY UPDATE`` on PostgreSQL: it excludes every
other writer of the row exactly as ``FOR UPDATE`` does, but not the ``FOR KEY SHARE`` with which
PostgreSQL checks, at COMMIT, a new row's foreign key to it. With ``FOR UPDATE``, a transaction that
locked an engagement (or a meeting joined to its engagement) and then wanted the engagement's audit
lock deadlocked with one that held the audit lock and was committing a value, an upload or an event
pointing at that engagement (bench/bench_load.py found two such deadlocks). ``FOR UPDATE`` is kept
only where a row is about to be deleted or its key changed, which Pactboard never does under a lock.
Other databases lock as usual (SQLite locks the whole database for a write).
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.models import QuerySet


def for_update[Q: QuerySet[Any]](queryset: Q) -> Q:
    """``queryset.select_for_update()``, as ``FOR NO KEY UPDATE`` where the database has it."""
    no_key = connections[queryset.db].features.has_select_for_no_key_update
    return queryset.select_for_update(no_key=no_key)
