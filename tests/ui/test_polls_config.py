"""POLLS_FILE: parsed into polls with windows, and every mistake reported as one line naming the field."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from uitools import POLLS_FILE
from votingcommon.config import ConfigError
from votingcommon.pollsfile import polls_from_env

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "polls.yaml"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_test_polls_file_has_one_poll_in_each_state() -> None:
    polls = polls_from_env({"POLLS_FILE": str(POLLS_FILE)})

    assert [poll.id for poll in polls.polls] == ["pets", "lunch", "offsite", "retro"]
    assert polls.default.id == "pets"
    assert [poll.state(NOW) for poll in polls.polls] == ["open", "open", "closed", "upcoming"]
    assert polls.get("retro").options == ("Yes", "No")
    assert polls.get("lunch").closes_at == datetime(2998, 12, 31, 23, tzinfo=UTC)  # +01:00 kept exact
    assert polls.get("nope") is None


def test_documented_example_is_valid() -> None:
    polls = polls_from_env({"POLLS_FILE": str(EXAMPLE)})
    assert polls.default.id == "lunch"
    assert (
        polls.get("offsite-2025").window_message(NOW) == "Voting on this poll closed at 2025-09-01 00:00 UTC."
    )
    assert (
        polls.get("retro-format").window_message(NOW) == "Voting on this poll opens at 2031-01-01 09:00 UTC."
    )


def test_without_polls_file_one_default_poll_from_vote_options() -> None:
    polls = polls_from_env({"VOTE_OPTIONS": "Tea,Coffee"})
    assert [(poll.id, poll.options, poll.opens_at, poll.closes_at) for poll in polls.polls] == [
        ("default", ("Tea", "Coffee"), None, None)
    ]


def test_yes_no_on_off_are_options_as_written(tmp_path: Path) -> None:
    """YAML 1.2: the most common poll needs no quotes (YAML 1.1 would read booleans here)."""
    path = tmp_path / "polls.yaml"
    path.write_text(
        "polls:\n"
        "  - {id: a, question: Ship it?, options: [Yes, No]}\n"
        "  - {id: b, question: Q, options: [on, off]}\n"
    )
    polls = polls_from_env({"POLLS_FILE": str(path)})
    assert [poll.options for poll in polls.polls] == [("Yes", "No"), ("on", "off")]


def test_window_is_half_open() -> None:
    poll = polls_from_env({"POLLS_FILE": str(POLLS_FILE)}).get("offsite")
    assert poll.state(poll.closes_at) == "closed"
    assert poll.state(poll.closes_at - timedelta(microseconds=1)) == "open"
    assert poll.window_message(poll.closes_at - timedelta(microseconds=1)) is None


BAD_FILES = [
    ("polls: a: b", "not valid YAML (line 1)"),
    ("- id: a", "top level: expected a mapping with one key, polls"),
    ("polls: []", "polls: expected a list of 1 to 100 polls"),
    ("polls: [nope]", "polls[0]: expected a mapping with id, question and options"),
    ("polls: [{question: Q, options: [A, B]}]", "polls[0].id: missing"),
    ("polls: [{id: Bad Id, question: Q, options: [A, B]}]", "polls[0].id: use lowercase letters"),
    ("polls: [{id: 2024, question: Q, options: [A, B]}]", "polls[0].id: must be text, got int (quote it)"),
    ("polls: [{id: a, options: [A, B]}]", "polls[0].question: missing"),
    ("polls: [{id: a, question: '  ', options: [A, B]}]", "polls[0].question: is empty"),
    ("polls: [{id: a, question: Q}]", "polls[0].options: missing or not a list"),
    ("polls: [{id: a, question: Q, options: [A]}]", "polls[0].options: need 2 to 12 options, got 1"),
    ("polls: [{id: a, question: Q, options: [A, A]}]", "polls[0].options: options must be unique"),
    ("polls: [{id: a, question: Q, options: [true, false]}]", "polls[0].options[0]: must be text, got bool"),
    ("polls: [{id: a, question: Q, options: [A, B], options: [C, D]}]", "not valid YAML (line 1)"),
    (f"polls: [{{id: a, question: Q, options: [A, {'B' * 65}]}}]", "polls[0].options: an option is longer"),
    ("polls: [{id: a, question: Q, options: [A, B], colour: red}]", "polls[0].colour: unknown field"),
    (
        "polls: [{id: a, question: Q, options: [A, B], opens_at: 2026-01-01T00:00:00}]",
        "polls[0].opens_at: needs a timezone (Z or +01:00)",
    ),
    (
        "polls: [{id: a, question: Q, options: [A, B], opens_at: 2026-01-01}]",
        "polls[0].opens_at: expected a time",
    ),
    (
        "polls: [{id: a, question: Q, options: [A, B], closes_at: 'soon'}]",
        "polls[0].closes_at: not an ISO 8601",
    ),
    (
        "polls: [{id: a, question: Q, options: [A, B], opens_at: 2026-01-02T00:00:00Z,"
        " closes_at: 2026-01-01T00:00:00Z}]",
        "polls[0].closes_at: must be later than opens_at",
    ),
    (
        "polls: [{id: a, question: Q, options: [A, B]}, {id: a, question: R, options: [C, D]}]",
        "polls[1].id: duplicate poll id 'a'",
    ),
]


@pytest.mark.parametrize(("text", "problem"), BAD_FILES, ids=[problem for _text, problem in BAD_FILES])
def test_bad_file_is_one_line_naming_the_field(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "polls.yaml"
    path.write_text(text + "\n")

    with pytest.raises(ConfigError) as raised:
        polls_from_env({"POLLS_FILE": str(path)})

    message = str(raised.value)
    assert message.startswith(f"POLLS_FILE: {path}: {problem}")
    assert "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^POLLS_FILE: cannot read .*nowhere\.yaml: No such file"):
        polls_from_env({"POLLS_FILE": str(tmp_path / "nowhere.yaml")})


@pytest.mark.parametrize("service", ["vote", "result"])
def test_service_refuses_to_start_with_a_bad_file(tmp_path: Path, service: str) -> None:
    path = tmp_path / "polls.yaml"
    path.write_text("polls: [{id: a, question: Q, options: [A]}]\n")
    env = {
        **os.environ,
        "POLLS_FILE": str(path),
        "SECRET_KEY": "x" * 32,
        "VOTE_PORT": "0",
        "RESULT_PORT": "0",
    }

    done = subprocess.run(
        [sys.executable, "-m", service], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"{service}: POLLS_FILE: {path}: polls[0].options: need 2 to 12 options, got 1"
    ]
