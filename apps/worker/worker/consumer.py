"""The consumer loop: read or claim a batch, commit it, acknowledge it; never exit on an outage."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg2
import redis
from votingcommon import metrics
from votingcommon.connections import PgPool
from votingcommon.store import migrate
from votingcommon.votes import MalformedVote, decode, now_ms, parse_stream_id

from worker.apply import Entry, apply_batch
from worker.backoff import Backoff
from worker.config import WorkerConfig
from worker.stream import RawEntry, VoteStream

log = logging.getLogger(__name__)

# Errors that say something about the entry's data rather than about the database being unavailable.
_DATA_ERRORS = (psycopg2.DataError, psycopg2.IntegrityError)
HOUSEKEEPING_SECONDS = 1.0


@dataclass
class Batch:
    """Stream entries decoded into votes, and those that could not be, with the reason."""

    entries: list[Entry] = field(default_factory=list)
    malformed: list[tuple[str, dict[bytes, bytes], str]] = field(default_factory=list)


class Consumer:
    def __init__(self, config: WorkerConfig, stream: VoteStream, pool: PgPool, stop: threading.Event) -> None:
        self._config = config
        self._stream = stream
        self._pool = pool
        self._stop = stop
        self._recheck_own_pending = True  # a restarted consumer with a fixed WORKER_NAME resumes its entries
        self._next_claim = 0.0
        self._next_housekeeping = 0.0
        # While a batch commits, the next one is read and decoded here (psycopg2 releases the GIL).
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead")
        self._read_ahead: Future[Batch] | None = None

    def prepare(self) -> None:
        """Schema and consumer group, waiting for PostgreSQL and Redis as long as it takes."""
        self._until_done("migrate", self._migrate)
        self._until_done("create consumer group", self._stream.ensure_group)

    def run(self) -> None:
        self.prepare()
        backoff = Backoff(self._stop)
        while not self._stop.is_set():
            try:
                self.step()
            except redis.RedisError as err:
                metrics.WORKER_ERRORS.labels("redis").inc()
                log.warning("redis error, retrying: %s", err)
                self._recheck_own_pending = True  # what was read but not acknowledged is read again
                backoff.wait()
                if "NOGROUP" in str(err):  # the stream was deleted (FLUSHALL, a Redis without persistence)
                    self._until_done("recreate consumer group", self._stream.ensure_group)
            else:
                backoff.reset()
        self._finish_read_ahead()
        self._reader.shutdown()

    def step(self) -> None:
        """One unit of work: housekeeping, claims, own retries and new entries, in that priority."""
        now = time.monotonic()
        if now >= self._next_housekeeping:
            self._next_housekeeping = now + HOUSEKEEPING_SECONDS
            self.housekeeping()
        read_ahead = self._take_read_ahead()
        if read_ahead is not None:
            # Already delivered to this consumer: handled before claims and own-pending rereads, which
            # would otherwise see these entries pending and process them a second time.
            self._handle_new(read_ahead)
            return
        batch = self._config.batch_size
        if now >= self._next_claim:
            claimed, wrapped = self._stream.claim_stale(self._config.claim_idle_ms, batch)
            if wrapped:
                self._next_claim = now + self._config.claim_idle_ms / 2000
            if claimed:
                log.info("claimed %d stale entries", len(claimed))
                self.handle(claimed)
                return
        if self._recheck_own_pending:
            own = self._stream.read_own_pending(batch)
            self._recheck_own_pending = bool(own)
            if own:
                self.handle(own)
                return
        self._handle_new(self._decode(self._stream.read_new(batch, self._config.block_ms)))

    def housekeeping(self) -> None:
        """Trim acknowledged entries and publish the stream gauges."""
        stats = self._stream.trim_and_measure()
        metrics.STREAM_PENDING.set(stats.pending)
        metrics.STREAM_BACKLOG.set(stats.backlog)

    def handle(self, raw: list[RawEntry]) -> None:
        self._process(self._decode(raw))

    def _handle_new(self, batch: Batch) -> None:
        if len(batch.entries) + len(batch.malformed) >= self._config.batch_size:
            # A full batch means a backlog: the next batch is read and decoded while this one commits.
            self._read_ahead = self._reader.submit(self._read_next)
        self._process(batch)

    def _read_next(self) -> Batch:
        return self._decode(self._stream.read_new(self._config.batch_size, None))

    def _take_read_ahead(self) -> Batch | None:
        read_ahead, self._read_ahead = self._read_ahead, None
        return read_ahead.result() if read_ahead is not None else None

    def _finish_read_ahead(self) -> None:
        """At shutdown, commit what was read ahead rather than leave it pending until someone claims it."""
        try:
            read_ahead = self._take_read_ahead()
            if read_ahead is not None:
                self._process(read_ahead)
        except redis.RedisError as err:
            log.warning("read-ahead entries left pending: %s", err)

    @staticmethod
    def _decode(raw: list[RawEntry]) -> Batch:
        batch = Batch()
        for entry_id, fields in raw:
            try:
                batch.entries.append(Entry(entry_id, parse_stream_id(entry_id), decode(fields)))
            except MalformedVote as err:
                batch.malformed.append((entry_id, fields, str(err)))
        return batch

    def _process(self, batch: Batch) -> None:
        if batch.entries:
            self._commit(batch.entries)
        for entry_id, fields, error in batch.malformed:
            self._reject(entry_id, fields, error)

    def _commit(self, entries: list[Entry]) -> None:
        """Apply then acknowledge; a data error is narrowed down to the entries that cause it."""
        try:
            changed = self._apply_until_done(entries)
        except _DATA_ERRORS as err:
            if len(entries) == 1:
                entry = entries[0]
                self._reject(entry.entry_id, entry.vote.fields(), f"database rejected it: {str(err).strip()}")
            else:
                for entry in entries:
                    self._commit([entry])
            return
        if changed is None:
            return  # shutting down mid-outage: left pending, another consumer or the next start claims them
        self._stream.ack([entry.entry_id for entry in entries])
        self._record(entries)
        log.debug("committed %d entries, %d choices changed", len(entries), changed)

    def _apply_until_done(self, entries: list[Entry]) -> int | None:
        backoff = Backoff(self._stop)
        while True:
            try:
                with self._pool.connection() as conn:
                    return apply_batch(conn, entries)
            except _DATA_ERRORS:
                raise
            except psycopg2.Error as err:
                metrics.WORKER_ERRORS.labels("database").inc()
                log.warning("database unavailable, retrying batch of %d: %s", len(entries), str(err).strip())
                if not backoff.wait():
                    return None

    def _reject(self, entry_id: str, fields: dict[bytes, bytes] | dict[str, str], error: str) -> None:
        """Leave a failing entry pending for another try, or dead-letter it after the last delivery."""
        metrics.WORKER_ERRORS.labels("malformed").inc()
        deliveries = self._stream.deliveries(entry_id)
        if deliveries < self._config.max_deliveries:
            self._recheck_own_pending = True
            return
        self._stream.dead_letter(entry_id, fields, error, deliveries)  # type: ignore[arg-type]
        metrics.DEAD_LETTERED.inc()
        log.error("dead-lettered entry %s after %d deliveries: %s", entry_id, deliveries, error)

    def _record(self, entries: list[Entry]) -> None:
        metrics.PROCESSED.inc(len(entries))
        metrics.BATCH_SIZE.observe(len(entries))
        now = now_ms()
        for entry in entries:
            metrics.VOTE_LAG.observe(max(0, now - entry.vote.accepted_ms) / 1000)

    def _migrate(self) -> None:
        with self._pool.connection() as conn:
            version = migrate(conn)
        log.info("database schema at version %d", version)

    def _until_done(self, what: str, action: Callable[[], object]) -> None:
        """Start-up steps wait for their dependency instead of exiting: the stack may start in any order."""
        backoff = Backoff(self._stop)
        while not self._stop.is_set():
            try:
                action()
                return
            except (psycopg2.Error, redis.RedisError) as err:
                log.warning("%s failed, retrying: %s", what, str(err).strip())
                backoff.wait()
