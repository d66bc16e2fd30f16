"""The result service through Flask's test client: JSON, CSV, page and the SSE stream."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from result.app import create_app, end_streams
from servicetools import metric
from votingcommon.connections import PgPool
from votingcommon.votes import Vote
from worker.apply import Entry, apply_batch

_ids = iter(range(1, 1_000_000))


def cast(pool: PgPool, *votes: tuple[str, str], poll: str = "default") -> None:
    """Commit votes the way the worker does (same transaction, same NOTIFY)."""
    entries = []
    for voter, option in votes:
        ms = next(_ids)
        entries.append(Entry(f"{ms}-0", (ms, 0), Vote(poll, voter, option, ms)))
    with pool.connection() as conn:
        apply_batch(conn, entries)


@pytest.fixture
def app(service_env: dict[str, str], database_url: str) -> Iterator[Flask]:
    app = create_app({**service_env, "DATABASE_URL": database_url, "VOTE_OPTIONS": "Cats,Dogs,Birds"})
    yield app
    end_streams(app)  # its listener stops instead of reconnecting to a dropped database


def counts(body: dict[str, Any]) -> list[tuple[str, int]]:
    return [(item["option"], item["votes"]) for item in body["options"]]


def test_results_before_any_vote_or_schema(app: Flask) -> None:
    body = app.test_client().get("/api/results").json
    assert counts(body) == [("Cats", 0), ("Dogs", 0), ("Birds", 0)]
    assert body["total"] == 0
    assert body["as_of"].endswith("Z")


def test_results_in_configured_order(app: Flask, migrated: PgPool) -> None:
    cast(migrated, ("voter-aaaa", "Birds"), ("voter-bbbb", "Cats"), ("voter-cccc", "Birds"))
    cast(migrated, ("voter-dddd", "Tea"), poll="drinks")  # another poll's tallies never leak in

    body = app.test_client().get("/api/results").json

    assert counts(body) == [("Cats", 1), ("Dogs", 0), ("Birds", 2)]
    assert body["total"] == 3


def test_results_csv(app: Flask, migrated: PgPool) -> None:
    cast(migrated, ("voter-aaaa", "Dogs"))
    response = app.test_client().get("/api/results.csv")
    assert response.content_type.startswith("text/csv")
    assert response.text == "option,votes\nCats,0\nDogs,1\nBirds,0\n"


def test_page_loads_its_script_from_static_only(app: Flask, migrated: PgPool) -> None:
    cast(migrated, ("voter-aaaa", "Dogs"))
    client = app.test_client()
    page = client.get("/")
    assert page.status_code == 200
    assert '<script src="/static/results.js" defer></script>' in page.text
    assert page.text.count("<script") == 1
    assert '<td class="votes">1</td>' in page.text
    assert client.get("/static/results.js").status_code == 200


def test_database_down_is_503(service_env: dict[str, str], closed_port: int) -> None:
    client = create_app(
        {**service_env, "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{closed_port}/x"}
    ).test_client()
    response = client.get("/api/results")
    assert response.status_code == 503
    assert response.json == {"error": "results unavailable, retry later"}
    assert client.get("/readyz").status_code == 503
    assert client.get("/health").json["database"] == "disconnected"


@pytest.fixture
def events(app: Flask) -> Iterator[queue.Queue]:
    """Data events of one SSE stream, read by a background thread as a browser would."""
    received: queue.Queue = queue.Queue()
    response = app.test_client().get("/api/results/stream", buffered=False)
    assert response.status_code == 200
    assert response.content_type.startswith("text/event-stream")
    stop = threading.Event()

    def read() -> None:
        for chunk in response.response:
            if stop.is_set():
                return
            text = chunk.decode() if isinstance(chunk, bytes) else chunk
            for line in text.splitlines():
                if line.startswith("data: "):
                    received.put(json.loads(line[len("data: ") :]))

    threading.Thread(target=read, daemon=True).start()
    yield received
    stop.set()


def test_stream_sends_a_snapshot_then_every_change(events: queue.Queue, migrated: PgPool) -> None:
    first = events.get(timeout=5)
    assert counts(first) == [("Cats", 0), ("Dogs", 0), ("Birds", 0)]

    committed = time.monotonic()
    cast(migrated, ("voter-aaaa", "Dogs"))
    second = events.get(timeout=5)
    pushed_after = time.monotonic() - committed
    cast(migrated, ("voter-aaaa", "Cats"))
    third = events.get(timeout=5)

    assert counts(second) == [("Cats", 0), ("Dogs", 1), ("Birds", 0)]
    assert counts(third) == [("Cats", 1), ("Dogs", 0), ("Birds", 0)]
    assert pushed_after < 5  # pushed on NOTIFY: the safety-net refresh is RESULT_REFRESH_INTERVAL (5 s)


def test_stream_coalesces_a_burst(events: queue.Queue, migrated: PgPool) -> None:
    events.get(timeout=5)
    for i in range(30):
        cast(migrated, (f"voter-{i:04d}", "Birds"))
    seen = []
    while not seen or seen[-1]["total"] < 30:
        seen.append(events.get(timeout=5))
    assert len(seen) < 30
    assert counts(seen[-1]) == [("Cats", 0), ("Dogs", 0), ("Birds", 30)]


def test_streams_past_the_cap_get_503_until_one_ends(service_env: dict[str, str], database_url: str) -> None:
    """Each stream holds a gunicorn thread; past RESULT_MAX_STREAMS the rest of the service stays usable."""
    app = create_app({**service_env, "DATABASE_URL": database_url, "RESULT_MAX_STREAMS": "2"})
    client = app.test_client()
    held = [client.get("/api/results/stream", buffered=False) for _ in range(2)]
    assert [response.status_code for response in held] == [200, 200]

    refused = client.get("/api/results/stream", buffered=False)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "5"
    assert refused.json == {"error": "too many open result streams, retry later"}
    assert client.get("/api/results").status_code == 200  # JSON, pages and probes are not streams

    held[0].close()  # a closed stream gives its place back
    again = client.get("/api/polls/default/results/stream", buffered=False)
    assert again.status_code == 200
    for response in (held[1], again):
        response.close()
    end_streams(app)


def test_closed_hub_stops_its_listener(app: Flask, migrated: PgPool) -> None:
    """After close() no listener thread stays behind, reconnecting to a database that may be gone."""
    response = app.test_client().get("/api/results/stream", buffered=False)  # starts the listener
    assert response.status_code == 200

    def listeners() -> list[threading.Thread]:
        return [thread for thread in threading.enumerate() if thread.name == "tally-listener"]

    assert listeners()
    end_streams(app)
    response.close()
    deadline = time.monotonic() + 15  # the listener wakes at least every RESULT_REFRESH_INTERVAL (5 s)
    while listeners() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not listeners()


def test_injected_faults_count_as_errors(
    service_env: dict[str, str], database_url: str, migrated: PgPool
) -> None:
    """RESULT_FAULT_RATE makes a bad result release to rehearse: answers 500, counted as errors."""
    app = create_app({**service_env, "DATABASE_URL": database_url, "RESULT_FAULT_RATE": "1"})
    before = metric("vote_errors_total", service="result", reason="injected")
    response = app.test_client().get("/api/results")
    end_streams(app)
    assert response.status_code == 500
    assert response.json == {"error": "injected fault"}
    assert metric("vote_errors_total", service="result", reason="injected") == before + 1
