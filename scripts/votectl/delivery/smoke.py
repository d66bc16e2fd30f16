"""Smoke test of a deployed stack (docker compose, kind): new voters vote, the result counts them.

It needs nothing but requests beside votectl, so the compose test container runs it from the mounted
source without installing the project.
"""

from __future__ import annotations

import time

import requests

from votectl.errors import VotectlError
from votectl.votingclient import Voter, tallies, wait_for_tallies

# A stack that answers but miscounts is a failed check, not a usage error (2).
FAILED = 1


def wait_until_ready(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise VotectlError(f"{url}/readyz did not answer 200 within {timeout:g}s", FAILED)
        time.sleep(1)


def smoke(vote_url: str, result_url: str, voters: int, timeout: float) -> str:
    """Cast `voters` new votes for the first option and wait until the result counts every one.

    Returns the line to report; raises VotectlError when a service is unready, refuses or miscounts.
    """
    for url in (vote_url, result_url):
        wait_until_ready(url, timeout)
    try:
        before = tallies(result_url)
        if not before:
            raise VotectlError(f"{result_url}/api/results lists no option to vote for", FAILED)
        option = sorted(before)[0]
        for _ in range(voters):
            response = Voter(vote_url).vote(option)
            if response.status_code != 202:
                raise VotectlError(
                    f"POST /api/vote answered {response.status_code}: {response.text[:200]}", FAILED
                )
        expected = {**before, option: before[option] + voters}
        after = wait_for_tallies(result_url, expected, timeout=timeout)
    except (ValueError, KeyError, TypeError) as err:  # before RequestException: bad JSON is both
        raise VotectlError(f"{result_url}/api/results answered unexpected JSON ({err!r})", FAILED) from None
    except requests.RequestException as err:
        raise VotectlError(f"the stack stopped answering: {err}", FAILED) from None
    if after != expected:
        raise VotectlError(f"expected {expected}, result shows {after}", FAILED)
    return f"smoke: {voters} votes for {option} counted ({before[option]} -> {after[option]})"
