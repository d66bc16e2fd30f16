"""Fixtures for the voter and results experience: the test polls file and apps built against real servers."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg2
import pytest
from flask.testing import FlaskClient
from result.app import create_app as create_result_app
from result.app import end_streams
from uitools import POLLS_FILE, SECRET
from vote.app import create_app as create_vote_app
from votingcommon.store import migrate


@pytest.fixture
def ui_env(redis_url: str, database_url: str) -> dict[str, str]:
    return {
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "POLLS_FILE": str(POLLS_FILE),
    }


@pytest.fixture
def vote_client(ui_env: dict[str, str]) -> FlaskClient:
    return create_vote_app(ui_env).test_client()


@pytest.fixture
def result_client(ui_env: dict[str, str]) -> Iterator[FlaskClient]:
    app = create_result_app(ui_env)
    yield app.test_client()
    end_streams(app)


@pytest.fixture
def set_tallies(database_url: str) -> Iterator:
    """Write tally rows as the worker would leave them: `set_tallies("pets", Cats=3, Dogs=1)`."""
    conn = psycopg2.connect(database_url)
    migrate(conn)

    def write(poll: str, **votes: int) -> None:
        with conn, conn.cursor() as cursor:
            for option, count in votes.items():
                cursor.execute(
                    "INSERT INTO tallies (poll_id, option, votes) VALUES (%s, %s, %s)"
                    " ON CONFLICT (poll_id, option) DO UPDATE SET votes = excluded.votes",
                    (poll, option, count),
                )

    yield write
    conn.close()
