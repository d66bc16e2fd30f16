"""What the rehearsal tests share: a rehearsal's result with the processes it left behind.

A leak is a process the rehearsal started that still runs once it has returned. Which processes it started
is recorded as it starts them, not guessed from the test process' children before and after: that
difference also counts whatever else runs below the test process meanwhile (session servers' helpers,
another fixture's threads), and it misses a leaked grandchild as soon as its parent is gone (the kernel
re-parents it to init).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import psutil
from votectl.rehearsal.executor import RehearsalResult

# How long a process the rehearsal stopped may take to be gone. rehearse() waits for every process it
# started itself; what can still be exiting is a grandchild killed with its process group.
SETTLE_SECONDS = 5.0
REAPER = Path(__file__).with_name("reaper.py")


@dataclass
class Rehearsed:
    result: RehearsalResult
    report: Path
    leaked: set[int]  # processes the rehearsal started that still ran SETTLE_SECONDS after it returned


@dataclass(frozen=True)
class Spawned:
    """A process the rehearsal started (psutil.Process tells it from a later process given the same pid)."""

    process: psutil.Process
    leads_session: bool  # started in a new session: all it forks stays in it, even once re-parented


class RehearsalProcesses:
    """`with RehearsalProcesses() as processes:` records every process `subprocess.Popen` starts in the
    block from this thread or from a thread started (transitively) by it; `left_running()` then says which
    of them still run, with the members of their sessions and their descendants.

    Threads decide what counts: the test process' other threads (another fixture's, a server's) may start
    processes at the same time, and those are not the rehearsal's. Not for nesting across threads.
    """

    def __init__(self) -> None:
        self.spawned: list[Spawned] = []
        self._recording = threading.local()
        self._patches = ExitStack()

    def __enter__(self) -> RehearsalProcesses:
        self._recording.on = True
        init, start = subprocess.Popen.__init__, threading.Thread.start
        self._patches.enter_context(
            mock.patch.object(subprocess.Popen, "__init__", self._recorded_init(init))
        )
        self._patches.enter_context(mock.patch.object(threading.Thread, "start", self._recorded_start(start)))
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._patches.close()
        self._recording.on = False

    def left_running(self, timeout: float = SETTLE_SECONDS) -> set[int]:
        """The recorded processes still running after up to `timeout` seconds of waiting for them to end."""
        deadline = time.monotonic() + timeout
        while True:
            running = self.running()
            if not running or time.monotonic() >= deadline:
                return running
            time.sleep(0.05)

    def running(self) -> set[int]:
        """Recorded processes, members of their sessions and their descendants that run now (a zombie has
        ended: it only waits for its parent to collect its exit status)."""
        found: set[int] = set()
        sessions: set[int] = set()
        for spawned in self.spawned:
            process = spawned.process
            if not process.is_running():  # gone, or its pid is another process' now
                # A pid still naming a session is never handed out again: if it names another process,
                # nothing of that session is left.
                if spawned.leads_session and not psutil.pid_exists(process.pid):
                    sessions.add(process.pid)
                continue
            if spawned.leads_session:
                sessions.add(process.pid)
            with suppress(psutil.Error):
                found |= {p.pid for p in [process, *process.children(recursive=True)] if _runs(p)}
        if sessions:
            for pid in psutil.pids():
                with suppress(OSError, psutil.Error):
                    if os.getsid(pid) in sessions and _runs(psutil.Process(pid)):
                        found.add(pid)
        return found

    def _record(self, pid: int) -> None:
        try:
            process = psutil.Process(pid)
            leads_session = os.getsid(pid) == pid
        except (psutil.NoSuchProcess, ProcessLookupError):
            return  # already collected: nothing of it can run
        self.spawned.append(Spawned(process, leads_session))

    def _recorded_init(self, init: Callable[..., None]) -> Callable[..., None]:
        def recorded(popen: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> None:
            init(popen, *args, **kwargs)
            if getattr(self._recording, "on", False):
                self._record(popen.pid)

        return recorded

    def _recorded_start(
        self, start: Callable[[threading.Thread], None]
    ) -> Callable[[threading.Thread], None]:
        def recorded(thread: threading.Thread) -> None:
            if getattr(self._recording, "on", False):
                run = thread.run

                def run_recorded() -> None:
                    self._recording.on = True
                    run()

                thread.run = run_recorded  # type: ignore[method-assign]
            start(thread)

        return recorded


def _runs(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def described(pids: set[int]) -> list[str]:
    """What the leaked processes are, for the failure message."""
    found = []
    for pid in sorted(pids):
        try:
            found.append(f"{pid} " + " ".join(psutil.Process(pid).cmdline()[:4]))
        except psutil.Error:
            found.append(f"{pid} (gone)")
    return found


def reaped(command: list[str], left: Path, settle: float = SETTLE_SECONDS) -> list[str]:
    """`command` run under reaper.py, which writes what it leaves running to `left` (see `left_behind`).

    For a rehearsal in a child process (the CLI): what that process starts is not recorded here, and
    whatever outlives it is re-parented away from the test process; the reaper adopts all of it."""
    return [sys.executable, str(REAPER), str(left), str(settle), "--", *command]


def left_behind(left: Path) -> list[str]:
    """The processes (pid and command line) a reaped command left running; the reaper has killed them."""
    found: list[str] = json.loads(left.read_text())
    return found
