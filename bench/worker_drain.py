"""Benchmark 2: how fast the worker drains a 200,000-vote backlog into PostgreSQL (target >= 20,000 votes/s).

The backlog is written straight into the stream (pipelined XADD of well-formed entries from 50,000
voters, so three in four votes change an earlier one), then the worker is started and the clock runs
until its consumer group has read the last entry and nothing is pending. The tallies are checked
against the expected last vote of every voter, so speed never hides a wrong answer.
"""

from __future__ import annotations

import random
import time

import redis
from votingcommon.votes import Vote, now_ms

from bench.harness import bench_stack, write_result

BACKLOG = 200_000
VOTERS = 50_000
OPTIONS = ("Cats", "Dogs")
TARGET_PER_S = 20_000


def fill_backlog(client: redis.Redis, rng: random.Random) -> tuple[bytes, dict[str, int]]:
    """XADD the backlog in pipelined chunks; returns the last entry id and the expected tallies."""
    last_vote: dict[int, str] = {}
    last_id = b""
    for start in range(0, BACKLOG, 10_000):
        pipe = client.pipeline(transaction=False)
        for _ in range(start, min(start + 10_000, BACKLOG)):
            voter, option = rng.randrange(VOTERS), rng.choice(OPTIONS)
            last_vote[voter] = option
            vote = Vote(poll="default", voter=f"bench-voter-{voter:06d}", option=option, accepted_ms=now_ms())
            pipe.xadd("votes", vote.fields())
        last_id = pipe.execute()[-1]
    expected = {option: 0 for option in OPTIONS}
    for option in last_vote.values():
        expected[option] += 1
    return last_id, expected


def group_state(client: redis.Redis) -> tuple[bytes, int]:
    group = next(g for g in client.xinfo_groups("votes") if g["name"] == b"workers")
    return group["last-delivered-id"], int(group["pending"])


def main() -> dict:
    with bench_stack(VOTE_OPTIONS=",".join(OPTIONS)) as stack:
        stack.start("worker").stop()  # creates the schema and the consumer group, then steps aside
        with stack.redis.client() as client:
            last_id, expected = fill_backlog(client, random.Random(20))
            started = time.monotonic()
            stack.start("worker")
            ready = time.monotonic()
            while group_state(client) != (last_id, 0):
                time.sleep(0.01)
            drained = time.monotonic()
        with stack.postgres.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT option, votes FROM tallies WHERE poll_id = 'default'")
            tallies = dict(cur.fetchall())
    seconds = drained - started
    rate = BACKLOG / seconds
    return write_result(
        "worker_drain",
        {
            "command": "python -m bench worker_drain",
            "backlog": BACKLOG,
            "voters": VOTERS,
            "seconds_from_worker_start": round(seconds, 3),
            "worker_start_to_ready_s": round(ready - started, 3),
            "votes_per_s": round(rate),
            "target_per_s": TARGET_PER_S,
            "target_met": rate >= TARGET_PER_S,
            "tallies": tallies,
            "tallies_correct": tallies == expected,
        },
    )
