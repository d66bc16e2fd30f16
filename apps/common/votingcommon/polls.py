"""The polls a deployment runs: an id, a question, its options and an optional voting window.

They come from the YAML file named by POLLS_FILE (`votingcommon.pollsfile.polls_from_env`) or, without
it, one poll `default` built from VOTE_OPTIONS. Every stream entry, row and tally carries the poll id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from votingcommon.config import ConfigError, Env

DEFAULT_POLL_ID = "default"
DEFAULT_OPTIONS = ("Cats", "Dogs")
MIN_OPTIONS, MAX_OPTIONS = 2, 12
MAX_OPTION_LENGTH = 64
_POLL_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class Poll:
    id: str
    question: str
    options: tuple[str, ...]
    opens_at: datetime | None = None  # timezone-aware; None: open since always
    closes_at: datetime | None = None  # timezone-aware; None: never closes

    def has_option(self, option: str) -> bool:
        return option in self.options

    def state(self, now: datetime) -> str:
        """`upcoming`, `open` or `closed` at `now` (the window is [opens_at, closes_at))."""
        if self.opens_at is not None and now < self.opens_at:
            return "upcoming"
        if self.closes_at is not None and now >= self.closes_at:
            return "closed"
        return "open"

    def window_message(self, now: datetime) -> str | None:
        """A sentence for voters explaining why voting is not possible at `now`, None while it is."""
        state = self.state(now)
        if state == "upcoming":
            return f"Voting on this poll opens at {format_time(self.opens_at)}."
        if state == "closed":
            return f"Voting on this poll closed at {format_time(self.closes_at)}."
        return None


@dataclass(frozen=True)
class PollCatalog:
    """Every configured poll, in configuration order; the first one is served by the default endpoints."""

    polls: tuple[Poll, ...]

    @property
    def default(self) -> Poll:
        return self.polls[0]

    def get(self, poll_id: str) -> Poll | None:
        return next((poll for poll in self.polls if poll.id == poll_id), None)


def format_time(moment: datetime | None) -> str:
    """Window times as people read them, in the zone they were configured in."""
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%d %H:%M ") + (moment.tzname() or "")


def is_valid_poll_id(poll_id: str) -> bool:
    return bool(_POLL_ID.match(poll_id))


def options_problem(options: tuple[str, ...]) -> str | None:
    """What is wrong with a list of options, shared by VOTE_OPTIONS and POLLS_FILE; None when fine."""
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        return f"need {MIN_OPTIONS} to {MAX_OPTIONS} options, got {len(options)}"
    if any(not option for option in options):
        return "an option is empty"
    if any(len(option) > MAX_OPTION_LENGTH for option in options):
        return f"an option is longer than {MAX_OPTION_LENGTH} characters"
    if len(set(options)) != len(options):
        return "options must be unique"
    return None


def poll_from_env(env: Env) -> Poll:
    raw = env.get("VOTE_OPTIONS", "").strip()
    options = tuple(part.strip() for part in raw.split(",")) if raw else DEFAULT_OPTIONS
    if problem := options_problem(options):
        raise ConfigError("VOTE_OPTIONS", problem)
    return Poll(id=DEFAULT_POLL_ID, question=_question(options), options=options)


def _question(options: tuple[str, ...]) -> str:
    return f"{', '.join(options[:-1])} or {options[-1]}?"
