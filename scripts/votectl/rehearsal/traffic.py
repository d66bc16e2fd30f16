"""Synthetic users: a few threads sending paced requests, voters POSTing votes or readers GETting pages.

Paced on a fixed schedule, so the request rate (and with it the analyses' denominators) does not
depend on how fast the services answer. Each thread keeps one session, hence one voter cookie: the
vote path sees returning voters changing their minds, as in real use.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from dataclasses import dataclass

import requests

THREADS = 4
OPTIONS = ("Cats", "Dogs")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    json: dict[str, str] | None = None


def requests_for(service: str) -> list[Request]:
    """What a user of `service` sends: votes to vote, page views to result."""
    if service == "vote":
        return [Request("POST", "/api/vote", {"option": option}) for option in OPTIONS]
    return [Request("GET", "/")]


class SyntheticTraffic:
    """`rate` requests per second in total to `url` until `stop()`; rate 0 sends nothing."""

    def __init__(self, url: str, service: str, rate: float) -> None:
        self.url = url.rstrip("/")
        self.rate = rate
        self.plan = requests_for(service)
        self.answers: Counter[str] = Counter()  # "2xx", "5xx", ..., "connection"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> SyntheticTraffic:
        if self.rate > 0:
            for index in range(THREADS):
                thread = threading.Thread(
                    target=self._run, args=(index,), name=f"traffic-{index}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()

    def _run(self, index: int) -> None:
        period = THREADS / self.rate
        next_at = time.monotonic() + index * period / THREADS
        with requests.Session() as session:
            for request in itertools.cycle(self.plan):
                if self._stop.wait(max(0.0, next_at - time.monotonic())):
                    return
                next_at += period
                self._record(self._send(session, request))

    def _send(self, session: requests.Session, request: Request) -> str:
        try:
            response = session.request(request.method, self.url + request.path, json=request.json, timeout=5)
        except requests.RequestException:
            return "connection"
        return f"{response.status_code // 100}xx"

    def _record(self, outcome: str) -> None:
        with self._lock:
            self.answers[outcome] += 1
