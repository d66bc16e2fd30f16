"""What result's three blueprints share: their dependencies and the snapshot every answer is built from.

Each poll has a page `/polls/<id>` (result.pages), `/api/polls/<id>/results[.csv|.json]` (result.api) and
`/api/polls/<id>/results/stream` (result.stream); `/` and `/api/results*` stay as the default poll's (the
first configured one). Results stay readable whatever the poll's window.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import psycopg2
from flask import current_app
from votingcommon.connections import PgPool
from votingcommon.faults import FaultInjector
from votingcommon.polls import Poll, PollCatalog
from votingcommon.web import mark_error
from werkzeug.exceptions import ServiceUnavailable

from result.hub import TallyHub
from result.snapshot import read_snapshot

SERVICE = "result"  # the key of ResultDeps in app.extensions


@dataclass(frozen=True)
class ResultDeps:
    pool: PgPool
    polls: PollCatalog
    hub: TallyHub
    faults: FaultInjector
    stream_slots: threading.BoundedSemaphore  # one per SSE stream the process may hold open (result.stream)


def current_deps() -> ResultDeps:
    """The current app's dependencies, stored by create_app (votingcommon.web.register_blueprints). Taken
    once per request and handed to the helpers below, as vote does."""
    return current_app.extensions[SERVICE]


def snapshot(deps: ResultDeps, poll: Poll) -> dict[str, Any]:
    """Every page, export and API answer is built from a snapshot: the injected faults hit them all."""
    deps.faults.apply()
    try:
        return read_snapshot(deps.pool, poll)
    except psycopg2.Error:
        mark_error("database")
        raise ServiceUnavailable("results unavailable, retry later", retry_after=2) from None
