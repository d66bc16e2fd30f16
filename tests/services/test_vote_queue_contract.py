"""VoteQueue's contract (its docstring) against a real Redis: votes share round trips, the leader is first
in its batch, and a round trip retried after Redis applied it never changes a tally the real worker writes.

Round trips are counted by the server where it can count them: with a replica, every round trip carries
exactly one WAIT, so Redis' own `cmdstat_wait` is the count; without one, Redis has to read the queue's
connection at least once per round trip, so `total_reads_processed` bounds it from above.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import hiredis
import pytest
import redis
from flask import Flask
from servicetools import recount, tallies
from vote.queue import VoteQueue
from votectl.localstack import RedisServer, ServiceProcess
from votectl.localstack.ports import wait_until
from votectl.localstack.redis_server import HOST
from votingcommon.config import RedisSettings
from votingcommon.connections import PgPool, redis_client
from votingcommon.votes import CONSUMER_GROUP, Vote, now_ms

THREADS = 24
VOTES_PER_THREAD = 40
VOTES = THREADS * VOTES_PER_THREAD
RETRY_VOTERS = 12
RETRY_VOTES_PER_THREAD = 4
RETRY_OPTIONS = ("Cats", "Dogs", "Birds")
THREAD_TIMEOUT = 60.0  # seconds, all threads together: a broken wake-up chain fails the test, not hangs it

_current = threading.local()  # the vote this thread is enqueueing: in _xadd_all, the leader's own

# One app for every thread: building a Flask app compiles its URL rules with ast.parse, which CPython 3.11
# does not keep safe across threads (a spurious "AST constructor recursion depth mismatch", gh-106905).
APP = Flask(__name__)


class _RecordingQueue(VoteQueue):
    """Records every batch the queue sends and the vote of the request sending it (behaviour unchanged)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[tuple[dict[str, str] | None, list[dict[str, str]]]] = []

    def _xadd_all(self, entries: list[dict[str, str]]) -> list[Any]:
        # Only the leader calls this, one batch at a time, so a plain list needs no lock.
        self.batches.append((getattr(_current, "fields", None), list(entries)))
        return super()._xadd_all(entries)


def _vote(voter: str, option: str, accepted_ms: int) -> Vote:
    return Vote(poll="default", voter=voter, option=option, accepted_ms=accepted_ms)


def _enqueue(queue: VoteQueue, votes: Iterable[Vote], start: threading.Barrier) -> list[tuple[str, Vote]]:
    """One request after the other, as one keep-alive connection to a vote worker sends them."""
    with APP.test_request_context():
        start.wait()
        answered = []
        for vote in votes:
            _current.fields = vote.fields()
            answered.append((queue.enqueue(vote), vote))
        return answered


def _in_threads(work: Sequence[Callable[[], list[tuple[str, Vote]]]]) -> list[tuple[str, Vote]]:
    """Run each callable in a daemon thread (a hung one is abandoned, not joined at exit); all results."""
    results: list[list[tuple[str, Vote]]] = [[] for _ in work]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            results[index] = work[index]()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=run, args=(index,), daemon=True) for index in range(len(work))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + THREAD_TIMEOUT
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if errors:
        raise errors[0]  # before the hang check: a thread that failed leaves the others at the barrier
    assert not [thread for thread in threads if thread.is_alive()], "requests never answered"
    return [answer for answers in results for answer in answers]


@dataclass(frozen=True)
class _ServerCounts:
    """What Redis itself counted: XADD and WAIT commands executed, reads from client sockets."""

    xadd: int
    wait: int
    reads: int

    @classmethod
    def of(cls, client: redis.Redis) -> _ServerCounts:
        info = client.info("all")  # one command, hence one read of the test's own connection
        calls = {name: info.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("xadd", "wait")}
        return cls(calls["xadd"], calls["wait"], int(info["total_reads_processed"]))

    def __sub__(self, other: _ServerCounts) -> _ServerCounts:
        return _ServerCounts(self.xadd - other.xadd, self.wait - other.wait, self.reads - other.reads)


@pytest.fixture
def replicated_redis_url(server_dir: Path) -> Iterator[str]:
    """A private primary with one replica in sync, so a queue with wait_replicas=1 has one to wait for."""
    password_file = server_dir / "redis.password"
    # No AOF: a replica writing its first AOF after the sync refuses SIGTERM, and each stop would take 10 s.
    primary = RedisServer(
        server_dir / "primary", password_file=password_file, extra_config=("appendonly no",)
    )
    replica = RedisServer(
        server_dir / "replica",
        password_file=password_file,
        extra_config=(
            "appendonly no",
            f'masterauth "{primary.password}"',
            f"replicaof {HOST} {primary.port}",
        ),
    )
    with primary, replica, primary.client() as client:

        def replica_online() -> bool:
            info = client.info("replication")
            return info.get("connected_slaves") == 1 and info.get("slave0", {}).get("state") == "online"

        assert wait_until(replica_online, timeout=15), "the replica did not sync"
        yield primary.url


