"""Redis with replicas: what waiting for a replica costs, and what losing the primary costs.

1. Throughput: vote at 50 connections (wrk, as `vote_throughput`) against three Redis setups in interleaved
   rounds: one Redis (what `make run` starts), a primary with two replicas and three sentinels with WAIT 1
   (the cluster's setting) and the same group with WAIT off. The aim: WAIT on at least 0.8 of one Redis.
2. Failover: steady voters (retrying a refused vote, as a browser's voter does) against the group; the
   primary is SIGKILLed; measured are the seconds from the kill to the first 202 of a request sent after
   it, the votes answered 503 meanwhile, and votes lost: answered 202 but not what PostgreSQL holds for
   that voter once the worker is done (must be 0).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg2
from votectl.localstack.ports import wait_until
from votectl.localstack.redis_sentinel import RedisSentinelGroup
from votectl.votingclient import SteadyVoters

from bench.harness import BenchStack, bench_stack, write_result
from bench.vote_throughput import OPTIONS, VOTERS, measure, voter_cookies, write_vote_script

ROUNDS = int(os.environ.get("REDIS_BENCH_ROUNDS", "5"))
FAILOVERS = int(os.environ.get("REDIS_BENCH_FAILOVERS", "3"))
TARGET_RATIO = 0.8
SETUPS = ("single", "wait_on", "wait_off")


def _throughput(stack: BenchStack, group: RedisSentinelGroup, scratch: Path) -> dict:
    env = {"VOTE_OPTIONS": ",".join(OPTIONS)}
    votes = {
        "single": stack.start("vote", **env),
        "wait_on": stack.start("vote", "vote-wait-on", **env, **group.env()),
        "wait_off": stack.start(
            "vote", "vote-wait-off", **env, **{**group.env(), "REDIS_WAIT_REPLICAS": "0"}
        ),
    }
    rounds = []
    for number in range(ROUNDS):
        order = list(SETUPS) if number % 2 == 0 else list(reversed(SETUPS))
        runs = {}
        for name in order:
            script = scratch / f"{name}.lua"
            if not script.exists():
                write_vote_script(script, voter_cookies(votes[name].url, VOTERS))
            runs[name] = measure(votes[name], script)
        print(json.dumps({name: runs[name]["accepted_per_s"] for name in SETUPS}), flush=True)
        rounds.append(runs)

    def median(name: str, key: str) -> float:
        return round(statistics.median(r[name][key] for r in rounds), 2)

    ratios = [round(r["wait_on"]["accepted_per_s"] / r["single"]["accepted_per_s"], 3) for r in rounds]
    return {
        **{
            name: {key: median(name, key) for key in ("accepted_per_s", "p50_ms", "p99_ms")}
            for name in SETUPS
        },
        "wait_on_vs_single_ratios": ratios,
        "wait_on_vs_single_median": statistics.median(ratios),
        "target_ratio": TARGET_RATIO,
        "target_met": statistics.median(ratios) >= TARGET_RATIO,
    }


@contextmanager
def _group(directory: Path) -> Iterator[RedisSentinelGroup]:
    with RedisSentinelGroup(Path(tempfile.mkdtemp(dir=directory)), replicas=2) as group:
        yield group


def _one_failover(number: int) -> dict:
    with bench_stack(VOTE_OPTIONS=",".join(OPTIONS)) as stack, _group(stack.directory) as group:
        env = group.env()
        stack.start("worker", **env)
        vote = stack.start("vote", **env)
        load = SteadyVoters(vote.url, OPTIONS).start()
        try:
            if not wait_until(lambda: load.accepted() >= 300, timeout=60):
                raise RuntimeError("the vote load did not get going")
            old = group.primary()
            old.kill()
            killed_at = time.monotonic()
            group.wait_for_new_primary(old)
            before = load.accepted()
            if not wait_until(lambda: load.accepted() >= before + 300, timeout=60):
                raise RuntimeError("voting did not resume")
        finally:
            load.stop()
        expected = load.last_accepted()
        wait_until(lambda: _stored(stack.env["DATABASE_URL"]) == expected, timeout=60)
        stored = _stored(stack.env["DATABASE_URL"])
        resumed = load.seconds_to_first_accept(killed_at)
        result = {
            "resumed_after_s": round(resumed, 2) if resumed is not None else None,
            "answered_503": sum(answer.status == 503 for answer in load.answers),
            "other_failures": sum(answer.status not in (202, 503) for answer in load.answers)
            + len(load.errors),
            "accepted": load.accepted(),
            "voters": len(expected),
            "lost": len(expected - stored),
            "stored_but_not_accepted_last": len(stored - expected),
        }
        print(json.dumps({"failover": number, **result}), flush=True)
        return result


def _stored(database_url: str) -> set[tuple[str, str]]:
    with closing(psycopg2.connect(database_url)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT stream_ms, stream_seq, option FROM votes")
        return {(f"{ms}-{seq}", option) for ms, seq, option in cursor.fetchall()}


def main() -> dict:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk")
    with (
        bench_stack() as stack,
        _group(stack.directory) as group,
        tempfile.TemporaryDirectory() as scratch,
    ):
        throughput = _throughput(stack, group, Path(scratch))
    failovers = [_one_failover(number) for number in range(FAILOVERS)]
    resumed = [run["resumed_after_s"] for run in failovers if run["resumed_after_s"] is not None]
    return write_result(
        "redis_failover",
        {
            "command": "python -m bench redis_failover",
            "throughput": throughput,
            "failovers": failovers,
            "resumed_after_s_max": max(resumed) if resumed else None,
            "lost_total": sum(run["lost"] for run in failovers),
        },
    )
