"""Reading the polls configuration: the YAML file named by POLLS_FILE, checked field by field at start.

Every problem is reported as one line naming the file and the field (`polls[1].closes_at: ...`), so a bad
file stops the service before gunicorn forks instead of failing on the first vote. The file is read as YAML
1.2 (ruamel.yaml), where `Yes`, `No`, `on` and `off` are text, as voters mean them (YAML 1.1, PyYAML's
dialect, reads them as booleans), and a key given twice is an error instead of silently the last one.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, YAMLError

from votingcommon.config import ConfigError, Env
from votingcommon.polls import Poll, PollCatalog, is_valid_poll_id, options_problem, poll_from_env

MAX_POLLS = 100
MAX_QUESTION_LENGTH = 200
POLL_FIELDS = frozenset({"id", "question", "options", "opens_at", "closes_at"})


class _FieldError(Exception):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")


def polls_from_env(env: Env) -> PollCatalog:
    """POLLS_FILE when set (VOTE_OPTIONS is then ignored), else the one default poll from VOTE_OPTIONS."""
    path = env.get("POLLS_FILE", "").strip()
    if not path:
        return PollCatalog((poll_from_env(env),))
    return read_polls_file(path)


def read_polls_file(path: str) -> PollCatalog:
    try:
        document = YAML(typ="safe", pure=True).load(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError("POLLS_FILE", f"cannot read {path}: {err.strerror or err}") from None
    except (YAMLError, UnicodeDecodeError) as err:
        where = getattr(err, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise ConfigError("POLLS_FILE", f"{path}: not valid YAML{line}") from None
    try:
        return PollCatalog(_polls(document))
    except _FieldError as err:
        raise ConfigError("POLLS_FILE", f"{path}: {err}") from None


def _polls(document: Any) -> tuple[Poll, ...]:
    if not isinstance(document, dict) or set(document) != {"polls"}:
        raise _FieldError("top level", "expected a mapping with one key, polls")
    entries = document["polls"]
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_POLLS:
        raise _FieldError("polls", f"expected a list of 1 to {MAX_POLLS} polls")
    polls = tuple(_poll(f"polls[{index}]", entry) for index, entry in enumerate(entries))
    seen: set[str] = set()
    for index, poll in enumerate(polls):
        if poll.id in seen:
            raise _FieldError(f"polls[{index}].id", f"duplicate poll id {poll.id!r}")
        seen.add(poll.id)
    return polls


def _poll(where: str, entry: Any) -> Poll:
    if not isinstance(entry, dict):
        raise _FieldError(where, "expected a mapping with id, question and options")
    if unknown := sorted(str(key) for key in set(entry) - POLL_FIELDS):
        raise _FieldError(
            f"{where}.{unknown[0]}", "unknown field (expected " + ", ".join(sorted(POLL_FIELDS)) + ")"
        )
    poll_id = _text(f"{where}.id", entry.get("id"), 63)
    if not is_valid_poll_id(poll_id):
        raise _FieldError(f"{where}.id", "use lowercase letters, digits, '-' and '_' (at most 63)")
    question = _text(f"{where}.question", entry.get("question"), MAX_QUESTION_LENGTH)
    options = _options(f"{where}.options", entry.get("options"))
    opens_at = _moment(f"{where}.opens_at", entry.get("opens_at"))
    closes_at = _moment(f"{where}.closes_at", entry.get("closes_at"))
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise _FieldError(f"{where}.closes_at", "must be later than opens_at")
    return Poll(poll_id, question, options, opens_at, closes_at)


def _text(field: str, value: Any, max_length: int) -> str:
    if value is None:
        raise _FieldError(field, "missing")
    if not isinstance(value, str):
        # bare digits are numbers in YAML, and true/false booleans
        raise _FieldError(field, f"must be text, got {type(value).__name__} (quote it)")
    text = value.strip()
    if not text:
        raise _FieldError(field, "is empty")
    if len(text) > max_length:
        raise _FieldError(field, f"longer than {max_length} characters")
    return text


def _options(field: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _FieldError(field, "missing or not a list")
    options = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise _FieldError(f"{field}[{index}]", f"must be text, got {type(item).__name__} (quote it)")
        options.append(item.strip())
    if problem := options_problem(tuple(options)):
        raise _FieldError(field, problem)
    return tuple(options)


def _moment(field: str, value: Any) -> datetime | None:
    """YAML turns an unquoted timestamp into a datetime; a quoted one is parsed as ISO 8601 here."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _FieldError(field, f"not an ISO 8601 time: {value!r}") from None
    if not isinstance(value, datetime):
        raise _FieldError(field, "expected a time such as 2026-12-01T09:00:00Z")
    offset = value.utcoffset()
    if offset is None:
        raise _FieldError(field, "needs a timezone (Z or +01:00)")
    return value.replace(tzinfo=timezone(offset))  # a plain offset (UTC for Z), not the parser's named zone
