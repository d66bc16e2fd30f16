"""Benchmark 3: time from a vote's 202 to its appearance on the result SSE stream, under 1,000 votes/s.

Background: 1,000 votes/s (open-loop schedule, asyncio keep-alive connections) from 200 voters flipping
between Cats and Dogs. Probes: every 50 ms a fresh voter votes "Probe", so the Probe tally counts probes
one by one; probe k is fresh when the first SSE snapshot with Probe >= k arrives. Target: p99 <= 250 ms.
"""

from __future__ import annotations

import asyncio
import json
import time

import requests

from bench.harness import bench_stack, percentile, write_result
from bench.loadgen import Connection, paced, sse_events

RATE = 1000
DURATION_S = 20
PROBE_INTERVAL_S = 0.05
CONNECTIONS = 64
VOTERS = 200
TARGET_P99_MS = 250


def cookies(vote_url: str, count: int, first_vote: str | None) -> list[str]:
    """Voter cookies, issued the way browsers get them (a vote, or a visit to the page for probes)."""
    jar = []
    for _ in range(count):
        session = requests.Session()
        if first_vote:
            session.post(f"{vote_url}/api/vote", json={"option": first_vote}, timeout=10).raise_for_status()
        else:
            session.get(vote_url, timeout=10).raise_for_status()
        jar.append("; ".join(f"{c.name}={c.value}" for c in session.cookies))
    return jar


def _vote_headers(cookie: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "Cookie": cookie}


async def measure(vote_url: str, result_url: str, voters: list[str], probes: list[str]) -> dict:
    seen_at: dict[int, float] = {}
    accepted_at: dict[int, float] = {}
    statuses: dict[int, int] = {}

    async def watch() -> None:
        async for received, snapshot in sse_events(result_url, "/api/results/stream"):
            count = next(row["votes"] for row in snapshot["options"] if row["option"] == "Probe")
            for k in range(1, count + 1):
                seen_at.setdefault(k, received)

    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        pool.put_nowait(await Connection(vote_url).open())

    async def background(i: int) -> None:
        connection = await pool.get()
        body = json.dumps({"option": ("Cats", "Dogs")[i % 2]}).encode()
        status, _ = await connection.request(
            "POST", "/api/vote", _vote_headers(voters[i % len(voters)]), body
        )
        statuses[status] = statuses.get(status, 0) + 1
        pool.put_nowait(connection)

    async def probe_loop() -> None:
        connection = await Connection(vote_url).open()
        body = json.dumps({"option": "Probe"}).encode()
        deadline = time.monotonic() + DURATION_S
        for cookie in probes:
            if time.monotonic() > deadline:
                break
            status, _ = await connection.request("POST", "/api/vote", _vote_headers(cookie), body)
            if status == 202:  # the k-th accepted probe makes the Probe tally k
                accepted_at[len(accepted_at) + 1] = time.monotonic()
            await asyncio.sleep(PROBE_INTERVAL_S)
        await connection.close()

    watcher = asyncio.ensure_future(watch())
    (sent, elapsed), _ = await asyncio.gather(paced(RATE, DURATION_S, background), probe_loop())
    await asyncio.sleep(2)  # the last probes' snapshots
    watcher.cancel()
    # A snapshot can beat the 202 back to the client: those count as 0 ms (and are reported).
    delays = [seen_at[k] - t for k, t in accepted_at.items() if k in seen_at]
    latencies = [max(0.0, delay) * 1000 for delay in delays]
    return {
        "background_sent": sent,
        "background_rate_achieved_per_s": round(sent / elapsed),
        "background_statuses": statuses,
        "probes_accepted": len(accepted_at),
        "probes_seen_on_sse": len(latencies),
        "probes_seen_before_their_202": sum(
            seen_at.get(k, float("inf")) <= t for k, t in accepted_at.items()
        ),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
    }


def main() -> dict:
    with bench_stack(VOTE_OPTIONS="Cats,Dogs,Probe") as stack:
        stack.start("worker")
        vote = stack.start("vote")
        result = stack.start("result")
        voters = cookies(vote.url, VOTERS, first_vote="Cats")
        probes = cookies(vote.url, int(DURATION_S / PROBE_INTERVAL_S), first_vote=None)
        numbers = asyncio.run(measure(vote.url, result.url, voters, probes))
    return write_result(
        "freshness",
        {
            "command": "python -m bench freshness",
            "load": f"{RATE} votes/s for {DURATION_S}s over {CONNECTIONS} keep-alive connections (asyncio)",
            **numbers,
            "target_p99_ms": TARGET_P99_MS,
            "target_met": numbers["p99_ms"] <= TARGET_P99_MS,
        },
    )
