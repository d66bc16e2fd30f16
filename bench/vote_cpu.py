"""CPU per vote on vote's hot path, measured in one process: steadier than the wrk ratio, for tuning it.

`vote_throughput` is the benchmark the target is about, but its rounds swing by +-5 % on this machine,
more than most single changes to the hot path are worth. This one measures CPU time (not wall time) of
  1. a vote request, the Flask app called as WSGI with a real signed cookie and a JSON body, against a
     real Redis, one request at a time; beside it the ceiling app (`bench/ceiling_app.py`) the same way;
  2. the group commit alone: THREADS threads putting votes on the stream through one VoteQueue at once.
Neither includes gunicorn or the load generator, and under load every step costs roughly 2-3x more
(cache misses, thread switches), so these numbers rank changes; they do not predict votes/s.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from bench.harness import bench_stack, write_result

REQUESTS = 5_000
ROUNDS = 5
THREADS = 16
VOTES_PER_THREAD = 2_000
_BODY = b'{"option": "Cats"}'


def _environ(cookie: str) -> dict[str, Any]:
    """What gunicorn hands the app for wrk's POST (the keys every WSGI request carries)."""
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/vote",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "5000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:5000",
        "HTTP_COOKIE": cookie,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(_BODY)),
        "wsgi.input": io.BytesIO(_BODY),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def request_cpu_us(app: Callable[..., Iterable[bytes]], cookie: str) -> float:
    """Median over ROUNDS of the CPU µs per request (after a warm-up), each answer checked to be a 202."""

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        if not status.startswith("202"):
            raise RuntimeError(f"expected 202, got {status}")

    def run(count: int) -> float:
        started = time.process_time()
        for _ in range(count):
            b"".join(app(_environ(cookie), start_response))
        return (time.process_time() - started) / count * 1e6

    run(500)
    return round(statistics.median(run(REQUESTS) for _ in range(ROUNDS)), 1)


def enqueue_cpu_us(queue: Any) -> float:
    """CPU µs per vote with THREADS threads enqueueing at once (the process's time, Redis's not included)."""
    from flask import Flask
    from votingcommon.votes import Vote

    app = Flask(__name__)
    start = threading.Barrier(THREADS + 1)

    def voter(number: int) -> None:
        vote = Vote(poll="default", voter=f"bench-voter-{number:04d}", option="Cats", accepted_ms=0)
        with app.test_request_context():
            start.wait()
            for _ in range(VOTES_PER_THREAD):
                queue.enqueue(vote)

    threads = [threading.Thread(target=voter, args=(number,)) for number in range(THREADS)]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.process_time()
    for thread in threads:
        thread.join()
    return round((time.process_time() - started) / (THREADS * VOTES_PER_THREAD) * 1e6, 1)


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> dict:
    with bench_stack(VOTE_OPTIONS="Cats,Dogs", VOTE_RATE_LIMIT="1000000000 per minute") as stack:
        # The apps are built in this process and read the environment (metrics: at first import), so it is
        # set as a gunicorn worker would see it, and restored for the benchmarks that run after this one.
        metrics_dir = stack.directory / "metrics"
        metrics_dir.mkdir()
        with _environment({**stack.env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}):
            from vote.app import create_app
            from vote.queue import VoteQueue
            from votingcommon.config import RedisSettings
            from votingcommon.connections import redis_client

            from bench.ceiling_app import create_app as create_ceiling

            vote = create_app()
            first = vote.test_client().post("/api/vote", json={"option": "Cats"})
            cookie = first.headers["Set-Cookie"].split(";", 1)[0]
            vote_us = request_cpu_us(vote.wsgi_app, cookie)
            ceiling_us = request_cpu_us(create_ceiling().wsgi_app, cookie)
            enqueue_us = enqueue_cpu_us(VoteQueue(redis_client(RedisSettings(stack.redis.url)), "votes"))
    return write_result(
        "vote_cpu",
        {
            "command": "python -m bench vote_cpu",
            "vote_request_cpu_us": vote_us,
            "ceiling_request_cpu_us": ceiling_us,
            "vote_minus_ceiling_us": round(vote_us - ceiling_us, 1),
            "note": "one request at a time: each vote waits for its own Redis round trip (no shared batches)",
            "enqueue_cpu_us_per_vote": enqueue_us,
            "enqueue_threads": THREADS,
        },
    )
