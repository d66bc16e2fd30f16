"""What the loop's e2e leaves behind: per step, each env's Application and Rollouts as the cluster showed
them, with timestamps (test-artifacts/e2e/summary.json), and a short timeline on stdout."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from votectl.cluster.client import KubeClient
from votectl.cluster.live import read_live


@dataclass
class Summary:
    path: Path
    envs: tuple[str, ...]
    started: float = field(default_factory=time.time)
    steps: list[dict[str, Any]] = field(default_factory=list)

    def record(self, step: str, client: KubeClient, **facts: Any) -> dict[str, Any]:
        """Snapshot every env now, under `step`, with the step's own facts (durations, revisions)."""
        entry = {
            "step": step,
            "at": time.time(),
            "elapsed_seconds": round(time.time() - self.started, 1),
            **facts,
            "envs": {env: live.as_dict() for env, live in read_live(client, list(self.envs)).items()},
        }
        self.steps.append(entry)
        self.write()
        return entry

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"started": self.started, "steps": self.steps}
        self.path.write_text(json.dumps(body, indent=2) + "\n")

    def timeline(self) -> str:
        lines = []
        for entry in self.steps:
            apps = ", ".join(
                f"{env} {state['application']['sync'] or 'missing'}/{state['application']['health'] or '-'}"
                for env, state in entry["envs"].items()
            )
            lines.append(f"{entry['elapsed_seconds']:>7.1f} s  {entry['step']:<28} {apps}")
        return "\n".join(lines)
