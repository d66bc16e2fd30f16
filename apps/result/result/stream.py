"""result's server-sent events: the poll's snapshot, then every change the process's TallyHub sees."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response
from votingcommon.polls import Poll
from votingcommon.web import json_errors, mark_error, poll_or_404
from werkzeug.exceptions import ServiceUnavailable

from result.hub import TallyHub
from result.views import ResultDeps, current_deps, snapshot

KEEPALIVE_SECONDS = 15.0
# Streams end after a while; EventSource reconnects by itself, and no thread is held forever by a lost peer.
STREAM_MAX_SECONDS = 300.0
RECONNECT_MS = 2000
STREAM_RETRY_SECONDS = 5

bp = Blueprint("stream", __name__, url_prefix="/api")
json_errors(bp)


@bp.get("/results/stream")
def results_stream() -> Response:
    deps = current_deps()
    return _stream(deps, deps.polls.default)


@bp.get("/polls/<poll_id>/results/stream")
def poll_results_stream(poll_id: str) -> Response:
    deps = current_deps()
    return _stream(deps, poll_or_404(deps.polls, poll_id))


def _stream(deps: ResultDeps, poll: Poll) -> Response:
    """A stream holds a thread for up to STREAM_MAX_SECONDS: past the process's stream slots the answer is
    a 503 that the page retries later, instead of every thread of the worker waiting on open streams."""
    slots = deps.stream_slots
    if not slots.acquire(blocking=False):
        mark_error("streams_full")
        raise ServiceUnavailable(
            "too many open result streams, retry later", retry_after=STREAM_RETRY_SECONDS
        )
    try:
        deps.hub.ensure_started()
        seen = deps.hub.version(poll.id)  # taken before the read, so a change racing with it is still pushed
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        events = _events(deps.hub, poll.id, seen, snapshot(deps, poll))
        response = Response(events, content_type="text/event-stream", headers=headers)
    except BaseException:
        slots.release()
        raise
    # The server closes every response it was handed, whether or not it started sending it.
    response.call_on_close(slots.release)
    return response


def _events(hub: TallyHub, poll_id: str, seen: int, first: dict[str, Any]) -> Iterator[str]:
    """Runs after the request has returned (no app context): everything it needs is passed in."""
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
