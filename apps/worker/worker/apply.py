"""Applying a batch of votes in one PostgreSQL transaction: latest vote per voter plus tally deltas.

One statement per batch, whatever its size. The batch travels as one JSON text (encoded in C; VALUES
lists or ARRAY[...] literals built row by row cost the worker and the database more than the writes).
An upsert inserts new voters and replaces a stored vote only when the entry's stream id is newer;
because INSERT ... ON CONFLICT DO UPDATE waits for, locks and re-reads a row another worker is
inserting or changing, the stream-id rule and the old option it copies into `previous_option` always
come from the latest committed row. The tallies then move by the summed deltas, and each poll that
changed is notified when the transaction commits.

Rows and tallies are written in sorted key order so two batches cannot deadlock on each other; if
PostgreSQL still reports one, the consumer retries the batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

import psycopg2.extensions
from votingcommon.store import TALLIES_CHANNEL
from votingcommon.votes import Vote

Key = tuple[str, str]

_APPLY = """
    WITH upserted AS (
        INSERT INTO votes AS v (poll_id, voter_id, option, stream_ms, stream_seq, accepted_at)
        SELECT poll_id, voter_id, option, ms, seq, to_timestamp(accepted_ms::double precision / 1000)
        FROM json_to_recordset(%(batch)s::json)  -- sorted by (poll, voter): the lock order of every batch
            AS b (poll_id text, voter_id text, option text, ms bigint, seq bigint, accepted_ms bigint)
        ON CONFLICT (poll_id, voter_id) DO UPDATE
        SET option = EXCLUDED.option, stream_ms = EXCLUDED.stream_ms, stream_seq = EXCLUDED.stream_seq,
            accepted_at = EXCLUDED.accepted_at, applied_at = now(), previous_option = v.option
        WHERE (v.stream_ms, v.stream_seq) < (EXCLUDED.stream_ms, EXCLUDED.stream_seq)
        RETURNING v.poll_id, v.option, v.previous_option  -- previous_option is NULL for a new voter
    ),
    moves AS (
        SELECT poll_id, option, 1 AS delta FROM upserted
        UNION ALL
        SELECT poll_id, previous_option, -1 FROM upserted WHERE previous_option IS NOT NULL
    ),
    tallied AS (
        INSERT INTO tallies (poll_id, option, votes)
        SELECT poll_id, option, sum(delta) FROM moves
        GROUP BY poll_id, option HAVING sum(delta) <> 0
        ORDER BY poll_id, option
        ON CONFLICT (poll_id, option) DO UPDATE SET votes = tallies.votes + EXCLUDED.votes
        RETURNING poll_id
    )
    SELECT (SELECT count(*) FROM upserted),
           (SELECT count(pg_notify(%(channel)s, poll_id)) FROM (SELECT DISTINCT poll_id FROM tallied) p)
"""


@dataclass(frozen=True, slots=True)
class Entry:
    entry_id: str
    stream_id: tuple[int, int]
    vote: Vote
    key: Key = field(init=False)  # (poll, voter), computed once: batches look it up several times per entry

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.vote.poll, self.vote.voter))


def latest_per_voter(entries: Iterable[Entry]) -> list[Entry]:
    """Within a batch only the highest stream id of each voter matters; sorted for a stable lock order."""
    latest: dict[Key, Entry] = {}
    for entry in entries:
        kept = latest.get(entry.key)
        if kept is None or entry.stream_id > kept.stream_id:
            latest[entry.key] = entry
    return [latest[key] for key in sorted(latest)]


def apply_batch(conn: psycopg2.extensions.connection, entries: list[Entry]) -> int:
    """Commit the batch; returns how many votes changed a stored choice (new voters included)."""
    with conn, conn.cursor() as cursor:
        cursor.execute(_APPLY, {"batch": _as_json(latest_per_voter(entries)), "channel": TALLIES_CHANNEL})
        changed, _notified = cursor.fetchone()
    return changed


def _as_json(entries: Iterable[Entry]) -> str:
    """Characters travel as themselves, converted like any text parameter, not as JSON \\u escapes."""
    return json.dumps(
        [
            {
                "poll_id": entry.vote.poll,
                "voter_id": entry.vote.voter,
                "option": entry.vote.option,
                "ms": entry.stream_id[0],
                "seq": entry.stream_id[1],
                "accepted_ms": entry.vote.accepted_ms,
            }
            for entry in entries
        ],
        ensure_ascii=False,
    )