@pytest.fixture(params=[0, 1], ids=["no-replica", "one-replica"])
def queue_redis(request: pytest.FixtureRequest) -> tuple[str, int]:
    """(Redis URL, replicas the queue waits for): the plain round trip and the one that ends in WAIT."""
    if request.param == 0:
        return request.getfixturevalue("redis_url"), 0
    return request.getfixturevalue("replicated_redis_url"), 1


def test_concurrent_votes_share_round_trips_each_led_by_the_first_of_its_batch(
    queue_redis: tuple[str, int],
) -> None:
    url, replicas = queue_redis
    # WAIT gives up after 4 s, within the client's 5 s socket timeout: a slow replica is a 503, not a retry.
    queue = _RecordingQueue(redis_client(RedisSettings(url)), "votes", replicas, 4000)
    start = threading.Barrier(THREADS)
    per_thread = [
        [_vote(f"voter-{t:04d}", f"opt-{n}", n) for n in range(VOTES_PER_THREAD)] for t in range(THREADS)
    ]
    work = [partial(_enqueue, queue, votes, start) for votes in per_thread]
    with redis.Redis.from_url(url) as server:
        with APP.test_request_context():
            queue.enqueue(_vote("voter-warm-up", "opt-0", 0))  # opens the queue's connection, not counted
        queue.batches.clear()
        before = _ServerCounts.of(server)
        answered = _in_threads(work)
        counted = _ServerCounts.of(server) - before

    round_trips = len(queue.batches)
    assert len(answered) == VOTES
    assert sum(len(entries) for _leader_fields, entries in queue.batches) == VOTES
    # Redis ran each vote's XADD once: no round trip was retried, so one batch is one round trip.
    assert counted.xadd == VOTES
    if replicas:
        assert counted.wait == round_trips  # the server's own count: one WAIT ends every round trip
    else:
        # Each round trip is at least one read of the queue's socket (the second INFO is one more).
        assert round_trips <= counted.reads - 1
    server_round_trips_at_most = counted.wait if replicas else counted.reads - 1
    assert server_round_trips_at_most < VOTES, f"{server_round_trips_at_most} round trips for {VOTES} votes"
    # Contract, 1: the request that sent a batch is the batch's first vote.
    assert all(entries[0] == leader for leader, entries in queue.batches)


class _DroppingProxy:
    """A TCP proxy to Redis that loses the answer to every XADD request the first time it sees it.

    It forwards the request, reads all of Redis' replies (so Redis has applied every command), and then
    closes the client's connection instead of relaying them: to the client, a connection that broke after
    the request went out. The same request sent again (the client's retry) is relayed normally. Requests
    are told apart by parsing RESP, one request being what the client wrote before it waits for replies.
    """

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self._upstream = (parts.hostname or HOST, parts.port or 6379)
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(0.1)
        credentials = parts.netloc.rpartition("@")[0]
        port = self._listener.getsockname()[1]
        netloc = f"{credentials}@{HOST}:{port}" if credentials else f"{HOST}:{port}"
        self.url = parts._replace(netloc=netloc).geturl()  # the upstream's URL, password included
        self.first_tries: list[list[list[bytes]]] = []  # the XADD requests whose answers were lost, in order
        self.retries = 0  # of those requests, relayed when sent again
        self._seen: set[tuple[tuple[bytes, ...], ...]] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):  # already closed by its relay
                    sock.shutdown(socket.SHUT_RDWR)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self._upstream)
        with self._lock:
            self._sockets += [client, upstream]
        requests, replies = hiredis.Reader(), hiredis.Reader()
        with client, upstream:
            while True:
                commands = _forward_request(client, upstream, requests)
                answer = _read_replies(upstream, replies, len(commands)) if commands else None
                if answer is None or self._loses_answer(commands):
                    return  # closes both sockets: the client hears nothing more on this connection
                client.sendall(answer)

    def _loses_answer(self, commands: list[list[bytes]]) -> bool:
        if not any(command[0].upper() == b"XADD" for command in commands):
            return False
        request = tuple(tuple(command) for command in commands)
        with self._lock:
            if request in self._seen:
                self.retries += 1
                return False
            self._seen.add(request)
            self.first_tries.append(commands)
            return True


def _forward_request(client: socket.socket, upstream: socket.socket, reader: Any) -> list[list[bytes]]:
    """Pass on what the client writes until it has sent whole commands only; those commands ([] at EOF)."""
    commands: list[list[bytes]] = []
    while not commands or reader.has_data():
        data = client.recv(65536)
        if not data:
            return []
        upstream.sendall(data)
        reader.feed(data)
        while (command := reader.gets()) is not False:
            commands.append(command)
    return commands


