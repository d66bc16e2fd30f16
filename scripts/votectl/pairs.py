"""NAME=VALUE options (`analyze --arg`, `rehearse --canary-env`): one reading of them for every command."""

from __future__ import annotations


def parse_pair(text: str) -> tuple[str, str]:
    """('NAME', 'VALUE') from 'NAME=VALUE'; the value may be empty or hold '=' itself."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"{text!r}: expected NAME=VALUE")
    return name.strip(), value
