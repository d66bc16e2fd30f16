"""Show a finished (or live) analysis run: a rich table, one JSON object, or timeline lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from votectl.analysis.reconcile import AnalysisRunner, Event

PHASE_STYLES = {"Successful": "green", "Failed": "red", "Error": "red", "Inconclusive": "yellow"}


def iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_dict(runner: AnalysisRunner, template: str) -> dict[str, Any]:
    """The `--format json` object: the run's phase and message on top, metrics and measurements inside."""
    return {
        "template": template,
        "phase": runner.phase,
        "message": runner.message,
        "startedAt": iso(runner.started_at),
        "metrics": [
            {
                "name": result.name,
                "phase": result.phase,
                "message": result.message,
                "dryRun": result.dry_run,
                "count": result.count,
                "successful": result.successful,
                "failed": result.failed,
                "inconclusive": result.inconclusive,
                "error": result.error,
                "consecutiveError": result.consecutive_error,
                "consecutiveSuccess": result.consecutive_success,
                "measurements": [
                    {
                        "startedAt": iso(m.started_at),
                        "finishedAt": iso(m.finished_at),
                        "phase": m.phase,
                        "value": m.value,
                        "message": m.message,
                    }
                    for m in result.measurements
                ],
            }
            for result in runner.results.values()
        ],
    }


def to_json(runner: AnalysisRunner, template: str) -> str:
    return json.dumps(to_dict(runner, template), indent=2)


def print_table(runner: AnalysisRunner, template: str, console: Console) -> None:
    table = Table(title=f"analysis {template}")
    for column in ("time", "metric", "value", "phase", "message"):
        table.add_column(column)
    rows = [(m.finished_at, r.name, m) for r in runner.results.values() for m in r.measurements]
    for finished, name, measurement in sorted(rows, key=lambda row: row[0]):
        table.add_row(
            Text(iso(finished) or ""),
            Text(name),
            Text(measurement.value or ""),
            _styled(measurement.phase),
            Text(measurement.message),
        )
    console.print(table)
    console.print(Text("Phase: ").append(_styled(runner.phase)))
    if runner.message:
        console.print(Text(f"Message: {runner.message}"))


def timeline_line(event: Event) -> str:
    """One plain line per event, for following a real-time run."""
    if event.kind == "measurement":
        text = f"{iso(event.at)} measured {event.metric}: {event.phase} value={event.value}"
    elif event.kind == "metric":
        text = f"{iso(event.at)} metric {event.metric} -> {event.phase}"
    else:
        text = f"{iso(event.at)} run -> {event.phase}"
    return f"{text} {event.message}".rstrip()


def _styled(phase: str) -> Text:
    return Text(phase, style=PHASE_STYLES.get(phase, ""))
