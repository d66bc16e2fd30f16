"""One listener per process fanning tally changes out to every SSE stream of that process, for every poll.

The worker sends NOTIFY with the poll id inside each batch transaction, so a notification arrives exactly
when new tallies are visible. Bursts are coalesced: at most one read per COALESCE_SECONDS, which bounds both
the database reads and the events a browser receives while keeping every change visible well within 250 ms.
"""

from __future__ import annotations

import json
import logging
import select
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg2
import psycopg2.extensions
from votingcommon.connections import PgPool
from votingcommon.polls import PollCatalog
from votingcommon.store import TALLIES_CHANNEL

from result.snapshot import read_snapshot, same_counts

log = logging.getLogger(__name__)
COALESCE_SECONDS = 0.025
RECONNECT_SECONDS = 1.0


@dataclass
class _PollState:
    version: int = 0
    snapshot: dict[str, Any] | None = None
    payload: str = ""


class TallyHub:
    def __init__(self, database_url: str, pool: PgPool, polls: PollCatalog, refresh_interval: float) -> None:
        self._database_url = database_url
        self._pool = pool
        self._polls = {poll.id: poll for poll in polls.polls}
        self._refresh_interval = refresh_interval
        self._changed = threading.Condition()
        self._states = {poll_id: _PollState() for poll_id in self._polls}
        self._started = False
        self._closed = False

    def ensure_started(self) -> None:
        """Start the listener on first use: never before gunicorn forks, and only where streams exist."""
        with self._changed:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._listen_forever, name="tally-listener", daemon=True).start()

    def close(self) -> None:
        """Release every stream waiting for a change: the process is stopping."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def version(self, poll_id: str) -> int:
        with self._changed:
            return self._states[poll_id].version

    def wait_for_change(
        self, poll_id: str, seen: int, timeout: float
    ) -> tuple[int, dict[str, Any], str] | None:
        """The poll's newer version, its snapshot and JSON once there is one, or None after `timeout`."""
        state = self._states[poll_id]
        with self._changed:
            self._changed.wait_for(lambda: state.version != seen or self._closed, timeout)
            if state.version == seen or state.snapshot is None or self._closed:
                return None
            return state.version, state.snapshot, state.payload

    def refresh(self, poll_ids: Iterable[str]) -> None:
        for poll_id in poll_ids:
            snapshot = read_snapshot(self._pool, self._polls[poll_id])
            state = self._states[poll_id]
            with self._changed:
                if same_counts(state.snapshot, snapshot):
                    continue
                state.snapshot = snapshot
                state.payload = json.dumps(snapshot)
                state.version += 1
                self._changed.notify_all()

    def _listen_forever(self) -> None:
        """Until close(): a stopping process (or a finished test) leaves no listener reconnecting behind."""
        while not self._closed:
            try:
                self._listen()
            except psycopg2.Error as err:
                if self._closed:
                    return
                log.warning("tally listener lost its connection, reconnecting: %s", str(err).strip())
                time.sleep(RECONNECT_SECONDS)

    def _listen(self) -> None:
        conn = psycopg2.connect(self._database_url, connect_timeout=3, application_name="result-listener")
        try:
            conn.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
            with conn.cursor() as cursor:
                cursor.execute(f"LISTEN {TALLIES_CHANNEL}")
            self.refresh(self._polls)  # whatever changed while no one was listening
            last_read = time.monotonic()
            while not self._closed:  # checked at least every refresh interval
                if select.select([conn], [], [], self._refresh_interval)[0]:
                    time.sleep(max(0.0, last_read + COALESCE_SECONDS - time.monotonic()))
                    conn.poll()
                    changed = {notify.payload for notify in conn.notifies} & self._polls.keys()
                    conn.notifies.clear()
                    if not changed:
                        continue
                    self.refresh(changed)
                else:
                    conn.poll()  # raises when the server went away during a quiet period
                    self.refresh(self._polls)
                last_read = time.monotonic()
        finally:
            conn.close()
