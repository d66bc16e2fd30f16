"""Smoke test of a deployed stack (docker compose, kind): new voters vote, the result counts them.

    python tests/delivery/smoke.py --vote-url http://vote:5000 --result-url http://result:4000

Exits 0 when every vote shows up in /api/results within the timeout; one line on stderr otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from votingclient import Voter, tallies, wait_for_tallies


def wait_until_ready(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"smoke: {url}/readyz did not answer 200 within {timeout:.0f}s")
        time.sleep(1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vote-url", required=True)
    parser.add_argument("--result-url", required=True)
    parser.add_argument("--voters", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=60)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    for url in (args.vote_url, args.result_url):
        wait_until_ready(url, args.timeout)
    before = tallies(args.result_url)
    option = sorted(before)[0]
    for _ in range(args.voters):
        response = Voter(args.vote_url).vote(option)
        if response.status_code != 202:
            raise SystemExit(f"smoke: POST /api/vote answered {response.status_code}: {response.text[:200]}")
    expected = {**before, option: before[option] + args.voters}
    after = wait_for_tallies(args.result_url, expected, timeout=args.timeout)
    if after != expected:
        raise SystemExit(f"smoke: expected {expected}, result shows {after}")
    print(f"smoke: {args.voters} votes for {option} counted ({before[option]} -> {after[option]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
