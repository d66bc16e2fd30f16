"""`python reaper.py LEFT SETTLE -- COMMAND...`: run COMMAND and write what it leaves running to LEFT.

This process is a child subreaper (PR_SET_CHILD_SUBREAPER): whatever COMMAND starts and leaves behind is
re-parented here when its parent exits, instead of to init, so it stays below this process, and nothing
else can get there. Once COMMAND has exited, whatever still runs after SETTLE seconds (processes that are
just stopping get that long) is written to LEFT as a JSON list of "pid command line" strings, then killed:
a leak fails its test without outliving it. Exits with COMMAND's exit code.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import psutil

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
LIBC = ctypes.CDLL(None, use_errno=True)


def _die_with_parent() -> None:
    """In COMMAND before exec: a reaper killed by its caller's timeout does not leave COMMAND running."""
    LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _reap() -> bool:
    """Collect the exit status of every adopted process that has ended, so none lingers as a zombie;
    False once no child at all is left."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        return False
    return True


def _running() -> list[psutil.Process]:
    found = []
    for process in psutil.Process().children(recursive=True):
        with suppress(psutil.Error):
            if process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
    return found


def _described(process: psutil.Process) -> str:
    try:
        return f"{process.pid} " + " ".join(process.cmdline()[:4])
    except psutil.Error:
        return f"{process.pid} (gone)"


def _settle(timeout: float) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while True:
        _reap()
        running = _running()
        if not running or time.monotonic() >= deadline:
            return running
        time.sleep(0.05)


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print("usage: reaper.py LEFT SETTLE -- COMMAND...", file=sys.stderr)
        return 2
    left, settle, command = Path(argv[0]), float(argv[1]), argv[3:]
    if LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1) != 0:
        print(
            f"reaper.py: cannot become a child subreaper: {os.strerror(ctypes.get_errno())}", file=sys.stderr
        )
        return 2
    # preexec_fn is safe here: this process runs no other thread.
    code = subprocess.Popen(command, preexec_fn=_die_with_parent).wait()
    running = _settle(settle)
    left.write_text(json.dumps([_described(process) for process in running]) + "\n")
    for process in running:
        with suppress(psutil.Error):
            process.kill()
    deadline = time.monotonic() + settle
    while _reap() and time.monotonic() < deadline:  # reaped here, a killed process is gone on return
        time.sleep(0.05)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
