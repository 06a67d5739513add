"""The demo's supervisor: a child that dies is restarted after a back-off, and stop() ends every child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from pactboard.demo.supervisor import Child, Supervisor

QUICK = [sys.executable, "-c", "pass"]  # exits at once with code 0
LONG = [sys.executable, "-c", "import time; time.sleep(60)"]


def _until(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_child_that_exits_is_restarted_and_then_stopped_cleanly():
    lines: list[str] = []
    exits: list[int] = []
    quick = Child(name="Quick", argv=lambda: QUICK, on_exit=exits.append)
    steady = Child(name="Steady", argv=lambda: LONG)
    supervisor = Supervisor([quick, steady], log=lines.append, backoff=0.05, max_backoff=0.1, poll=0.02)
    supervisor.start()
    try:
        assert _until(lambda: quick.restarts >= 2), lines
    finally:
        supervisor.stop()
    assert exits[:2] == [0, 0]  # the clean-up hook heard each exit, with its code
    assert "Quick exited with code 0; restarting in 0.1 s." in lines
    assert "Quick restarted" in " ".join(lines)
    # The steady child never died: started once, stopped once; nothing runs after stop().
    assert steady.restarts == 0
    assert lines.count("Steady stopped.") == 1
    assert steady.process is not None
    assert steady.process.returncode is not None
    assert quick.process is not None
    assert quick.process.poll() is not None
    restarts = quick.restarts
    time.sleep(0.3)
    assert quick.restarts == restarts


def test_back_off_doubles_while_a_child_keeps_dying_young_and_is_capped():
    supervisor = Supervisor([], log=lambda line: None, backoff=1.0, max_backoff=30.0)
    # 1 s, 2 s, 4 s, ... 16 s, then capped at 30 s.
    assert [supervisor.delay(n) for n in range(1, 8)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_a_child_that_ran_for_a_while_restarts_after_the_shortest_back_off():
    lines: list[str] = []
    child = Child(name="Worker", argv=lambda: QUICK)
    supervisor = Supervisor([child], log=lines.append, backoff=1.0, stable_after=60.0, poll=3600)
    supervisor.start()
    try:
        assert child.process is not None
        child.process.wait()
        child.failures = 4  # four quick deaths before ...
        child.started_at = time.monotonic() - 120  # ... but this run lasted two minutes
        supervisor.check(time.monotonic())
        assert lines[-1] == "Worker exited with code 0; restarting in 1.0 s."
        # Not before the back-off has passed; then started again.
        supervisor.check(time.monotonic())
        assert child.restarts == 0
        supervisor.check(time.monotonic() + 1.0)
        assert child.restarts == 1
    finally:
        supervisor.stop()


def test_stop_kills_a_child_that_ignores_sigterm():
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)",
    ]
    lines: list[str] = []
    child = Child(name="Stubborn", argv=lambda: stubborn)
    supervisor = Supervisor([child], log=lines.append, poll=3600, stop_timeout=0.5)
    supervisor.start()
    time.sleep(0.5)  # let it install its handler
    started = time.monotonic()
    supervisor.stop()
    assert time.monotonic() - started < 10
    assert child.process is not None
    assert child.process.returncode == -9
    assert lines[-1] == "Stubborn stopped."


SERVE = r"""
import sys, time
from pactboard.demo.supervisor import Child, Supervisor, serve_supervised

# A helper that ignores SIGTERM, so that stopping it takes until the SIGKILL: a second signal lands mid-stop.
stubborn = [
    sys.executable,
    "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('helper ready', flush=True); "
    "time.sleep(60)",
]
child = Child(name="Helper", argv=lambda: stubborn)
supervisor = Supervisor([child], log=lambda line: print(line, flush=True), stop_timeout=1.5)


def serve():
    print(f"child {child.process.pid}", flush=True)
    print("serving", flush=True)
    time.sleep(60)


serve_supervised(supervisor, serve)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT])
def test_a_second_signal_while_stopping_does_not_orphan_the_helpers(second):
    """``uv run`` passes on a SIGTERM the demo also got directly; a user presses Ctrl-C twice."""
    demo = subprocess.Popen([sys.executable, "-c", SERVE], stdout=subprocess.PIPE, text=True)
    pid = 0
    try:
        assert demo.stdout is not None
        lines = [demo.stdout.readline().strip() for _ in range(4)]  # the helper's line comes when it comes
        assert {"serving", "helper ready"} <= set(lines), lines  # the handlers are in place; SIGTERM is ignored
        pid = int(next(line for line in lines if line.startswith("child ")).split()[1])
        assert _alive(pid)
        demo.send_signal(signal.SIGTERM)
        time.sleep(0.3)  # the demo is now waiting for the helper, which ignores SIGTERM
        demo.send_signal(second)
        out, _ = demo.communicate(timeout=20)
        assert demo.returncode == 0, out
        assert "Helper stopped." in out  # SIGKILLed after the stop's timeout, the stop not cut short
        assert _until(lambda: not _alive(pid), timeout=5), f"helper {pid} left running"
    finally:
        for process in (pid, demo.pid):  # whatever happened above, nothing is left behind
            if process and _alive(process):
                os.kill(process, signal.SIGKILL)
