"""The stream contract between vote and worker: Redis keys and the fields of one vote entry."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from votingcommon.config import ConfigError, Env, env_str
from votingcommon.polls import MAX_OPTION_LENGTH, is_valid_poll_id

DEFAULT_STREAM = "votes"
CONSUMER_GROUP = "workers"
DEAD_LETTER_SUFFIX = ":dead"
_VOTER_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_MILLISECONDS = re.compile(r"^[0-9]{1,15}$")


class MalformedVote(ValueError):
    """A stream entry that can never be applied; the worker dead-letters it after its retries."""


@dataclass(frozen=True)
class Vote:
    poll: str
    voter: str
    option: str
    accepted_ms: int  # wall clock of the vote service when it accepted the vote, for the lag histogram

    def fields(self) -> dict[str, str]:
        return {"poll": self.poll, "voter": self.voter, "option": self.option, "ts": str(self.accepted_ms)}


def stream_name(env: Env) -> str:
    name = env_str(env, "VOTE_STREAM", DEFAULT_STREAM)
    if not re.match(r"^[A-Za-z0-9:_.-]{1,100}$", name):
        raise ConfigError("VOTE_STREAM", f"not a usable stream name: {name!r}")
    return name


def dead_letter_stream(stream: str) -> str:
    return stream + DEAD_LETTER_SUFFIX


def is_valid_voter_id(voter: str) -> bool:
    return bool(_VOTER_ID.match(voter))


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def parse_stream_id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq)


def _valid_option(option: str) -> bool:
    return len(option) <= MAX_OPTION_LENGTH and "\x00" not in option


_FIELD_CHECKS: dict[str, Callable[[str], bool]] = {
    "poll": is_valid_poll_id,
    "voter": is_valid_voter_id,
    "option": _valid_option,
    "ts": lambda ts: bool(_MILLISECONDS.match(ts)),
}


def decode(fields: Mapping[bytes, bytes] | Mapping[str, str]) -> Vote:
    """Check every field, because a malformed entry must fail here and not inside a database batch."""
    text = {_text(key): _text(value) for key, value in fields.items()}
    problems = []
    for name, valid in _FIELD_CHECKS.items():
        if not text.get(name):
            problems.append(f"missing {name}")
        elif not valid(text[name]):
            problems.append(f"invalid {name}")
    if problems:
        raise MalformedVote(", ".join(problems))
    return Vote(poll=text["poll"], voter=text["voter"], option=text["option"], accepted_ms=int(text["ts"]))


def _text(value: bytes | str) -> str:
    if isinstance(value, str):
        return value
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedVote("field is not UTF-8") from None
