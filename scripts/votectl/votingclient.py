"""HTTP client of the voting services: voters with their own cookie jar, results, and the SSE stream.

`votectl smoke` votes and reads results with it; the end-to-end tests also plan, cast and watch votes.
Only requests and the standard library, so the smoke test runs where nothing else is installed.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests


class Voter:
    """One browser: the vote service issues its id in a cookie that this session keeps."""

    def __init__(self, vote_url: str) -> None:
        self.vote_url = vote_url
        self.session = requests.Session()

    def vote(self, option: str) -> requests.Response:
        return self.session.post(f"{self.vote_url}/api/vote", json={"option": option}, timeout=10)


# Faster than Retry-After (2 s), so an outage's length is measured to a tenth of a second.
RETRY_PAUSE_SECONDS = 0.1


@dataclass
class Answer:
    sent: float
    done: float
    status: int
    retry_after: str | None


@dataclass
class VoterState:
    voter: Voter
    last_accepted: tuple[str, str] | None = None  # (stream id, option) of the last 202


@dataclass
class SteadyVoters:
    """Threads of voters voting in turn; a refused vote is retried, as a browser's voter would, until
    it is accepted, so every voter ends on an accepted choice."""

    vote_url: str
    options: Sequence[str]
    threads: int = 6
    voters_per_thread: int = 20
    answers: list[Answer] = field(default_factory=list)
    voters: list[VoterState] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = [threading.Thread(target=self._run, args=(seed,)) for seed in range(self.threads)]

    def start(self) -> SteadyVoters:
        for worker in self._workers:
            worker.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(60)

    def accepted(self) -> int:
        with self._lock:
            return sum(answer.status == 202 for answer in self.answers)

    def last_accepted(self) -> set[tuple[str, str]]:
        """(stream id, option) of each voter's last accepted vote: what the tally must hold, exactly."""
        return {state.last_accepted for state in self.voters if state.last_accepted is not None}

    def seconds_to_first_accept(self, since: float) -> float | None:
        """From `since` (time.monotonic) to the first 202 of a request sent after it."""
        done = [answer.done for answer in self.answers if answer.status == 202 and answer.sent > since]
        return min(done) - since if done else None

    def _run(self, seed: int) -> None:
        rng = random.Random(seed)
        mine = [VoterState(Voter(self.vote_url)) for _ in range(self.voters_per_thread)]
        with self._lock:
            self.voters.extend(mine)
        while not self._stop.is_set():
            self._vote_until_accepted(rng.choice(mine), rng.choice(self.options))

    def _vote_until_accepted(self, state: VoterState, option: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sent = time.monotonic()
            try:
                response = state.voter.vote(option)
            except requests.RequestException as err:
                with self._lock:
                    self.errors.append(f"{type(err).__name__}: {err}")
                time.sleep(RETRY_PAUSE_SECONDS)
                continue
            answer = Answer(sent, time.monotonic(), response.status_code, response.headers.get("Retry-After"))
            with self._lock:
                self.answers.append(answer)
            if response.status_code == 202:
                state.last_accepted = (response.json()["id"], option)
                return
            time.sleep(RETRY_PAUSE_SECONDS)
        with self._lock:
            self.errors.append(f"a vote for {option} was not accepted within 60 s")


def vote_plan(voters: int, votes: int, options: Sequence[str], seed: int) -> list[list[str]]:
    """Each voter votes once, the remaining votes go to random voters (so many votes are changed)."""
    rng = random.Random(seed)
    plan = [[rng.choice(options)] for _ in range(voters)]
    for _ in range(votes - voters):
        plan[rng.randrange(voters)].append(rng.choice(options))
    return plan


def expected_tallies(plan: list[list[str]], options: Sequence[str]) -> dict[str, int]:
    last = Counter(choices[-1] for choices in plan if choices)
    return {option: last[option] for option in options}


def cast(
    vote_url: str, plan: list[list[str]], threads: int = 8, answered: list[int] | None = None
) -> list[requests.Response]:
    """Send the plan: voters in parallel, each voter's own votes in order (so 'last vote' is defined).

    `answered`, when given, gets one element appended per answer, so another thread can watch progress.
    """

    def one_voter(choices: list[str]) -> list[requests.Response]:
        voter = Voter(vote_url)
        responses = []
        for option in choices:
            responses.append(voter.vote(option))
            if answered is not None:
                answered.append(1)
        return responses

    with ThreadPoolExecutor(threads) as pool:
        return [response for responses in pool.map(one_voter, plan) for response in responses]


def tallies(result_url: str) -> dict[str, int]:
    body = requests.get(f"{result_url}/api/results", timeout=5).json()
    return {row["option"]: row["votes"] for row in body["options"]}


def wait_for_tallies(result_url: str, expected: dict[str, int], timeout: float = 30) -> dict[str, int]:
    """Poll /api/results until it equals `expected` (returned) or the timeout passes (last answer)."""
    deadline = time.monotonic() + timeout
    while True:
        current = tallies(result_url)
        if current == expected or time.monotonic() > deadline:
            return current
        time.sleep(0.1)


class SseRecorder:
    """Keeps the latest snapshot pushed on /api/results/stream, read in a background thread.

    Plain http.client over a socket we own: `close()` shuts the socket down so the reader stops at once
    (closing a requests stream from another thread waits for the server's next keep-alive).
    """

    def __init__(self, result_url: str) -> None:
        parts = urlsplit(result_url)
        self._connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
        self._connection.request("GET", "/api/results/stream", headers={"Accept": "text/event-stream"})
        self._response = self._connection.getresponse()
        if self._response.status != 200:
            raise AssertionError(f"/api/results/stream answered {self._response.status}")
        self.latest: dict | None = None
        self.count = 0
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def wait_for(self, expected: dict[str, int], timeout: float = 30) -> dict[str, int] | None:
        """The pushed tallies once they equal `expected`, else the last ones seen when time runs out."""
        with self._changed:
            self._changed.wait_for(lambda: self._latest_tallies() == expected, timeout)
            return self._latest_tallies()

    def close(self) -> None:
        if self._connection.sock is not None:
            self._connection.sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)
        self._connection.close()

    def _latest_tallies(self) -> dict[str, int] | None:
        if self.latest is None:
            return None
        return {row["option"]: row["votes"] for row in self.latest["options"]}

    def _read(self) -> None:
        try:
            while line := self._response.readline():
                if line.startswith(b"data:"):
                    with self._changed:
                        self.latest = json.loads(line[len(b"data:") :])
                        self.count += 1
                        self._changed.notify_all()
        except (OSError, http.client.HTTPException, ValueError):
            return  # closed by the test