def _read_replies(upstream: socket.socket, reader: Any, count: int) -> bytes | None:
    """Redis' bytes up to and including the `count`-th reply; None if Redis closed first."""
    chunks: list[bytes] = []
    while count:
        data = upstream.recv(65536)
        if not data:
            return None
        chunks.append(data)
        reader.feed(data)
        while reader.gets() is not False:
            count -= 1
    return b"".join(chunks)


@dataclass(frozen=True, order=True)
class _Sent:
    voter: str
    option: str
    ts: str

    @classmethod
    def of(cls, fields: dict[str, str]) -> _Sent:
        return cls(fields["voter"], fields["option"], fields["ts"])


def _xadd_fields(command: list[bytes]) -> dict[str, str]:
    """XADD <stream> * k1 v1 k2 v2 ... -> {k1: v1, ...}"""
    pairs = [part.decode() for part in command[3:]]
    return dict(zip(pairs[::2], pairs[1::2], strict=True))


def _retry_plan() -> list[list[Vote]]:
    """Each thread's votes; two threads per voter, so two votes of one voter are often in flight at once."""
    rng = random.Random(5)
    stamp = now_ms()  # a distinct accepted time per vote: the two copies of a vote are recognisable
    plan = []
    for thread in range(RETRY_VOTERS * 2):
        choices = [rng.choice(RETRY_OPTIONS) for _ in range(RETRY_VOTES_PER_THREAD)]
        plan.append(
            [_vote(f"voter-{thread % RETRY_VOTERS:04d}", option, stamp := stamp + 1) for option in choices]
        )
    return plan


def _drained(client: redis.Redis, last_id: bytes) -> bool:
    """The worker's group has been handed the last entry and has acknowledged (committed) everything."""
    try:
        groups = client.xinfo_groups("votes")
    except redis.ResponseError:
        return False  # no group yet: the worker is still starting
    return any(
        group["name"] == CONSUMER_GROUP.encode()
        and group["last-delivered-id"] == last_id
        and group["pending"] == 0
        for group in groups
    )


def test_retried_batches_never_change_a_tally(
    redis_url: str, database_url: str, start_services: Callable[..., list[ServiceProcess]]
) -> None:
    plan = _retry_plan()
    proxy = _DroppingProxy(redis_url)
    try:
        queue = VoteQueue(redis_client(RedisSettings(proxy.url)), "votes")
        start = threading.Barrier(len(plan))
        answered = _in_threads([partial(_enqueue, queue, votes, start) for votes in plan])
    finally:
        proxy.close()
    cast = sorted(_Sent.of(vote.fields()) for votes in plan for vote in votes)

    # Every round trip failed once after Redis had applied it, and its retry went through.
    assert len(answered) == len(cast)  # no 503: one retry is within the client's policy
    assert proxy.first_tries and proxy.retries == len(proxy.first_tries)
    assert any(len(request) > 1 for request in proxy.first_tries)  # shared round trips, not single votes
    arrived = [_Sent.of(_xadd_fields(command)) for request in proxy.first_tries for command in request]
    assert sorted(arrived) == cast
    with redis.Redis.from_url(redis_url) as client:
        stream = [
            (entry_id, {k.decode(): v.decode() for k, v in f.items()})
            for entry_id, f in client.xrange("votes")
        ]
        copies: dict[_Sent, list[str]] = defaultdict(list)  # each vote's entry ids, oldest first
        for entry_id, fields in stream:
            copies[_Sent.of(fields)].append(entry_id.decode())
        assert {sent: len(ids) for sent, ids in copies.items()} == dict.fromkeys(cast, 2)
        for entry_id, vote in answered:  # a request is answered with the id of its vote's newer copy
            assert copies[_Sent.of(vote.fields())][-1] == entry_id

        # The order votes reached the queue (and Redis): its last vote per voter is the one that counts.
        last = {sent.voter: sent.option for sent in arrived}
        start_services("worker", WORKER_BATCH_SIZE="5")  # copies split across batches and within them
        assert wait_until(lambda: _drained(client, stream[-1][0]), timeout=30), "the worker did not finish"
        assert client.xlen("votes:dead") == 0

    pool = PgPool(database_url, "test", size=1)
    try:
        stored_votes = dict(pool.query("SELECT voter_id, option FROM votes WHERE poll_id = 'default'"))
        assert stored_votes == last  # one row per voter: its last vote, whatever the copies
        expected = dict(Counter(last.values()))
        assert tallies(pool) == expected  # each voter counted exactly once
        assert sum(expected.values()) == RETRY_VOTERS
        assert recount(pool) == expected
    finally:
        pool.close()
