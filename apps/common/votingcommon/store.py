"""The PostgreSQL layout shared by worker (writes) and vote/result (reads), and its idempotent migrations."""

from __future__ import annotations

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from votingcommon.connections import PgPool

# Sent with the poll id as payload inside each batch transaction, so it is delivered exactly when it commits.
TALLIES_CHANNEL = "tallies_changed"
_MIGRATION_LOCK = 0x766F7465  # any constant; serialises concurrent migrations of several workers

# (version, statements). Append new versions; never edit an applied one.
MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE IF NOT EXISTS votes (
            poll_id     text        NOT NULL,
            voter_id    text        NOT NULL,
            option      text        NOT NULL,
            stream_ms   bigint      NOT NULL,  -- stream id of the applied vote: only newer ids replace it
            stream_seq  bigint      NOT NULL,
            accepted_at timestamptz NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (poll_id, voter_id)
        );
        CREATE TABLE IF NOT EXISTS tallies (
            poll_id text   NOT NULL,
            option  text   NOT NULL,
            votes   bigint NOT NULL DEFAULT 0,  -- no CHECK >= 0: it would reject a negative delta's upsert
            PRIMARY KEY (poll_id, option)
        );
        """,
    ),
    (
        2,
        # The option a vote replaced, written by the same upsert that replaces it: its RETURNING clause
        # then yields the tally delta in one statement, even when another worker changed the row first
        # (PostgreSQL before 18 cannot return a row's old values otherwise). Adding a nullable column
        # rewrites nothing.
        """
        ALTER TABLE votes ADD COLUMN IF NOT EXISTS previous_option text;
        """,
    ),
)


def migrate(conn: psycopg2.extensions.connection) -> int:
    """Bring the schema to the latest version in one transaction; safe to run from several processes."""
    with conn, conn.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cursor.execute("SELECT coalesce(max(version), 0) FROM schema_version")
        current = cursor.fetchone()[0]
        for version, statements in MIGRATIONS:
            if version > current:
                cursor.execute(statements)
                cursor.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
                current = version
    return current


def read_tallies(pool: PgPool, poll_id: str) -> dict[str, int]:
    """O(options): one indexed range read of the tally rows; empty while the worker has not created them."""
    try:
        rows = pool.query("SELECT option, votes FROM tallies WHERE poll_id = %s", (poll_id,))
    except psycopg2.errors.UndefinedTable:
        return {}
    return {option: int(votes) for option, votes in rows}


def read_choice(pool: PgPool, poll_id: str, voter_id: str) -> str | None:
    try:
        rows = pool.query(
            "SELECT option FROM votes WHERE poll_id = %s AND voter_id = %s", (poll_id, voter_id)
        )
    except psycopg2.errors.UndefinedTable:
        return None
    return rows[0][0] if rows else None
