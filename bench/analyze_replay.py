"""How fast `votectl analyze --replay` re-judges a past release, against a real Prometheus.

Replays a one-hour window of a 10 s-interval metric (360 instant queries, each evaluated by Prometheus at
its own past time) in process and through the CLI, and times the condition evaluator on its own. The
query is `vector(time() - T0)` on an empty Prometheus, so the numbers are the engine's and the HTTP
round trip's cost, not PromQL's: a heavy rate() over real data adds its own query time per measurement.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from votectl.analysis.clock import VirtualClock
from votectl.analysis.conditions import evaluate_result
from votectl.analysis.expr import parse
from votectl.analysis.providers.prometheus import PrometheusProvider
from votectl.analysis.reconcile import AnalysisRunner
from votectl.localstack.prometheus_server import PrometheusServer

from bench.harness import write_result

T0 = 1_700_000_000
WINDOW_SECONDS = 3600
CONDITION = "len(result) > 0 && result[0] <= 0.05"
TEMPLATE = f"""\
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {{name: replay-bench}}
spec:
  metrics:
  - name: elapsed
    interval: 10s
    successCondition: "len(result) > 0 && result[0] <= 1e9"
    failureCondition: "len(result) > 0 && result[0] > 1e9"
    provider: {{prometheus: {{query: "vector(time() - {T0})"}}}}
"""


def _in_process(url: str, template: dict) -> tuple[float, int]:
    provider = PrometheusProvider(url)
    runner = AnalysisRunner(template, {}, provider, VirtualClock(T0))
    started = time.perf_counter()
    runner.run_until_done(until=T0 + WINDOW_SECONDS)
    seconds = time.perf_counter() - started
    provider.close()
    return seconds, len(runner.results["elapsed"].measurements)


def _cli(url: str, path: Path) -> float:
    command = [sys.executable, "-m", "votectl", "analyze", str(path), "--prometheus", url]
    command += ["--replay", f"{T0}..{T0 + WINDOW_SECONDS}", "--format", "json"]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def _evaluator_rate(rounds: int = 20000) -> float:
    parse.cache_clear()
    started = time.perf_counter()
    for index in range(rounds):
        evaluate_result([index / rounds], CONDITION, "")
    return rounds / (time.perf_counter() - started)


def main() -> dict:
    from votectl.analysis.template import load_template

    with tempfile.TemporaryDirectory(prefix="analyze-bench-") as tmp:
        path = Path(tmp) / "template.yaml"
        path.write_text(TEMPLATE)
        template = load_template(str(path))
        with PrometheusServer(Path(tmp) / "prometheus", []) as prometheus:
            _in_process(prometheus.url, template)  # warm-up: connections, Prometheus caches
            seconds, measurements = _in_process(prometheus.url, template)
            cli_seconds = _cli(prometheus.url, path)
    return write_result(
        "analyze_replay",
        {
            "command": "python -m bench analyze_replay",
            "window_seconds": WINDOW_SECONDS,
            "measurements": measurements,
            "replay_seconds_in_process": round(seconds, 3),
            "ms_per_measurement": round(1000 * seconds / measurements, 2),
            "replay_seconds_cli": round(cli_seconds, 3),
            "conditions_per_second": round(_evaluator_rate()),
        },
    )


if __name__ == "__main__":
    main()
