"""What the rehearsal tests share: a rehearsal's result with the processes it left behind."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psutil
from votectl.rehearsal.executor import RehearsalResult


@dataclass
class Rehearsed:
    result: RehearsalResult
    report: Path
    leaked: set[int]  # child pids alive after the rehearsal that were not there before


def described(pids: set[int]) -> list[str]:
    """What the leaked processes are, for the failure message."""
    found = []
    for pid in pids:
        try:
            found.append(" ".join(psutil.Process(pid).cmdline()[:4]))
        except psutil.Error:
            found.append(f"{pid} (gone)")
    return found


def children() -> set[int]:
    """Every process below the test run, except what the session's other servers start on their own:
    PostgreSQL's backends and autovacuum workers, Redis' append-only-file rewrite child (a leaked server
    itself is still counted), and the browser tests' Chromium and its Playwright driver, which start
    helper processes whenever they like."""
    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            name = child.name()
            if name in ("postgres", "redis-server") and child.parent().name() == name:
                continue
            if name in ("chromium", "chrome", "node") or "playwright" in " ".join(child.cmdline()[:2]):
                continue
        except (psutil.NoSuchProcess, AttributeError):
            continue
        found.add(child.pid)
    return found
