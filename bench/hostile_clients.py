"""A polite client's latency beside each hostile one, on the real vote and result services (aim: p99 < 50 ms).

For each service, the polite client (`GET /healthz`, a new connection per request as curl makes, one every
20 ms) runs SECONDS alone, then SECONDS beside each pattern of votectl.hostile_clients: sockets held open
after `Connection: close`, slowloris headers, a slow declared body, many idle keep-alive connections.
All in one run, so the rows compare on the same machine state.
"""

from __future__ import annotations

import os
from contextlib import nullcontext

from votectl.hostile_clients import PATTERNS, Target, hostile, polite_latencies

from bench.harness import bench_stack, percentile, write_result

SECONDS = float(os.environ.get("HOSTILE_BENCH_SECONDS", "10"))
TARGET_P99_MS = 50.0


def _row(target: Target, pattern: str | None) -> dict:
    with hostile(target, pattern) if pattern else nullcontext():
        latencies = polite_latencies(target, SECONDS)
    milliseconds = [latency * 1000 for latency in latencies]
    return {
        "requests": len(milliseconds),
        "p50_ms": round(percentile(milliseconds, 50), 2),
        "p99_ms": round(percentile(milliseconds, 99), 2),
        "max_ms": round(max(milliseconds), 2),
    }


def main() -> dict:
    services: dict[str, dict] = {}
    with bench_stack() as stack:
        for service in ("vote", "result"):
            process = stack.start(service)
            target = Target(process.host, process.port)
            rows = {"alone": _row(target, None)}
            rows.update({pattern: _row(target, pattern) for pattern in sorted(PATTERNS)})
            services[service] = rows
            print(service, rows, flush=True)
    hostile_p99 = [rows[pattern]["p99_ms"] for rows in services.values() for pattern in PATTERNS]
    return write_result(
        "hostile_clients",
        {
            "command": "python -m bench hostile_clients",
            "polite_client": f"GET /healthz, new connection each, every 20 ms, {SECONDS:g} s per row",
            "services": services,
            "target_p99_ms": TARGET_P99_MS,
            "worst_p99_beside_hostile_ms": max(hostile_p99),
            "target_met": max(hostile_p99) < TARGET_P99_MS,
        },
    )


if __name__ == "__main__":
    main()
