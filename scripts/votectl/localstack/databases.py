"""Create and drop PostgreSQL databases on any server given by URL (ours or one from DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

MAINTENANCE_DATABASE = "postgres"


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at database `name`."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def _admin(url: str) -> Iterator[psycopg2.extensions.connection]:
    conn = psycopg2.connect(with_database(url, MAINTENANCE_DATABASE), connect_timeout=5)
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run inside a transaction
    try:
        yield conn
    finally:
        conn.close()


def create_database(url: str, name: str, exist_ok: bool = False) -> str:
    """Create `name` on the server of `url`; returns its URL."""
    with _admin(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if not (cur.fetchone() and exist_ok):
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(url, name)


def drop_database(url: str, name: str) -> None:
    """Drop even while services still hold connections (FORCE), so no test leaks a database."""
    with _admin(url) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
