"""`votectl smoke`: new voters vote through a deployed stack and its result must count every one."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from urllib.parse import urlsplit


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "smoke",
        help="smoke-test a deployed stack: votes through vote must show up in result",
        description=(
            "Waits for both services' /readyz, casts new votes for the first option and polls "
            "/api/results until they are all counted. Used by the e2e workflow (kind) and "
            "docker-compose.test.yml. Exit 0 when every vote is counted within the timeout, 1 when not "
            "(or a service does not answer), 2 on a usage error."
        ),
    )
    parser.add_argument("--vote-url", required=True, type=http_url, metavar="URL", help="the vote service")
    parser.add_argument(
        "--result-url", required=True, type=http_url, metavar="URL", help="the result service"
    )
    parser.add_argument("--voters", type=positive(int), default=20, help="new voters (default 20)")
    parser.add_argument(
        "--timeout",
        type=positive(float),
        default=60.0,
        metavar="SECONDS",
        help="for readiness, and again for the votes to be counted (default 60)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from votectl.delivery.smoke import smoke

    print(smoke(args.vote_url, args.result_url, args.voters, args.timeout))
    return 0


def http_url(text: str) -> str:
    """argparse type: a URL the smoke test can reach, without a trailing slash (paths are appended)."""
    parts = urlsplit(text)
    try:
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number or out of range
        valid = False
    if not valid:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// URL with a host")
    return text.rstrip("/")


def positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    """argparse type: a number above zero (zero voters or no time would pass without testing anything)."""
    noun = "whole number" if kind is int else "number"

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {noun}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} is not above zero")
        return value

    return parse
