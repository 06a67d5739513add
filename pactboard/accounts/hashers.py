"""Password hashing at a documented cost, with a bound on how many hashes run at once.

Django's Argon2 defaults (memory 100 MiB, 2 passes, 8 lanes) cost about 100 MiB per log-in, so
twenty log-ins at once took the server past 1.6 GiB. Pactboard hashes with RFC 9106's second
recommended option as OWASP lists it (19 MiB, 2 passes, 1 lane: docs/deployment.md gives the time
measured by ``bench/argon2_cost.py``), and at most ``PACTBOARD_HASH_CONCURRENCY`` hashes run at once
in a process; the others wait their turn. The algorithm name stays ``argon2``: stored hashes made
with other parameters still verify, and Django re-hashes them with these at the next log-in.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher

_lock = threading.Lock()
_slots: threading.BoundedSemaphore | None = None
_slots_size = 0


def _semaphore() -> threading.BoundedSemaphore:
    global _slots, _slots_size
    size = max(1, int(getattr(settings, "PACTBOARD_HASH_CONCURRENCY", 2)))
    with _lock:
        if _slots is None or _slots_size != size:
            _slots, _slots_size = threading.BoundedSemaphore(size), size
        return _slots


@contextmanager
def hashing_slot() -> Iterator[None]:
    """Wait for one of the process's hashing slots, and hold it while hashing."""
    slots = _semaphore()
    with slots:
        yield


class PactboardArgon2PasswordHasher(Argon2PasswordHasher):
    # RFC 9106 §4 / OWASP Password Storage Cheat Sheet: m=19 MiB, t=2, p=1.
    memory_cost = 19 * 1024  # KiB
    time_cost = 2
    parallelism = 1

    def encode(self, password: str, salt: str) -> str:
        with hashing_slot():
            return super().encode(password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        with hashing_slot():
            return super().verify(password, encoded)

    def harden_runtime(self, password: str, encoded: str) -> None:
        with hashing_slot():
            super().harden_runtime(password, encoded)
