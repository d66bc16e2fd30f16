"""The common library's small pieces: settings, the poll, the stream entry format and JSON logs."""

from __future__ import annotations

import io
import json
import logging
import time

import pytest
from flask import Flask
from votingcommon.config import ConfigError, database_url, env_bool, redis_url
from votingcommon.faults import FaultInjector, FaultSettings
from votingcommon.jsonlog import JsonFormatter, mask_secrets
from votingcommon.polls import DEFAULT_POLL_ID, poll_from_env
from votingcommon.votes import MalformedVote, Vote, decode, stream_name
from werkzeug.exceptions import InternalServerError


def test_seed_variables_build_the_urls() -> None:
    env = {"REDIS_HOST": "redis", "REDIS_PORT": "6380", "REDIS_PASSWORD": "p@ss word"}
    assert redis_url(env) == "redis://:p%40ss%20word@redis:6380/0"
    env = {
        "POSTGRES_HOST": "db",
        "POSTGRES_DB": "votes",
        "POSTGRES_USER": "app",
        "POSTGRES_PASSWORD": "s3/cret",
    }
    assert database_url(env) == "postgresql://app:s3%2Fcret@db:5432/votes"


def test_urls_win_over_seed_variables() -> None:
    env = {
        "REDIS_URL": "redis://r:1/2",
        "REDIS_HOST": "x",
        "DATABASE_URL": "postgres://u@h/d",
        "POSTGRES_HOST": "y",
    }
    assert redis_url(env) == "redis://r:1/2"
    assert database_url(env) == "postgres://u@h/d"


def test_booleans() -> None:
    assert env_bool({"COOKIE_SECURE": "1"}, "COOKIE_SECURE", False) is True
    assert env_bool({}, "COOKIE_SECURE", False) is False
    with pytest.raises(ConfigError, match=r"^COOKIE_SECURE: "):
        env_bool({"COOKIE_SECURE": "maybe"}, "COOKIE_SECURE", False)


def test_default_poll() -> None:
    poll = poll_from_env({})
    assert (poll.id, poll.options, poll.question) == (DEFAULT_POLL_ID, ("Cats", "Dogs"), "Cats or Dogs?")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [("A,", "an option is empty"), ("A," + "B" * 65, "an option is longer than 64 characters")],
)
def test_bad_options(raw: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=f"^VOTE_OPTIONS: {problem}$"):
        poll_from_env({"VOTE_OPTIONS": raw})


def test_stream_name() -> None:
    assert stream_name({}) == "votes"
    with pytest.raises(ConfigError, match=r"^VOTE_STREAM: "):
        stream_name({"VOTE_STREAM": "bad name"})


def test_vote_entry_round_trip() -> None:
    vote = Vote("default", "voter-aaaa", "Cats", 1_700_000_000_000)
    encoded = {key.encode(): value.encode() for key, value in vote.fields().items()}
    assert decode(encoded) == vote


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({}, "missing poll, missing voter, missing option, missing ts"),
        ({"poll": "Default!", "voter": "voter-aaaa", "option": "Cats", "ts": "1"}, "invalid poll"),
        ({"poll": "default", "voter": "voter-aaaa", "option": "C" * 65, "ts": "1"}, "invalid option"),
        ({"poll": "default", "voter": "voter-aaaa", "option": "Cats", "ts": "²"}, "invalid ts"),
        ({b"poll": b"\xff", "voter": "voter-aaaa", "option": "Cats", "ts": "1"}, "field is not UTF-8"),
    ],
)
def test_malformed_entries(fields: dict, error: str) -> None:
    with pytest.raises(MalformedVote, match=f"^{error}$"):
        decode(fields)


def test_secrets_are_masked() -> None:
    assert mask_secrets("redis://:hunter2@redis:6379/0") == "redis://:***@redis:6379/0"
    assert mask_secrets("postgresql://app:hunter2@db/votes") == "postgresql://app:***@db/votes"
    assert mask_secrets("dsn host=db password=hunter2 user=app") == "dsn host=db password=*** user=app"


def test_log_lines_are_json_without_secrets() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("worker"))
    logger = logging.getLogger("test-json-logs")
    logger.addHandler(handler)
    try:
        logger.warning("connecting to %s", "redis://:hunter2@redis:6379/0", extra={"batch": 3})
    finally:
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["msg"] == "connecting to redis://:***@redis:6379/0"
    assert (entry["level"], entry["service"], entry["batch"]) == ("warning", "worker", 3)


def test_faults_start_after_their_delay() -> None:
    """A release that degrades after a while: no injected fault before AFTER_SECONDS, every one after."""
    settings = FaultSettings.from_env(
        {"RESULT_FAULT_RATE": "1", "RESULT_FAULT_AFTER_SECONDS": "0.3"}, "RESULT"
    )
    assert settings == FaultSettings(rate=1.0, latency_ms=0, after_seconds=0.3)
    faults = FaultInjector(settings)
    with Flask(__name__).test_request_context("/api/results"):
        faults.apply()  # within the delay: no fault
        time.sleep(0.35)
        with pytest.raises(InternalServerError):
            faults.apply()


def test_faults_wait_for_their_file(tmp_path) -> None:
    """`--faults-when-live`: no injected fault before AFTER_FILE exists, every one once it does."""
    live = tmp_path / "live"
    settings = FaultSettings.from_env({"VOTE_FAULT_RATE": "1", "VOTE_FAULT_AFTER_FILE": str(live)}, "VOTE")
    assert settings == FaultSettings(rate=1.0, after_file=str(live))
    faults = FaultInjector(settings)
    with Flask(__name__).test_request_context("/api/vote"):
        faults.apply()  # no file yet: no fault
        live.touch()
        with pytest.raises(InternalServerError):
            faults.apply()
        live.unlink()  # armed for good once seen
        with pytest.raises(InternalServerError):
            faults.apply()
