"""One managed child process: started with its output in a log file, stopped politely, then firmly."""

from __future__ import annotations

import ctypes
import os
import pwd
import signal
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from votectl.errors import VotectlError
from votectl.localstack.ports import wait_until

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: if votectl or the test run dies, the kernel stops the child too.

    The signal follows the spawning *thread*, so children are spawned from the main thread only.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def as_user(user: str | None) -> dict[str, Any]:
    """subprocess arguments that drop to `user` with its own group only (root's groups would change
    which permission bits apply and lock the user out of its own files)."""
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def last_log_line(path: Path) -> str:
    """The last non-empty line of a log: usually the reason a process did not come up."""
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except FileNotFoundError:
        return "(no log)"
    return lines[-1] if lines else "(empty log)"


class ManagedProcess:
    """A child in its own session (a terminal Ctrl-C reaches only votectl, which stops children in order)."""

    def __init__(self, name: str, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(
        self,
        argv: Sequence[str],
        env: dict[str, str] | None = None,
        user: str | None = None,
        cwd: Path | None = None,
    ) -> None:
        if self.running:
            raise VotectlError(f"{self.name} is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                **as_user(user),
                cwd=cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def exit_error(self, what: str) -> VotectlError:
        """A one-line error with the log's last line, for a child that died or never became ready."""
        code = self.process.poll() if self.process else None
        status = f"exited with code {code}" if code is not None else "is not ready"
        last = last_log_line(self.log_path)
        return VotectlError(f"{self.name} {status} ({what}): {last} (full log: {self.log_path})")

    def wait_ready(
        self, ready: Callable[[], bool], timeout: float, what: str, interval: float = 0.05
    ) -> None:
        """Poll `ready` for up to `timeout` seconds; if it never holds, stop the child and raise the one-line
        error `exit_error` builds ("... (<what> within <timeout>s): <last log line>")."""
        if not wait_until(ready, timeout, interval):
            error = self.exit_error(f"{what} within {timeout:g}s")
            self.stop()
            raise error

    def terminate(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Ask the process to stop without waiting, so several can shut down at once (then `stop`)."""
        if self.running:
            self._signal(sig)

    def stop(self, timeout: float = 10.0, sig: signal.Signals = signal.SIGTERM) -> None:
        """Send `sig`, wait up to `timeout` seconds, then SIGKILL; idempotent."""
        if self.process is None:
            return
        self.terminate(sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL the whole process group at once, as a crash would (fault tests)."""
        if self.process is None:
            return
        self._signal(signal.SIGKILL)
        self.process.wait()
        self.process = None

    def _signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        try:
            if sig == signal.SIGKILL:
                # The child leads its own process group: killing the group leaves no orphan behind.
                os.killpg(self.process.pid, sig)
            else:
                os.kill(self.process.pid, sig)
        except ProcessLookupError:
            pass
