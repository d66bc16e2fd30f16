"""The worker's Redis side: reading, claiming, acknowledging, dead-lettering and trimming the vote stream."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import redis
from votingcommon.config import RedisSettings
from votingcommon.connections import replicas_acknowledged
from votingcommon.votes import CONSUMER_GROUP, dead_letter_stream, parse_stream_id

RawEntry = tuple[str, dict[bytes, bytes]]


@dataclass(frozen=True)
class StreamStats:
    pending: int
    backlog: int


class VoteStream:
    """With `settings.wait_replicas`, entries are handed out only once that many replicas hold them.

    Every read travels with a WAIT on the same connection (the read itself is a write: it moves the
    group's cursor and pending list, which replicas receive after the entries). A vote the worker applies
    is then one a failover keeps, so a promoted replica never hands out stream ids below what PostgreSQL
    already holds, and the newest-id-wins rule stays true across a failover.
    """

    def __init__(self, client: redis.Redis, stream: str, consumer: str, settings: RedisSettings) -> None:
        self._redis = client
        self._stream = stream
        self._dead = dead_letter_stream(stream)
        self._consumer = consumer
        self._claim_cursor = "0-0"
        self._wait_replicas = settings.wait_replicas
        self._wait_timeout_ms = settings.wait_timeout_ms

    def ensure_group(self) -> None:
        """Create the group at id 0 so votes queued before the first worker started are not skipped."""
        try:
            self._redis.xgroup_create(self._stream, CONSUMER_GROUP, id="0", mkstream=True)
        except redis.ResponseError as err:
            if "BUSYGROUP" not in str(err):
                raise

    def read_new(self, count: int, block_ms: int | None) -> list[RawEntry]:
        """Entries no consumer has read yet; `block_ms` None answers at once, even with none."""
        return self._read(">", count, block_ms)

    def read_own_pending(self, count: int) -> list[RawEntry]:
        """This consumer's unacknowledged entries again (each read counts as one more delivery)."""
        return self._read("0", count, None)

    def claim_stale(self, min_idle_ms: int, count: int) -> tuple[list[RawEntry], bool]:
        """Take over entries another consumer left pending too long; True when the scan wrapped around."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.xautoclaim(
            self._stream, CONSUMER_GROUP, self._consumer, min_idle_ms, self._claim_cursor, count=count
        )
        response = self._replicated(pipe)
        self._claim_cursor = _text(response[0])
        return _entries(response[1]), self._claim_cursor == "0-0"

    def ack(self, entry_ids: list[str]) -> None:
        if entry_ids:
            self._redis.xack(self._stream, CONSUMER_GROUP, *entry_ids)

    def deliveries(self, entry_id: str) -> int:
        rows = self._redis.xpending_range(self._stream, CONSUMER_GROUP, entry_id, entry_id, 1)
        return int(rows[0]["times_delivered"]) if rows else 0

    def dead_letter(self, entry_id: str, fields: dict[bytes, bytes], error: str, deliveries: int) -> None:
        """Copy the entry to the dead-letter stream and acknowledge it, atomically."""
        payload = {_text(key): _text(value) for key, value in fields.items()}
        record = {
            "source_id": entry_id,
            "error": error,
            "deliveries": deliveries,
            "payload": json.dumps(payload),
        }
        pipe = self._redis.pipeline(transaction=True)
        pipe.xadd(self._dead, record)  # type: ignore[arg-type]
        pipe.xack(self._stream, CONSUMER_GROUP, entry_id)
        pipe.execute()

    def trim_and_measure(self) -> StreamStats:
        """Drop entries every consumer has acknowledged, then report pending and not-yet-delivered counts.

        Votes live in PostgreSQL once acknowledged, so the stream only needs what is in flight. Everything
        below the oldest pending id and at or below the group's last delivered id is acknowledged.
        """
        group = self._group_info()
        if group is None:
            return StreamStats(pending=0, backlog=0)
        pending = int(group["pending"])
        last_delivered = parse_stream_id(_text(group["last-delivered-id"]))
        floor = (last_delivered[0], last_delivered[1] + 1)
        if pending:
            oldest = parse_stream_id(_text(self._redis.xpending(self._stream, CONSUMER_GROUP)["min"]))
            floor = min(floor, oldest)
        self._redis.xtrim(self._stream, minid=f"{floor[0]}-{floor[1]}", approximate=False)
        lag = group.get("lag")  # Redis >= 7 counts undelivered entries itself
        backlog = int(lag) if lag is not None else self._redis.xlen(self._stream) - pending
        return StreamStats(pending=pending, backlog=max(0, backlog))

    def _group_info(self) -> dict[str, Any] | None:
        try:
            groups = self._redis.xinfo_groups(self._stream)
        except redis.ResponseError as err:
            if "no such key" in str(err).lower():
                return None  # no stream yet (or deleted): reading recreates it with its group
            raise
        for group in groups:
            if _text(group["name"]) == CONSUMER_GROUP:
                return group
        return None

    def _read(self, start: str, count: int, block_ms: int | None) -> list[RawEntry]:
        pipe = self._redis.pipeline(transaction=False)
        pipe.xreadgroup(CONSUMER_GROUP, self._consumer, {self._stream: start}, count=count, block=block_ms)
        response: Any = self._replicated(pipe)
        return _entries(response[0][1]) if response else []

    def _replicated(self, pipe: Any) -> Any:
        """Run a one-read pipeline, adding the WAIT when replicas must hold what the read returns.

        A short WAIT matters only when entries came back: they stay pending (delivered, not applied) and
        the consumer reads its own pending entries again after the backoff.
        """
        if not self._wait_replicas:
            return pipe.execute()[0]
        pipe.execute_command("WAIT", self._wait_replicas, self._wait_timeout_ms)
        response, acknowledged = pipe.execute(raise_on_error=False)
        if isinstance(response, Exception):
            raise response
        if _has_entries(response):
            replicas_acknowledged(acknowledged, self._wait_replicas)
        return response


def _has_entries(response: Any) -> bool:
    """XREADGROUP answers [[stream, entries]] or nothing; XAUTOCLAIM answers [cursor, entries, ...]."""
    if not response:
        return False
    if isinstance(response[0], (list, tuple)):
        return bool(response[0][1])
    return bool(response[1])


def _entries(raw: list[tuple[Any, Any]]) -> list[RawEntry]:
    return [(_text(entry_id), fields or {}) for entry_id, fields, *_ in raw if entry_id is not None]


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
