"""Keep the demo's helper processes (task worker, scheduler) running beside the server.

A child that dies is started again after a short back-off (doubling while it keeps dying young,
capped; reset once it has run for a while), with a log line each time; ``stop`` ends them all:
SIGTERM, then SIGKILL after a timeout. Children run in their own process group, so a Ctrl-C in the
terminal reaches only the demo, which then stops them in order instead of them racing to exit.
In production a service manager (systemd, a container orchestrator) does this job (README).
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType

Log = Callable[[str], None]


@dataclass
class Child:
    """One supervised command: ``argv`` is called at each start (a restart may take new arguments)."""

    name: str
    argv: Callable[[], Sequence[str]]
    on_exit: Callable[[int], None] | None = None  # called after an unexpected exit, with its code
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    started_at: float = 0.0
    restarts: int = 0
    failures: int = 0  # exits in a row, each soon after its start
    restart_at: float | None = None


class Supervisor:
    def __init__(
        self,
        children: Sequence[Child],
        *,
        log: Log,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        stable_after: float = 60.0,
        poll: float = 0.5,
        stop_timeout: float = 10.0,
    ) -> None:
        self.children = list(children)
        self.log = log
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.stable_after = stable_after
        self.poll = poll
        self.stop_timeout = stop_timeout
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def delay(self, failures: int) -> float:
        """Back-off before the next start after ``failures`` quick exits in a row: 1x, 2x, 4x ... capped."""
        return min(self.max_backoff, self.backoff * 2 ** max(0, failures - 1))

    def _spawn(self, child: Child, now: float) -> None:
        child.process = subprocess.Popen(list(child.argv()), process_group=0)  # noqa: S603 - our own commands
        child.started_at = now
        child.restart_at = None

    def start(self) -> None:
        now = time.monotonic()
        with self._lock:
            for child in self.children:
                self._spawn(child, now)
                self.log(f"{child.name} started (pid {child.process.pid if child.process else '?'}).")
        self._thread = threading.Thread(target=self._watch, name="demo-supervisor", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopping.wait(self.poll):
            self.check(time.monotonic())

    def check(self, now: float) -> None:
        """Notice children that died and start again those whose back-off has passed."""
        with self._lock:
            if self._stopping.is_set():
                return
            for child in self.children:
                process = child.process
                if process is None or process.poll() is None:
                    continue
                if child.restart_at is None:
                    code = process.returncode
                    child.failures = 1 if now - child.started_at >= self.stable_after else child.failures + 1
                    wait = self.delay(child.failures)
                    child.restart_at = now + wait
                    self.log(f"{child.name} exited with code {code}; restarting in {wait:.1f} s.")
                    if child.on_exit is not None:
                        try:
                            child.on_exit(code)
                        except Exception as exc:  # a failing clean-up must not stop supervision
                            self.log(f"{child.name}: clean-up after its exit failed: {exc}")
                elif now >= child.restart_at:
                    self._spawn(child, now)
                    child.restarts += 1
                    self.log(f"{child.name} restarted (pid {child.process.pid if child.process else '?'}).")

    def stop(self) -> None:
        """Stop supervising and end every child: SIGTERM, then SIGKILL after ``stop_timeout`` seconds."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            running = [c for c in self.children if c.process is not None and c.process.poll() is None]
            for child in running:
                assert child.process is not None
                child.process.terminate()
            deadline = time.monotonic() + self.stop_timeout
            for child in running:
                assert child.process is not None
                try:
                    child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.process.kill()
                    child.process.wait()
                self.log(f"{child.name} stopped.")


class _StopOnce:
    """SIGTERM unwinds like Ctrl-C, once: a signal that comes while the demo is already stopping is ignored.

    A second signal used to interrupt ``Supervisor.stop`` halfway and leave the worker and the scheduler
    running with no parent. It comes easily: ``uv run`` passes a SIGTERM on to the demo that the demo
    also got directly (``pkill``, a container stop), or Ctrl-C is pressed twice. The stop is bounded
    (SIGKILL after its timeout), so ignoring the rest cannot hang.
    """

    def __init__(self) -> None:
        self.stopping = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:
            return
        self.stopping = True
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(0)


def serve_supervised(supervisor: Supervisor | None, serve: Callable[[], object]) -> None:
    """Start ``supervisor``'s helpers, run ``serve`` (the web server) and, however it ends, stop the helpers.

    The signal handlers are in place before the first helper starts: no signal can end the demo
    between a helper's start and the stop that ends it (``stop`` ends whichever had started).
    """
    stop_once = _StopOnce()
    previous = {sig: signal.signal(sig, stop_once) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if supervisor is not None:
            supervisor.start()
        serve()
    finally:
        stop_once.stopping = True
        try:
            if supervisor is not None:
                supervisor.stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
