"""``pactboard db_worker``: django-tasks-db's worker, at a lower CPU priority than the web processes.

A dataset computation keeps a core busy for seconds to minutes. Where the worker shares cores with
the web processes (one host, or a container beside them), pages would wait for it. The worker
therefore raises its own niceness to ``PACTBOARD_WORKER_NICE`` (default 10, 0 keeps it) before it
takes any task; its DuckDB threads inherit it. Only raised, never lowered: a worker started under
``nice -n 15`` stays at 15. Everything else is django-tasks-db's command.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand


def priority_lower(niceness: int) -> int:
    """Raise this process's niceness to ``niceness`` unless it is already that high; the niceness after."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if niceness > current:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    return os.getpriority(os.PRIO_PROCESS, 0)


class Command(DbWorkerCommand):
    help = (
        "Run the background tasks (imports, dataset uploads, recomputations, scheduled work), at the "
        "CPU niceness PACTBOARD_WORKER_NICE (default 10) so that pages come first on shared cores."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        niceness = priority_lower(settings.WORKER_NICE)
        if options.get("verbosity", 1) >= 1:
            self.stdout.write(f"Worker niceness {niceness} (PACTBOARD_WORKER_NICE={settings.WORKER_NICE}).")
        super().handle(*args, **options)
