"""The result routes: JSON, CSV, exports, the SSE stream and the page, all built from one snapshot shape.

Each poll has `/polls/<id>` and `/api/polls/<id>/results[.csv|.json|/stream]`; `/` and `/api/results*`
stay as the default poll's (the first configured one). Results stay readable whatever the poll's window.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg2
from flask import Flask, Response, render_template
from votingcommon.connections import PgPool
from votingcommon.faults import FaultInjector
from votingcommon.polls import Poll, PollCatalog, format_time
from votingcommon.web import mark_error
from werkzeug.exceptions import NotFound, ServiceUnavailable

from result.hub import TallyHub
from result.snapshot import as_csv, export_csv, export_filename, export_json, read_snapshot

KEEPALIVE_SECONDS = 15.0
# Streams end after a while; EventSource reconnects by itself, and no thread is held forever by a lost peer.
STREAM_MAX_SECONDS = 300.0
RECONNECT_MS = 2000
STREAM_RETRY_SECONDS = 5


def register_views(
    app: Flask, pool: PgPool, polls: PollCatalog, hub: TallyHub, max_streams: int, faults: FaultInjector
) -> None:
    stream_slots = threading.BoundedSemaphore(max_streams)

    def snapshot(poll: Poll) -> dict[str, Any]:
        """Every page, export and API answer is built from a snapshot: the injected faults hit them all."""
        faults.apply()
        try:
            return read_snapshot(pool, poll)
        except psycopg2.Error:
            mark_error("database")
            raise ServiceUnavailable("results unavailable, retry later", retry_after=2) from None

    def known(poll_id: str) -> Poll:
        poll = polls.get(poll_id)
        if poll is None:
            raise NotFound(f"there is no poll {poll_id!r}")
        return poll

    def stream(poll: Poll) -> Response:
        """A stream holds a thread for up to STREAM_MAX_SECONDS: past max_streams the answer is a 503 that
        the page retries later, instead of every thread of the worker waiting on open streams."""
        if not stream_slots.acquire(blocking=False):
            mark_error("streams_full")
            raise ServiceUnavailable(
                "too many open result streams, retry later", retry_after=STREAM_RETRY_SECONDS
            )
        try:
            hub.ensure_started()
            seen = hub.version(poll.id)  # taken before the read, so a change racing with it is still pushed
            headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
            response = Response(
                _events(hub, poll.id, seen, snapshot(poll)), content_type="text/event-stream", headers=headers
            )
        except BaseException:
            stream_slots.release()
            raise
        # The server closes every response it was handed, whether or not it started sending it.
        response.call_on_close(stream_slots.release)
        return response

    def page(poll: Poll) -> str:
        now = datetime.now(UTC)
        return render_template("index.html", poll=poll, polls=polls, now=now, snapshot=snapshot(poll))

    @app.get("/api/results")
    def results() -> dict[str, Any]:
        return snapshot(polls.default)

    @app.get("/api/results.csv")
    def results_csv() -> Response:
        return Response(as_csv(snapshot(polls.default)), content_type="text/csv; charset=utf-8")

    @app.get("/api/results/stream")
    def results_stream() -> Response:
        return stream(polls.default)

    @app.get("/api/polls/<poll_id>/results")
    def poll_results(poll_id: str) -> dict[str, Any]:
        return snapshot(known(poll_id))

    @app.get("/api/polls/<poll_id>/results/stream")
    def poll_results_stream(poll_id: str) -> Response:
        return stream(known(poll_id))

    @app.get("/api/polls/<poll_id>/results.csv")
    def poll_results_csv(poll_id: str) -> Response:
        poll = known(poll_id)
        current = snapshot(poll)
        return _download(
            export_csv(poll, current), "text/csv; charset=utf-8", export_filename(poll, current, "csv")
        )

    @app.get("/api/polls/<poll_id>/results.json")
    def poll_results_json(poll_id: str) -> Response:
        poll = known(poll_id)
        current = snapshot(poll)
        body = json.dumps(export_json(poll, current), indent=2) + "\n"
        return _download(body, "application/json", export_filename(poll, current, "json"))

    @app.get("/")
    def index() -> str:
        return page(polls.default)

    @app.get("/polls/<poll_id>")
    def poll_page(poll_id: str) -> str:
        return page(known(poll_id))

    app.add_template_filter(format_time, "when")


def _download(body: str, content_type: str, filename: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    return Response(body, content_type=content_type, headers=headers)


def _events(hub: TallyHub, poll_id: str, seen: int, first: dict[str, Any]) -> Iterator[str]:
    yield f"retry: {RECONNECT_MS}\ndata: {json.dumps(first)}\n\n"
    sent = first["options"]
    deadline = time.monotonic() + STREAM_MAX_SECONDS
    while time.monotonic() < deadline:
        change = hub.wait_for_change(poll_id, seen, KEEPALIVE_SECONDS)
        if hub.closed:
            return
        if change is None:
            yield ": keep-alive\n\n"
            continue
        seen, current, payload = change
        if current["options"] != sent:  # the hub's first read may repeat what this client already has
            sent = current["options"]
            yield f"data: {payload}\n\n"
