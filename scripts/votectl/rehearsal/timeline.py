"""The rehearsal's timeline: every step, weight change and measurement, printed live and kept for the report.

Analyses run in threads (the background analysis beside the steps), so recording takes a lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.text import Text

from votectl.analysis.reconcile import Event
from votectl.analysis.report import PHASE_STYLES

OUTCOME_STYLES = {"Promoted": "bold green", "Aborted": "bold red", "Paused": "bold yellow"}


@dataclass(frozen=True)
class Entry:
    at: float
    source: str  # "rollout", "traffic", or an analysis label such as "step 2 analysis"
    text: str
    phase: str = ""


class Timeline:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console
        self.started_at = time.time()
        self.entries: list[Entry] = []
        self.weights: list[tuple[float, int]] = [(self.started_at, 0)]
        self._lock = threading.Lock()

    def note(self, source: str, text: str, phase: str = "") -> None:
        entry = Entry(time.time(), source, text, phase)
        with self._lock:
            self.entries.append(entry)
        if self.console is not None:
            line = Text(f"+{entry.at - self.started_at:7.1f}s  {source:<24} ")
            line.append(text, style=OUTCOME_STYLES.get(phase) or PHASE_STYLES.get(phase, ""))
            self.console.print(line, highlight=False, soft_wrap=True)

    def weight(self, weight: int) -> None:
        with self._lock:
            self.weights.append((time.time(), weight))
        self.note("traffic", f"canary weight {weight}%")

    def analysis_listener(self, label: str) -> Callable[[Event], None]:
        """An `on_event` for AnalysisRunner that writes its measurements and phase changes here."""

        def listen(event: Event) -> None:
            if event.kind == "measurement":
                text = f"{event.metric} = {event.value} -> {event.phase}"
                if event.message:
                    text += f" ({event.message})"
            elif event.kind == "metric":
                text = f"metric {event.metric} {event.phase}"
            else:
                text = f"run {event.phase} {event.message}".rstrip()
            self.note(label, text, event.phase)

        return listen
