"""Benchmark 4: /api/results latency with 10 thousand and with 10 million stored votes (target: flat).

The votes are loaded straight into PostgreSQL (INSERT ... SELECT generate_series, then the tally rows
recomputed from them, as the worker would have kept them), so the 10 million take a minute, not hours.
Beside each measurement, the classic design's query (`SELECT option, count(*) ... GROUP BY option` over
all votes) is timed on the same data, to show what the tally table saves.
"""

from __future__ import annotations

import time
from contextlib import closing

import psycopg2.extensions
import requests

from bench.harness import bench_stack, percentile, write_result

SIZES = (10_000, 10_000_000)
REQUESTS = 2000
OPTIONS = ("Cats", "Dogs", "Birds")

_LOAD = """
    INSERT INTO votes (poll_id, voter_id, option, stream_ms, stream_seq, accepted_at)
    SELECT 'default', 'bench-' || i, (ARRAY['Cats', 'Dogs', 'Birds'])[1 + i %% 3], i, 0, now()
    FROM generate_series(%s, %s) AS i
"""
_RETALLY = """
    INSERT INTO tallies (poll_id, option, votes)
    SELECT poll_id, option, count(*) FROM votes GROUP BY poll_id, option
    ON CONFLICT (poll_id, option) DO UPDATE SET votes = EXCLUDED.votes
"""
_CLASSIC = "SELECT option, count(*) FROM votes WHERE poll_id = 'default' GROUP BY option"


def load_votes(conn: psycopg2.extensions.connection, first: int, last: int) -> None:
    with conn, conn.cursor() as cur:
        cur.execute(_LOAD, (first, last))
        cur.execute(_RETALLY)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE votes")
    conn.autocommit = False


def time_results(result_url: str, stored: int) -> dict:
    session = requests.Session()
    body = session.get(f"{result_url}/api/results", timeout=10).json()
    if body["total"] != stored:
        raise RuntimeError(f"/api/results says {body['total']} votes, {stored} are stored")
    latencies = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        session.get(f"{result_url}/api/results", timeout=10).raise_for_status()
        latencies.append((time.perf_counter() - started) * 1000)
    return {
        "stored_votes": stored,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
    }


def time_classic(conn: psycopg2.extensions.connection) -> float:
    with conn, conn.cursor() as cur:
        started = time.perf_counter()
        cur.execute(_CLASSIC)
        cur.fetchall()
        return round((time.perf_counter() - started) * 1000, 1)


def main() -> dict:
    rows = []
    with bench_stack(VOTE_OPTIONS=",".join(OPTIONS)) as stack:
        stack.start("worker").stop()  # the schema, exactly as the worker creates it
        result = stack.start("result")
        with closing(stack.postgres.connect()) as conn:
            loaded = 0
            for size in SIZES:
                started = time.monotonic()
                load_votes(conn, loaded + 1, size)
                loaded = size
                row = time_results(result.url, size)
                row["load_seconds"] = round(time.monotonic() - started, 1)
                row["classic_group_by_ms"] = time_classic(conn)
                rows.append(row)
                print(row, flush=True)
    small, large = rows[0], rows[-1]
    return write_result(
        "results_latency",
        {
            "command": "python -m bench results_latency",
            "sequential_requests_per_size": REQUESTS,
            "sizes": rows,
            "p50_growth_10k_to_10m": round(large["p50_ms"] / small["p50_ms"], 2),
            "target": "flat (p50 at 10M within 1.5x of 10k)",
            "target_met": large["p50_ms"] <= 1.5 * small["p50_ms"],
        },
    )
