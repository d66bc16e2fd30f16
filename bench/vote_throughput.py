"""Benchmark 1: accepted votes/s and latency at 50 connections, beside a trivial Flask endpoint (ceiling).

Load generator: `wrk` (C, epoll; Debian package) with a Lua script that POSTs JSON votes to /api/vote,
rotating over 200 real voter cookies. Both servers run under the same gunicorn settings, one after the
other, while wrk shares the same 2 cores; the ratio is what the target is about.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import requests
from votectl.localstack import ServiceProcess

from bench.harness import bench_stack, write_result

CONNECTIONS = 50
THREADS = 2
DURATION_S = 15
VOTERS = 200
OPTIONS = ("Cats", "Dogs")
TARGET_RATIO = 0.6

_LUA = """
local cookies = %(cookies)s
local bodies = {'{"option": "Cats"}', '{"option": "Dogs"}'}
local counter = 0
request = function()
  counter = counter + 1
  local headers = {["Content-Type"] = "application/json", ["Cookie"] = cookies[(counter %% #cookies) + 1]}
  return wrk.format("POST", "/api/vote", headers, bodies[(counter %% 2) + 1])
end
done = function(summary, latency, requests)
  local failed = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    'WRK_JSON {"requests": %%d, "failed": %%d, "non_2xx": %%d, "duration_us": %%d, '
      .. '"p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, failed, summary.errors.status, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
"""


def voter_cookies(vote_url: str, count: int) -> list[str]:
    """Real signed voter cookies, obtained the way a browser gets one: by voting."""
    cookies = []
    for _ in range(count):
        session = requests.Session()
        response = session.post(f"{vote_url}/api/vote", json={"option": OPTIONS[0]}, timeout=10)
        response.raise_for_status()
        cookies.append("; ".join(f"{c.name}={c.value}" for c in session.cookies))
    return cookies


def run_wrk(url: str, cookies: list[str]) -> dict:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(_LUA % {"cookies": "{" + ", ".join(json.dumps(c) for c in cookies) + "}"})
        script.flush()
        argv = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{DURATION_S}s", "-s", script.name, url]
        output = subprocess.run(
            argv, capture_output=True, text=True, check=True, timeout=DURATION_S + 60
        ).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK_JSON "))
    raw = json.loads(line.removeprefix("WRK_JSON "))
    accepted = raw["requests"] - raw["failed"]
    return {
        "accepted_per_s": round(accepted / (raw["duration_us"] / 1e6), 1),
        "requests": raw["requests"],
        "failed": raw["failed"],
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
    }


def main() -> dict:
    with bench_stack(VOTE_OPTIONS=",".join(OPTIONS)) as stack:
        # The vote service alone, with Redis (worker drain has its own benchmark).
        vote = stack.start("vote")
        cookies = voter_cookies(vote.url, VOTERS)
        vote_numbers = run_wrk(vote.url, cookies)
        with stack.redis.client() as client:
            stream_length = client.xlen("votes")
        vote.stop()
        ceiling = ServiceProcess(
            "bench.ceiling_app", stack.env, Path(stack.directory) / "ceiling.log", port_env="CEILING_PORT"
        )
        with ceiling:
            ceiling_numbers = run_wrk(ceiling.url, cookies)
    accepted = VOTERS + vote_numbers["requests"] - vote_numbers["failed"]
    ratio = vote_numbers["accepted_per_s"] / ceiling_numbers["accepted_per_s"]
    return write_result(
        "vote_throughput",
        {
            "command": "python -m bench vote_throughput",
            "load_generator": f"wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION_S}s, Lua POST /api/vote, "
            f"{VOTERS} voter cookies",
            "vote": vote_numbers,
            "ceiling_trivial_flask": ceiling_numbers,
            "ratio": round(ratio, 3),
            "target_ratio": TARGET_RATIO,
            "target_met": ratio >= TARGET_RATIO,
            # Every 202 counted is an entry in the stream; wrk does not count the (at most one per
            # connection) requests still in flight when it stops, which the server may still have accepted.
            "stream_entries": stream_length,
            "accepted_counted": accepted,
            "stream_matches_accepted": 0 <= stream_length - accepted <= CONNECTIONS,
        },
    )
