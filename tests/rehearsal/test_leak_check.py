"""The rehearsals' leak check reports exactly what a rehearsal leaves running.

Both sides: a process the rehearsal started and left running is reported (also from one of its threads,
and also a grandchild whose parent has exited); what else runs below the test process (a process the test
started earlier, one another thread starts meanwhile) is not, nor a process that ends a moment after the
rehearsal returns. The same for a rehearsal in a child process (rehearsals.reaped, for the CLI).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import psutil
import pytest
from rehearsals import RehearsalProcesses, left_behind, reaped

# A child that starts a grandchild reading the same stdin, prints the grandchild's pid and exits: the
# grandchild ends once the test closes that pipe.
ORPHAN_READER = (
    "import subprocess, sys\n"
    "reader = subprocess.Popen([sys.executable, '-c', 'import sys; sys.stdin.read()'], stdin=sys.stdin)\n"
    "print(reader.pid, flush=True)\n"
)


Started = list[subprocess.Popen[str] | psutil.Process]


@pytest.fixture
def started() -> Iterator[Started]:
    """Children (Popen) and orphans (psutil.Process, which refuses a reused pid) the test starts: all are
    killed at teardown, whatever the test asserted."""
    processes: Started = []
    yield processes
    for process in processes:
        if isinstance(process, psutil.Process):
            with suppress(psutil.NoSuchProcess):
                process.kill()
        else:
            process.kill()
            process.wait()


def _sleep(started: Started) -> subprocess.Popen[str]:
    process = subprocess.Popen(["sleep", "60"], text=True)
    started.append(process)
    return process


def _orphan_reader(started: Started) -> tuple[subprocess.Popen[str], int]:
    """A reader left behind by its parent in the parent's new session; ends when the parent's stdin closes."""
    parent = subprocess.Popen(
        [sys.executable, "-c", ORPHAN_READER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    started.append(parent)
    assert parent.stdout is not None
    orphan = int(parent.stdout.readline())
    parent.stdout.close()
    started.append(psutil.Process(orphan))
    parent.wait()
    return parent, orphan


def _descendants() -> set[int]:
    return {process.pid for process in psutil.Process().children(recursive=True)}


def test_a_process_left_running_is_reported(started: Started) -> None:
    with RehearsalProcesses() as processes:
        leaked = _sleep(started)
        stopped = _sleep(started)
        stopped.terminate()
        stopped.wait()
    assert processes.left_running(timeout=0.5) == {leaked.pid}


def test_a_process_started_from_a_rehearsal_thread_is_reported(
    started: Started,
) -> None:
    with RehearsalProcesses() as processes:
        thread = threading.Thread(target=_sleep, args=(started,))
        thread.start()
        thread.join()
    assert processes.left_running(timeout=0.5) == {started[0].pid}


def test_a_grandchild_left_running_is_reported_after_its_parent_exited(
    started: Started,
) -> None:
    with RehearsalProcesses() as processes:
        _, orphan = _orphan_reader(started)
    assert orphan not in _descendants()  # re-parented away: no snapshot of the test's children shows it
    assert processes.left_running(timeout=0.5) == {orphan}


def test_what_else_runs_below_the_test_process_is_not_reported(
    started: Started,
) -> None:
    """A sleep the test started before the rehearsal, and one a thread of another fixture starts meanwhile."""
    earlier = _sleep(started)
    go = threading.Event()

    def other_fixture() -> None:
        go.wait()
        _sleep(started)

    thread = threading.Thread(target=other_fixture)
    thread.start()
    with RehearsalProcesses() as processes:
        go.set()
        thread.join()
    meanwhile = started[-1]
    assert {earlier.pid, meanwhile.pid} <= _descendants()  # what a snapshot of the test's children counts
    assert processes.left_running(timeout=0.5) == set()


def test_a_process_ending_a_moment_after_the_rehearsal_is_not_reported(
    started: Started,
) -> None:
    """A child still stopping and a grandchild still running when the rehearsal returns both end a moment
    later: the check waits for them (and takes a zombie, not yet collected by its parent, for ended)."""
    with RehearsalProcesses() as processes:
        stopping = subprocess.Popen(
            [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE, text=True
        )
        started.append(stopping)
        parent, orphan = _orphan_reader(started)
    assert processes.running() == {stopping.pid, orphan}
    assert stopping.stdin is not None and parent.stdin is not None
    stopping.stdin.close()
    parent.stdin.close()
    assert processes.left_running(timeout=10) == set()
    assert stopping.poll() == 0


def test_a_reaped_command_reports_what_it_leaves_running_and_not_what_ends(tmp_path: Path) -> None:
    left = tmp_path / "left.json"
    command = (
        "import subprocess, sys\n"
        "subprocess.Popen(['sleep', '60'], start_new_session=True)\n"
        "subprocess.Popen(['sleep', '0.3'])\n"
        "sys.exit(3)\n"
    )
    completed = subprocess.run(
        reaped([sys.executable, "-c", command], left, settle=3), capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 3, completed.stderr
    leaked = left_behind(left)
    assert [entry.split()[1:] for entry in leaked] == [["sleep", "60"]]
    assert not psutil.pid_exists(int(leaked[0].split()[0])), "the reaper kills what it reports"
