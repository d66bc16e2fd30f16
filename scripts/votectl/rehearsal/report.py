"""The rehearsal report: markdown with the timeline, each analysis and the command that replays it, plus a
PNG chart of the stable and canary error ratios (from the rehearsal's Prometheus) and the canary weight.

Each analysis's resolved template is written next to the report, so `votectl analyze FILE --replay`
re-judges it from the kept Prometheus data.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests
import yaml

from votectl.errors import VotectlError
from votectl.rehearsal.executor import AnalysisRecord, RehearsalResult

CHART_POINTS = 300


@dataclass(frozen=True)
class Series:
    label: str
    points: list[tuple[float, float]]


@dataclass(frozen=True)
class ReportContext:
    service: str
    env: str
    speed: float
    canary_env: dict[str, str]
    faults_when_live: bool
    stable_hash: str
    canary_hash: str
    prometheus_dir: Path
    traffic: dict[str, int]
    started_at: float


def error_ratio_series(
    prometheus_url: str, service: str, start: float, end: float, window_seconds: float
) -> list[Series]:
    """Errors / requests per hash label over the run, one query_range; no traffic -> no points."""
    window = f"{max(1, round(window_seconds * 1000))}ms"
    selector = f'service="{service}"'
    requests_rate = f"sum by (rollouts_pod_template_hash) (rate(vote_requests_total{{{selector}}}[{window}]))"
    errors_rate = f"sum by (rollouts_pod_template_hash) (rate(vote_errors_total{{{selector}}}[{window}]))"
    query = f"({errors_rate} or {requests_rate} * 0) / {requests_rate}"
    step = max(0.25, (end - start) / CHART_POINTS)
    params = {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:.3f}"}
    try:
        response = requests.get(f"{prometheus_url}/api/v1/query_range", params=params, timeout=30)
        response.raise_for_status()
    except requests.RequestException as err:
        raise VotectlError(f"cannot read the error ratios for the report from Prometheus: {err}") from None
    return [
        Series(
            item["metric"].get("rollouts_pod_template_hash", "?"),
            [(float(t), float(v)) for t, v in item["values"]],
        )
        for item in response.json()["data"]["result"]
    ]


def write_report(
    directory: Path, result: RehearsalResult, context: ReportContext, series: list[Series]
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    templates = _write_templates(directory / "analyses", result.analyses)
    _write_chart(directory / "rehearsal.png", result, context, series)
    path = directory / "rehearsal.md"
    path.write_text(_markdown(result, context, templates))
    return path


def _write_templates(directory: Path, analyses: list[AnalysisRecord]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, record in enumerate(analyses):
        slug = record.label.replace(" ", "-")
        path = directory / f"{index + 1:02d}-{slug}.yaml"
        path.write_text(yaml.safe_dump(record.template, sort_keys=False))
        paths.append(path)
    return paths


def _write_chart(path: Path, result: RehearsalResult, context: ReportContext, series: list[Series]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    names = {context.stable_hash: "stable", context.canary_hash: "canary"}
    start = context.started_at
    figure, (ratio_axes, weight_axes) = plt.subplots(2, 1, sharex=True, figsize=(9, 5.5))
    for item in series:
        xs = [t - start for t, _ in item.points]
        ys = [v for _, v in item.points]
        ratio_axes.plot(xs, ys, label=f"{names.get(item.label, item.label)} ({item.label})")
    ratio_axes.set_ylabel("error ratio")
    ratio_axes.set_title(
        f"rehearsal of {context.service} ({context.env}, speed {context.speed:g}): {result.outcome}"
    )
    if series:
        ratio_axes.legend(loc="upper left")
    weights = [*result.timeline.weights, (result.finished_at, result.timeline.weights[-1][1])]
    weight_axes.step(
        [t - start for t, _ in weights], [w for _, w in weights], where="post", color="tab:purple"
    )
    weight_axes.set_ylim(-5, 105)
    weight_axes.set_ylabel("canary weight %")
    weight_axes.set_xlabel("seconds since start")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _markdown(result: RehearsalResult, context: ReportContext, templates: list[Path]) -> str:
    env_text = ", ".join(f"`{k}={v}`" for k, v in context.canary_env.items()) or "none"
    if context.faults_when_live:
        env_text += " (its faults held until it took the live traffic)"
    traffic = ", ".join(f"{k}: {v}" for k, v in sorted(context.traffic.items())) or "none sent"
    lines = [
        f"# Rehearsal of {context.service} ({context.env} strategy)",
        "",
        f"**Outcome: {result.outcome}**: {result.message}",
        "",
        f"- started {_iso(context.started_at)}, took {result.finished_at - context.started_at:.1f} s"
        f" at speed {context.speed:g}",
        f"- canary env: {env_text}",
        f"- pod template hashes: stable `{context.stable_hash}`, canary `{context.canary_hash}`",
        f"- synthetic traffic answers: {traffic}",
        f"- Prometheus data kept in `{context.prometheus_dir}`",
        "",
        "![error ratio and canary weight](rehearsal.png)",
        "",
        "## Analyses",
        "",
        "| analysis | templates | phase | message | measurements |",
        "|---|---|---|---|---|",
    ]
    for record in result.analyses:
        count = sum(len(r.measurements) for r in record.runner.results.values())
        if record.controller is not None:  # the controller's verdict; the runner is its replay
            phase = f"{record.controller.phase} (replay: {record.runner.phase})"
            message, count = record.controller.message, len(record.controller.measurements)
        else:
            phase, message = record.runner.phase, record.runner.message
        message = message.replace("|", "\\|")
        lines.append(f"| {record.label} | {record.name} | {phase} | {message} | {count} |")
    lines += [
        "",
        "Replay any of them from the kept data (start a Prometheus on the data directory first, e.g.",
        f"`prometheus --storage.tsdb.path={shlex.quote(str(context.prometheus_dir / 'tsdb'))}"
        " --web.listen-address=127.0.0.1:PORT`):",
        "",
    ]
    for record, template in zip(result.analyses, templates, strict=True):
        start, end = record.replay_window()
        window = f"{start:.3f}..{end:.3f}"
        lines.append(
            f"- {record.label}: `votectl analyze {shlex.quote(str(template))} "
            f"--prometheus http://127.0.0.1:PORT --replay {window}`"
        )
    lines += ["", "## Timeline", "", "| t (s) | source | event |", "|---|---|---|"]
    for entry in result.timeline.entries:
        text = entry.text.replace("|", "\\|")
        lines.append(f"| {entry.at - context.started_at:.1f} | {entry.source} | {text} |")
    return "\n".join(lines) + "\n"
